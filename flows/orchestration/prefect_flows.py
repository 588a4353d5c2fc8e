"""Prefect orchestration: the scheduled sweep and outbox delivery as thin async flows around the
plain functions the API and the tests call (flows.sweep, flows.delivery).

- `sweep_flow`: one flow run per sweep; one task run per batch of due cases (never per case).
- `deliver_flow`: delivery passes until a pass finds less than a full batch due (at most
  `max_passes`), one task run per pass.
- `deployments(settings)`: both flows as deployments on the intervals of the settings.
- `DeploymentServer`: serves deployments with a Prefect Runner on an event loop of its own, in
  whichever thread calls `run()` (cli.supervisor runs it in a background thread, `upphandla
  worker` in the main thread); `stop()` may be called from any thread.

Exactly-once is the database's job (the case row lock and unique reminder keys, the outbox
lease), not Prefect's: no Prefect caching, transactions or task retries here. The blocking
database work runs in a worker thread, so the flow's event loop stays free.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import threading
from collections.abc import Callable, Sequence
from dataclasses import asdict
from datetime import datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar

import anyio.to_thread
from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from upphandla.flows.handler import Handler
from upphandla.flows.jobs.delivery import DeliveryReport, deliver_with_settings
from upphandla.flows.jobs.sweep import SweepReport, sweep_cases, sweep_due
from upphandla.flows.settings import Settings, get_settings
from upphandla.states.clock import STOCKHOLM, now
from upphandla.store.db import open_database

if TYPE_CHECKING:
    from prefect.deployments.runner import RunnerDeployment
    from prefect.runner import Runner


T = TypeVar("T")

SWEEP_FLOW = "sweep"
DELIVERY_FLOW = "deliver-outbox"
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
async def sweep_batch(handler: Handler, ids: list[int], *, at: datetime, number: int) -> SweepReport:
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


# -- deployments and serving them -------------------------------------------------------------


def deployments(settings: Settings) -> list[RunnerDeployment]:
    """The sweep and delivery deployments, on the intervals of `settings`. Call it outside a
    running event loop."""
    return [
        _deployment(sweep_flow, settings.sweep_interval_seconds),
        _deployment(deliver_flow, settings.delivery_interval_seconds),
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


def flush_prefect(timeout: float = 5.0) -> None:
    """Send the logs and events Prefect still holds now, and send no more logs to its API:
    call it after the runner stopped and before the server stops. Otherwise, at interpreter
    exit, Prefect waits for a server that is gone (a minute of connection retries)."""
    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogHandler, APILogWorker

    for service in (APILogWorker, EventsWorker):
        service.drain_all(timeout=timeout)
    loggers = [logging.getLogger(), *logging.Logger.manager.loggerDict.values()]
    for each in loggers:
        if isinstance(each, logging.Logger):
            for handler in list(each.handlers):
                if isinstance(handler, APILogHandler):
                    each.removeHandler(handler)


class DeploymentServer:
    """Serves deployments with a Prefect Runner: `run()` blocks in the calling thread (on an
    event loop of its own) until `stop()` is called from any thread, or, in the main thread, a
    SIGINT or SIGTERM arrives. The runner starts each flow run as a subprocess and stops them
    when it stops."""

    def __init__(
        self,
        deployments: Sequence[RunnerDeployment],
        *,
        name: str,
        pause_on_shutdown: bool,
        on_serving: Callable[[], None] | None = None,
    ) -> None:
        self._deployments = list(deployments)
        self._name = name
        self._pause_on_shutdown = pause_on_shutdown
        self._on_serving = on_serving
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None
        self._runner: Runner | None = None
        self._lock = threading.Lock()
        self._stopping = False
        self._stop_scheduled = False
        self.serving = threading.Event()  # set once the deployments are registered

    def run(self) -> None:
        asyncio.run(self._main())

    async def _main(self) -> None:
        from prefect.runner import Runner

        with self._lock:
            if self._stopping:
                return
            self._loop = asyncio.get_running_loop()
            self._task = asyncio.current_task()
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                self._loop.add_signal_handler(sig, self.stop)
        runner = Runner(name=self._name, pause_on_shutdown=self._pause_on_shutdown)
        for deployment in self._deployments:
            await runner.aadd_deployment(deployment)
        self._runner = runner
        self.serving.set()
        if self._on_serving is not None:
            self._on_serving()
        await runner.start()  # in the main thread it installs its own SIGTERM handler

    def stop(self) -> None:
        with self._lock:
            self._stopping = True
            loop = self._loop
        if loop is not None and not loop.is_closed():
            try:
                loop.call_soon_threadsafe(self._shutdown)
            except RuntimeError:  # the loop closed meanwhile
                pass

    def _shutdown(self) -> None:
        if self._runner is None:  # still registering the deployments
            if self._task is not None:
                self._task.cancel()
        elif not self._stop_scheduled:
            self._stop_scheduled = True
            asyncio.ensure_future(self._stop_runner(self._runner))

    async def _stop_runner(self, runner: Runner) -> None:
        for _ in range(200):  # between registering and starting: wait for the start
            if runner.started or self._task is None or self._task.done():
                break
            await asyncio.sleep(0.05)
        if runner.started and not runner.stopping:
            runner.stopping = True
            await runner.astop()  # cancels the runs in flight, ends `start`
        elif not runner.started and self._task is not None:
            self._task.cancel()
