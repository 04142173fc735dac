"""NUL characters in any text field: the record is kept (with U+FFFD in their place) on both
databases, and the rest of the batch is stored; a network cannot keep its logs out with one."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.auth.apikeys import create_key
from app.core.context import Context
from app.ingest.service import make_ingestor
from app.models import Account, PaymentMethod, PromptSample
from app.web.app import create_app
from tests.helpers import account, ndjson, request

NUL = "\u0000"


def _records(tag: str) -> list[dict[str, Any]]:
    acct = f"acct_{tag}{NUL}"
    return [
        account(
            f"{tag}{NUL}",
            email=f"a{NUL}b@example.com",
            name=f"Ann{NUL}Lee",
            org_id=f"org{NUL}",
            user_agent=f"ua{NUL}",
            device_id=f"dev{NUL}",
            attributes={f"k{NUL}": f"v{NUL}"},
        ),
        {
            "type": "payment_method",
            "account_id": acct,
            "fingerprint": f"pmfp_{tag}{NUL}",
            "billing_name": f"Ann{NUL}",
            "billing_postcode": f"1{NUL}",
        },
        request(
            acct,
            id=f"r_{tag}{NUL}",
            prompt=f"Explain step by step{NUL} how to sort a list",
            user_agent=f"ua{NUL}",
            api_key_id=f"key{NUL}",
            model=f"m{NUL}",
        ),
        account(f"{tag}_clean"),  # the rest of the batch
    ]


def _stored_without_nul(ctx: Context, tag: str) -> None:
    with ctx.sessions() as s:
        acc = s.get(Account, f"acct_{tag}\ufffd")
        assert acc is not None and acc.name == "Ann\ufffdLee"
        assert s.get(Account, f"acct_{tag}_clean") is not None
        pm = s.scalars(select(PaymentMethod).where(PaymentMethod.account_id == acc.id)).one()
        assert pm.billing_postcode == "1\ufffd"
        texts = s.scalars(select(PromptSample.text)).all()
        assert any("\ufffd" in t for t in texts) and not any(NUL in t for t in texts)


def test_nul_in_every_text_field_is_kept_through_the_cli_path(ctx: Context) -> None:
    import io

    summary = make_ingestor(ctx).ingest(io.BytesIO(ndjson(*_records("cli"))))
    assert summary.rejected == 0
    assert summary.accepted == {"account": 2, "payment_method": 1, "request": 1}
    _stored_without_nul(ctx, "cli")


def test_nul_over_http_is_kept_and_not_a_500(ctx: Context) -> None:
    with ctx.sessions() as s, s.begin():
        _, key = create_key(s, name="w", role="admin", actor="test")
    client = TestClient(create_app(ctx), headers={"Authorization": f"Bearer {key}"})
    body = ndjson(*_records("http"))
    r = client.post("/v1/ingest", content=body)
    assert r.status_code == 200, r.text
    assert orjson.loads(r.content)["accepted"] == {"account": 2, "payment_method": 1, "request": 1}
    _stored_without_nul(ctx, "http")
