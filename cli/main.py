"""`upphandla`: serve, sweep, worker, db upgrade, user add/list/disable, token
create/list/revoke, audit verify, definition check/load/docs, sanctions load/show, outbox
deliver/retry."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from upphandla.cli import audit
from upphandla.cli.audit_export import export_events
from upphandla.cli.common import cli_actor, describe, fail, settings_db
from upphandla.cli.docs import docs_app
from upphandla.cli.outbox import outbox_app
from upphandla.cli.sanctions import sanctions_app
from upphandla.cli.schedules import sweep, worker
from upphandla.cli.thresholds import threshold_app
from upphandla.cli.users import token_app, user_app
from upphandla.flows.settings import get_settings
from upphandla.states.definition import DefinitionError
from upphandla.states.errors import DomainError
from upphandla.states.parse import parse_definition

app = typer.Typer(
    help="Arbetsflöden för kommunens IT-upphandlingar.", no_args_is_help=True, add_completion=False
)
db_app = typer.Typer(help="Databasen.", no_args_is_help=True)
audit_app = typer.Typer(help="Granskningsloggen.", no_args_is_help=True)
definition_app = typer.Typer(help="Processdefinitioner.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(user_app, name="user")
app.add_typer(token_app, name="token")
app.add_typer(audit_app, name="audit")
audit_app.command("verify")(audit.verify)
audit_app.command("export")(audit.export)
audit_app.command("export-events")(export_events)
app.add_typer(definition_app, name="definition")
definition_app.add_typer(docs_app)  # `upphandla definition docs`
app.add_typer(sanctions_app, name="sanctions")
app.add_typer(threshold_app, name="threshold")
app.add_typer(outbox_app, name="outbox")


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Uppgradera databasen till senaste schemat (säkert att köra flera gånger)."""
    from upphandla.store.migrate import upgrade

    upgrade(settings_db())
    typer.echo("Databasen är uppgraderad.")


def _read_definition(file: Path) -> object:
    from upphandla.seeds.loader import SeedFileError, read_yaml

    try:
        return read_yaml(file)
    except SeedFileError as exc:
        raise fail(str(exc), 2) from None


@definition_app.command("check")
def definition_check(file: Annotated[Path, typer.Argument(help="YAML-fil")]) -> None:
    """Kontrollera en processdefinition; varje fel anges med exakt fältväg."""
    try:
        d = parse_definition(_read_definition(file))
    except DefinitionError as exc:
        for p in exc.problems:
            typer.echo(f"{file}: {p.path}: {p.message}", err=True)
        raise fail(f"{file}: {len(exc.problems)} fel; definitionen kan inte användas.", 1) from None
    typer.echo(
        f"{file}: {d.key} version {d.version} är giltig ({len(d.phases)} faser, "
        f"{len(d.triggers)} övergångar)."
    )


@definition_app.command("load")
def definition_load(file: Annotated[Path, typer.Argument(help="YAML-fil")]) -> None:
    """Läs in en ny version av en processdefinition. En inläst version ändras aldrig."""
    from upphandla.flows.commands.definitions import LoadDefinition
    from upphandla.flows.handler import Handler
    from upphandla.store.migrate import upgrade

    data = _read_definition(file)
    db = settings_db()
    upgrade(db)
    try:
        loaded = Handler.on(db).run(LoadDefinition(data, actor=cli_actor())).result
    except DefinitionError as exc:
        for p in exc.problems:
            typer.echo(f"{file}: {p.path}: {p.message}", err=True)
        raise fail(f"{file}: definitionen kan inte användas.", 1) from None
    except DomainError as exc:
        raise fail(describe(exc), 1) from None
    finally:
        db.dispose()
    d = loaded.definition
    typer.echo(
        f"{d.key} version {d.version} {'är inläst' if loaded.added else 'fanns redan, oförändrad'}."
    )


@app.command("serve")
def serve(
    host: Annotated[str, typer.Option(help="Adress att lyssna på")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port")] = 8000,
    demo: Annotated[
        bool, typer.Option("--demo", help="Läs in demoanvändare och demoärenden")
    ] = False,
) -> None:
    """Starta motorn: migrerar databasen, läser in processdefinitionerna, startar API:t och
    (utan PREFECT_API_URL) en egen Prefect-server och en `upphandla worker` med schemalagt svep
    och utskick, som egna processer."""
    import uvicorn

    from upphandla.cli.schedules import prepare_prefect, stopping_on_signals
    from upphandla.cli.startup import prepare

    settings = get_settings()
    supervisor = prepare_prefect(settings)
    with stopping_on_signals(supervisor.stop):
        status = supervisor.start()
        db = settings_db()
        try:
            users = prepare(db, settings, demo=demo)
        except DomainError as exc:
            raise fail(f"Kan inte starta: {describe(exc)}", 1) from None
        except DefinitionError as exc:
            raise fail(f"Kan inte starta: {exc}", 1) from None
        if demo:
            typer.echo("Demoanvändare (nya token vid varje start med --demo):")
            for u in users:
                typer.echo(f"  {u.role:<22} {u.name:<28} {u.token}")
        from upphandla.api.app import create_app

        web_app = create_app(settings, db)
        web_app.state.prefect = status
        typer.echo(f"upphandla lyssnar på http://{host}:{port}  (API-dokumentation: /docs)")
        if (where := supervisor.describe()) is not None:
            typer.echo(where)
        uvicorn.Server(uvicorn.Config(web_app, host=host, port=port, log_level="info")).run()


app.command("sweep")(sweep)
app.command("worker")(worker)


if __name__ == "__main__":
    app()
