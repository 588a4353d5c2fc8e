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

from upphandla.flows.commands.cases import Advance, RecordEvidence, StartCase
from upphandla.flows.commands.definitions import LoadSeedDefinitions
from upphandla.flows.commands.sanctions import LoadSanctionsList
from upphandla.flows.commands.thresholds import LoadSeedThresholds
from upphandla.flows.commands.users import AddUser, actor_of
from upphandla.flows.handler import Handler
from upphandla.seeds.loader import SEEDS
from upphandla.states.clock import today
from upphandla.states.roles import Actor
from upphandla.store.db import open_database
from upphandla.store.migrate import upgrade


def run_engine(path: Path, n_cases: int, synchronous: str) -> tuple[int, float, int]:
    """Drive n complete lifecycles; returns (transitions, seconds in transitions, audited writes)."""
    db = open_database(f"sqlite:///{path}", sqlite_synchronous=synchronous)
    upgrade(db)
    handler = Handler.on(db)
    actors: dict[str, Actor] = {}
    handler.run(LoadSeedDefinitions())
    handler.run(LoadSeedThresholds())
    plan = lifecycle_plan()
    for role in sorted({step.role for step in plan}):  # everyone who acts in the plan
        mandate = "kommundirektor" if role == "delegat" else None
        added = handler.run(
            AddUser(name=role, email=f"{role}@example.se", role=role, mandate=mandate)
        ).result
        actors[role] = actor_of(added.user)
    sample = SEEDS / "sanctions" / "sample.csv"
    handler.run(
        LoadSanctionsList(
            text=sample.read_text(encoding="utf-8"), source=sample.name, list_date=today()
        )
    )
    transitions = writes = 0
    in_transitions = 0.0
    for _ in range(n_cases):
        case_id = handler.run(
            StartCase(
                actor=actors["bestallare"], attributes=ATTRIBUTES, definition_key="it-upphandling"
            )
        ).result.case_id
        writes += 1
        for step in plan:
            actor = actors[step.role]
            started = time.perf_counter()
            if step.kind is not None:
                handler.run(
                    RecordEvidence(
                        actor=actor, case_id=case_id, kind=step.kind, data=dict(step.data)
                    )
                )
            else:
                assert step.trigger is not None
                handler.run(Advance(actor=actor, case_id=case_id, trigger=step.trigger))
            writes += 1
            if step.trigger is not None:
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
