"""`upphandla user add|list|disable` and `upphandla token create|list|revoke`.

`user_app` and `token_app` are registered in cli/main.py. Every change is recorded in the system
chain as done by the command line (cli.common.cli_actor); a token is printed once, as the last
line, and never again (only its SHA-256 is stored)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Annotated

import typer

from upphandla.cli.common import (
    cli_actor,
    describe,
    fail,
    ready_handler,
    run_command,
    settings_db,
)
from upphandla.flows.commands.users import (
    AddUser,
    CreateToken,
    DisableUser,
    RevokeToken,
    list_tokens,
    list_users,
)
from upphandla.flows.handler import Handler
from upphandla.states.clock import STOCKHOLM
from upphandla.states.errors import DomainError

user_app = typer.Typer(help="Användare.", no_args_is_help=True)
token_app = typer.Typer(help="Åtkomsttoken.", no_args_is_help=True)


def _table(header: Sequence[str], rows: list[list[str]]) -> None:
    widths = [max(len(str(c)) for c in column) for column in zip(header, *rows, strict=False)]
    for row in [list(header), *rows]:
        typer.echo("  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())


def _when(at: datetime | None) -> str:
    return at.astimezone(STOCKHOLM).strftime("%Y-%m-%d %H:%M") if at is not None else "–"


@user_app.command("add")
def user_add(
    name: Annotated[str, typer.Option(help="Namn")],
    email: Annotated[str, typer.Option(help="E-postadress")],
    role: Annotated[str, typer.Option(help="Roll, t.ex. bestallare eller upphandlare")],
    org: Annotated[str, typer.Option(help="Organisation (id i seeds/organisations.yaml)")],
    mandate: Annotated[
        str | None,
        typer.Option(help="Mandat i delegationsordningen (id), t.ex. forvaltningschef"),
    ] = None,
    days: Annotated[
        int | None, typer.Option(help="Tokens giltighet i dagar (standard: inställningen)")
    ] = None,
) -> None:
    """Lägg till en användare. Sista raden är den nya åtkomsttoken."""
    from upphandla.store.migrate import upgrade

    db = settings_db()
    upgrade(db)
    command = AddUser(
        name=name,
        email=email,
        role=role,
        organisation=org,
        mandate=mandate,
        days=days,
        actor=cli_actor(),
    )
    added = run_command(command, Handler.on(db))
    user = added.user
    typer.echo(f"Användare {user.id} ({user.name}, {user.role}) är skapad. Token:")
    typer.echo(added.token)


@user_app.command("list")
def user_list() -> None:
    """Alla användare, aktiva och avstängda."""
    handler = ready_handler()
    try:
        with handler.reader() as uow:
            users = list_users(uow)
    finally:
        handler.close()
    _table(
        ("id", "namn", "e-post", "roll", "organisation", "mandat", "aktiv"),
        [
            [
                str(u.id),
                u.name,
                u.email,
                u.role,
                u.organisation or "–",
                u.mandate or "–",
                "ja" if u.active else "nej",
            ]
            for u in users
        ],
    )


@user_app.command("disable")
def user_disable(email: Annotated[str, typer.Argument(help="Användarens e-postadress")]) -> None:
    """Stäng av en användare: alla token slutar gälla och kalendrarna stängs."""
    done = run_command(DisableUser(email=email, actor=cli_actor()))
    if not done.changed:
        typer.echo(f"{done.user.email} var redan avstängd; inget ändrades.")
        return
    typer.echo(
        f"{done.user.email} är avstängd: {done.tokens_revoked} token återkallade, "
        f"{done.feeds_closed} kalendrar stängda."
    )


@token_app.command("create")
def token_create(
    email: Annotated[str, typer.Argument(help="Användarens e-postadress")],
    name: Annotated[str, typer.Option("--name", help="Tokens namn, t.ex. integration")],
    days: Annotated[
        int | None, typer.Option("--days", help="Giltighet i dagar (standard: inställningen)")
    ] = None,
) -> None:
    """Skapa en ny namngiven token. Sista raden är token; den visas bara nu."""
    created = run_command(CreateToken(email=email, name=name, days=days, actor=cli_actor()))
    t = created.stored
    typer.echo(f"Token {t.id} ({t.name}) för {email} gäller till {_when(t.expires_at)}. Token:")
    typer.echo(created.token)


@token_app.command("list")
def token_list(
    email: Annotated[str | None, typer.Argument(help="Bara den här användarens token")] = None,
) -> None:
    """Alla token (eller en användares), utan hemligheterna."""
    handler = ready_handler()
    try:
        with handler.reader() as uow:
            tokens = list_tokens(uow, email)
    except DomainError as exc:
        raise fail(describe(exc), 2) from None
    finally:
        handler.close()
    _table(
        ("id", "användare", "namn", "skapad", "går ut", "senast använd", "läge"),
        [
            [
                str(v.token.id),
                v.email,
                v.token.name,
                _when(v.token.created_at),
                _when(v.token.expires_at),
                _when(v.token.last_used_at),
                v.state,
            ]
            for v in tokens
        ],
    )


@token_app.command("revoke")
def token_revoke(
    token_id: Annotated[int, typer.Argument(help="Tokens id (se token list)")],
) -> None:
    """Återkalla en token: den slutar gälla genast."""
    revoked = run_command(RevokeToken(token_id=token_id, actor=cli_actor()))
    typer.echo(
        f"Token {token_id} är återkallad." if revoked else f"Token {token_id} var redan återkallad."
    )
