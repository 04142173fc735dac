"""A MISP event (pymisp) for teams that share through MISP: the cluster's summary as the
event info, its shared values as attributes, members as a list of account attributes, all
tagged with the TLP level and the hydrascope cluster id."""

from __future__ import annotations

import ipaddress
import uuid

from pymisp import MISPEvent

from app.exports.evidence import Evidence

# evidence kind -> (MISP attribute type, category)
_TYPES = {
    "ip": ("ip-src", "Network activity"),
    "ip_range": ("ip-src", "Network activity"),
    "user_agent": ("user-agent", "Network activity"),
    "email": ("email-src", "Payload delivery"),
    "template": ("text", "Other"),
    "card": ("text", "Financial fraud"),
    "bin_postcode": ("text", "Financial fraud"),
    "billing_name": ("text", "Financial fraud"),
    "device": ("text", "Other"),
    "phone": ("phone-number", "Person"),
}
_NAMESPACE = uuid.UUID("0d4f3c2a-7b6e-4c5d-9e8f-1a2b3c4d5e6f")


def _misp_type(kind: str, value: str) -> tuple[str, str]:
    t, cat = _TYPES.get(kind, ("text", "Other"))
    if value.startswith("h:"):  # a keyed hash stands in for the value
        return "text", cat
    if t == "ip-src":
        try:
            ipaddress.ip_network(value, strict=False)
        except ValueError:
            return "text", cat
    return t, cat


def render(ev: Evidence) -> bytes:
    e = MISPEvent()
    e.uuid = str(uuid.uuid5(_NAMESPACE, ev.export_id))
    e.info = f"hydrascope cluster {ev.cluster['id']}: {ev.cluster['summary']}"
    e.distribution = 0 if ev.redaction == "internal" else 1  # organisation only / community
    e.threat_level_id = 2 if ev.cluster["flagged"] else 3
    e.analysis = 2 if ev.cluster["status"] in ("confirmed", "actioned") else 1
    e.set_date(ev.exported_at.date())
    e.add_tag("tlp:red" if ev.redaction == "internal" else "tlp:amber")
    e.add_tag(f"hydrascope:cluster={ev.cluster['id']}")
    e.add_tag(f"hydrascope:status={ev.cluster['status']}")
    for v in ev.values:
        value = v.get("value")
        if not value:
            continue
        typ, cat = _misp_type(v["kind"], str(value))
        e.add_attribute(
            typ,
            str(value),
            category=cat,
            to_ids=typ in ("ip-src", "email-src") and v.get("members", 0) >= 2,
            comment=f"{v['kind']} shared by {v.get('members')} members ({v['family']})",
        )
    for m in ev.members:
        e.add_attribute(
            "text",
            m["account"],
            category="Other",
            to_ids=False,
            comment=f"member account, strength {m['strength']}",
        )
    return e.to_json(indent=2).encode()
