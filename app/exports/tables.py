"""Members and edges as CSV (the same columns in every bundle)."""

from __future__ import annotations

import csv
import io
from typing import Any

import orjson

MEMBER_COLUMNS = (
    "account", "strength", "signed_up", "country", "org_id", "email_domain", "email", "phone",
    "name", "signup_ip", "device_id", "requests", "input_tokens", "output_tokens",
    "first_seen", "last_seen",
)  # fmt: skip
EDGE_COLUMNS = ("source", "target", "weight", "families", "shared")


def _csv(rows: list[dict[str, Any]], columns: tuple[str, ...]) -> bytes:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
    w.writeheader()
    for row in rows:
        w.writerow(
            {
                k: orjson.dumps(v).decode() if isinstance(v, dict | list) else v
                for k, v in row.items()
            }
        )
    return buf.getvalue().encode()


def members_csv(members: list[dict[str, Any]]) -> bytes:
    return _csv(members, MEMBER_COLUMNS)


def edges_csv(edges: list[dict[str, Any]]) -> bytes:
    return _csv(edges, EDGE_COLUMNS)
