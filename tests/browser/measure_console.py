"""Measure the console in Chromium on a detected world (not a test: the figures go to
docs/performance.md, "Console").

    HYDRASCOPE_DATABASE_URL=sqlite:///demo/hydrascope.db HYDRASCOPE_DEV_MODE=1 \\
        .venv/bin/python -m tests.browser.measure_console

Serves the database with `hydrascope serve` on 127.0.0.1 (a free port; its own process, as
in `make demo`, so the browser's driver does not share the server's interpreter), opens the
console with a reviewer key and reads the page's User Timing measures (performance.measure,
taken after the next paint): ``hs:queue`` (request to 100 rows on screen) and ``hs:cluster``
(detail, graph of up to 400 members and the first members page on screen) for the biggest
cluster; the same ends counted from the navigation's start; and the list request's own time
(Resource Timing). Each figure: the first load (server cache cold) apart, then the median
of the other RUNS - 1.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from app.auth.apikeys import create_key
from app.core.context import default_context
from tests.browser.conftest import CHROMIUM, _free_port

RUNS = 7


def _measure(page: Any, name: str) -> float:
    page.wait_for_function(f"() => performance.getEntriesByName('{name}').length > 0")
    value = page.evaluate(f"performance.getEntriesByName('{name}').at(-1).duration")
    page.evaluate("performance.clearMeasures()")
    return float(value)


def _since_navigation(page: Any, name: str, durations: list[float]) -> float:
    """From the navigation's start (time origin) to the measure's end."""
    start = page.evaluate(f"performance.getEntriesByName('hs:{name}:start').at(-1).startTime")
    return float(start) + durations[-1]


def main() -> None:
    from playwright.sync_api import sync_playwright

    ctx = default_context()
    with ctx.sessions() as s, s.begin():
        _, key = create_key(s, name="measure", role="reviewer", actor="measure")
    ctx.close()
    port = _free_port()
    hydrascope = Path(sys.executable).with_name("hydrascope")
    server = subprocess.Popen(
        [str(hydrascope), "serve", "--port", str(port)],
        env={**os.environ, "HYDRASCOPE_LOG_LEVEL": "WARNING"},
    )
    base = f"http://127.0.0.1:{port}/console"
    for _ in range(200):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz").status_code == 200:
                break
        except httpx.TransportError:
            time.sleep(0.1)
    else:
        server.kill()
        raise SystemExit("hydrascope serve did not start")
    out: dict[str, list[float]] = {
        "navigation to 100 rows": [],
        "queue": [],
        "navigation to cluster": [],
        "cluster": [],
        "list request": [],
    }
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM)
        # bypass_csp: Playwright's polling evaluates strings, which the console's CSP forbids
        page = browser.new_page(viewport={"width": 1440, "height": 900}, bypass_csp=True)
        page.goto(base)
        page.evaluate(f"sessionStorage.setItem('hs_key', '{key}')")
        for _ in range(RUNS):  # whole page: navigation start to 100 rows painted
            page.goto("about:blank")
            page.goto(base + "#queue?sort=size")
            out["queue"].append(_measure(page, "hs:queue"))
            out["list request"].append(
                page.evaluate(
                    "performance.getEntriesByType('resource')"
                    ".filter(e => e.name.includes('/v1/clusters?')).at(-1).duration"
                )
            )
            out["navigation to 100 rows"].append(_since_navigation(page, "queue", out["queue"]))
        rows = page.locator("[data-testid=cluster-row]").count()
        biggest = page.locator("[data-testid=cluster-row]").first.get_attribute("data-cluster-id")
        for i in range(RUNS):
            page.goto("about:blank")
            page.goto(f"{base}#cluster/{biggest}?sort=size&run={i}")
            out["cluster"].append(_measure(page, "hs:cluster"))
            out["navigation to cluster"].append(_since_navigation(page, "cluster", out["cluster"]))
        nodes = page.locator("[data-testid=graph-node]").count()
        browser.close()
    server.terminate()
    server.wait(10)
    print(f"queue rows {rows}; cluster {biggest}: {nodes} graph nodes")
    for name, values in out.items():
        print(
            f"{name:24s} first {values[0]:7.1f} ms, median of the other {RUNS - 1} "
            f"{statistics.median(values[1:]):7.1f} ms (min {min(values[1:]):.1f}, "
            f"max {max(values[1:]):.1f})"
        )


if __name__ == "__main__":
    main()
