"""Prefect orchestration: the scheduled sweep and outbox delivery as thin async flows around the
plain functions the API and the tests call (flows.sweep, flows.delivery).

- `sweep_flow`: one flow run per sweep; one task run per batch of due cases (never per case).
- `deliver_flow`: delivery passes until a pass finds less than a full batch due (at most
  `max_passes`), one task run per pass.
- `checkpoint_flow`: verify the audit log and sign a checkpoint (flows.jobs.checkpoint);
- `deployments(settings)`: the three flows as deployments on the intervals of the settings;
  `upphandla worker` (cli.worker) serves them.

Exactly-once is the database's job (the case row lock and unique reminder keys, the outbox
lease), not Prefect's: no Prefect caching, transactions or task retries here. The blocking
database work runs in a worker thread, so the flow's event loop stays free.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from datetime import datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar

import anyio.to_thread
from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from upphandla.flows.handler import Handler
from upphandla.flows.jobs.checkpoint import write_checkpoint
from upphandla.flows.jobs.delivery import DeliveryReport, deliver_with_settings
from upphandla.flows.jobs.sweep import SweepReport, sweep_cases, sweep_due
from upphandla.flows.settings import Settings, get_settings
from upphandla.states.clock import STOCKHOLM, now
from upphandla.store.db import open_database

if TYPE_CHECKING:
    from prefect.deployments.runner import RunnerDeployment


T = TypeVar("T")

SWEEP_FLOW = "sweep"
DELIVERY_FLOW = "deliver-outbox"
CHECKPOINT_FLOW = "checkpoint"
DEPLOYMENT = "upphandla"
SCHEDULE_ANCHOR = datetime(2026, 1, 1, tzinfo=STOCKHOLM)


async def _in_thread(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    return await anyio.to_thread.run_sync(partial(fn, *args, **kwargs))


def _handler(database_url: str | None) -> Handler:
    settings = get_settings()
    db = open_database(
        database_url or settings.database_url, sqlite_synchronous=settings.sqlite_synchronous
    )
    return Handler.on(db)


# -- the sweep --------------------------------------------------------------------------------


@task(name="sweep-batch", task_run_name="sweep-batch-{number}", cache_policy=NO_CACHE)
async def sweep_batch(
    handler: Handler, ids: list[int], *, at: datetime, number: int
) -> SweepReport:
    """Sweep one batch of due cases (each case in a unit of work of its own)."""
    return await _in_thread(sweep_cases, handler, ids, at=at)


@flow(
    name=SWEEP_FLOW,
    description="Påminnelser, eskaleringar, tidsstyrda övergångar och "
    "omprövade grindar för de ärenden som står på tur.",
)
async def sweep_flow(database_url: str | None = None, batch_size: int = 200) -> dict[str, int]:
    """One sweep as of now: the loop of flows.jobs.sweep, one task run per batch."""
    handler = await _in_thread(_handler, database_url)
    at = now()

    async def each(ids: list[int], number: int) -> SweepReport:
        return await sweep_batch(handler, ids, at=at, number=number)

    try:
        report, batches = await sweep_due(handler, at=at, batch_size=batch_size, run_batch=each)
    finally:
        await _in_thread(handler.close)
    result = report.as_dict()
    get_run_logger().info(
        "Svepet är klart: %s ärenden, %s omgång(ar); %s påminnelser köade, %s eskaleringar, "
        "%s övergångar, %s nya och %s stängda avvikelser, %s fel.",
        result["cases"], batches, result["enqueued"], result["escalated"],
        result["transitions"], result["findings"], result["findings_closed"], result["errors"],
    )  # fmt: skip
    return result


# -- outbox delivery --------------------------------------------------------------------------


def _counts(report: DeliveryReport) -> dict[str, int]:
    return {k: v for k, v in asdict(report).items() if isinstance(v, int)}


@task(name="delivery-pass", task_run_name="delivery-pass-{number}", cache_policy=NO_CACHE)
async def delivery_pass(handler: Handler, *, batch_size: int, number: int) -> dict[str, int]:
    """One delivery pass: claim up to `batch_size` due messages, send them, record each."""
    return _counts(await _in_thread(deliver_with_settings, handler, batch_size=batch_size))


@flow(name=DELIVERY_FLOW, description="Skickar de e-postmeddelanden i utkorgen som står på tur.")
async def deliver_flow(
    database_url: str | None = None, batch_size: int = 100, max_passes: int = 20
) -> dict[str, int]:
    """Delivery passes until one handles less than a full batch, or `max_passes` have run.
    Returns the summed counts and the number of passes."""
    handler = await _in_thread(_handler, database_url)
    totals: dict[str, int] = {}
    passes = 0
    try:
        while passes < max_passes:
            passes += 1
            counts = await delivery_pass(handler, batch_size=batch_size, number=passes)
            for key, value in counts.items():
                totals[key] = totals.get(key, 0) + value
            if sum(counts.values()) < batch_size:
                break
    finally:
        await _in_thread(handler.close)
    get_run_logger().info(
        "Utkorgen: %s skickade, %s försöks igen senare, %s gav upp (%s varv).",
        totals.get("sent", 0), totals.get("retried", 0), totals.get("dead", 0), passes,
    )  # fmt: skip
    return {**totals, "passes": passes}


# -- checkpoints of the audit log -------------------------------------------------------------


@flow(
    name=CHECKPOINT_FLOW,
    description="Kontrollerar granskningsloggen och signerar en kontrollpunkt utanför databasen.",
)
async def checkpoint_flow(database_url: str | None = None) -> dict[str, object]:
    """Verify the whole audit log; if it holds, sign a checkpoint (flows.jobs.checkpoint)."""
    handler = await _in_thread(_handler, database_url)
    try:
        report = await _in_thread(write_checkpoint, handler, get_settings())
    finally:
        await _in_thread(handler.close)
    logger = get_run_logger()
    if report.ok:
        logger.info(
            "Granskningsloggen stämmer (%s händelser); kontrollpunkt: %s.",
            report.log_size, report.written or "ingen ny",
        )  # fmt: skip
    else:
        logger.error("Granskningsloggen stämmer inte: %s fel.", report.breaks)
    return asdict(report)


# -- deployments ------------------------------------------------------------------------------


def deployments(settings: Settings) -> list[RunnerDeployment]:
    """The sweep, delivery and checkpoint deployments, on the intervals of `settings`. Call it outside a
    running event loop."""
    return [
        _deployment(sweep_flow, settings.sweep_interval_seconds),
        _deployment(deliver_flow, settings.delivery_interval_seconds),
        _deployment(checkpoint_flow, settings.checkpoint_interval_seconds),
    ]


def _deployment(to_deploy: Any, seconds: int) -> RunnerDeployment:
    from prefect.deployments.runner import RunnerDeployment
    from prefect.schedules import Interval
    from prefect.types.entrypoint import EntrypointType

    made = to_deploy.to_deployment(
        name=DEPLOYMENT,
        # A fixed anchor: the same times after every restart, whichever worker registers it.
        schedule=Interval(
            timedelta(seconds=seconds), anchor_date=SCHEDULE_ANCHOR, timezone="Europe/Stockholm"
        ),
        tags=["upphandla"],
        # Found by module, not by file: independent of the working directory.
        entrypoint_type=EntrypointType.MODULE_PATH,
    )
    assert isinstance(made, RunnerDeployment), "deployments() runs outside an event loop"
    return made
