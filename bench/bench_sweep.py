"""Benchmark: the sweep, outbox delivery and `upphandla serve`. Not a test: it asserts nothing,
it prints its numbers.

1. One sweep over 100 000 cases of which 1 % (1 000) are due, and over 1 000 000 cases with the
   same 1 000 due (SQLite, WAL, synchronous=FULL): seconds for each and their ratio. The due
   cases are overdue, so each one is escalated (audit event, reminder row, outbox row).
2. Delivering 10 000 queued messages to a local SMTP server (aiosmtpd on loopback).
3. `upphandla serve` on a fresh data directory: seconds to the first `/health` answer, seconds
   until Prefect reports `ok`, and the resident memory of every process serve started.

    python -m bench.bench_sweep [--small N] [--large N] [--due N] [--messages N] [--skip-serve]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from bench.sweep_data import fill_cases, fill_outbox, smtp_sink

from upphandla.flows.handler import Handler
from upphandla.flows.jobs.delivery import deliver_due
from upphandla.flows.jobs.sweep import run_sweep
from upphandla.notifications.smtp import SmtpConfig
from upphandla.states.clock import now
from upphandla.store.db import open_database


def time_sweep(folder: Path, total: int, due: int) -> tuple[float, float, int]:
    """(seconds to fill, seconds of one sweep, cases swept) on a fresh database."""
    db = open_database(f"sqlite:///{folder / f'sweep-{total}.db'}", sqlite_synchronous="FULL")
    started = time.perf_counter()
    fill_cases(db, total=total, due=due)
    filled = time.perf_counter() - started
    started = time.perf_counter()
    report = run_sweep(Handler.on(db))
    seconds = time.perf_counter() - started
    db.dispose()
    return filled, seconds, report.cases


def time_delivery(folder: Path, messages: int) -> tuple[float, int]:
    db = open_database(f"sqlite:///{folder / 'delivery.db'}", sqlite_synchronous="FULL")
    fill_outbox(db, messages)
    with smtp_sink() as (port, received):
        config = SmtpConfig(
            host="127.0.0.1",
            port=port,
            security="none",
            username=None,
            password=None,
            sender="upphandla@example.se",
            timeout=10,
        )
        started = time.perf_counter()
        sent = 0
        while True:
            report = deliver_due(
                Handler.on(db),
                config=config,
                base_url="http://127.0.0.1:8000",
                domain="example.se",
                batch_size=500,
                lease_seconds=3600,
            )
            sent += report.sent
            if report.sent + report.retried + report.dead == 0:
                break
        seconds = time.perf_counter() - started
        arrived = len(received)
    db.dispose()
    return seconds, min(sent, arrived)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=100_000)
    parser.add_argument("--large", type=int, default=1_000_000)
    parser.add_argument("--due", type=int, default=1_000)
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--skip-serve", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="upphandla-bench-") as tmp:
        folder = Path(tmp)
        print(f"sweep: {args.due} due cases; SQLite WAL, synchronous=FULL")
        results = {}
        for total in (args.small, args.large):
            filled, seconds, swept = time_sweep(folder, total, args.due)
            results[total] = seconds
            print(
                f"  {total:>9} cases: sweep {seconds:6.2f} s ({swept} swept; "
                f"{swept / seconds:,.0f} cases/s); filling took {filled:.0f} s"
            )
        ratio = results[args.large] / results[args.small]
        print(f"  ratio {args.large} / {args.small}: {ratio:.2f} (aim: at most 2)")
        seconds, delivered = time_delivery(folder, args.messages)
        print(
            f"delivery: {delivered} of {args.messages} messages to a local SMTP server in "
            f"{seconds:.1f} s ({delivered / seconds:,.0f} messages/s)"
        )
    if not args.skip_serve:
        from bench.bench_serve import measure_serve

        measure_serve()


if __name__ == "__main__":
    _ = now() - timedelta(0)  # the clock module is imported before any timing
    main()
