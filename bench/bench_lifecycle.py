"""Benchmark: complete lifecycles through the use-case layer on SQLite, against a raw sqlite3 loop
doing the same writes per transition (one transaction: update the case, append a hash-chained audit
event) with the same journal mode and synchronous setting. Prints transitions per second for both,
their ratio, and the engine's peak memory. Not a test: it asserts nothing.

    python -m bench.bench_lifecycle [--cases N] [--synchronous FULL|NORMAL]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import resource
import sqlite3
import tempfile
import time
from pathlib import Path

from bench.lifecycle_plan import ATTRIBUTES, lifecycle_plan

from upphandla.flows.commands import cases
from upphandla.flows.commands.sanctions import load_sanctions_list
from upphandla.flows.commands.users import add_user
from upphandla.flows.registry import Registry, load_seed_definitions
from upphandla.seeds.loader import SEEDS
from upphandla.states.clock import today
from upphandla.states.roles import Actor
from upphandla.store.db import open_database
from upphandla.store.migrate import upgrade
from upphandla.store.uow import UnitOfWork


def run_engine(path: Path, n_cases: int, synchronous: str) -> tuple[int, float, int]:
    """Drive n complete lifecycles; returns (transitions, seconds in transitions, audited writes)."""
    db = open_database(f"sqlite:///{path}", sqlite_synchronous=synchronous)
    upgrade(db)
    registry = Registry()
    actors: dict[str, Actor] = {}
    with UnitOfWork(db) as uow:
        load_seed_definitions(uow)
        for role in (
            "bestallare",
            "upphandlare",
            "informationssakerhet",
            "sakerhet",
            "dso",
            "delegat",
            "objektledare_it",
        ):
            mandate = "kommundirektor" if role == "delegat" else None
            row, _ = add_user(
                uow, name=role, email=f"{role}@example.se", role=role, mandate=mandate
            )
            actors[role] = Actor(row.id, row.name, role, mandate=mandate)
        sample = SEEDS / "sanctions" / "sample.csv"
        load_sanctions_list(
            uow, text=sample.read_text(encoding="utf-8"), source=sample.name, list_date=today()
        )
        uow.commit()
    plan = lifecycle_plan()
    transitions = writes = 0
    in_transitions = 0.0
    for _ in range(n_cases):
        with UnitOfWork(db) as uow:
            case_id = cases.start_case(
                uow,
                registry=registry,
                actor=actors["bestallare"],
                attributes=ATTRIBUTES,
                definition_key="it-upphandling",
            ).id
            uow.commit()
        writes += 1
        for role, what, name, data in plan:
            started = time.perf_counter()
            with UnitOfWork(db) as uow:
                if what == "evidence":
                    cases.record_evidence(
                        uow,
                        registry=registry,
                        actor=actors[role],
                        case_id=case_id,
                        kind=name,
                        data=data,
                    )
                else:
                    cases.advance(
                        uow, registry=registry, actor=actors[role], case_id=case_id, trigger=name
                    )
                uow.commit()
            writes += 1
            if what == "trigger":
                in_transitions += time.perf_counter() - started
                transitions += 1
    db.dispose()
    return transitions, in_transitions, writes


def run_raw(path: Path, n_transitions: int, synchronous: str) -> float:
    """The same writes per transition with sqlite3 alone; returns seconds."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute(f"PRAGMA synchronous={synchronous}")
    conn.execute(
        "CREATE TABLE cases (id INTEGER PRIMARY KEY, state TEXT, updated_at TEXT,"
        " audit_seq INTEGER, audit_head TEXT, row_version INTEGER)"
    )
    conn.execute(
        "CREATE TABLE audit_events (id INTEGER PRIMARY KEY, case_id INTEGER, seq INTEGER,"
        " at TEXT, action TEXT, body TEXT, prev_hash TEXT, hash TEXT,"
        " UNIQUE (case_id, seq))"
    )
    conn.execute("INSERT INTO cases VALUES (1, 's0', '', 0, ?, 1)", ("0" * 64,))
    started = time.perf_counter()
    head, seq = "0" * 64, 0
    for i in range(n_transitions):
        seq += 1
        at = f"2026-11-25T12:00:{i % 60:02d}+00:00"
        body = json.dumps(
            {
                "case_id": 1,
                "seq": seq,
                "at": at,
                "action": "transition",
                "from_state": f"s{i}",
                "to_state": f"s{i + 1}",
                "prev_hash": head,
            },
            sort_keys=True,
            separators=(",", ":"),
        )
        digest = hashlib.sha256(body.encode()).hexdigest()
        conn.execute("BEGIN IMMEDIATE")
        conn.execute(
            "UPDATE cases SET state=?, updated_at=?, audit_seq=?, audit_head=?,"
            " row_version=row_version+1 WHERE id=1",
            (f"s{i + 1}", at, seq, digest),
        )
        conn.execute(
            "INSERT INTO audit_events (case_id, seq, at, action, body, prev_hash, hash)"
            " VALUES (1, ?, ?, 'transition', ?, ?, ?)",
            (seq, at, body, head, digest),
        )
        conn.execute("COMMIT")
        head = digest
    elapsed = time.perf_counter() - started
    conn.close()
    return elapsed


def _peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=200)
    parser.add_argument("--synchronous", default="FULL", choices=["OFF", "NORMAL", "FULL"])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        rss_before = _peak_rss_mib()
        transitions, seconds, writes = run_engine(
            Path(tmp) / "engine.db", args.cases, args.synchronous
        )
        rss_engine = _peak_rss_mib()
        raw_seconds = run_raw(Path(tmp) / "raw.db", transitions, args.synchronous)
    engine_rate = transitions / seconds
    raw_rate = transitions / raw_seconds
    print(
        f"SQLite journal_mode=WAL synchronous={args.synchronous}; {args.cases} complete "
        f"lifecycles, {transitions} transitions, {writes} audited writes in all"
    )
    print(f"engine (use-case layer): {engine_rate:,.0f} transitions/s")
    print(f"raw sqlite3 loop:        {raw_rate:,.0f} transitions/s")
    print(f"ratio engine/raw:        {engine_rate / raw_rate:.2f}  (aim: at least 0.50)")
    print(
        f"engine peak memory:      {rss_engine:.0f} MiB peak RSS of the process "
        f"({rss_engine - rss_before:.0f} MiB more than before the engine ran)"
    )


if __name__ == "__main__":
    main()
