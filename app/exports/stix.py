"""STIX 2.1: the cluster as an intrusion-set inside a grouping, members as user-accounts,
IPs and ranges as ipv4-addr / ipv6-addr, indicators for the strongest shared values,
relationships, a TLP marking, and payment fingerprints and prompt templates as new SCO types
defined by an extension-definition (built with the OASIS `stix2` library)."""

from __future__ import annotations

import ipaddress
from datetime import UTC, datetime
from typing import Any

import stix2
from stix2.properties import StringProperty

from app.exports.evidence import Evidence

# fixed ids, so consumers recognise the same producer and extension across exports
PAYMENT_EXT = "extension-definition--3f5e9a0c-6b1d-4f43-9a57-2d1c7e8b4a11"
TEMPLATE_EXT = "extension-definition--9c4b2e7a-1f3d-4a6b-8e5c-7d2a9f1b3c60"
PRODUCER_ID = "identity--8a2f6c1e-5d4b-4e8a-9c3f-1b7d2e6a9f40"
_EPOCH = datetime(2026, 11, 29, tzinfo=UTC)
MAX_INDICATORS = 10


@stix2.v21.CustomObservable(
    "hydrascope-payment-fingerprint",
    [("value", StringProperty(required=True))],
    id_contrib_props=["value"],
    extension_name=PAYMENT_EXT,
)
class PaymentFingerprint:
    """A payment processor's card fingerprint (never a card number), or its keyed hash."""

    def __init__(self, **kwargs: Any) -> None: ...  # the decorator supplies the real one


@stix2.v21.CustomObservable(
    "hydrascope-prompt-template",
    [("skeleton", StringProperty(required=True)), ("signature", StringProperty())],
    id_contrib_props=["skeleton"],
    extension_name=TEMPLATE_EXT,
)
class PromptTemplate:
    """A prompt template's skeleton (slots masked) and its distillation signature if any."""

    def __init__(self, **kwargs: Any) -> None: ...  # the decorator supplies the real one


def _producer() -> stix2.Identity:
    return stix2.Identity(
        id=PRODUCER_ID,
        name="hydrascope",
        identity_class="system",
        created=_EPOCH,
        modified=_EPOCH,
    )


def _extensions(producer: stix2.Identity) -> list[stix2.ExtensionDefinition]:
    common = {
        "created_by_ref": producer.id,
        "created": _EPOCH,
        "modified": _EPOCH,
        "schema": "https://github.com/hydrascope/hydrascope/blob/main/docs/exports.md",
        "version": "1.0.0",
        "extension_types": ["new-sco"],
    }
    return [
        stix2.ExtensionDefinition(
            id=PAYMENT_EXT,
            name="hydrascope-payment-fingerprint",
            description="value: a card processor's fingerprint token (never a card number), "
            "or its keyed hash in shareable exports.",
            **common,
        ),
        stix2.ExtensionDefinition(
            id=TEMPLATE_EXT,
            name="hydrascope-prompt-template",
            description="skeleton: a prompt template with quoted text, numbers, emails and "
            "URLs masked; signature: reasoning, agentic, grading or none.",
            **common,
        ),
    ]


def _address(value: str) -> Any | None:
    try:
        net = ipaddress.ip_network(value, strict=False)
    except ValueError:
        return None
    text = str(net) if "/" in value else str(net.network_address)
    return stix2.IPv4Address(value=text) if net.version == 4 else stix2.IPv6Address(value=text)


def _pattern(obj: Any) -> str | None:
    v = str(obj.get("value", obj.get("skeleton", ""))).replace("\\", "\\\\").replace("'", "\\'")
    if obj.type in ("ipv4-addr", "ipv6-addr", "hydrascope-payment-fingerprint"):
        return f"[{obj.type}:value = '{v}']"
    if obj.type == "user-account":
        return f"[user-account:user_id = '{v}']"
    return None


def render(ev: Evidence) -> bytes:
    tlp = stix2.TLP_AMBER if ev.redaction == "shareable" else stix2.TLP_RED
    marking = [tlp.id]
    producer = _producer()
    exts = _extensions(producer)
    common = {"created_by_ref": producer.id, "object_marking_refs": marking}
    when = ev.exported_at
    intrusion = stix2.IntrusionSet(
        name=f"Hydra network {ev.cluster['id']}",
        description=ev.cluster["summary"],
        first_seen=min(
            (datetime.fromisoformat(m["signed_up"]) for m in ev.members if m["signed_up"]),
            default=None,
        ),
        goals=["model distillation through coordinated accounts"],
        **common,
    )
    observables: list[Any] = []
    for m in ev.members:
        extra = (
            {"account_created": datetime.fromisoformat(m["signed_up"])} if m["signed_up"] else {}
        )
        observables.append(
            stix2.UserAccount(user_id=m["account"], account_type="api-platform", **extra)
        )
    strongest: list[Any] = []
    for v in ev.values:
        value = v.get("value")
        if value is None:
            continue
        obj: Any = None
        if v["kind"] in ("ip", "ip_range"):
            obj = _address(value)
        elif v["kind"] == "card":
            obj = PaymentFingerprint(value=value)
        elif v["kind"] == "template":
            obj = PromptTemplate(skeleton=value)
        if obj is not None:
            observables.append(obj)
            strongest.append(obj)
    for t in ev.explanation.get("templates", []):
        if t.get("skeleton"):
            observables.append(
                PromptTemplate(skeleton=t["skeleton"], signature=t.get("signature") or "none")
            )
    unique = list({o.id: o for o in observables}.values())
    indicators = []
    rels = []
    for obj in strongest[:MAX_INDICATORS]:
        pattern = _pattern(obj)
        if pattern is None:
            continue
        ind = stix2.Indicator(
            name=f"shared by members of {ev.cluster['id']}",
            pattern=pattern,
            pattern_type="stix",
            valid_from=when,
            indicator_types=["attribution"],
            **common,
        )
        indicators.append(ind)
        rels.append(stix2.Relationship(ind, "indicates", intrusion, **common))
    for obj in unique:
        rels.append(
            stix2.Relationship(
                source_ref=intrusion.id, relationship_type="related-to", target_ref=obj.id, **common
            )
        )
    objects = [intrusion, *indicators, *unique, *rels]
    grouping = stix2.Grouping(
        name=f"hydrascope cluster {ev.cluster['id']} (export {ev.export_id})",
        context="suspicious-activity",
        description=(
            f"score {ev.cluster['score']:.3f}, {ev.cluster['size']} accounts, run "
            f"{ev.run['id']}, redaction {ev.redaction}"
        ),
        object_refs=[o.id for o in objects],
        **common,
    )
    bundle = stix2.Bundle(producer, *exts, tlp, grouping, *objects, allow_custom=True)
    return bundle.serialize(pretty=True).encode()
