"""`upphandla audit verify` and `upphandla audit export`: verify the audit log (the database, or
an export without one) and export it for verification elsewhere."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from upphandla.cli.common import fail, ready_handler
from upphandla.flows.checkpoints import KeyFileError, Stored, Witness
from upphandla.flows.log_export import ExportError, export_log, verify_export
from upphandla.flows.settings import get_settings
from upphandla.flows.verify import Verification, describe, verify_log
from upphandla.states.checkpoint import NoteError, NoteVerifier, open_checkpoint


def _report(result: Verification, as_json: bool, *, key_id: str | None) -> None:
    if as_json:
        typer.echo(json.dumps(as_dict(result), ensure_ascii=False))
    else:
        for brk in result.breaks:
            typer.echo(describe(brk))
        if result.written is not None:
            typer.echo(f"Ny kontrollpunkt: {result.written}")
        if key_id is not None:
            typer.echo(f"Kontrollpunkterna kontrolleras med nyckeln {key_id}.")
        verdict = "OK" if result.ok else "FEL"
        typer.echo(
            f"{verdict}: {result.cases} ärenden, {result.events} händelser, loggen har "
            f"{result.log_size} poster, {len(result.breaks)} fel; "
            f"{len(result.checkpoints)} kontrollpunkter stämmer."
        )
    if not result.ok:
        raise typer.Exit(1)


def as_dict(result: Verification) -> dict[str, Any]:
    return {
        "ok": result.ok,
        "cases": result.cases,
        "events": result.events,
        "log_size": result.log_size,
        "root_hash": result.root.hex(),
        "checkpoints": [
            {"origin": c.origin, "size": c.size, "root_hash": c.root_hash.hex()}
            for c in result.checkpoints
        ],
        "written": str(result.written) if result.written else None,
        "breaks": [b.as_dict() for b in result.breaks],
    }


def _given(paths: list[Path], verifier: NoteVerifier) -> list[Stored]:
    given = []
    for path in paths:
        try:
            cp = open_checkpoint(path.read_text(encoding="utf-8"), verifier)
        except (OSError, UnicodeDecodeError, NoteError, ValueError) as exc:
            raise fail(f"Kontrollpunkten {path} går inte att använda: {exc}", 1) from None
        given.append(Stored(path, cp))
    return given


def verify(
    as_json: Annotated[bool, typer.Option("--json", help="Skriv resultatet som JSON")] = False,
    export: Annotated[
        Path | None,
        typer.Option("--export", help="Kontrollera en export (utan databas) i stället"),
    ] = None,
    checkpoint: Annotated[
        list[Path] | None,
        typer.Option("--checkpoint", help="Kontrollera också mot denna kontrollpunkt (fil)"),
    ] = None,
    vkey: Annotated[
        str | None,
        typer.Option("--vkey", help="Verifieringsnyckeln att lita på (annars nyckelfilens)"),
    ] = None,
) -> None:
    """Kontrollera granskningsloggen: varje kedja, den globala loggen mot de signerade
    kontrollpunkterna och de levande raderna mot kedjorna. Skriver en ny kontrollpunkt när allt
    stämmer. Avslutar med kod 1 och namnger varje fel."""
    if export is not None:
        try:
            result = verify_export(export, vkey)
        except ExportError as exc:
            raise fail(f"Exporten går inte att kontrollera: {exc}", 1) from None
        key_id = vkey.split("+", 2)[1] if vkey and "+" in vkey else None
        _report(result, as_json, key_id=key_id or _export_key_id(export))
        return
    try:
        witness = Witness.of(get_settings())
    except KeyFileError as exc:
        raise fail(f"Kan inte kontrollera: {exc}", 1) from None
    assert witness is not None
    verifier = witness.verifier
    if vkey is not None:
        try:
            verifier = NoteVerifier.parse(vkey)
        except (NoteError, ValueError) as exc:
            raise fail(f"Verifieringsnyckeln går inte att läsa: {exc}", 1) from None
        witness.verifier = verifier
    given = _given(checkpoint or [], verifier)
    handler = ready_handler()
    try:
        with handler.reader() as uow:
            result = verify_log(uow, witness, write=True, given=given)
    finally:
        handler.close()
    _report(result, as_json, key_id=verifier.key_id.hex())


def _export_key_id(directory: Path) -> str | None:
    try:
        return NoteVerifier.parse(
            (directory / "key.vkey").read_text(encoding="utf-8").strip()
        ).key_id.hex()
    except (OSError, NoteError, ValueError):
        return None


def export(
    directory: Annotated[Path, typer.Argument(help="En ny eller tom mapp")],
) -> None:
    """Exportera granskningsloggen för kontroll utan databas: händelserna (JSON Lines), de
    signerade kontrollpunkterna och verifieringsnyckeln. Loggen kontrolleras och en ny
    kontrollpunkt skrivs först."""
    try:
        witness = Witness.of(get_settings())
    except KeyFileError as exc:
        raise fail(f"Kan inte exportera: {exc}", 1) from None
    assert witness is not None
    handler = ready_handler()
    try:
        with handler.reader() as uow:
            done = export_log(uow, witness, directory)
    except ExportError as exc:
        raise fail(f"Kan inte exportera: {exc}", 1) from None
    finally:
        handler.close()
    typer.echo(
        f"Exporterade {done.events} händelser till {directory} ({done.withheld} förseglade "
        f"utan innehåll), med {len(done.verification.checkpoints)} kontrollpunkter."
    )
    typer.echo(f"Verifieringsnyckel: {witness.verifier.key_id.hex()} — jämför med er egen kopia.")
