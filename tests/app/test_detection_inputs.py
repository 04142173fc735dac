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
