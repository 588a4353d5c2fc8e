"""The wheel built from this repository, as a user installs it: it holds one top-level package,
`upphandla`, and `upphandla serve --demo` from a fresh virtualenv, in an empty folder outside
the repository and without PYTHONPATH, answers /health, lists the demo cases for a demo token,
starts its Prefect server and worker, and stops on one SIGTERM."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import urllib.request
import zipfile
from pathlib import Path

import pytest
from prefect_support import (
    ROOT,
    Started,
    free_port,
    get_json,
    showing_log,
    start,
    stop_within,
    wait_for,
    wait_prefect,
)

pytestmark = [pytest.mark.prefect, pytest.mark.wheel]

# What is not the project's source: left out of the copy the wheel is built from, so that the
# build neither reads stale build output nor leaves its own in the work tree.
_NOT_SOURCE = shutil.ignore_patterns(
    ".git", "build", "dist", "*.egg-info", "__pycache__", ".venv", ".*_cache", ".hypothesis",
    "*.db", "*.db-wal", "*.db-shm", "upphandla-data",
)  # fmt: skip


def _run(args: list[str], *, cwd: Path, env: dict[str, str], timeout: float) -> str:
    result = subprocess.run(
        args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    assert result.returncode == 0, f"{args}\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result.stdout


def _clean_env(**extra: str) -> dict[str, str]:
    """This machine's environment without PYTHONPATH or a Prefect server of the test run."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k != "PYTHONPATH" and not k.startswith(("PREFECT_", "UPPHANDLA_"))
    }
    env.update(extra)
    return env


def _demo_token(output: str) -> str | None:
    """The token of the first demo user serve printed ("  role  name  token")."""
    lines = output.splitlines()
    if not any(line.startswith("Demoanvändare") for line in lines):
        return None
    start_at = next(i for i, line in enumerate(lines) if line.startswith("Demoanvändare"))
    users = [line.split() for line in lines[start_at + 1 :] if line.startswith("  ")]
    return users[0][-1] if users else None


def _cases(port: int, token: str) -> dict[str, object]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/cases", headers={"Authorization": f"Bearer {token}"}
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        assert answer.status == 200
        return dict(json.load(answer))


def test_the_wheel_holds_one_package_and_serves_the_demo_from_a_fresh_virtualenv(
    tmp_path: Path,
) -> None:
    env = _clean_env()
    source = tmp_path / "source"
    shutil.copytree(ROOT, source, ignore=_NOT_SOURCE)
    wheels = tmp_path / "wheels"
    _run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", str(wheels), str(source)],
        cwd=tmp_path,
        env=env,
        timeout=300,
    )
    (wheel,) = wheels.glob("upphandla-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        top = {name.split("/")[0] for name in archive.namelist()}
    dist_info = {name for name in top if name.endswith(".dist-info")}
    assert len(dist_info) == 1 and next(iter(dist_info)).startswith("upphandla-")
    assert top == {"upphandla", *dist_info}

    venv = tmp_path / "venv"
    _run(
        [sys.executable, "-m", "venv", "--system-site-packages", str(venv)],
        cwd=tmp_path,
        env=env,
        timeout=120,
    )
    python = venv / "bin" / "python"
    _run(
        [str(python), "-m", "pip", "install", "--no-deps", "--quiet", str(wheel)],
        cwd=tmp_path,
        env=env,
        timeout=300,
    )
    elsewhere = tmp_path / "elsewhere"  # an empty folder outside the repository
    elsewhere.mkdir()
    imported = _run(
        [str(python), "-c", "import upphandla; print(upphandla.__file__)"],
        cwd=elsewhere,
        env=env,
        timeout=60,
    ).strip()
    assert Path(imported).is_relative_to(venv), imported
    assert not Path(imported).resolve().is_relative_to(ROOT.resolve()), imported

    port = free_port()
    serve: Started = start(
        [str(venv / "bin" / "upphandla"), "serve", "--demo", "--port", str(port)],
        env=_clean_env(UPPHANDLA_SMTP_PORT=str(free_port())),  # nobody listens: no mail
        cwd=elsewhere,
        log=tmp_path / "serve.log",
    )
    try:
        with showing_log(serve):
            health = wait_for(
                "the API", lambda: get_json(f"http://127.0.0.1:{port}/health"), timeout=90
            )
            assert health["status"] == "ok" and health["database"] == "ok"
            token = wait_for("the demo users", lambda: _demo_token(serve.output()), timeout=10)
            cases = _cases(port, token)
            assert cases["total"] and cases["items"]
            # Its Prefect server and worker run from the wheel too (a new Prefect database).
            wait_prefect(port, "ok", timeout=180)
            assert (elsewhere / "upphandla.db").exists()
            assert stop_within(serve, 20) == 0
    finally:
        serve.kill_all()
