"""`upphandla sanctions load FILE [--date YYYY-MM-DD]` and `upphandla sanctions show`.

`sanctions_app` is registered in cli/main.py under the name `sanctions`. Loading records the
list's date and SHA-256 checksum; the list with the latest date is the one parties are screened
against (flows.sanctions, category plan § 10.11, EU regulation 833/2014 art. 5k).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from upphandla.cli.common import cli_actor, fail, ready_handler, settings_db
from upphandla.flows.commands.sanctions import (
    LoadSanctionsList,
    SanctionsFileError,
    decode_sanctions_file,
)
from upphandla.flows.handler import Handler
from upphandla.states.clock import today
from upphandla.store.migrate import upgrade
from upphandla.store.records import SanctionsList

sanctions_app = typer.Typer(help="Sanktionslistor (EU-förordning 833/2014 art. 5k).")


def _describe(row: SanctionsList) -> str:
    return f"datum {row.list_date.isoformat()}, {row.entries} poster, kontrollsumma {row.checksum}"


def _parse_date(value: str | None) -> date:
    if value is None:
        return today()
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise fail(f"Ogiltigt datum {value!r}; ange det som ÅÅÅÅ-MM-DD.", 2) from None


@sanctions_app.command("load")
def sanctions_load(
    file: Annotated[Path, typer.Argument(help="CSV-fil med kolumnen name", show_default=False)],
    list_date: Annotated[
        str | None,
        typer.Option("--date", help="Listans datum, ÅÅÅÅ-MM-DD (standard: i dag)"),
    ] = None,
) -> None:
    """Läs in en sanktionslista. Samma fil (samma kontrollsumma) läses bara in en gång."""
    day = _parse_date(list_date)
    try:
        data = file.read_bytes()
    except OSError as exc:
        raise fail(f"{file}: filen kan inte läsas ({exc.strerror}).", 2) from None
    db = settings_db()
    handler = Handler.on(db)
    try:
        upgrade(db)
        try:
            text = decode_sanctions_file(data)
            command = LoadSanctionsList(
                text=text, source=str(file), list_date=day, actor=cli_actor()
            )
            result = handler.run(command).result
        except SanctionsFileError as exc:
            raise fail(f"{file}: {exc}. Listan är inte inläst.", 2) from None
        row = result.sanctions_list
        if result.already_loaded:
            lines = [f"Filen är redan inläst ({_describe(row)}); inget har ändrats."]
        else:
            lines = [f"Sanktionslistan är inläst: {_describe(row)}."]
        with handler.reader() as uow:
            current = uow.sanctions.current()
        if current is not None and current.id != row.id:
            lines.append(
                "Obs: kontrollen använder fortfarande den nyare listan daterad "
                f"{current.list_date.isoformat()}."
            )
    finally:
        handler.close()
    for line in lines:
        typer.echo(line)


@sanctions_app.command("show")
def sanctions_show() -> None:
    """Visa den sanktionslista som parterna kontrolleras mot."""
    handler = ready_handler()
    try:
        with handler.reader() as uow:
            row = uow.sanctions.current()
    finally:
        handler.close()
    if row is None:
        lines = ["Ingen sanktionslista är inläst; parterna kontrolleras inte."]
    else:
        lines = [
            f"Gällande sanktionslista: {_describe(row)}.",
            f"Källa: {row.source}; inläst {row.loaded_at.isoformat(timespec='seconds')}.",
        ]
    for line in lines:
        typer.echo(line)
