"""The embedded Prefect server of a data directory, as `upphandla serve` runs it (cli.supervisor):
its home (`<data dir>/prefect`: PREFECT_HOME, the SQLite database `prefect.db`, the logs), the
port it listens on, the marker file that tells other commands (`sweep --now`) where it runs, and
the command lines of `prefect server start` and of the `upphandla worker` that serves the
deployments against it. Nothing here imports Prefect.

Ports. With UPPHANDLA_PREFECT_PORT set, that port, and only if it is free. Without it: the port
this data directory's server had last time (`<home>/port`) if it is free, else 4200 if it is
free, else one the system picks; so a second `serve` on the machine (another data directory)
never finds the first one's server where it expects its own. Whatever the port, a server counts
as this data directory's only if its settings route names this home (`serves_home`): nothing
registers deployments on, or sweeps through, a server it did not start for its own data.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import sys
from collections.abc import MutableMapping
from dataclasses import dataclass
from pathlib import Path

from upphandla.flows.orchestration.status import server_healthy, serves_home
from upphandla.flows.settings import Settings

MARKER = "embedded-server.json"  # while a `serve` runs the server: where it listens, whose it is
LAST_PORT = "port"  # the port this data directory's server listened on last
WORKER_READY = "worker-ready.json"  # written by the worker once it serves the deployments
DEFAULT_PORT = 4200

# Runs a command with a parent-death signal: if `serve` dies without cleaning up (SIGKILL), the
# kernel sends the child SIGTERM. PR_SET_PDEATHSIG survives exec; elsewhere it is skipped. The
# signal comes when the *thread* that started the child ends: cli.supervisor starts and stops
# its children from one thread that lives as long as they do.
WITH_PARENT_DEATH_SIGNAL = """\
import os, signal, sys
parent = int(sys.argv[1])
try:
    import ctypes
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
except (OSError, AttributeError):
    pass
if os.getppid() != parent:
    sys.exit(1)
os.execv(sys.executable, [sys.executable, *sys.argv[2:]])
"""


def prefect_home(settings: Settings) -> Path:
    """The embedded server's PREFECT_HOME: `<data dir>/prefect`."""
    return settings.resolved_data_dir() / "prefect"


def port_fixed(settings: Settings) -> bool:
    """True if UPPHANDLA_PREFECT_PORT (or the prefect_port setting) was given."""
    return "prefect_port" in settings.model_fields_set


def client_host(host: str) -> str:
    return "127.0.0.1" if host in ("", "0.0.0.0", "::") else host


@dataclass(frozen=True)
class Place:
    """Where an embedded server listens."""

    host: str
    port: int

    @property
    def ui_url(self) -> str:
        return f"http://{client_host(self.host)}:{self.port}"

    @property
    def api_url(self) -> str:
        return f"{self.ui_url}/api"


def port_free(host: str, port: int) -> bool:
    """True if a server could listen on `host:port` now (like uvicorn: SO_REUSEADDR, so that
    connections of an earlier server waiting in TIME_WAIT do not count)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def _any_free_port(host: str) -> int:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def last_port(home: Path) -> int | None:
    try:
        port = int((home / LAST_PORT).read_text(encoding="utf-8").strip())
    except (OSError, ValueError):
        return None
    return port if 0 < port < 65536 else None


def choose_port(settings: Settings, home: Path, *, avoid: int | None = None) -> int | None:
    """The port for this data directory's server now (see the module's docstring); None if the
    fixed port is taken. `avoid`: a port that just failed (tried last)."""
    host = settings.prefect_host
    if port_fixed(settings):
        return settings.prefect_port if port_free(host, settings.prefect_port) else None
    for port in (last_port(home), DEFAULT_PORT):
        if port is not None and port != avoid and port_free(host, port):
            return port
    return _any_free_port(host)


def remember_port(home: Path, port: int) -> None:
    with contextlib.suppress(OSError):
        (home / LAST_PORT).write_text(f"{port}\n", encoding="utf-8")


def write_json(path: Path, data: dict[str, object]) -> None:
    """Write `data` to `path` at once (readers never see half a file)."""
    partial = path.with_name(f".{path.name}.{os.getpid()}")
    partial.write_text(json.dumps(data), encoding="utf-8")
    os.replace(partial, path)


def read_json(path: Path) -> dict[str, object] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def running_embedded_server(settings: Settings) -> str | None:
    """The API URL of this data directory's embedded server if a `serve` runs it and it
    answers now, else None."""
    home = prefect_home(settings)
    marker = read_json(home / MARKER)
    api_url = marker.get("api_url") if marker else None
    if not isinstance(api_url, str):
        return None
    if server_healthy(api_url) and serves_home(api_url, home):
        return api_url
    return None


def quiet_prefect_env(env: MutableMapping[str, str]) -> None:
    """No telemetry, and no temporary Prefect server started by accident."""
    env["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
    env["DO_NOT_TRACK"] = "1"
    env.setdefault("PREFECT_SERVER_EPHEMERAL_ENABLED", "false")


def _with_parent_death_signal(args: list[str]) -> list[str]:
    return [sys.executable, "-c", WITH_PARENT_DEATH_SIGNAL, str(os.getpid()), *args]


def server_command(home: Path, place: Place) -> tuple[list[str], dict[str, str]]:
    """`prefect server start` for this data directory: its command line and environment."""
    env = dict(os.environ)
    quiet_prefect_env(env)
    env.update(
        PREFECT_HOME=str(home),
        PREFECT_API_DATABASE_CONNECTION_URL=f"sqlite+aiosqlite:///{home / 'prefect.db'}",
        PREFECT_UI_ENABLED="true",
    )
    args = ["-m", "prefect", "server", "start", "--host", place.host, "--port", str(place.port)]
    return _with_parent_death_signal(args), env


def worker_command(home: Path, place: Place) -> tuple[list[str], dict[str, str]]:
    """`upphandla worker` against this data directory's server: it registers the deployments
    only on a server whose home is `home`, and writes `<home>/worker-ready.json` once it
    serves them."""
    env = dict(os.environ)
    quiet_prefect_env(env)
    env.update(PREFECT_HOME=str(home), PREFECT_API_URL=place.api_url)
    args = ["-m", "upphandla.cli.main", "worker", "--ready-file", str(home / WORKER_READY)]
    args += ["--server-home", str(home)]
    return _with_parent_death_signal(args), env
