"""docker-compose.yml and the Dockerfile: checked without a daemon (structure, and Debian's
`docker-compose config` where installed); built and started only where a daemon answers."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
DOCKERFILE = (ROOT / "Dockerfile").read_text()
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def _instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of the Dockerfile, continuation lines joined."""
    text = DOCKERFILE.replace("\\\n", " ")
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


def test_the_image_installs_at_build_time_and_runs_as_a_user() -> None:
    steps = _instructions()
    names = [w for w, _ in steps]
    assert names[0] == "FROM"
    install = next(i for i, (w, a) in enumerate(steps) if w == "RUN" and "pip install" in a)
    user = next(i for i, (w, _) in enumerate(steps) if w == "USER")
    assert install < user, "installed before dropping root"
    assert steps[user][1] not in ("root", "0")
    assert "pip install" not in dict(steps)["CMD"], "nothing is installed when it starts"
    assert "db upgrade" in dict(steps)["CMD"] and "HEALTHCHECK" in names
    for word, args in steps:
        if word == "COPY":
            *sources, _dest = args.split()
            for src in sources:
                assert (ROOT / src).exists(), f"COPY {src}: no such file in the repository"


def test_compose_builds_the_image_and_waits_for_the_database() -> None:
    services = COMPOSE["services"]
    app, db = services["hydrascope"], services["db"]
    assert app["build"] == "."
    assert "volumes" not in app, "the code comes from the image, not a mount"
    assert app["depends_on"]["db"]["condition"] == "service_healthy" and "healthcheck" in db
    assert all(p.startswith("127.0.0.1:") for p in app["ports"]), "loopback only by default"
    env = app["environment"]
    assert (
        "HYDRASCOPE_SECRET_KEY" in env
        and "${HYDRASCOPE_SECRET_KEY:?" in env["HYDRASCOPE_SECRET_KEY"]
    ), "the secret comes from the environment and is required"


@pytest.mark.skipif(not shutil.which("docker-compose"), reason="docker-compose is not installed")
def test_docker_compose_accepts_the_file() -> None:
    env = {**os.environ, "HYDRASCOPE_SECRET_KEY": "x" * 64}
    r = subprocess.run(
        ["docker-compose", "config", "-q"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert r.returncode == 0, r.stderr


def _daemon() -> bool:
    if not shutil.which("docker"):
        return False
    r = subprocess.run(["docker", "info"], capture_output=True, timeout=20)
    return r.returncode == 0


@pytest.mark.slow
def test_the_image_builds_and_serves() -> None:
    if not _daemon():
        pytest.skip(
            "no Docker daemon answers here: the image is built and started only where one does"
        )
    tag = "hydrascope:test"
    subprocess.run(["docker", "build", "-t", tag, str(ROOT)], check=True, timeout=1200)
    run = subprocess.run(
        [
            "docker",
            "run",
            "-d",
            "--rm",
            "-p",
            "127.0.0.1:18765:8000",
            "-e",
            "HYDRASCOPE_SECRET_KEY=" + "y" * 64,
            "-e",
            "HYDRASCOPE_DATABASE_URL=sqlite:////tmp/hs.db",
            tag,
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    container = run.stdout.strip()
    try:
        for _ in range(60):
            try:
                with urllib.request.urlopen("http://127.0.0.1:18765/healthz", timeout=2) as r:
                    assert r.status == 200
                    return
            except OSError:
                time.sleep(1)
        pytest.fail("the container did not answer /healthz within 60 s")
    finally:
        subprocess.run(["docker", "stop", container], capture_output=True)
