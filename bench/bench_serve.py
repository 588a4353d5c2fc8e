"""Part of bench.bench_sweep, or on its own (`python -m bench.bench_serve`): `upphandla serve
--demo` as a new user starts it, twice on one data directory (the first start, with a new
Prefect database, then a restart). For each it prints the seconds to the first `/health` answer
(and what it said about Prefect) and until Prefect is `ok`; the resident memory of every
process serve started, by role (serve, i.e. the API; the Prefect server; the worker; the flow
runs, subprocesses of the worker), sampled for 20 s while the sweep and the delivery run every
10 s: the peak of each role and of all of them together. On the restart it also kills the
Prefect server and prints the seconds until `/health` says `ok` again. Last, the seconds from
one SIGTERM until serve has exited and until none of its processes is left. It prints, it
asserts nothing. Linux only (/proc)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_SECONDS = 20.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _health(port: int) -> dict[str, str] | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1) as answer:
            return dict(json.load(answer))
    except OSError:
        return None


def _processes() -> dict[int, tuple[int, int, int]]:
    """pid -> (parent pid, session id, resident kB) of every living process, from /proc."""
    out = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            status = (entry / "status").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        if fields[0] == "Z":
            continue
        rss = next((int(x.split()[1]) for x in status.splitlines() if x.startswith("VmRSS:")), 0)
        out[int(entry.name)] = (int(fields[1]), int(fields[3]), rss)
    return out


def _tree(root: int) -> dict[int, tuple[int, int, int]]:
    table = _processes()
    found = {root} if root in table else set()
    changed = True
    while changed:
        changed = False
        for pid, (ppid, _, _) in table.items():
            if ppid in found and pid not in found:
                found.add(pid)
                changed = True
    return {pid: table[pid] for pid in found}


def _marker(data_dir: Path) -> dict[str, int]:
    try:
        return dict(json.loads((data_dir / "prefect" / "embedded-server.json").read_text()))
    except (OSError, ValueError):
        return {}


def _wait(what: str, condition: object, started: float, timeout: float) -> float | None:
    """Seconds since `started` when `condition()` first held, polled every 50 ms."""
    assert callable(condition)
    while time.perf_counter() - started < timeout:
        if condition():
            return time.perf_counter() - started
        time.sleep(0.05)
    print(f"  {what}: not within {timeout:.0f} s")
    return None


def _roles(serve: int, marker: dict[str, int]) -> dict[str, int]:
    """Resident kB per role, now (and of the largest single flow run)."""
    tree = _tree(serve)
    worker = marker.get("worker")
    below_worker = set(_tree(worker)) - {worker} if worker in tree else set()
    kb: dict[str, int] = defaultdict(int)
    for pid, (_, _, rss) in tree.items():
        if pid == serve:
            role = "serve (API)"
        elif pid == marker.get("server"):
            role = "Prefect server"
        elif pid == worker:
            role = "worker"
        elif pid in below_worker:
            role = "flow runs"
            kb["one flow run"] = max(kb["one flow run"], rss)
        else:
            role = "other"
        kb[role] += rss
    return kb


def _run(tmp: Path, label: str, *, kill_server: bool, timeout: float) -> None:
    port = _free_port()
    data_dir = tmp / "data"
    env = {
        **os.environ,
        "UPPHANDLA_DATABASE_URL": f"sqlite:///{tmp}/upphandla.db",
        "UPPHANDLA_DATA_DIR": str(data_dir),
        "UPPHANDLA_SMTP_PORT": str(_free_port()),  # nobody listens: nothing is sent
        "UPPHANDLA_SWEEP_INTERVAL_SECONDS": "10",
        "UPPHANDLA_DELIVERY_INTERVAL_SECONDS": "10",
    }
    env.pop("PREFECT_API_URL", None)
    env.pop("UPPHANDLA_PREFECT_PORT", None)
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "upphandla.cli.main", "serve", "--demo", "--port", str(port)],
        cwd=tmp,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    print(f"serve, {label}:")
    try:
        first = None
        while first is None and time.perf_counter() - started < 60:
            first = _health(port)
            if first is None:
                time.sleep(0.02)
        up = time.perf_counter() - started
        print(f"  first /health after {up:.2f} s (prefect: {first and first.get('prefect')})")
        ok = _wait("prefect ok", lambda: (_health(port) or {}).get("prefect") == "ok", started,
                   timeout)  # fmt: skip
        if ok is None:
            return
        print(f"  prefect ok after {ok:.1f} s")
        peaks: dict[str, int] = defaultdict(int)
        peak_total = 0
        marker = _marker(data_dir)
        sampling = time.perf_counter()
        while time.perf_counter() - sampling < SAMPLE_SECONDS:
            kb = _roles(process.pid, marker)
            for role, value in kb.items():
                peaks[role] = max(peaks[role], value)
            peak_total = max(peak_total, sum(kb.values()) - kb.get("one flow run", 0))
            time.sleep(0.25)
        for role, value in sorted(peaks.items()):
            print(f"  {role:<15} peak {value / 1024:7.1f} MiB resident")
        print(f"  all processes of serve: peak {peak_total / 1024:.1f} MiB resident together")
        if kill_server and marker.get("server"):
            killed = time.perf_counter()
            os.killpg(marker["server"], signal.SIGKILL)
            again = _wait("ok again", lambda: _marker(data_dir).get("server") != marker["server"]
                          and (_health(port) or {}).get("prefect") == "ok", killed, timeout)  # fmt: skip
            if again is not None:
                print(f"  Prefect server killed: ok again after {again:.1f} s")
    finally:
        sessions = {sid for (_, sid, _) in _tree(process.pid).values()} | {process.pid}
        stopping = time.perf_counter()
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(60)
        except subprocess.TimeoutExpired:
            process.kill()
        exited = time.perf_counter() - stopping
        gone = _wait(
            "nothing left",
            lambda: not [p for p, (_, sid, _) in _processes().items() if sid in sessions],
            stopping,
            30,
        )
        print(
            f"  after one SIGTERM: serve exited after {exited:.1f} s (exit {process.returncode}),"
            f" nothing of it left after {gone if gone is not None else float('nan'):.1f} s"
        )


def measure_serve(timeout: float = 180) -> None:
    with tempfile.TemporaryDirectory(prefix="upphandla-serve-") as folder:
        tmp = Path(folder)
        _run(tmp, "first start (new Prefect database)", kill_server=False, timeout=timeout)
        _run(tmp, "restart (existing Prefect database)", kill_server=True, timeout=timeout)


if __name__ == "__main__":
    measure_serve()
