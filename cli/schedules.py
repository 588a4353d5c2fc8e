"""`upphandla sweep --now`, and what `serve` needs to run Prefect beside the API
(cli.supervisor). `upphandla worker` is in cli.worker.

`sweep --now` runs one sweep through Prefect: on the server of PREFECT_API_URL if set, else on
the embedded server of this data directory if a `serve` runs it (its marker file names it, and
the server's home is this data directory's), else on a temporary server that Prefect starts for
this command.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
from collections.abc import Callable, Iterator
from types import FrameType
from typing import Annotated

import typer

from upphandla.cli.common import fail
from upphandla.cli.embedded_prefect import (
    prefect_home,
    quiet_prefect_env,
    running_embedded_server,
)
from upphandla.cli.supervisor import Supervisor
from upphandla.cli.worker import worker
from upphandla.flows.settings import Settings, get_settings

__all__ = ["prepare_prefect", "stopping_on_signals", "sweep", "worker"]


class Stopped(BaseException):
    """SIGTERM arrived: unwind like Ctrl-C does."""


def prepare_prefect(settings: Settings) -> Supervisor:
    """The supervisor of `serve`'s Prefect children (none at scale); `start()` starts them.
    The API process loads no Prefect; should anything in it ever do, it starts no server."""
    quiet_prefect_env(os.environ)
    return Supervisor(settings)


@contextlib.contextmanager
def stopping_on_signals(stop: Callable[[], None]) -> Iterator[None]:
    """Run the body until it ends, Ctrl-C or SIGTERM; then `stop()`, once, while further
    signals only say that it is stopping."""

    def on_term(signum: int, frame: FrameType | None) -> None:
        raise Stopped(signum)

    def on_again(signum: int, frame: FrameType | None) -> None:
        typer.echo("Stänger redan ned …", err=True)

    previous = {sig: signal.signal(sig, on_term) for sig in (signal.SIGTERM,)}
    try:
        yield
    except (KeyboardInterrupt, Stopped):
        pass
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, on_again)
        typer.echo("Stänger ned upphandla …", err=True)
        try:
            stop()
        finally:
            signal.signal(signal.SIGINT, signal.default_int_handler)
            for sig, handler in previous.items():
                signal.signal(sig, handler)


@contextlib.contextmanager
def _stdout_to_stderr() -> Iterator[None]:
    """Whatever Prefect (or a server it starts) writes to standard output goes to standard
    error meanwhile, so that standard output carries only this command's answer."""
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        os.dup2(2, 1)
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


def sweep(
    now_: Annotated[bool, typer.Option("--now", help="Svep nu (genom Prefect)")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Skriv resultatet som JSON")] = False,
    batch_size: Annotated[
        int, typer.Option("--batch-size", min=1, max=10_000, help="Ärenden per omgång")
    ] = 200,
) -> None:
    """Kör ett svep nu: påminnelser, eskaleringar, tidsstyrda övergångar och omprövade grindar
    för de ärenden som står på tur. Schemalagda svep kör `serve` och `worker` själva."""
    if not now_:
        raise fail(
            "Ange --now för att svepa nu. Schemalagda svep körs av `upphandla serve` "
            "(eller `upphandla worker`).",
            2,
        )
    settings = get_settings()
    quiet_prefect_env(os.environ)
    if not os.environ.get("PREFECT_API_URL"):
        home = prefect_home(settings)
        home.mkdir(parents=True, exist_ok=True)
        os.environ["PREFECT_HOME"] = str(home)
        running = running_embedded_server(settings)
        if running is not None:
            os.environ["PREFECT_API_URL"] = running
        else:
            os.environ["PREFECT_SERVER_EPHEMERAL_ENABLED"] = "true"
            typer.echo(
                "Ingen Prefect-server kör; Prefect startar en tillfällig (10–20 s) …", err=True
            )
    from upphandla.cli.common import settings_db
    from upphandla.store.migrate import upgrade

    db = settings_db()
    try:
        upgrade(db)
    finally:
        db.dispose()
    with _stdout_to_stderr():
        from upphandla.flows.orchestration.prefect_flows import sweep_flow

        try:
            report = asyncio.run(sweep_flow(batch_size=batch_size))
        except Exception as exc:  # noqa: BLE001 - the run's log is in Prefect
            raise fail(f"Svepet misslyckades: {exc}", 1) from None
    if as_json:
        typer.echo(json.dumps(report, ensure_ascii=False))
    else:
        typer.echo(
            f"Svepet är klart: {report['cases']} ärenden gicks igenom; "
            f"{report['enqueued']} påminnelser och {report['escalated']} eskaleringar köades, "
            f"{report['transitions']} tidsstyrda övergångar, {report['findings']} nya och "
            f"{report['findings_closed']} stängda avvikelser, {report['errors']} fel."
        )
    if report["errors"]:  # those cases are tried again in an hour
        raise typer.Exit(1)
