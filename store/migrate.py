"""Bringing a database to the newest schema (`upphandla db upgrade`, safe to run twice), and
telling whether a database is ready before a command uses it."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from upphandla.states.errors import Conflict
from upphandla.store.db import Database, sqlite_file

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(db: Database) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", db.url.replace("%", "%%"))
    return cfg


def upgrade(db: Database) -> None:
    cfg = alembic_config(db)
    with db.writer.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


def database_exists(url: str) -> bool:
    """False for a SQLite file that is not there (opening it would create an empty one)."""
    path = sqlite_file(url)
    return path is None or path.exists()


def require_current(db: Database) -> None:
    """Raise a Conflict, in Swedish, unless the database is at the newest schema: a command
    that reads must never create or half-use a database."""
    head = ScriptDirectory.from_config(alembic_config(db)).get_current_head()
    try:
        with db.reader.connect() as conn:
            current = MigrationContext.configure(conn).get_current_revision()
    except SQLAlchemyError:
        raise Conflict("database_unreachable", url=_shown(db.url)) from None
    if current is None:
        raise Conflict("database_not_migrated", url=_shown(db.url))
    if current != head:
        raise Conflict("database_outdated", url=_shown(db.url), current=current, head=head)


def _shown(url: str) -> str:
    """The URL without its password."""
    return make_url(url).render_as_string(hide_password=True)
