"""Two ingests at once on PostgreSQL: both finish, and together store what one would."""

from __future__ import annotations

import io
import threading
from collections import Counter
from typing import Any

import pytest

from app.core.context import Context
from app.ingest.service import make_ingestor
from tests.helpers import account, dump_tables, ndjson, request

N = 12_000
WORDS = [
    "alpha",
    "bravo",
    "charlie",
    "delta",
    "echo",
    "foxtrot",
    "golf",
    "hotel",
    "india",
    "juliet",
    "kilo",
    "lima",
]


def _file(part: int) -> bytes:
    """Requests of their own whose values (IPs, user agents, templates) come in chunks that
    the other file holds too, in the opposite order: each ingest's transactions then lock
    values that the other one's later transactions want (what deadlocked)."""
    recs: list[dict[str, Any]] = [account(i) for i in range(300)]
    order = range(N) if part == 0 else reversed(range(N))
    for i in order:
        chunk, item = WORDS[i * 12 // N], WORDS[i % 12]
        recs.append(
            request(
                f"acct_{i % 300}",
                id=f"r{part}_{i}",
                ip=f"10.{i * 12 // N}.{i % 40}.{i % 7}",
                user_agent=f"client-{chunk}-{item}-{i % 30}",
                prompt=f"{chunk} task about {item} {WORDS[(i // 12) % 12]} please",
            )
        )
    return ndjson(*recs)


@pytest.mark.slow
def test_two_ingests_at_once_finish_and_lose_nothing(
    ctx: Context, other_ctx: Context, backend: str
) -> None:
    if backend != "postgresql":
        pytest.skip("SQLite has one writer at a time by design")
    for c in (ctx, other_ctx):
        # the per-account sample cap keeps an account's first prompts, so which templates they
        # fill depends on arrival order (tests/app/test_template_signatures.py covers it);
        # unbound here, each template's first samples are the same however the files interleave
        c.settings = c.settings.model_copy(
            update={
                "ingest_batch_lines": 1000,
                "ingest_commit_lines": 3000,
                "prompt_samples_per_account": 10_000,
            }
        )
    files = [_file(0), _file(1)]
    errors: list[BaseException] = []

    def run(data: bytes) -> None:
        try:
            make_ingestor(ctx).ingest(io.BytesIO(data))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(f,)) for f in files]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not errors, errors
    for f in files:
        make_ingestor(other_ctx).ingest(io.BytesIO(f))
    together, apart = dump_tables(ctx.engine), dump_tables(other_ctx.engine)
    # which prompts fill a template's sample slots depends on arrival order: compare how many
    samples = [together.pop("prompt_samples"), apart.pop("prompt_samples")]
    per_template = [sorted(Counter(r[0] for r in rows).items()) for rows in samples]
    assert per_template[0] == per_template[1]
    assert together == apart
