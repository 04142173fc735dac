"""Evidence exports: every format read back with its real reader, shareable exports free of
clear personal data, bundles verified and tampering caught, exports audited and limited."""

from __future__ import annotations

import hashlib
import io
import shutil
import subprocess
import warnings
import zipfile
from html.parser import HTMLParser
from pathlib import Path

import networkx as nx
import orjson
import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import select

from app.cli import main
from app.core.context import Context
from app.exports import signing
from app.exports.bundle import verify
from app.exports.service import FORMATS, export
from app.models import (
    Account,
    AuditEntry,
    ClusterMember,
    Observation,
    ObservedValue,
    PaymentMethod,
    PromptSample,
)
from graph.signals.identity import FREE_PROVIDERS
from graph.types import Kind
from tests.app.conftest import clients_for

Clients = dict[str, TestClient]


def _farm(api: Clients) -> str:
    """The largest flagged cluster tied by payment evidence."""
    items = (
        api["viewer"]
        .get("/v1/clusters", params={"flagged": True, "family": "payment", "sort": "size"})
        .json()["items"]
    )
    return items[0]["id"]


def _personal_strings(ctx: Context, cluster_id: str) -> set[str]:
    """Every clear personal value of the cluster's members, as it would appear in bytes."""
    with ctx.sessions() as s:
        ids = list(
            s.scalars(
                select(ClusterMember.account_id).where(ClusterMember.cluster_id == cluster_id)
            )
        )
        out: set[str] = set(ids)
        for a in s.scalars(select(Account).where(Account.id.in_(ids))):
            out |= {x for x in (a.email, a.phone, a.name, a.signup_ip, a.device_id) if x}
            if a.email_domain and a.email_domain not in FREE_PROVIDERS:  # names a company
                out.add(a.email_domain)
        for p in s.scalars(select(PaymentMethod).where(PaymentMethod.account_id.in_(ids))):
            out |= {x for x in (p.fingerprint, p.billing_name, p.billing_postcode) if x}
        ips = s.execute(
            select(ObservedValue.value)
            .join(
                Observation,
                (Observation.kind == ObservedValue.kind)
                & (Observation.value_key == ObservedValue.value_key),
            )
            .where(Observation.account_id.in_(ids), Observation.kind == int(Kind.IP))
        )
        out |= {v for (v,) in ips}
        samples = s.scalars(select(PromptSample.text).where(PromptSample.account_id.in_(ids)))
        out |= {t for t in samples if len(t) > 20}
    return {x for x in out if len(x) >= 5}


def test_every_format_reads_back_with_its_reader(api: Clients, ctx: Context) -> None:
    import stix2
    from pymisp import MISPEvent
    from pypdf import PdfReader
    from stix2validator import ValidationOptions, validate_string

    cid = _farm(api)
    size = api["viewer"].get(f"/v1/clusters/{cid}").json()["size"]
    out = {f: export(ctx, cid, f, "internal", actor="test").content for f in FORMATS}

    z = zipfile.ZipFile(io.BytesIO(out["bundle"]))
    names = set(z.namelist())
    assert {"manifest.json", "SHA256SUMS", "members.csv", "edges.csv", "cluster.json"} <= names
    manifest = orjson.loads(z.read("manifest.json"))
    assert manifest["cluster_id"] == cid and manifest["members"] == size
    for line in z.read("SHA256SUMS").decode().splitlines():
        digest, name = line.split("  ")
        assert hashlib.sha256(z.read(name)).hexdigest() == digest

    for fmt, reader in (("graphml", nx.read_graphml), ("gexf", nx.read_gexf)):
        g = reader(io.BytesIO(out[fmt]))
        assert g.number_of_nodes() == size and g.number_of_edges() > 0
        _, _, attrs = next(iter(g.edges(data=True)))
        assert float(attrs["weight"]) > 0 and attrs["families"]
        assert any(orjson.loads(d["shared_values"]) for _, _, d in g.edges(data=True))

    bundle = stix2.parse(out["stix"], allow_custom=True)
    types = {o["type"] for o in bundle.objects}
    assert {"grouping", "intrusion-set", "user-account", "indicator", "relationship"} <= types
    assert {"marking-definition", "extension-definition"} <= types
    assert "hydrascope-payment-fingerprint" in types and "hydrascope-prompt-template" in types
    assert types & {"ipv4-addr", "ipv6-addr"}
    result = validate_string(out["stix"].decode(), ValidationOptions(strict=False))
    assert result.is_valid, [e.message for e in result.errors]

    event = MISPEvent()
    event.load(out["misp"])
    assert cid in event.info and any(a.type == "ip-src" for a in event.attributes)
    assert "tlp:red" in [t.name for t in event.tags]

    class Collect(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.tags: list[str] = []
            self.text: list[str] = []

        def handle_starttag(self, tag: str, attrs: object) -> None:
            self.tags.append(tag)

        def handle_data(self, data: str) -> None:
            self.text.append(data)

    p = Collect()
    p.feed(out["html"].decode())
    assert p.tags.count("svg") == 2 and "script" not in p.tags and "link" not in p.tags
    text = " ".join(p.text)
    for section in ("Score breakdown", "Shared evidence", "Prompt samples", "Review history"):
        assert section in text

    pdf = PdfReader(io.BytesIO(out["pdf"]))
    assert len(pdf.pages) >= 1 and cid in pdf.pages[0].extract_text()


def test_shareable_exports_hold_no_clear_personal_data(api: Clients, ctx: Context) -> None:
    cid = _farm(api)
    secrets = _personal_strings(ctx, cid)
    assert len(secrets) > 20
    for fmt in FORMATS:
        data = export(ctx, cid, fmt, "shareable", actor="test").content
        blobs = [data]
        if fmt == "bundle":
            z = zipfile.ZipFile(io.BytesIO(data))
            blobs = [z.read(n) for n in z.namelist()]
        elif fmt == "pdf":
            from pypdf import PdfReader

            blobs = [p.extract_text().encode() for p in PdfReader(io.BytesIO(data)).pages]
        leaked = {s for s in secrets for b in blobs if s.encode() in b}
        assert not leaked, (fmt, sorted(leaked)[:5])
    internal = export(ctx, cid, "bundle", "internal", actor="test").content
    z = zipfile.ZipFile(io.BytesIO(internal))
    assert any(s.encode() in z.read("members.csv") for s in secrets), "internal keeps them"


def _rezip(data: bytes, change: dict[str, bytes]) -> bytes:
    src = zipfile.ZipFile(io.BytesIO(data))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as dst:
        for n in src.namelist():
            dst.writestr(n, change.get(n, src.read(n)))
    return buf.getvalue()


def test_verify_catches_tampering_and_checks_signatures(
    api: Clients, ctx: Context, tmp_path: Path
) -> None:
    cid = _farm(api)
    plain = tmp_path / "plain.zip"
    plain.write_bytes(export(ctx, cid, "bundle", "internal", actor="test").content)
    assert verify(plain).ok and verify(plain).signed_by is None
    if shutil.which("sha256sum"):
        d = tmp_path / "unzipped"
        zipfile.ZipFile(plain).extractall(d)
        assert subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=d).returncode == 0

    members = zipfile.ZipFile(plain).read("members.csv")
    forged = tmp_path / "forged.zip"
    forged.write_bytes(_rezip(plain.read_bytes(), {"members.csv": members + b"x,1\n"}))
    v = verify(forged)
    assert not v.ok and any("members.csv" in p and "altered" in p for p in v.problems)

    # a second members.csv, the altered one first: `unzip -n` would extract that one
    doubled = tmp_path / "doubled.zip"
    with (
        warnings.catch_warnings(),  # zipfile warns of the duplicate name: that is the point
        zipfile.ZipFile(doubled, "w") as dst,
        zipfile.ZipFile(plain) as src,
    ):
        warnings.simplefilter("ignore", UserWarning)
        dst.writestr("members.csv", members + b"x,1\n")
        for n in src.namelist():
            dst.writestr(n, src.read(n))
    v = verify(doubled)
    assert not v.ok and any("members.csv" in p and "more than one" in p for p in v.problems)

    # signed: the right key verifies; someone who re-hashes after editing cannot re-sign
    pem = signing.new_private_pem()
    public = signing.public_pem(signing.load_private(pem).public_key())
    ctx.settings = ctx.settings.model_copy(update={"export_signing_key": SecretStr(pem)})
    signed = tmp_path / "signed.zip"
    signed.write_bytes(export(ctx, cid, "bundle", "internal", actor="test").content)
    good = verify(signed, public)
    assert good.ok and good.trusted and good.signed_by
    other = signing.public_pem(signing.load_private(signing.new_private_pem()).public_key())
    assert not verify(signed, other).ok
    z = zipfile.ZipFile(signed)
    new_members = z.read("members.csv") + b"x,1\n"
    sums = (
        z.read("SHA256SUMS")
        .decode()
        .replace(
            hashlib.sha256(z.read("members.csv")).hexdigest(),
            hashlib.sha256(new_members).hexdigest(),
        )
    )
    rehashed = tmp_path / "rehashed.zip"
    rehashed.write_bytes(
        _rezip(signed.read_bytes(), {"members.csv": new_members, "SHA256SUMS": sums.encode()})
    )
    v = verify(rehashed, public)
    assert not v.ok and any("signature" in p for p in v.problems)


def test_cli_export_and_verify(api: Clients, cli_env: dict[str, str], tmp_path: Path) -> None:
    cid = _farm(api)
    out = tmp_path / "e.zip"
    r = CliRunner().invoke(main, ["export", cid, "--format", "bundle", "-o", str(out)])
    assert r.exit_code == 0, r.output
    ok = CliRunner().invoke(main, ["verify", str(out)])
    assert ok.exit_code == 0 and "OK" in ok.stdout and "not signed" in ok.stdout
    out.write_bytes(_rezip(out.read_bytes(), {"cluster.json": b"{}"}))
    bad = CliRunner().invoke(main, ["verify", str(out)])
    assert bad.exit_code == 1 and "cluster.json" in bad.output
    missing = CliRunner().invoke(main, ["export", "hc_nope", "-o", str(tmp_path / "x")])
    assert missing.exit_code == 1 and "no cluster 'hc_nope'" in missing.output
    assert not list(tmp_path.glob("*.partial"))  # no partial file left behind


def test_cli_export_to_a_path_it_cannot_write_exports_nothing(
    api: Clients, ctx: Context, cli_env: dict[str, str], tmp_path: Path
) -> None:
    """It used to make (and audit) the export, then fail with a traceback writing the file."""
    cid = _farm(api)

    def exports() -> int:
        with ctx.sessions() as s:
            rows = s.scalars(select(AuditEntry).where(AuditEntry.action == "cluster.export"))
            return len(rows.all())

    before = exports()
    target = tmp_path / "no" / "such" / "dir" / "e.zip"
    r = CliRunner().invoke(main, ["export", cid, "-o", str(target)])
    assert r.exit_code == 1 and f"{target}: cannot write there" in r.output, r.output
    assert "Traceback" not in r.output and exports() == before
    # a symlink is written through, not replaced by a file
    real, link = tmp_path / "real.zip", tmp_path / "link.zip"
    real.write_bytes(b"")
    link.symlink_to(real)
    r = CliRunner().invoke(main, ["export", cid, "-o", str(link)])
    assert r.exit_code == 0 and link.is_symlink() and zipfile.is_zipfile(real), r.output


def test_api_export_needs_reviewer_is_audited_and_limited(api: Clients, ctx: Context) -> None:
    cid = _farm(api)
    url = f"/v1/clusters/{cid}/export"
    assert api["viewer"].get(url).status_code == 403
    r = api["reviewer"].get(url, params={"format": "gexf", "redaction": "shareable"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/gexf+xml")
    assert "attachment" in r.headers["content-disposition"]
    assert api["reviewer"].get(url, params={"format": "docx"}).status_code == 422
    assert api["reviewer"].get("/v1/clusters/hc_nope/export").status_code == 404
    with ctx.sessions() as s:
        audit = s.scalars(select(AuditEntry).where(AuditEntry.action == "cluster.export")).all()
    assert len(audit) == 1 and audit[0].details["export_id"] == r.headers["x-export-id"]
    assert audit[0].details["redaction"] == "shareable" and audit[0].actor.startswith("key:")
    limited = clients_for(ctx, export_rate_per_minute=2)["reviewer"]
    codes = [limited.get(url, params={"format": "misp"}).status_code for _ in range(3)]
    assert codes[:1] == [200] and codes[-1] == 429


@pytest.mark.parametrize("redaction", ["bogus"])
def test_unknown_redaction_is_refused(api: Clients, redaction: str) -> None:
    r = api["reviewer"].get(f"/v1/clusters/{_farm(api)}/export", params={"redaction": redaction})
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"


def test_shareable_text_masks_names_and_streets() -> None:
    from app.exports.redact import MASK, Redactor

    r = Redactor(True, lambda space, value: hash((space, value)))
    prompt = (
        "Hi, my name is Maria Lopez and I live at 14 Calle Mayor Street in Madrid. "
        "Please explain step by step how to compute 17 * 23."
    )
    shown = r.prompt(prompt)
    for personal in ("maria", "lopez", "calle", "mayor", "madrid", "14"):
        assert personal not in shown.lower(), (personal, shown)
    assert MASK in shown and "explain step by step how to compute" in shown
    template = "dear mr hendricks, the parcel for <n> baker street is late. summarise it."
    masked = r.value("template", template)
    assert masked and "hendricks" not in masked and "baker" not in masked
    assert "the parcel for" in masked and "summarise it" in masked
    assert r.email_domain("gmail.com") == "gmail.com"
    assert r.email_domain("acme-corp.example") != "acme-corp.example"
    internal = Redactor(False, lambda space, value: 0)
    assert (
        internal.prompt(prompt) == prompt
        and internal.email_domain("acme.example") == "acme.example"
    )
