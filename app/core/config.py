"""One settings object, read from ``HYDRASCOPE_*`` environment variables.

Unsafe values stop the service early with a message that says what to set, rather than
running with a guessable hashing key.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from graph.types import ACTIVITY_WINDOW_SECONDS

# Keys that appear in docs, examples or compose files: never acceptable outside dev mode.
KNOWN_WEAK_SECRETS = frozenset({"", "changeme", "change-me", "secret", "dev", "hydrascope-dev"})
DEV_SECRET = "hydrascope-dev-insecure-key-do-not-use-in-production"
MIN_SECRET_LENGTH = 16


class ConfigError(RuntimeError):
    """Raised when the configuration is unsafe or incomplete."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HYDRASCOPE_", extra="ignore")

    database_url: str = Field(
        default=f"sqlite:///{Path.cwd() / 'hydrascope.db'}",
        description="SQLAlchemy URL; SQLite file in the working directory by default.",
    )
    secret_key: SecretStr | None = Field(
        default=None,
        description="Key for the keyed hashes that link personal data (emails, IPs, cards).",
    )
    dev_mode: bool = Field(default=False, description="Allow the built-in development key.")
    review_threshold: float = Field(default=0.5, ge=0.0, le=1.0)
    ingest_batch_lines: int = Field(
        default=25_000, ge=100, le=1_000_000, description="Lines validated and reduced together"
    )
    ingest_commit_lines: int = Field(
        default=1_000_000,
        ge=100,
        le=10_000_000,
        description="Lines per ingest transaction (whole batches; rows merged across them)",
    )
    ingest_sqlite_cache_mib: int = Field(
        default=128,
        ge=0,
        le=4096,
        description="SQLite page cache of a CLI ingest (MiB; 0 = the engine default)",
    )
    ingest_workers: int = Field(default=2, ge=0, le=64, description="CLI ingest worker processes")
    ingest_max_body_bytes: int = Field(
        default=512 * 1024 * 1024,
        ge=1024,
        description="POST /v1/ingest: largest body, counted after decompression (413 beyond)",
    )
    ingest_max_line_bytes: int = Field(
        default=4 * 1024 * 1024,
        ge=1024,
        description="POST /v1/ingest: longest NDJSON line (413 beyond; a record is far smaller)",
    )
    prompt_samples_per_template: int = Field(default=5, ge=0, le=100)
    prompt_samples_per_account: int = Field(
        default=20,
        ge=0,
        le=10_000,
        description="raw prompts kept as samples per account, across its templates",
    )
    prompt_samples_per_account_unshared: int = Field(
        default=6,
        ge=0,
        le=10_000,
        description="of those, prompts of templates no other account is known to use yet",
    )
    activity_window_seconds: int = Field(default=ACTIVITY_WINDOW_SECONDS, ge=10, le=86_400)
    log_level: str = "INFO"
    log_format: Literal["json", "text"] = Field(
        default="json", description="json: one JSON object per line (with request_id)"
    )
    rate_limit_per_minute: int = Field(
        default=600, ge=0, description="Requests per minute per API key (0 = no limit)"
    )
    rate_limit_burst: int = Field(default=100, ge=1)
    api_key_cache_seconds: float = Field(
        default=10, ge=0, description="How long a server trusts a key it checked (0 = never)"
    )
    response_cache_mib: int = Field(
        default=64,
        ge=0,
        description="Rendered GET responses kept per server process, valid until the next "
        "commit (0 = off)",
    )
    export_rate_per_minute: int = Field(
        default=6, ge=0, description="Exports per minute per API key (0 = no limit)"
    )
    export_signing_key: SecretStr | None = Field(
        default=None, description="Ed25519 private key (PEM, or 64 hex digits) to sign bundles"
    )

    def hashing_key(self) -> bytes:
        """Return the key for keyed hashing, refusing unsafe keys outside dev mode."""
        raw = self.secret_key.get_secret_value() if self.secret_key else ""
        if self.dev_mode and not raw:
            return DEV_SECRET.encode()
        if not raw:
            raise ConfigError(
                "HYDRASCOPE_SECRET_KEY is not set. Set it to a long random value, e.g. "
                "`export HYDRASCOPE_SECRET_KEY=$(python -c 'import secrets; "
                "print(secrets.token_hex(32))')`, or set HYDRASCOPE_DEV_MODE=1 for a "
                "throw-away development database."
            )
        if not self.dev_mode and (
            raw.lower() in KNOWN_WEAK_SECRETS or raw == DEV_SECRET or len(raw) < MIN_SECRET_LENGTH
        ):
            raise ConfigError(
                f"HYDRASCOPE_SECRET_KEY is a default or too short (< {MIN_SECRET_LENGTH} "
                "characters). Use a long random value."
            )
        return raw.encode()[:64]


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
