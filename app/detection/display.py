"""Turn (kind, key) pairs into the text a reviewer sees, with one query per source table."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from sqlalchemy import Connection, text

from graph.types import Kind

_OBSERVED = (
    "SELECT value_key, value FROM observed_values WHERE kind = {kind} AND value_key IN ({keys})"
)
#: Kinds whose text one (key, text) query finds; IP also has the accounts' sign-up IPs.
_SIMPLE = {
    **{int(k): _OBSERVED for k in (Kind.IP, Kind.IP_RANGE, Kind.USER_AGENT, Kind.API_KEY)},
    int(Kind.TEMPLATE): (
        "SELECT template_key, value FROM template_texts WHERE template_key IN ({keys})"
    ),
    int(Kind.BILLING_NAME): (
        "SELECT billing_name_key, min(billing_name) FROM payment_methods "
        "WHERE billing_name_key IN ({keys}) GROUP BY billing_name_key"
    ),
}
_ACCOUNT_COLUMNS = {
    Kind.EMAIL: ("email_key", "email"),
    Kind.PHONE: ("phone_key", "phone"),
    Kind.DEVICE: ("device_key", "device_id"),
    Kind.NAME: ("name_key", "name"),
    Kind.IP: ("signup_ip_key", "signup_ip"),
}
_CHUNK = 900


def _chunks(keys: list[int]) -> Iterable[list[int]]:
    for i in range(0, len(keys), _CHUNK):
        yield keys[i : i + _CHUNK]


def _in(keys: list[int]) -> str:
    return ",".join(str(int(k)) for k in keys)  # integers only: safe to inline


def resolve(
    conn: Connection, wanted: Iterable[tuple[int, int]], derived: Mapping[tuple[int, int], str]
) -> dict[tuple[int, int], str]:
    by_kind: dict[int, list[int]] = {}
    out: dict[tuple[int, int], str] = {}
    for kind, key in wanted:
        if (kind, key) in derived:
            out[(kind, key)] = derived[(kind, key)]
        else:
            by_kind.setdefault(kind, []).append(key)
    for kind, keys in by_kind.items():
        for part in _chunks(keys):
            if kind in _SIMPLE:  # (key, text) rows
                rows = conn.execute(text(_SIMPLE[kind].format(kind=kind, keys=_in(part))))
                out.update({(kind, int(k)): v for k, v in rows})
            if kind in {int(k) for k in _ACCOUNT_COLUMNS}:
                key_col, val_col = _ACCOUNT_COLUMNS[Kind(kind)]
                rows = conn.execute(
                    text(
                        f"SELECT {key_col}, min({val_col}) FROM accounts "
                        f"WHERE {key_col} IN ({_in(part)}) "
                        f"GROUP BY {key_col}"
                    )
                )
                for k, v in rows:
                    out.setdefault((kind, int(k)), v)
            if kind == Kind.CARD:
                rows = conn.execute(
                    text(
                        "SELECT fingerprint_key, min(brand), min(last4), min(fingerprint) "
                        "FROM payment_methods "
                        f"WHERE fingerprint_key IN ({_in(part)}) GROUP BY fingerprint_key"
                    )
                )
                for k, brand, last4, fp in rows:
                    out[(kind, int(k))] = f"{brand or 'card'} ending {last4 or '????'} ({fp})"
    return out
