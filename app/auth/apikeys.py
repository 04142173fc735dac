"""API keys: created once, shown once, stored only as a SHA-256 digest.

A key is ``hs_<id>_<secret>`` with 256 bits of randomness, so a plain SHA-256 of it is a safe
stored form (no dictionary to test against), and lookups are by digest.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal, get_args

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.core.audit import record
from app.models import ApiKey

Role = Literal["viewer", "reviewer", "admin"]
ROLES: tuple[str, ...] = get_args(Role)
RANK = {r: i for i, r in enumerate(ROLES)}


class KeyError_(LookupError):
    """No such key."""


@dataclass(frozen=True)
class Principal:
    key_id: str
    name: str
    role: str

    @property
    def actor(self) -> str:
        return f"key:{self.key_id}:{self.name}"

    def can(self, role: str) -> bool:
        return RANK[self.role] >= RANK[role]


def digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_key(session: Session, *, name: str, role: str, actor: str) -> tuple[ApiKey, str]:
    """Create a key; return the row and the plaintext key (never stored, shown once)."""
    if role not in RANK:
        raise ValueError(f"unknown role {role!r}; choose from {', '.join(ROLES)}")
    if not name.strip() or len(name) > 128:
        raise ValueError("a key needs a name of 1-128 characters")
    key_id = secrets.token_hex(6)
    plaintext = f"hs_{key_id}_{secrets.token_urlsafe(32)}"
    row = ApiKey(
        id=key_id, name=name, role=role, key_hash=digest(plaintext), created_at=datetime.now(UTC)
    )
    session.add(row)
    record(session, actor, "apikey.create", "api_key", key_id, {"name": name, "role": role})
    session.flush()
    return row, plaintext


def list_keys(session: Session) -> list[ApiKey]:
    return list(session.scalars(select(ApiKey).order_by(ApiKey.created_at, ApiKey.id)))


def revoke_key(session: Session, key_id: str, *, actor: str) -> ApiKey:
    row = session.get(ApiKey, key_id)
    if row is None:
        raise KeyError_(f"no API key with id {key_id!r}")
    if row.revoked_at is None:
        row.revoked_at = datetime.now(UTC)
        record(session, actor, "apikey.revoke", "api_key", key_id, {"name": row.name})
    session.flush()
    return row


def authenticate(session: Session, presented: str) -> Principal | None:
    """The principal for a presented key, or None if unknown or revoked."""
    if not presented.startswith("hs_") or len(presented) > 200:
        return None
    row = session.scalars(select(ApiKey).where(ApiKey.key_hash == digest(presented))).first()
    if row is None or row.revoked_at is not None:
        return None
    return Principal(row.id, row.name, row.role)
