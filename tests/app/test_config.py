"""The hashing secret: required outside dev mode, weak values refused."""

from __future__ import annotations

import pytest

from app.core.config import ConfigError, Settings


def test_missing_secret_stops_with_instructions() -> None:
    with pytest.raises(ConfigError, match="HYDRASCOPE_SECRET_KEY is not set"):
        Settings(secret_key=None, dev_mode=False).hashing_key()


@pytest.mark.parametrize(
    "weak", ["changeme", "short", "hydrascope-dev-insecure-key-do-not-use-in-production"]
)
def test_weak_or_default_secret_is_refused(weak: str) -> None:
    with pytest.raises(ConfigError, match="default or too short"):
        Settings(secret_key=weak, dev_mode=False).hashing_key()


def test_dev_mode_uses_a_built_in_key() -> None:
    assert Settings(secret_key=None, dev_mode=True).hashing_key()


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HYDRASCOPE_DATABASE_URL", "postgresql://u@h/db")
    monkeypatch.setenv("HYDRASCOPE_REVIEW_THRESHOLD", "0.7")
    s = Settings()
    assert s.database_url == "postgresql://u@h/db" and s.review_threshold == 0.7
