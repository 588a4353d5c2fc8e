"""Benchmark: `audit verify` over a whole municipality's log. Not a test: it asserts nothing, it
prints its numbers against the aim of 200 000 events per second.

Fills a SQLite database (and, with --postgresql, a throwaway PostgreSQL server's) with cases of
seven events each, then times the one-pass verification (every chain, the global log and its
Merkle tree, the replay against the live rows), first with no checkpoint, then again when it
signs one, and once more against that checkpoint and its copy of the entries.

    python -m bench.bench_verify [--cases N] [--postgresql]
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path

from bench.verify_data import fill_log

from upphandla.flows.checkpoints import Witness
from upphandla.flows.settings import Settings
from upphandla.flows.verify import verify_log
from upphandla.store.db import Database, open_database
from upphandla.store.uow import UnitOfWork

AIM = 200_000


def _timed(db: Database, witness: Witness | None, *, write: bool) -> tuple[float, int, bool]:
    started = time.perf_counter()
    with UnitOfWork(db, write=False) as uow:
        result = verify_log(uow, witness, write=write)
    return time.perf_counter() - started, result.events, result.ok


def run(url: str, cases: int, folder: Path, label: str) -> None:
    db = open_database(url)
    try:
        started = time.perf_counter()
        written = fill_log(db, cases=cases)
        print(
            f"[{label}] {cases} ärenden, {written} händelser skrivna på {time.perf_counter() - started:.1f} s"
        )
        settings = Settings(
            database_url=url,
            audit_key_file=folder / "nyckel.pem",
            checkpoint_dir=folder / "kontrollpunkter",
        )
        witness = Witness.of(settings)
        for name, wit, write in (
            ("utan kontrollpunkt", None, False),
            ("signerar kontrollpunkt", witness, True),
            ("mot kontrollpunkten", witness, False),
        ):
            seconds, events, ok = _timed(db, wit, write=write)
            rate = events / seconds
            print(
                f"[{label}] verify {name}: {events} händelser på {seconds:.2f} s = "
                f"{rate:,.0f} händelser/s ({rate / AIM:.0%} av målet {AIM:,}), "
                f"{'OK' if ok else 'FEL'}".replace(",", " ")
            )
    finally:
        db.dispose()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"[{label}] största minnesanvändning hittills: {peak:.0f} MiB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, default=150_000)
    parser.add_argument("--postgresql", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        run(f"sqlite:///{folder / 'bench.db'}", args.cases, folder / "sqlite", "SQLite")
        if args.postgresql:
            from tests.pg import PostgresServer

            server = PostgresServer()
            server.start()
            try:
                server.create_database("verify_bench")
                run(server.url("verify_bench"), args.cases, folder / "pg", "PostgreSQL")
            finally:
                server.stop()


if __name__ == "__main__":
    main()
