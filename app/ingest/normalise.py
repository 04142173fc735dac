"""Account and payment records -> table rows with link keys (low volume, per record)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from app.core.hashing import Hasher
from app.core.timestamps import utc
from app.ingest.validate import RecordError
from graph.signals.identity import (
    email_domain,
    email_shape,
    normalise_email,
    normalise_name,
    normalise_phone,
)
from graph.signals.network import parse_ip


def account_row(
    rec: dict[str, Any], line: int, h: Hasher, now: datetime
) -> dict[str, Any] | RecordError:
    row: dict[str, Any] = {
        "id": rec["id"],
        "created_at": utc(rec["created_at"]),
        "email": None,
        "email_key": None,
        "email_domain": None,
        "email_shape": None,
        "name": rec.get("name"),
        "name_key": None,
        "phone": None,
        "phone_key": None,
        "country": rec.get("country"),
        "signup_ip": None,
        "signup_ip_key": None,
        "signup_prefix_key": None,
        "user_agent": rec.get("user_agent"),
        "user_agent_key": None,
        "device_id": rec.get("device_id"),
        "device_key": None,
        "org_id": rec.get("org_id"),
        "attributes": rec.get("attributes"),
        "ingested_at": now,
    }
    if (ip := rec.get("signup_ip")) is not None:
        parsed = parse_ip(ip)
        if parsed is None:
            return RecordError(line, "signup_ip", "not a valid IPv4 or IPv6 address")
        row["signup_ip"] = parsed[0]
        row["signup_ip_key"] = h("ip", parsed[0])
        row["signup_prefix_key"] = h("ip_range", parsed[1])
    if (email := rec.get("email")) is not None:
        norm = normalise_email(email)
        row.update(
            email=norm,
            email_key=h("email", norm),
            email_domain=email_domain(norm),
            email_shape=email_shape(norm),
        )
    if row["name"]:
        row["name_key"] = h("name", normalise_name(row["name"]))
    if (phone := rec.get("phone")) is not None:
        row["phone"] = normalise_phone(phone)
        row["phone_key"] = h("phone", row["phone"])
    if row["user_agent"]:
        row["user_agent_key"] = h("user_agent", row["user_agent"])
    if row["device_id"]:
        row["device_key"] = h("device", row["device_id"])
    return row


def payment_row(rec: dict[str, Any], h: Hasher, now: datetime) -> dict[str, Any]:
    name = rec.get("billing_name")
    return {
        "account_id": rec["account_id"],
        "fingerprint": rec["fingerprint"],
        "fingerprint_key": h("card", rec["fingerprint"]),
        "brand": rec.get("brand"),
        "bin": rec.get("bin"),
        "last4": rec.get("last4"),
        "exp_month": rec.get("exp_month"),
        "exp_year": rec.get("exp_year"),
        "billing_name": name,
        "billing_name_key": h("name", normalise_name(name)) if name else None,
        "billing_postcode": rec.get("billing_postcode"),
        "billing_country": rec.get("billing_country"),
        "added_at": utc(rec.get("added_at")),
        "ingested_at": now,
    }
