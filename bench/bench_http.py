"""Benchmark: the real app over HTTP against a bare FastAPI app, both served by uvicorn with the
same settings (one worker process, the same loop and HTTP implementation, no access log,
log level warning, 127.0.0.1, free ports), loaded by wrk from a separate process on loopback.
Not a test: it asserts nothing, it prints its numbers.

1. GET /api/cases/{id} (a case in behovsanalys with its evidence, so every gate is evaluated)
   against a trivial GET returning a small JSON object: requests/s, their ratio, p50/p90/p99.
2. POST /api/cases/{id}/transitions firing complete_behovsanalys on a different prepared case
   each time (every request is a successful, audited write) against a POST that parses a small
   JSON body and returns JSON: requests/s, their ratio, p50/p90/p99.
3. What one such request of the real app asks of the database and of the thread pool, counted
   in one in-process run: SQL statements, transactions, pool checkouts (SQLAlchemy events), and
   hops to the thread pool (calls of anyio.to_thread.run_sync).

The real app runs on a fresh SQLite file in a temporary folder, migrated and seeded with the
`upphandla` command; the cases are prepared through the HTTP API. Needs wrk (apt-get install wrk).

    python -m bench.bench_http [--seconds 10] [--warmup 3] [--threads 1] [--connections 8]
"""

from __future__ import annotations

import argparse
import importlib.metadata
import importlib.util
import math
import os
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from bench.http_support import Figures, prepare_cases, seeded_database, served, wrk, wrk_path
from bench.request_counts import bare_hops, count_requests, describe

REAL = "upphandla.api.app:create_app"
BARE = "bench.bare_app:create_app"
GET_REAL, POST_REAL = "/api/cases/{id}", "/api/cases/{id}/transitions"
GET_BARE, POST_BARE = "/bare/{id}", "/bare/{id}/transitions"


def _arguments() -> argparse.Namespace:
    first, _, rest = __doc__.partition("\n\n")
    parser = argparse.ArgumentParser(
        description=first + "\n\n" + rest.rsplit("\n\n", 1)[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--seconds", type=int, default=10, help="each measurement (default 10)")
    parser.add_argument("--warmup", type=int, default=3, help="before each (default 3)")
    parser.add_argument("--threads", type=int, default=1, help="wrk threads (default 1)")
    parser.add_argument("--connections", type=int, default=8, help="wrk connections (default 8)")
    parser.add_argument(
        "--synchronous", default="FULL", choices=["OFF", "NORMAL", "FULL"],
        help="UPPHANDLA_SQLITE_SYNCHRONOUS of the real app (default FULL, the app's default)",
    )  # fmt: skip
    parser.add_argument("--loop", default="auto", help="uvicorn --loop of both (default auto)")
    parser.add_argument("--http", default="auto", help="uvicorn --http of both (default auto)")
    parser.add_argument("--skip-counts", action="store_true", help="skip the in-process counts")
    return parser.parse_args()


def _resolved(loop: str, http: str) -> tuple[str, str]:
    """What uvicorn's `auto` picks here."""
    has = importlib.util.find_spec
    if loop == "auto":
        loop = "uvloop" if has("uvloop") else "asyncio"
    if http == "auto":
        http = "httptools" if has("httptools") else "h11"
    return loop, http


def _row(name: str, f: Figures) -> str:
    failed = f"  ({f.failed} failed)" if f.failed else ""
    return (
        f"  {name:<38} {f.rps:>8,.0f} req/s   p50 {f.p50:7.2f} ms   p90 {f.p90:7.2f} ms"
        f"   p99 {f.p99:7.2f} ms   [{f.requests} requests]{failed}"
    )


def _compare(title: str, aim: float, real: tuple[str, Figures], bare: tuple[str, Figures]) -> None:
    print(title)
    print(_row(*real))
    print(_row(*bare))
    print(f"  ratio real/bare: {real[1].rps / bare[1].rps:.3f}  (aim: at least {aim})")


def _prepare(port: int, token: str, n: int) -> list[int]:
    started = time.perf_counter()
    ids = prepare_cases(port, token, n)
    rate = n / (time.perf_counter() - started)
    print(f"  prepared {n} cases through the API ({rate:,.0f} cases/s)", flush=True)
    return ids


def measure_real(tmp: Path, args: argparse.Namespace) -> tuple[Figures, Figures, int]:
    """(GET figures, POST figures, cases prepared) of the real app."""
    env, token = seeded_database(tmp, args.synchronous)
    load = dict(seconds=args.seconds, threads=args.threads, connections=args.connections)
    warm = {**load, "seconds": args.warmup}
    with served(REAL, env, tmp / "real.log", "/health", args.loop, args.http) as port:
        url = f"http://127.0.0.1:{port}"
        pool = _prepare(port, token, 301)
        target = f"{url}{GET_REAL.format(id=pool.pop())}"
        wrk(target, token, **warm)
        get = wrk(target, token, **load)
        print(f"  GET: {get.rps:,.0f} req/s", flush=True)
        # The warm-up's rate (an overestimate if it ran out of cases and got quick 409s) sizes
        # the pool of the measurement, with a third to spare.
        warmed = wrk(url, token, **warm, post_ids=(tmp, pool, POST_REAL))
        pool = pool[warmed.requests + args.connections :]
        needed = math.ceil(1.33 * warmed.rps * args.seconds) + 4 * args.connections
        print(f"  POST warm-up: {warmed.rps:,.0f} req/s, {needed} cases needed", flush=True)
        if needed > len(pool):
            pool += _prepare(port, token, needed - len(pool))
        post = wrk(url, token, **load, post_ids=(tmp, pool, POST_REAL))
        if post.requests + args.connections > len(pool):
            print(f"  the POST run ran out of prepared cases: {post.requests} > {len(pool)}")
    return get, post, len(pool)


def measure_bare(tmp: Path, args: argparse.Namespace) -> tuple[Figures, Figures]:
    load = dict(seconds=args.seconds, threads=args.threads, connections=args.connections)
    warm = {**load, "seconds": args.warmup}
    env = {**os.environ}
    with served(BARE, env, tmp / "bare.log", GET_BARE.format(id=1), args.loop, args.http) as port:
        url = f"http://127.0.0.1:{port}"
        wrk(f"{url}{GET_BARE.format(id=7)}", "-", **warm)
        get = wrk(f"{url}{GET_BARE.format(id=7)}", "-", **load)
        ids = list(range(1, 1001))
        wrk(url, "-", **warm, post_ids=(tmp, ids, POST_BARE))
        post = wrk(url, "-", **load, post_ids=(tmp, ids, POST_BARE))
    return get, post


def _stop(*_: object) -> None:
    raise SystemExit(143)


def main() -> None:
    args = _arguments()
    tool = subprocess.run([wrk_path(), "-v"], capture_output=True, text=True)
    version = " ".join((tool.stdout + tool.stderr).split()[:2])
    signal.signal(signal.SIGTERM, _stop)  # so the servers are stopped and the folder removed
    loop, http = _resolved(args.loop, args.http)
    print(
        f"HTTP benchmark on {os.cpu_count()} cores; load generator: {version}"
        f" -t{args.threads} -c{args.connections}, {args.seconds:g} s per measurement after "
        f"{args.warmup:g} s warm-up, loopback"
    )
    print(
        f"servers: uvicorn {importlib.metadata.version('uvicorn')}, fastapi "
        f"{importlib.metadata.version('fastapi')}; one worker process each, loop {loop}, "
        f"http {http}, access log off, log level warning, 127.0.0.1"
    )
    print(f"real app: SQLite WAL synchronous={args.synchronous}, fresh file; bare app: no database")
    with tempfile.TemporaryDirectory(prefix="upphandla-http-") as name:
        tmp = Path(name)
        print("real app:", flush=True)
        real_get, real_post, prepared = measure_real(tmp, args)
        bare_get, bare_post = measure_bare(tmp, args)
        print()
        _compare(
            "GET, one case read (real app) vs a trivial JSON GET (bare)", 0.5,
            ("real GET /api/cases/{id}", real_get), ("bare GET /bare/{id}", bare_get),
        )  # fmt: skip
        _compare(
            f"POST, complete_behovsanalys on a different case each time ({prepared} cases ready)"
            " vs parsing a small JSON body (bare)", 0.3,
            ("real POST /api/cases/{id}/transitions", real_post),
            ("bare POST /bare/{id}/transitions", bare_post),
        )  # fmt: skip
        if not args.skip_counts:
            print("\none request of the real app, in process (fastapi.testclient), warm:")
            bare = bare_hops()
            for (label, counts), hops in zip(
                count_requests(tmp, args.synchronous).items(), bare.values(), strict=True
            ):
                print(f"  {label}: {describe(counts, hops)}")


if __name__ == "__main__":
    main()
