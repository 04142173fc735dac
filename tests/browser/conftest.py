"""Browser tests: Playwright's Python API driving Debian's Chromium against one uvicorn server
on 127.0.0.1 that serves a small detected world (built once per session).

Skipped, with the reason, when /usr/bin/chromium or the playwright package is missing; the
Playwright browser download is never used."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from app.auth.apikeys import create_key
from app.core.config import Settings
from app.core.context import Context
from app.core.db import make_engine, upgrade
from app.detection import service
from app.ingest.service import ingest_world
from app.web.app import create_app
from graph import DetectParams
from tests.app.conftest import ROLES, small_api_world
from tests.conftest import TEST_SECRET

CHROMIUM = "/usr/bin/chromium"
DOCS_SHOTS = Path(__file__).resolve().parents[2] / "docs" / "console"
WIDTHS = (1440, 1024, 390)


@dataclass
class Served:
    url: str
    keys: dict[str, str]
    ctx: Context


@dataclass
class Watch:
    """What a page did that a test must fail on."""

    errors: list[str] = field(default_factory=list)
    foreign: list[str] = field(default_factory=list)
    urls: list[str] = field(default_factory=list)  # every URL requested and shown


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not os.path.exists(CHROMIUM):
        pytest.skip("Debian chromium not installed (apt install chromium): browser tests skipped")
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="playwright not installed (pip install -e '.[test]')"
    )
    # generous waits: these machines are shared and a busy moment is not a failure
    sync_api.expect.set_options(timeout=15_000)
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield b
        b.close()


@pytest.fixture(scope="session")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where screenshots go: docs/console (for docs/console.md) when
    HYDRASCOPE_CONSOLE_SHOTS=docs, else a temporary folder, so a test run leaves the
    clone unchanged."""
    if os.environ.get("HYDRASCOPE_CONSOLE_SHOTS") == "docs":
        DOCS_SHOTS.mkdir(parents=True, exist_ok=True)
        return DOCS_SHOTS
    return tmp_path_factory.mktemp("shots")


@pytest.fixture(scope="session")
def served(browser: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """The small detected world of tests/app behind a real server, one key per role."""
    import uvicorn

    url = f"sqlite:///{tmp_path_factory.mktemp('console') / 'world.db'}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    ctx = Context(Settings(database_url=url, secret_key=TEST_SECRET, rate_limit_per_minute=0))
    ingest_world(ctx, small_api_world())
    service.detect(ctx, DetectParams(seed=0))
    keys = {}
    for role in ROLES:
        with ctx.sessions() as s, s.begin():
            _, keys[role] = create_key(s, name=f"{role}-in-browser", role=role, actor="test")
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(ctx), host="127.0.0.1", port=port, log_level="warning", ws="none")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start"
        time.sleep(0.05)
    yield Served(f"http://127.0.0.1:{port}", keys, ctx)
    server.should_exit = True
    thread.join(10)
    ctx.engine.dispose()


@pytest.fixture
def open_page(browser: Any, served: Served) -> Iterator[Any]:
    """``open_page(role, width=1440, hash="")``: a fresh tab (its own sessionStorage) with the
    role's key pasted; the test fails on any page error or request to another host."""
    watch = Watch()
    contexts: list[Any] = []

    def opener(role: str, width: int = 1440, hash: str = "", height: int = 900) -> Any:
        context = browser.new_context(
            viewport={"width": width, "height": height}, accept_downloads=True
        )
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.on("pageerror", lambda e: watch.errors.append(str(e)))

        def check(request: Any) -> None:
            watch.urls.append(request.url)
            host = urlsplit(request.url).hostname
            if request.url.startswith(("http:", "https:", "ws:", "wss:")) and host != "127.0.0.1":
                watch.foreign.append(request.url)

        page.on("request", check)
        page.on("framenavigated", lambda frame: watch.urls.append(frame.url))
        page.goto(f"{served.url}/console{hash}")
        page.get_by_test_id("key-input").fill(served.keys[role])
        page.get_by_test_id("key-input").press("Enter")  # applies the key, leaves the field
        return page

    opener.watch = watch  # type: ignore[attr-defined]
    yield opener
    for c in contexts:
        c.close()
    assert not watch.errors, f"page errors: {watch.errors}"
    assert not watch.foreign, f"requests to other hosts: {watch.foreign}"
