"""Detection on sparse data: columns nobody filled in are no reason to fail."""

from __future__ import annotations

import io

from app.core.context import Context
from app.detection import service
from app.ingest.service import make_ingestor
from graph import DetectParams
from tests.helpers import account, ndjson, request


def test_detection_runs_when_no_account_has_an_email(ctx: Context) -> None:
    """A column with no value at all (here: every email) once made the loader fail."""
    records = [account(i, device_id=f"d{i // 3}") for i in range(9)]
    records += [request(f"acct_{i % 9}", id=f"q{i}", prompt="same task") for i in range(30)]
    make_ingestor(ctx).ingest(io.BytesIO(ndjson(*records)))
    out = service.detect(ctx, DetectParams(seed=0))
    assert out["counts"]["accounts"] == 9


def test_the_loader_reads_each_accounts_activity_and_observations_whole(ctx: Context) -> None:
    """The loader reads activity and observations grouped by account (one text of integers
    an account, parsed by NumPy): every stored row comes back, under the account's row."""
    import io

    from sqlalchemy import text

    from app.detection.loader import load_input
    from app.ingest.service import make_ingestor
    from tests.helpers import account, ndjson, request

    records = [account(i) for i in (1, 2, 3)]
    topics = ["rivers", "lakes", "hills", "roads", "towns", "seas", "woods"]
    records += [
        request(
            f"acct_{i}",
            id=f"r{i}_{j}",
            ts=f"2026-01-05T{10 + j % 7:02d}:00:03Z",
            prompt=f"tell me about {topics[j % 7]} in the style of a {'poem' if i % 2 else 'song'}",
        )
        for i in (1, 2, 3)
        for j in range(i * 7)
    ]
    make_ingestor(ctx).ingest(io.BytesIO(ndjson(*records)))  # type: ignore[arg-type]
    with ctx.engine.connect() as conn:
        inp = load_input(conn, ctx.settings.activity_window_seconds)[0]
        stored = sorted(
            tuple(r)
            for r in conn.execute(
                text('SELECT account_id, "window", template_key, n FROM activity')
            )
        )
    ids = inp.accounts.ids
    act = inp.activity
    loaded = sorted(
        zip(
            ids[act.account].tolist(),
            act.window.tolist(),
            act.template.tolist(),
            act.n.tolist(),
            strict=True,
        )
    )
    assert loaded == stored and len(stored) == 21  # 7 hours x 7 prompts, 3 accounts
    assert {a: int(act.n[act.account == i].sum()) for i, a in enumerate(ids)} == {
        "acct_1": 7,
        "acct_2": 14,
        "acct_3": 21,
    }


def test_optional_keys_load_exactly_when_some_accounts_leave_them_out(ctx: Context) -> None:
    """64-bit keys of optional values (sign-up IP and range, device, email, billing name)
    once came back through float64 whenever one account had none: rounded, so the sign-up
    range no longer matched the same range in the account's requests (one range counted as
    two) and the explanation could not find the value's text."""
    from sqlalchemy import text

    from app.detection.loader import load_input
    from graph.types import Kind

    shared = {"signup_ip": "203.0.113.7", "device_id": "dev_shared", "email": "kim@example.org"}
    records = [account(1, **shared), account(2, **shared), account(3)]  # acct_3: none of them
    records += [
        {"type": "payment_method", "account_id": f"acct_{i}", "fingerprint": f"fp{i}"}
        | ({"billing_name": "Kim Lee"} if i < 3 else {})
        for i in (1, 2, 3)
    ]
    records += [request("acct_1", id="q1", ip="203.0.113.7")]  # sign-up IP and range again
    make_ingestor(ctx).ingest(io.BytesIO(ndjson(*records)))
    with ctx.engine.connect() as conn:
        stored = {
            Kind.IP: "signup_ip_key",
            Kind.IP_RANGE: "signup_prefix_key",
            Kind.DEVICE: "device_key",
            Kind.EMAIL: "email_key",
        }
        keys = {
            kind: conn.execute(text(f"SELECT {col} FROM accounts WHERE id = 'acct_1'")).scalar_one()
            for kind, col in stored.items()
        }
        keys[Kind.BILLING_NAME] = conn.execute(
            text("SELECT billing_name_key FROM payment_methods WHERE account_id = 'acct_1'")
        ).scalar_one()
        inp = load_input(conn, ctx.settings.activity_window_seconds)[0]
    inc = inp.incidence
    row = inp.accounts.ids.tolist().index("acct_1")
    for kind, key in keys.items():
        loaded = set(inc.key[(inc.account == row) & (inc.kind == kind)].tolist())
        assert loaded == {key}, kind.name  # exact, and one range: sign-up and request agree
