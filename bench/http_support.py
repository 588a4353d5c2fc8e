"""Part of bench.bench_http: uvicorn servers on free ports, a seeded database, cases prepared
through the HTTP API, wrk runs and their figures."""

from __future__ import annotations

import http.client
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from bench.lifecycle_plan import ATTRIBUTES, definition

from upphandla.states.clock import today
from upphandla.states.examples import example_data

ROOT = Path(__file__).resolve().parent.parent
DEFINITION = ROOT / "seeds" / "definitions" / "it-upphandling.v1.yaml"
HOST = "127.0.0.1"
# The benchmarks' case (bench.lifecycle_plan), under the README tour's title.
CASE = {**ATTRIBUTES, "title": "Verksamhetssystem för hemtjänst"}
EVIDENCE = {
    "kind": "behovsanalys_done",
    "data": example_data(definition().evidence_kind["behovsanalys_done"], today()),
}
TRANSITION = {"trigger": "complete_behovsanalys"}


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def cli(env: dict[str, str], *args: str) -> str:
    """Run `upphandla ARGS` on the database of env; returns its standard output."""
    done = subprocess.run(
        [sys.executable, "-m", "upphandla.cli.main", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise RuntimeError(f"upphandla {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
    return done.stdout


def seeded_database(tmp: Path, synchronous: str) -> tuple[dict[str, str], str]:
    """A fresh migrated SQLite file with the definition and one bestallare: (env, token)."""
    env = {
        **os.environ,
        "UPPHANDLA_DATABASE_URL": f"sqlite:///{tmp / 'upphandla.db'}",
        "UPPHANDLA_SQLITE_SYNCHRONOUS": synchronous,
        "UPPHANDLA_DATA_DIR": str(tmp / "data"),
        "PREFECT_HOME": str(tmp / "prefect"),
        "PREFECT_SERVER_EPHEMERAL_ENABLED": "false",
    }
    cli(env, "db", "upgrade")
    cli(env, "definition", "load", str(DEFINITION))
    out = cli(env, "user", "add", "--name", "Bench", "--email", "bench@example.se",
              "--role", "bestallare", "--org", "Socialförvaltningen")  # fmt: skip
    return env, out.strip().splitlines()[-1]


def uvicorn_command(target: str, port: int, loop: str, http: str) -> list[str]:
    """The one command line both apps are served with; only the target differs."""
    return [
        sys.executable, "-m", "uvicorn", "--factory", target,
        "--host", HOST, "--port", str(port), "--workers", "1",
        "--loop", loop, "--http", http, "--no-access-log", "--log-level", "warning",
    ]  # fmt: skip


@contextmanager
def served(
    target: str, env: dict[str, str], log: Path, ready_path: str, loop: str, http: str
) -> Iterator[int]:
    """uvicorn serving target on a free port until the block ends (even on error); yields the port."""
    port = free_port()
    with log.open("wb") as out:
        process = subprocess.Popen(
            uvicorn_command(target, port, loop, http),
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{target} did not start:\n{log.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(f"http://{HOST}:{port}{ready_path}", timeout=2):
                    break
            except OSError:
                time.sleep(0.1)
        yield port
    finally:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


class Client:
    """JSON over one keep-alive connection."""

    def __init__(self, port: int, token: str):
        self.connection = http.client.HTTPConnection(HOST, port, timeout=60)
        self.headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    def post(self, path: str, body: dict[str, object]) -> http.client.HTTPResponse:
        self.connection.request("POST", path, json.dumps(body).encode(), self.headers)
        answer = self.connection.getresponse()
        answer.read()
        if answer.status >= 300:
            raise RuntimeError(f"POST {path}: {answer.status}")
        return answer


def prepare_cases(port: int, token: str, n: int, workers: int = 4) -> list[int]:
    """n cases in behovsanalys with behovsanalys_done recorded, through the HTTP API."""
    local = threading.local()

    def one(_: int) -> int:
        if not hasattr(local, "client"):
            local.client = Client(port, token)
        location = local.client.post("/api/cases", CASE).headers["Location"]
        local.client.post(f"{location}/evidence", EVIDENCE)
        return int(location.rsplit("/", 1)[1])

    pool = ThreadPoolExecutor(workers)
    try:
        return sorted(pool.map(one, range(n)))
    finally:
        pool.shutdown(cancel_futures=True)  # on an error or a signal, send no more


@dataclass(frozen=True)
class Figures:
    requests: int
    rps: float
    p50: float  # milliseconds
    p90: float
    p99: float
    failed: int  # non-2xx answers and socket errors


_UNIT = {"us": 0.001, "ms": 1.0, "s": 1000.0}
_LUA = """
local ids = {}
for line in io.lines("%(ids)s") do ids[#ids + 1] = line end
local headers = {["Authorization"] = "Bearer %(token)s", ["Content-Type"] = "application/json"}
local body = '%(body)s'
local started, counter, tid = 0, 0, 0
function setup(thread) thread:set("tid", started); started = started + 1 end
function request()
  local i = (tid + counter * %(threads)d) %% #ids + 1
  counter = counter + 1
  return wrk.format("POST", "%(prefix)s" .. ids[i] .. "%(suffix)s", headers, body)
end
"""


def wrk_path() -> str:
    found = shutil.which("wrk")
    if found is None:
        sys.exit("bench_http needs wrk, the HTTP load generator: apt-get install wrk")
    return found


def wrk(url: str, token: str, seconds: int, threads: int, connections: int,
        post_ids: tuple[Path, list[int], str] | None = None) -> Figures:  # fmt: skip
    """One wrk run. With post_ids=(folder, ids, path with {id}): POST TRANSITION to each id in
    turn (the threads take turns through the list, no id twice while the list lasts)."""
    command = [wrk_path(), f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency"]
    command += ["--timeout", "30s", "-H", f"Authorization: Bearer {token}"]
    if post_ids is not None:
        folder, ids, path = post_ids
        (folder / "ids.txt").write_text("".join(f"{i}\n" for i in ids))
        prefix, suffix = path.split("{id}")
        (folder / "post.lua").write_text(_LUA % {
            "ids": folder / "ids.txt", "token": token, "body": json.dumps(TRANSITION),
            "threads": threads, "prefix": prefix, "suffix": suffix})  # fmt: skip
        command += ["-s", str(folder / "post.lua")]
    done = subprocess.run([*command, url], capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stdout}{done.stderr}")
    out = done.stdout
    percentiles = {
        int(p): float(v) * _UNIT[u]
        for p, v, u in re.findall(r"^\s+(50|90|99)%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
    }
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)  # fmt: skip
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return Figures(
        requests=int(re.search(r"(\d+) requests in", out)[1]),  # type: ignore[index]
        rps=float(re.search(r"Requests/sec:\s+([\d.]+)", out)[1]),  # type: ignore[index]
        p50=percentiles[50],
        p90=percentiles[90],
        p99=percentiles[99],
        failed=(int(non2xx[1]) if non2xx else 0)
        + (sum(int(g) for g in socket_errors.groups()) if socket_errors else 0),
    )
