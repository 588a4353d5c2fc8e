"""The README's tour, done as a reader does it: its shell blocks, as written, run by bash with curl
against the real API served by uvicorn, on a database that already holds the demo cases (as
after `upphandla serve --demo`). Only the tokens and the port are filled in."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from upphandla.cli.startup import prepare
from upphandla.flows.settings import Settings
from upphandla.store.db import open_database

ROOT = Path(__file__).resolve().parents[2]


def tour_blocks() -> list[str]:
    """The ```sh blocks of the README's section "A short tour", in order."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## A short tour", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```sh\n(.*?)```", section, flags=re.S)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[int, dict[str, str], dict[str, str]]]:
    """(port, tokens by role, environment) of the API on a database with the demo data."""
    url = f"sqlite:///{tmp_path / 'upphandla.db'}"
    settings = Settings(database_url=url)
    db = open_database(url)
    try:
        users = prepare(db, settings, demo=True)
    finally:
        db.dispose()
    tokens = {u.role: u.token for u in users}
    port = free_port()
    env = {**os.environ, "UPPHANDLA_DATABASE_URL": url}
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--factory", "upphandla.api.app:create_app",
         "--port", str(port), "--log-level", "warning"],
        env=env, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1):
                    break
            except OSError:
                assert server.poll() is None, server.stderr.read() if server.stderr else ""
                assert time.monotonic() < deadline, "the API did not answer"
                time.sleep(0.1)
        yield port, tokens, env
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_the_readme_tour_works_on_a_database_with_the_demo_cases(
    served: tuple[int, dict[str, str], dict[str, str]], tmp_path: Path
) -> None:
    port, tokens, env = served
    script = "\n".join(tour_blocks())
    for role in ("bestallare", "upphandlare", "controller"):
        script = script.replace(f"<token of {role}>", tokens[role])
    assert "<token of" not in script
    script = script.replace("localhost:8000", f"localhost:{port}")
    script = script.replace("/tmp/case.http", str(tmp_path / "case.http"))
    done = subprocess.run(
        ["bash", "-c", "set -e\n" + script + '\necho; echo "ID=$ID"'],  # the last answer may end without a line break
        env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    out = done.stdout
    assert done.returncode == 0, out + done.stderr
    case_id = int(re.findall(r"^ID=(\d+)$", out, flags=re.M)[-1])
    assert case_id > 60  # after the demo's own cases
    assert "HTTP/1.1 201 Created" in out
    assert f'"id":{case_id},' in out  # the case read back by its number
    assert '"type":"urn:upphandla:problem:transition_refused"' in out
    assert '"kind":"behovsanalys_done"' in out
    assert '"from_state":"behovsanalys","to_state":"forstudie"' in out
    assert '"action":"transition"' in out  # in the audit trail
    assert '"ok":true' in out  # GET /api/audit/verify
    assert "OK:" in out and " 0 fel;" in out  # upphandla audit verify
