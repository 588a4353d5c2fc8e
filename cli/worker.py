"""`upphandla worker`: serves the sweep and delivery deployments (flows.orchestration) against
the Prefect server of PREFECT_API_URL until SIGTERM or Ctrl-C, running each flow run as a
subprocess in the worker's process group. At scale it runs on as many machines as needed; `upphandla
serve` runs one itself as a child against its embedded server (cli.supervisor), with the hidden
options `--server-home` (register only on the server whose PREFECT_HOME that is) and
`--ready-file` (written once the deployments are served, for /health).

Prefect is imported only once the server answers, never when the command line is loaded.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from upphandla.cli.common import fail
from upphandla.cli.embedded_prefect import quiet_prefect_env, read_json, write_json
from upphandla.flows.orchestration.status import server_healthy, serves_home
from upphandla.flows.settings import Settings, get_settings

if TYPE_CHECKING:
    from prefect.deployments.runner import RunnerDeployment
    from prefect.runner import Runner

WAIT_FOR_SERVER_SECONDS = 120.0


def worker(
    ready_file: Annotated[
        Path | None,
        typer.Option("--ready-file", hidden=True, help="Skrivs när flödena betjänas"),
    ] = None,
    server_home: Annotated[
        Path | None,
        typer.Option(
            "--server-home", hidden=True, help="Registrera bara hos servern med detta PREFECT_HOME"
        ),
    ] = None,
) -> None:
    """Kör de schemalagda flödena (svep och utskick) mot Prefect-servern i PREFECT_API_URL,
    tills SIGTERM eller Ctrl-C. API:t körs separat (`upphandla serve`)."""
    api_url = os.environ.get("PREFECT_API_URL")
    if not api_url:
        raise fail(
            "PREFECT_API_URL saknas: ange Prefect-serverns adress, t.ex. "
            "PREFECT_API_URL=http://prefect.example.se:4200/api. Utan egen Prefect-server kör "
            "`upphandla serve` både API:t och schemana.",
            2,
        )
    quiet_prefect_env(os.environ)
    settings = get_settings()
    deadline = time.monotonic() + WAIT_FOR_SERVER_SECONDS
    while not server_healthy(api_url):
        if time.monotonic() > deadline:
            raise fail(f"Prefect-servern på {api_url} svarar inte.", 1)
        time.sleep(1)
    if server_home is not None and not serves_home(api_url, server_home):
        raise fail(
            f"Prefect-servern på {api_url} är inte den med hemkatalogen {server_home}; "
            "flödena registreras inte där.",
            1,
        )
    from upphandla.flows.orchestration.prefect_flows import deployments

    def serving() -> None:
        if ready_file is not None:
            write_json(ready_file, {"pid": os.getpid(), "api_url": api_url})
        typer.echo(
            f"upphandla worker kör svep var {settings.sweep_interval_seconds}:e sekund och "
            f"utskick var {settings.delivery_interval_seconds}:e sekund mot {api_url}.",
            err=True,
        )

    server = DeploymentServer(
        deployments(settings),
        pace=runner_pace(settings),
        name=f"upphandla-worker-{socket.gethostname()}-{os.getpid()}",
        # The only worker of its own server pauses the schedules when it stops; at scale
        # other workers may go on serving the same deployments.
        pause_on_shutdown=server_home is not None,
        on_serving=serving,
    )
    failed = False
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    except Exception as exc:  # noqa: BLE001 - e.g. the server went away for good
        typer.echo(f"Flödena kunde inte betjänas längre: {exc}", err=True)
        failed = True
    finally:
        if ready_file is not None and (read_json(ready_file) or {}).get("pid") == os.getpid():
            with contextlib.suppress(OSError):
                ready_file.unlink()
        flush_prefect()
    typer.echo("upphandla worker har stoppats.", err=True)
    if failed:
        raise typer.Exit(1)


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


def runner_pace(settings: Settings) -> tuple[float | None, float]:
    """How often the runner asks for due flow runs (None: PREFECT_RUNNER_POLL_FREQUENCY, 10 s)
    and how many seconds early it starts them (Prefect's default: 10), unless a schedule is
    shorter than 20 s: then half the shortest interval (at least 1 s) for both. Otherwise runs
    every few seconds are taken five at a time every 10 s, each a Python process at once."""
    shortest = min(settings.sweep_interval_seconds, settings.delivery_interval_seconds)
    if shortest >= 20:
        return None, 10.0
    pace = max(shortest / 2, 1.0)
    return pace, pace


class DeploymentServer:
    """Serves deployments with a Prefect Runner: `run()` blocks in the calling thread (on an
    event loop of its own; `upphandla worker` calls it in its main thread) until `stop()` is
    called from any thread, or, in the main thread, a SIGINT or SIGTERM arrives. The runner
    starts each flow run as a subprocess and stops them when it stops."""

    def __init__(
        self,
        deployments: Sequence[RunnerDeployment],
        *,
        name: str,
        pause_on_shutdown: bool,
        on_serving: Callable[[], None] | None = None,
        pace: tuple[float | None, float] = (None, 10.0),
    ) -> None:
        self._deployments = list(deployments)
        self._pace = pace
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
        runner = Runner(
            name=self._name,
            pause_on_shutdown=self._pause_on_shutdown,
            query_seconds=self._pace[0],
            prefetch_seconds=self._pace[1],
        )
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
