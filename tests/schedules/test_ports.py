"""Which port a data directory's embedded Prefect server gets (no Prefect needed, so these are
fast), and that the code `serve` runs in its own process loads no Prefect."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest
from prefect_support import base_env, free_port

from upphandla.cli.embedded_prefect import (
    DEFAULT_PORT,
    choose_port,
    port_fixed,
    port_free,
    remember_port,
)
from upphandla.flows.settings import Settings


@pytest.fixture(autouse=True)
def _no_port_in_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("UPPHANDLA_PREFECT_PORT", raising=False)


def test_a_fixed_port_is_used_only_if_it_is_free(tmp_path: Path) -> None:
    with socket.create_server(("127.0.0.1", 0)) as held:
        taken = int(held.getsockname()[1])
        settings = Settings(prefect_port=taken)
        assert port_fixed(settings)
        assert not port_free("127.0.0.1", taken)
        assert choose_port(settings, tmp_path) is None  # never somebody else's server
    free = free_port()
    assert choose_port(Settings(prefect_port=free), tmp_path) == free


def test_without_a_fixed_port_the_last_one_is_kept_while_it_is_free(tmp_path: Path) -> None:
    settings = Settings()
    assert not port_fixed(settings)
    last = free_port()
    remember_port(tmp_path, last)
    assert choose_port(settings, tmp_path) == last
    with socket.create_server(("127.0.0.1", last)):
        chosen = choose_port(settings, tmp_path)
        assert chosen is not None and chosen != last
        assert port_free("127.0.0.1", chosen)
    assert choose_port(settings, tmp_path, avoid=last) != last


def test_a_new_data_directory_gets_4200_if_it_is_free_else_another(tmp_path: Path) -> None:
    chosen = choose_port(Settings(), tmp_path)
    assert chosen is not None
    assert (chosen == DEFAULT_PORT) == port_free("127.0.0.1", DEFAULT_PORT)


def test_what_serve_runs_in_its_own_process_loads_no_prefect(tmp_path: Path) -> None:
    """Every command's module, the app, /health and the supervisor (at scale; embedded with
    its port taken, so that it starts no children): no `prefect` module in sys.modules."""
    with socket.create_server(("127.0.0.1", 0)) as held:
        taken = int(held.getsockname()[1])
        script = """
import os
import sys
from fastapi.testclient import TestClient
import upphandla.cli.main
from upphandla.api.app import create_app
from upphandla.cli.schedules import prepare_prefect
from upphandla.cli.startup import prepare
from upphandla.cli.common import settings_db
from upphandla.flows.settings import get_settings

settings = get_settings()
db = settings_db()
prepare(db, settings, demo=False)
supervisor = prepare_prefect(settings)
status = supervisor.start()
app = create_app(settings, db)
app.state.prefect = status
with TestClient(app) as client:
    assert client.get("/health").json()["prefect"] == "down"
supervisor.stop()
os.environ["PREFECT_API_URL"] = "http://127.0.0.1:9/api"  # at scale: a server elsewhere
remote = prepare_prefect(settings)
remote.start().poll()
remote.stop()
loaded = sorted(m for m in sys.modules if m == "prefect" or m.startswith("prefect."))
print(loaded)
"""
        result = subprocess.run(
            [sys.executable, "-c", script],
            env=base_env(
                UPPHANDLA_DATABASE_URL=f"sqlite:///{tmp_path}/upphandla.db",
                UPPHANDLA_DATA_DIR=str(tmp_path / "data"),
                UPPHANDLA_PREFECT_PORT=str(taken),
            ),
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
    assert "används redan" in result.stderr
