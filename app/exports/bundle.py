"""The evidence bundle: a zip with JSON, CSV, a manifest, SHA256SUMS and an optional
Ed25519 signature over SHA256SUMS; and :func:`verify` for it.

Layout (all at the top level of the zip)::

    cluster.json  explanation.json  run.json  history.json  values.json
    members.csv   edges.csv
    manifest.json      export id, cluster, run, who, when, service version, every file's SHA-256
    SHA256SUMS         `sha256sum -c SHA256SUMS` checks every file, manifest.json included
    SHA256SUMS.sig     base64 Ed25519 signature of SHA256SUMS (when a signing key is set)
    signing-key.pub    the signer's public key (PEM), for information: trust comes from
                       comparing it with a key you already hold (`verify --public-key`)
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from app.exports import signing
from app.exports.evidence import Evidence
from app.exports.tables import edges_csv, members_csv

_FIXED_TIME = (2026, 1, 1, 0, 0, 0)  # zip entry times carry no information


def _json(obj: Any) -> bytes:
    return orjson.dumps(obj, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n"


def render(ev: Evidence, key: Ed25519PrivateKey | None = None) -> bytes:
    files: dict[str, bytes] = {
        "cluster.json": _json(ev.cluster),
        "explanation.json": _json(ev.explanation),
        "run.json": _json(ev.run),
        "history.json": _json(ev.history),
        "values.json": _json(ev.values),
        "members.csv": members_csv(ev.members),
        "edges.csv": edges_csv(ev.edges),
    }
    manifest = {
        **ev.manifest_head(),
        "members": len(ev.members),
        "edges": len(ev.edges),
        "files": {name: hashlib.sha256(data).hexdigest() for name, data in sorted(files.items())},
    }
    if key is not None:
        manifest["signed_by"] = signing.fingerprint(key.public_key())
    files["manifest.json"] = _json(manifest)
    sums = "".join(
        f"{hashlib.sha256(data).hexdigest()}  {name}\n" for name, data in sorted(files.items())
    ).encode()
    files["SHA256SUMS"] = sums
    if key is not None:
        files["SHA256SUMS.sig"] = signing.sign(key, sums)
        files["signing-key.pub"] = signing.public_pem(key.public_key()).encode()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in files.items():
            z.writestr(zipfile.ZipInfo(name, _FIXED_TIME), data, zipfile.ZIP_DEFLATED)
    return buf.getvalue()


@dataclass
class Verdict:
    ok: bool
    problems: list[str] = field(default_factory=list)
    signed_by: str | None = None
    trusted: bool = False
    manifest: dict[str, Any] = field(default_factory=dict)


def verify(path: Path, public_key: str | None = None) -> Verdict:
    """Check every file against SHA256SUMS and the manifest, and the signature if any.

    With ``public_key`` the bundle must be signed by exactly that key.
    """
    v = Verdict(ok=True)
    try:
        z = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        return Verdict(ok=False, problems=[f"not a readable zip file: {exc}"])
    with z:
        all_names = z.namelist()
        names = set(all_names)
        data = {n: z.read(n) for n in names}
    # Tools disagree on which of two same-named entries they extract (unzip -n: the first;
    # Python: the last), so a bundle with one could show a reader other bytes than we checked.
    dupes = sorted({n for n in all_names if all_names.count(n) > 1})
    v.problems += [f"{n}: more than one entry with this name" for n in dupes]
    unsafe = sorted(n for n in names if n.startswith("/") or ".." in n.split("/") or "\\" in n)
    v.problems += [f"{n}: an entry name that points outside the bundle" for n in unsafe]
    for required in ("manifest.json", "SHA256SUMS"):
        if required not in data:
            return Verdict(ok=False, problems=[f"{required} is missing"])
    listed: dict[str, str] = {}
    for line in data["SHA256SUMS"].decode(errors="replace").splitlines():
        digest, _, name = line.partition("  ")
        if len(digest) != 64 or not name:
            v.problems.append(f"SHA256SUMS: malformed line {line!r}")
            continue
        listed[name] = digest
    for name, digest in sorted(listed.items()):
        if name not in data:
            v.problems.append(f"{name}: listed in SHA256SUMS but missing")
        elif hashlib.sha256(data[name]).hexdigest() != digest:
            v.problems.append(f"{name}: SHA-256 does not match SHA256SUMS (altered)")
    extra = names - set(listed) - {"SHA256SUMS", "SHA256SUMS.sig", "signing-key.pub"}
    v.problems += [f"{n}: not listed in SHA256SUMS (added)" for n in sorted(extra)]
    try:
        v.manifest = orjson.loads(data["manifest.json"])
        for name, digest in v.manifest.get("files", {}).items():
            if listed.get(name) != digest:
                v.problems.append(f"{name}: manifest and SHA256SUMS disagree")
    except orjson.JSONDecodeError:
        v.problems.append("manifest.json is not valid JSON")
    sig = data.get("SHA256SUMS.sig")
    if sig is not None:
        try:
            embedded = signing.load_public(data.get("signing-key.pub", b"").decode())
            trusted_key = signing.load_public(public_key) if public_key else embedded
        except signing.SigningKeyError as exc:
            v.problems.append(str(exc))
        else:
            if signing.verify(trusted_key, data["SHA256SUMS"], sig):
                v.signed_by = signing.fingerprint(trusted_key)
                v.trusted = public_key is not None
            else:
                who = "the given public key" if public_key else "its embedded key"
                v.problems.append(f"SHA256SUMS.sig: signature does not verify with {who}")
    elif public_key:
        v.problems.append("the bundle is not signed, but a public key was given")
    v.ok = not v.problems
    return v
