"""What every command needs: the database from the settings, and a clean Swedish exit."""

from __future__ import annotations

import typer

from upphandla.flows.settings import get_settings
from upphandla.store.db import Database, open_database


def settings_db() -> Database:
    settings = get_settings()
    return open_database(settings.database_url, sqlite_synchronous=settings.sqlite_synchronous)


def fail(message: str, code: int = 1) -> typer.Exit:
    """Print `message` on standard error; raise the returned Exit to stop with `code`."""
    typer.echo(message, err=True)
    return typer.Exit(code)
