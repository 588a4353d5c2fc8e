"""Fixtures for the tests that run flows through Prefect (marker `prefect`; select them with
`-m prefect`, leave them out with `-m "not prefect"`; the wheel test also has the marker
`wheel`): one Prefect test harness per session, a migrated Prefect database to start embedded
servers from, and a real SMTP server on loopback. Helpers are in prefect_support.py."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

from prefect_support import Inbox, Smtp, free_port  # noqa: E402


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "prefect: runs flows through Prefect, or starts Prefect servers (slow)"
    )
    config.addinivalue_line(
        "markers",
        "wheel: builds a wheel of the project (with build isolation: the build backend comes "
        "from the package index or pip's cache) and runs it from a fresh virtualenv (slow)",
    )


@pytest.fixture(scope="session")
def prefect_harness() -> Iterator[None]:
    """One temporary Prefect server (SQLite) for the whole session; started on first use."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


@contextlib.contextmanager
def _smtp_server() -> Iterator[Smtp]:
    port = free_port()
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield Smtp(port, inbox)
    finally:
        controller.stop()


@pytest.fixture
def smtp() -> Iterator[Smtp]:
    """A real SMTP server on a free loopback port; what it accepts is in `.inbox`."""
    with _smtp_server() as server:
        yield server


@pytest.fixture
def other_smtp() -> Iterator[Smtp]:
    """A second one, for a second `serve`."""
    with _smtp_server() as server:
        yield server


@pytest.fixture(scope="session")
def _prefect_db_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A Prefect SQLite database with every migration applied, made once per session (8 s)."""
    home = tmp_path_factory.mktemp("prefect-template")
    database = home / "prefect.db"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API_")}
    env.update(
        PREFECT_HOME=str(home),
        PREFECT_API_DATABASE_CONNECTION_URL=f"sqlite+aiosqlite:///{database}",
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
    )
    subprocess.run(
        [sys.executable, "-m", "prefect", "server", "database", "upgrade", "-y"],
        env=env,
        cwd=home,
        capture_output=True,
        timeout=180,
        check=True,
    )
    return database


@pytest.fixture
def prefect_db(_prefect_db_template: Path) -> Callable[[Path], None]:
    """`prefect_db(data_dir)` gives the data directory's embedded Prefect server a migrated
    database, as after its first start: it is healthy in about 4 s instead of 12 s."""

    def seed(data_dir: Path) -> None:
        home = data_dir / "prefect"
        home.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(_prefect_db_template, home / "prefect.db")

    return seed
