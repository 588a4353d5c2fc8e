"""`upphandla outbox deliver` and `upphandla outbox retry ID`.

`outbox_app` is registered in cli/main.py under the name `outbox`. `deliver` makes one delivery
pass (flows.delivery.deliver_with_settings: the SMTP settings of notifications.settings, and a
calendar attachment on reminders and escalations); run it from a timer, e.g. every minute.
`retry` puts a message that has been given up on back in the queue.
"""

from __future__ import annotations

from typing import Annotated

import typer

from upphandla.cli.common import fail, ready_handler
from upphandla.flows.jobs.delivery import RetryOutbox, deliver_with_settings
from upphandla.notifications.smtp import SmtpConfigError
from upphandla.states.errors import Conflict, NotFound

outbox_app = typer.Typer(help="Utkorgen: e-post som skickas efter att ärenden ändrats.")


@outbox_app.command("deliver")
def outbox_deliver(
    batch_size: Annotated[
        int, typer.Option("--batch-size", min=1, max=10_000, help="Högst så många meddelanden")
    ] = 100,
) -> None:
    """Skicka de meddelanden som står på tur (ett varv). Misslyckade försöks igen senare."""
    handler = ready_handler()
    try:
        report = deliver_with_settings(handler, batch_size=batch_size)
    except SmtpConfigError as exc:  # unusable mail settings: nothing was claimed
        raise fail(str(exc), 2) from None
    finally:
        handler.close()
    typer.echo(
        f"Utkorgen: {report.sent} skickade, {report.retried} försöks igen senare, "
        f"{report.dead} gav upp."
    )


@outbox_app.command("retry")
def outbox_retry(
    outbox_id: Annotated[
        int, typer.Argument(metavar="ID", min=1, help="Meddelandets id", show_default=False)
    ],
) -> None:
    """Lägg tillbaka ett meddelande som gett upp i kön, så att det skickas vid nästa varv."""
    handler = ready_handler()
    try:
        row = handler.run(RetryOutbox(outbox_id)).result
    except NotFound:
        raise fail(f"Meddelande {outbox_id} finns inte i utkorgen.") from None
    except Conflict as exc:
        raise fail(exc.detail) from None
    finally:
        handler.close()
    typer.echo(
        f"Meddelande {outbox_id} ({row.template} till {', '.join(row.recipients)}) "
        "står i kön igen och skickas vid nästa varv."
    )
