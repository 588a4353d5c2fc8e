"""What every command needs: the database from the settings, the command handler, and a clean
Swedish exit."""

from __future__ import annotations

import getpass
from typing import TypeVar

import typer

from upphandla.flows.handler import Command, Handler
from upphandla.flows.settings import get_settings
from upphandla.states.errors import DomainError
from upphandla.states.roles import SYSTEM_ROLE, Actor
from upphandla.states.texts import text
from upphandla.store.db import Database, open_database
from upphandla.store.migrate import database_exists, require_current

R = TypeVar("R")


def settings_db() -> Database:
    settings = get_settings()
    return open_database(settings.database_url, sqlite_synchronous=settings.sqlite_synchronous)


def ready_db() -> Database:
    """The database of the settings, if it exists and has the newest schema; otherwise the
    command stops with a Swedish message (exit 1) and creates nothing."""
    url = get_settings().database_url
    if not database_exists(url):
        title, detail = text("database_missing", url=url)
        raise fail(f"{title}: {detail}", 1)
    db = settings_db()
    try:
        require_current(db)
    except DomainError as exc:
        db.dispose()
        raise fail(describe(exc), 1) from None
    return db


def ready_handler() -> Handler:
    return Handler.on(ready_db())


def run_command(command: Command[R], handler: Handler | None = None) -> R:
    """Run `command` through `handler` (the settings' database, if none is given) and close it;
    a refusal stops the CLI with its Swedish message (exit 2)."""
    handler = handler or ready_handler()
    try:
        return handler.run(command).result
    except DomainError as exc:
        raise fail(describe(exc), 2) from None
    finally:
        handler.close()


def describe(exc: DomainError) -> str:
    details = "; ".join(f"{p['path']}: {p['message']}" for p in exc.extra().get("errors", []))
    return f"{exc.title}: {exc.detail}" + (f" ({details})" if details else "")


def fail(message: str, code: int = 1) -> typer.Exit:
    """Print `message` on standard error; raise the returned Exit to stop with `code`."""
    typer.echo(message, err=True)
    return typer.Exit(code)


def cli_actor() -> Actor:
    """Who an administrative act from the command line is recorded as: the system, acting from
    the command line for the operating-system account that ran it. Whoever runs the command
    holds the database's credentials; a self-declared e-mail address would prove nothing more."""
    try:
        account = getpass.getuser()
    except (OSError, KeyError):
        account = "okänt konto"
    return Actor(user_id=None, name=f"kommandoraden ({account})"[:200], role=SYSTEM_ROLE)
