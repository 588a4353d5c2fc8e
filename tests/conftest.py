"""Shared fixtures.

Every test that asks for `db` (or `db_url`, or `backend`) runs once per database backend:
`[sqlite]` on a file in the test's tmp_path, `[postgresql]` on a database of its own on a
throwaway PostgreSQL server that this test run starts (once, and only if such a test runs) and
stops at the end (tests/pg.py). Either way the database is migrated and empty.

UPPHANDLA_TEST_BACKENDS (comma separated, default "sqlite,postgresql") chooses the backends;
the others generate no tests. If PostgreSQL is chosen but its server binaries are missing, its
tests fail (they are not skipped): install them (`apt-get install postgresql`, or run
`bash scripts/test.sh`, which does) or choose UPPHANDLA_TEST_BACKENDS=sqlite.
"""

from __future__ import annotations

import atexit
import itertools
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

# Before anything imports prefect: no home directory of ours, no telemetry, no server of its own.
_PREFECT_HOME = tempfile.mkdtemp(prefix="upphandla-prefect-")
atexit.register(shutil.rmtree, _PREFECT_HOME, ignore_errors=True)
os.environ["PREFECT_HOME"] = _PREFECT_HOME
os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
os.environ["DO_NOT_TRACK"] = "1"
os.environ["PREFECT_SERVER_EPHEMERAL_ENABLED"] = "false"

import pytest  # noqa: E402

_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

from pg import PostgresServer, PostgresUnavailable  # noqa: E402

if TYPE_CHECKING:
    from fastapi.testclient import TestClient

    from helpers import User
    from upphandla.store.db import Database

BACKENDS = ("sqlite", "postgresql")
_PG_TEMPLATE = "t_template"
_database_numbers = itertools.count(1)


def _selected_backends() -> list[str]:
    raw = os.environ.get("UPPHANDLA_TEST_BACKENDS", ",".join(BACKENDS))
    chosen = list(dict.fromkeys(part.strip() for part in raw.split(",") if part.strip()))
    unknown = [name for name in chosen if name not in BACKENDS]
    if unknown or not chosen:
        raise pytest.UsageError(
            f"UPPHANDLA_TEST_BACKENDS={raw!r}: choose one or more of {', '.join(BACKENDS)}"
        )
    return chosen


def pytest_configure(config: pytest.Config) -> None:
    _selected_backends()  # a typo in the variable stops the run before collection
    config.addinivalue_line(
        "markers", "postgres: runs against the throwaway PostgreSQL server (set on [postgresql])"
    )


def _parametrizes(metafunc: pytest.Metafunc, argname: str) -> bool:
    for marker in metafunc.definition.iter_markers("parametrize"):
        names = marker.args[0] if marker.args else marker.kwargs.get("argnames", ())
        if isinstance(names, str):
            names = [name.strip() for name in names.split(",")]
        if argname in names:
            return True
    return False


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    # A test that parametrizes `backend` itself keeps its own list (filtered below).
    if "backend" in metafunc.fixturenames and not _parametrizes(metafunc, "backend"):
        selected = _selected_backends()
        metafunc.parametrize("backend", selected, ids=selected, indirect=True)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    selected = _selected_backends()
    kept: list[pytest.Item] = []
    dropped: list[pytest.Item] = []
    for item in items:
        callspec = getattr(item, "callspec", None)
        backend = callspec.params.get("backend") if callspec is not None else None
        if backend is not None and backend not in selected:
            dropped.append(item)
            continue
        if backend == "postgresql":
            item.add_marker(pytest.mark.postgres)
        kept.append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


@pytest.fixture
def backend(request: pytest.FixtureRequest) -> str:
    """The backend this test runs on, "sqlite" or "postgresql" (see UPPHANDLA_TEST_BACKENDS)."""
    return str(request.param)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PostgresServer]:
    """The throwaway PostgreSQL server shared by the whole test run."""
    server = PostgresServer()
    atexit.register(server.stop)  # if the run is interrupted before the teardown below
    unavailable = None
    try:
        server.start()
    except PostgresUnavailable as exc:
        unavailable = str(exc)
    if unavailable is not None:
        pytest.fail(
            f"the postgresql backend is selected but cannot run: {unavailable}\n"
            "Install PostgreSQL (`bash scripts/test.sh` does) or set "
            "UPPHANDLA_TEST_BACKENDS=sqlite to leave it out.",
            pytrace=False,
        )
    try:
        yield server
    finally:
        server.stop()
        atexit.unregister(server.stop)


def _migrate(url: str) -> None:
    from upphandla.store.db import open_database
    from upphandla.store.migrate import upgrade

    database = open_database(url)
    try:
        upgrade(database)
    finally:
        database.dispose()


@pytest.fixture(scope="session")
def _pg_template(pg_server: PostgresServer) -> str:
    """A migrated database on the server that each test's database is copied from."""
    _migrate(pg_server.create_database(_PG_TEMPLATE))
    return _PG_TEMPLATE


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file that each test's database is copied from."""
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    _migrate(f"sqlite:///{path}")
    return path


@pytest.fixture
def db_url(request: pytest.FixtureRequest, backend: str, tmp_path: Path) -> Iterator[str]:
    """The URL of a migrated, empty database of its own for this test."""
    if backend == "sqlite":
        template: Path = request.getfixturevalue("_sqlite_template")
        path = tmp_path / "upphandla.db"
        shutil.copyfile(template, path)
        wal = template.with_name(template.name + "-wal")
        if wal.exists():
            shutil.copyfile(wal, path.with_name(path.name + "-wal"))
        yield f"sqlite:///{path}"
        return
    if backend == "postgresql":
        server: PostgresServer = request.getfixturevalue("pg_server")
        template_name: str = request.getfixturevalue("_pg_template")
        name = f"t_{next(_database_numbers)}"
        url = server.create_database(name, template=template_name)
        try:
            yield url
        finally:
            server.drop_database(name)
        return
    raise ValueError(f"unknown backend {backend!r}")


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    """A migrated, empty Database on this test's backend; disposed afterwards."""
    from upphandla.store.db import open_database

    database = open_database(db_url)
    try:
        yield database
    finally:
        database.dispose()


# -- seeded definitions, one user per role, and an API client ---------------------------------


@pytest.fixture
def users(db: Database) -> dict[str, User]:
    """The shipped definitions loaded, and one user (with a token) for every role."""
    from helpers import load_seeds, make_users

    load_seeds(db)
    return make_users(db)


@pytest.fixture
def client(db: Database, db_url: str, users: dict[str, User]) -> Iterator[TestClient]:
    from helpers import make_client

    with make_client(db, db_url) as c:
        yield c


@pytest.fixture(autouse=True)
def _audit_files(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test signs checkpoints and web sessions with keys of its own, and writes checkpoints
    into a folder of its own, never into the working directory's data folder."""
    from upphandla.flows.settings import get_settings

    where = tmp_path_factory.mktemp("granskning")
    monkeypatch.setenv("UPPHANDLA_AUDIT_KEY_FILE", str(where / "signeringsnyckel.pem"))
    monkeypatch.setenv("UPPHANDLA_CHECKPOINT_DIR", str(where / "kontrollpunkter"))
    monkeypatch.setenv("UPPHANDLA_SESSION_KEY_FILE", str(where / "sessionsnyckel"))
    get_settings.cache_clear()
