"""Helpers for the tests in tests/schedules (imported as `prefect_support`; tests/schedules is put
on sys.path by its conftest): a real SMTP server's inbox, polling, and the processes a test
starts, read from /proc (Linux)."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any, TypeVar

ROOT = Path(__file__).resolve().parents[2]
T = TypeVar("T")


# -- a real SMTP server on loopback -----------------------------------------------------------


@dataclass
class Inbox:
    """aiosmtpd handler that keeps every message it accepts."""

    messages: list[EmailMessage] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append(parsed)
        return "250 2.0.0 Mottaget"

    def texts(self) -> list[str]:
        """Subject and every text part of each message, as one string per message."""
        out = []
        for message in list(self.messages):
            parts = [str(message["Subject"])]
            for part in message.walk():
                if part.get_content_maintype() == "text":
                    parts.append(str(part.get_content()))
            out.append("\n".join(parts))
        return out

    def mentioning(self, text: str) -> list[str]:
        return [t for t in self.texts() if text in t]


@dataclass
class Smtp:
    port: int
    inbox: Inbox

    def env(self) -> dict[str, str]:
        return {
            "UPPHANDLA_SMTP_HOST": "127.0.0.1",
            "UPPHANDLA_SMTP_PORT": str(self.port),
            "UPPHANDLA_SMTP_SECURITY": "none",
            "UPPHANDLA_SMTP_SENDER": "upphandla@testkommunen.se",
        }


# -- processes --------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for(
    what: str, probe: Callable[[], T | None], *, timeout: float = 120, every: float = 0.2
) -> T:
    """Poll `probe` until it returns something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(every)


def get_json(url: str, timeout: float = 2.0) -> Any | None:
    """The JSON body of a GET, or None if nothing answers."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as answer:
            return json.load(answer)
    except (OSError, ValueError):
        return None


@dataclass(frozen=True)
class Proc:
    pid: int
    ppid: int
    pgid: int
    sid: int
    state: str
    rss_kb: int
    command: str


def processes() -> dict[int, Proc]:
    """Every process on the machine, from /proc (Linux)."""
    table: dict[int, Proc] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            status = (entry / "status").read_text()
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        rss = next(
            (int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:")),
            0,
        )
        pid = int(entry.name)
        table[pid] = Proc(
            pid, int(fields[1]), int(fields[2]), int(fields[3]), fields[0], rss, command
        )
    return table


def descendants(root: int) -> dict[int, Proc]:
    """`root` and every process below it."""
    table = processes()
    found = {root} if root in table else set()
    grew = True
    while grew:
        grew = False
        for proc in table.values():
            if proc.ppid in found and proc.pid not in found:
                found.add(proc.pid)
                grew = True
    return {pid: table[pid] for pid in found}


def living_in_sessions(sessions: set[int]) -> list[Proc]:
    """Processes (not zombies) in any of these sessions."""
    return [p for p in processes().values() if p.sid in sessions and p.state != "Z"]


@dataclass
class Started:
    """A command started by a test in a session of its own; its output goes to `log`."""

    process: subprocess.Popen[bytes]
    log: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def sessions(self) -> set[int]:
        """The sessions of this process and everything it started."""
        return {p.sid for p in descendants(self.pid).values()} | {self.pid}

    def kill_all(self) -> None:
        """Teardown: SIGKILL whatever of it is still there."""
        for sid in self.sessions():
            for proc in living_in_sessions({sid}):
                try:
                    os.kill(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            pass


def start(args: list[str], *, env: dict[str, str], cwd: Path, log: Path) -> Started:
    with open(log, "wb") as out:
        process = subprocess.Popen(
            args,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return Started(process, log)


def upphandla(*args: str) -> list[str]:
    return [sys.executable, "-m", "upphandla.cli.main", *args]


def _import_path() -> list[str]:
    """The sys.path entry this test run imports `upphandla` from, if it is a folder that holds
    it (a link named upphandla to a work tree, an installed copy); an editable install finds it
    by itself."""
    import upphandla

    package = Path(upphandla.__file__).parent  # not resolved: the link's own name counts
    return [str(package.parent)] if package.name == "upphandla" else []


def base_env(**extra: str) -> dict[str, str]:
    """The test run's environment for a child process: tests/ not on the path, no Prefect
    server of the test run, the same `upphandla` importable as in this process."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API_")}
    inherited = [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    env["PYTHONPATH"] = os.pathsep.join(dict.fromkeys([*_import_path(), *inherited]))
    env.update(extra)
    return env


@contextlib.contextmanager
def showing_log(*started: Started) -> Iterator[None]:
    """On a failed assertion, show the end of each process's output."""
    try:
        yield
    except AssertionError as exc:
        tails = "\n".join(f"--- {s.log.name} ---\n{s.output()[-6000:]}" for s in started)
        raise AssertionError(f"{exc}\n{tails}") from exc


# -- `upphandla serve` and its embedded Prefect server -----------------------------------------


def serve_env(
    tmp_path: Path, name: str, *, smtp: Smtp | None = None, **extra: str
) -> dict[str, str]:
    """The environment of a `serve` with a database and data directory of its own in
    `tmp_path` (`<name>.db`, `<name>-data`). Without `smtp`, mail goes to a port where nobody
    listens (delivery fails and retries later)."""
    mail = smtp.env() if smtp is not None else {"UPPHANDLA_SMTP_PORT": str(free_port())}
    return base_env(
        UPPHANDLA_DATABASE_URL=f"sqlite:///{tmp_path / name}.db",
        UPPHANDLA_DATA_DIR=str(tmp_path / f"{name}-data"),
        **{**mail, **extra},
    )


def embedded_server(data_dir: Path) -> dict[str, Any] | None:
    """What the marker file of a running `serve` says about its Prefect children: api_url,
    ui_url, home, and the pids of serve, the server and the worker."""
    try:
        data = json.loads((data_dir / "prefect" / "embedded-server.json").read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def prefect_state(port: int) -> str | None:
    """What serve's /health says about Prefect, or None if it does not answer."""
    health = get_json(f"http://127.0.0.1:{port}/health")
    return health.get("prefect") if isinstance(health, dict) else None


def wait_prefect(port: int, state: str, *, timeout: float = 120) -> None:
    wait_for(f"/health to say prefect {state}", lambda: prefect_state(port) == state,
             timeout=timeout, every=0.25)  # fmt: skip


def prefect_post(api_url: str, path: str, body: dict[str, Any] | None = None) -> Any:
    """POST a JSON body to a Prefect server's REST API (e.g. `/deployments/filter`)."""
    request = urllib.request.Request(
        api_url.rstrip("/") + path,
        data=json.dumps(body or {}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        return json.load(answer)


def completed_flow_runs(api_url: str, flow_name: str) -> list[dict[str, Any]]:
    """The completed runs of flow `flow_name` on the Prefect server at `api_url`."""
    try:
        return list(
            prefect_post(
                api_url,
                "/flow_runs/filter",
                {
                    "flows": {"name": {"any_": [flow_name]}},
                    "flow_runs": {"state": {"type": {"any_": ["COMPLETED"]}}},
                },
            )
        )
    except OSError:
        return []


def alive(pid: int) -> bool:
    proc = processes().get(pid)
    return proc is not None and proc.state != "Z"


def stop_within(started: Started, seconds: float) -> int:
    """One SIGTERM; the command must exit, and every process of its sessions (recorded now,
    so flow runs whose worker died count too) be gone within `seconds`. Returns its exit
    status."""
    sessions = started.sessions()
    begun = time.monotonic()
    started.process.send_signal(signal.SIGTERM)
    try:
        code = started.process.wait(seconds)
    except subprocess.TimeoutExpired:
        raise AssertionError(
            f"{started.log.name}: still running {seconds} s after SIGTERM"
        ) from None
    left = max(seconds - (time.monotonic() - begun), 0.01)
    wait_for(
        f"{started.log.name}: every process it started to end",
        lambda: not living_in_sessions(sessions),
        timeout=left,
        every=0.05,
    )
    print(f"{started.log.name}: stopped after {time.monotonic() - begun:.2f} s")
    return code
