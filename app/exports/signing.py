"""Ed25519 signatures for bundles (the `cryptography` library: audited, constant-time).

A signing key is configured as ``HYDRASCOPE_EXPORT_SIGNING_KEY``: a PEM private key, or 64
hex digits (the raw 32-byte seed). ``hydrascope export-key`` makes one.
"""

from __future__ import annotations

import base64
import hashlib

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey


class SigningKeyError(ValueError):
    pass


def load_private(text: str) -> Ed25519PrivateKey:
    text = text.strip()
    try:
        if text.startswith("-----BEGIN"):
            key = serialization.load_pem_private_key(text.encode(), password=None)
            if not isinstance(key, Ed25519PrivateKey):
                raise SigningKeyError("the signing key is not an Ed25519 key")
            return key
        return Ed25519PrivateKey.from_private_bytes(bytes.fromhex(text))
    except (ValueError, TypeError) as exc:
        raise SigningKeyError(
            "HYDRASCOPE_EXPORT_SIGNING_KEY is not an Ed25519 PEM key or 64 hex digits"
        ) from exc


def load_public(text: str) -> Ed25519PublicKey:
    text = text.strip()
    try:
        if text.startswith("-----BEGIN"):
            key = serialization.load_pem_public_key(text.encode())
            if not isinstance(key, Ed25519PublicKey):
                raise SigningKeyError("not an Ed25519 public key")
            return key
        return Ed25519PublicKey.from_public_bytes(bytes.fromhex(text))
    except (ValueError, TypeError) as exc:
        raise SigningKeyError("not an Ed25519 public key (PEM or 64 hex digits)") from exc


def public_pem(key: Ed25519PublicKey) -> str:
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


def fingerprint(key: Ed25519PublicKey) -> str:
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return "ed25519:" + hashlib.sha256(raw).hexdigest()[:32]


def sign(key: Ed25519PrivateKey, data: bytes) -> bytes:
    return base64.b64encode(key.sign(data)) + b"\n"


def verify(key: Ed25519PublicKey, data: bytes, signature: bytes) -> bool:
    try:
        key.verify(base64.b64decode(signature.strip(), validate=True), data)
    except (InvalidSignature, ValueError):
        return False
    return True


def new_private_pem() -> str:
    return (
        Ed25519PrivateKey.generate()
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        .decode()
    )
