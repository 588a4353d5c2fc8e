"""Part of bench.bench_sweep: `upphandla serve --demo` on a fresh data directory, as a new user
starts it. Prints the seconds to the first `/health` answer (and what it said about Prefect),
the seconds until Prefect is `ok`, the resident memory of every process serve started, and
whether one SIGTERM left any of them behind. Linux only (/proc)."""

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
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


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


def _processes() -> dict[int, tuple[int, str, int]]:
    """pid -> (parent pid, command name, resident kB) of every process, from /proc."""
    out = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        rss = int(fields.get("VmRSS", "0 kB").split()[0])
        out[int(entry.name)] = (int(fields["PPid"]), cmdline[:90], rss)
    return out


def _tree(root: int) -> dict[int, tuple[int, str, int]]:
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


def measure_serve(timeout: float = 180) -> None:
    with tempfile.TemporaryDirectory(prefix="upphandla-serve-") as tmp:
        port, prefect_port = _free_port(), _free_port()
        env = {
            **os.environ,
            "UPPHANDLA_DATABASE_URL": f"sqlite:///{tmp}/upphandla.db",
            "UPPHANDLA_DATA_DIR": f"{tmp}/data",
            "UPPHANDLA_PREFECT_PORT": str(prefect_port),
            "UPPHANDLA_SMTP_PORT": str(_free_port()),  # nobody listens: nothing is sent
        }
        env.pop("PREFECT_API_URL", None)
        started = time.perf_counter()
        process = subprocess.Popen(
            [sys.executable, "-m", "upphandla.cli.main", "serve", "--demo", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            first = None
            while first is None and time.perf_counter() - started < timeout:
                first = _health(port)
                if first is None:
                    time.sleep(0.02)
            up = time.perf_counter() - started
            print(
                f"serve: first /health after {up:.2f} s (prefect: {first and first.get('prefect')})"
            )
            state = first.get("prefect") if first else None
            while state != "ok" and time.perf_counter() - started < timeout:
                time.sleep(0.1)
                state = (_health(port) or {}).get("prefect")
            print(f"  prefect {state} after {time.perf_counter() - started:.1f} s")
            time.sleep(5)  # the served deployments register and their first runs start
            tree = _tree(process.pid)
            total = 0
            for pid, (_, command, rss) in sorted(tree.items()):
                total += rss
                print(f"  pid {pid:>7} {rss / 1024:7.1f} MiB  {command}")
            print(f"  all processes of serve: {total / 1024:.1f} MiB resident")
        finally:
            pids = set(_tree(process.pid))
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(60)
            except subprocess.TimeoutExpired:
                process.kill()
            time.sleep(1)
            left = pids & set(_processes())
            print(f"  after one SIGTERM: exit {process.returncode}, {len(left)} processes left")
