"""`upphandla threshold add SERIES ...` and `upphandla threshold list`.

`threshold_app` is registered in cli/main.py under the name `threshold`. Threshold amounts are
effective-dated with their source (states.thresholds); the EU amounts in kronor are announced
every second year and entered here as they are announced, never converted at a rate.
"""

from __future__ import annotations

from typing import Annotated

import typer

from upphandla.cli.common import cli_actor, ready_handler, run_command
from upphandla.flows.commands.thresholds import EnterThreshold
from upphandla.states.clock import today
from upphandla.states.money import kronor
from upphandla.states.thresholds import ThresholdEntry, in_force

threshold_app = typer.Typer(help="Tröskelvärden och direktupphandlingsgräns.", no_args_is_help=True)


def _period(entry: ThresholdEntry) -> str:
    until = entry.until.isoformat() if entry.until else "tills vidare"
    return f"{entry.effective_from.isoformat()}–{until}"


@threshold_app.command("add")
def threshold_add(
    series: Annotated[str, typer.Argument(help="Serien, t.ex. eu_goods_services")],
    amount: Annotated[int, typer.Option("--amount", help="Beloppet i kronor, som tillkännagivet")],
    effective_from: Annotated[str, typer.Option("--from", help="Första dagen, ÅÅÅÅ-MM-DD")],
    source: Annotated[str, typer.Option("--source", help="Var beloppet är beslutat")],
    until: Annotated[
        str | None, typer.Option("--until", help="Sista dagen, ÅÅÅÅ-MM-DD (standard: tills vidare)")
    ] = None,
) -> None:
    """Lägg in ett belopp för en ny period. Ett inlagt belopp ändras aldrig."""
    data = {
        "series": series,
        "from": effective_from,
        "until": until,
        "amount_sek": amount,
        "source": source,
    }
    actor = cli_actor()
    entered = run_command(EnterThreshold(data=data, entered_by=actor.name, actor=actor))
    entry = entered.entry
    if entered.added:
        typer.echo(f"Inlagt: {entry.series} {kronor(entry.amount_sek)} för {_period(entry)}.")
    else:
        typer.echo(f"Beloppet för {entry.series} {_period(entry)} är redan inlagt; inget ändrades.")


@threshold_app.command("list")
def threshold_list() -> None:
    """Visa varje serie med sina belopp, och om det senaste beloppets period har gått ut."""
    handler = ready_handler()
    try:
        with handler.reader() as uow:
            entries = uow.thresholds.all()
    finally:
        handler.close()
    if not entries:
        typer.echo("Inga tröskelvärden är inlagda.")
        return
    day = today()
    for series in dict.fromkeys(e.series for e in entries):
        own = [e for e in entries if e.series == series]
        typer.echo(f"{series}:")
        for e in own:
            typer.echo(f"  {_period(e)}  {kronor(e.amount_sek)}  ({e.source})")
        current = in_force(own, day)
        if current is not None and current.stale:
            typer.echo(f"  Obs: {current.note()}")
