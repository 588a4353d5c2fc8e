"""Benchmark: complete lifecycles through the use-case layer on SQLite, against a raw sqlite3 loop
doing the same writes per transition (one transaction: update the case, append a hash-chained audit
event) with the same journal mode and synchronous setting. Prints transitions per second for both,
their ratio, and the engine's peak memory. Not a test: it asserts nothing. The cases go through
the lifecycle side by side on a clock that freezegun moves across the waits the law makes (the
tender period, the standstill); only the time spent in transitions counts.

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
from dataclasses import dataclass, field
from datetime import datetime
from datetime import time as clock_time
from functools import partial
from pathlib import Path
from typing import Any

from bench.lifecycle_plan import ATTRIBUTES, definition, plan_part, roles
from freezegun import freeze_time

from upphandla.flows.commands.cases import Advance, RecordEvidence, StartCase
from upphandla.flows.commands.definitions import LoadSeedDefinitions
from upphandla.flows.commands.sanctions import LoadSanctionsList
from upphandla.flows.commands.thresholds import LoadSeedThresholds
from upphandla.flows.commands.users import AddUser, actor_of
from upphandla.flows.handler import Handler
from upphandla.flows.views.waiting import first_day_gates_hold
from upphandla.seeds.loader import SEEDS
from upphandla.states.clock import STOCKHOLM, now, today
from upphandla.states.planner import PlannedStep
from upphandla.states.roles import Actor
from upphandla.store.db import open_database
from upphandla.store.migrate import upgrade

# freezegun replaces time.perf_counter while the clock is frozen; this keeps the real one.
perf_counter = partial(time.perf_counter)


def run_engine(path: Path, n_cases: int, synchronous: str) -> tuple[int, float, int]:
    """Drive n complete lifecycles side by side; returns (transitions, seconds in transitions,
    audited writes). The cases wait where the law makes them (the tender period, the
    standstill): the clock, frozen by freezegun and ticking, moves on to the day they may go on."""
    db = open_database(f"sqlite:///{path}", sqlite_synchronous=synchronous)
    upgrade(db)
    handler = Handler.on(db)
    with freeze_time(now(), tick=True, ignore=["upphandla.states.evidence"]) as clock:
        actors = _setup(handler)
        cases = {
            handler.run(
                StartCase(
                    actor=actors["bestallare"],
                    attributes=ATTRIBUTES,
                    definition_key="it-upphandling",
                )
            ).result.case_id: Walk()
            for _ in range(n_cases)
        }
        writes = n_cases
        while any(walk.state != "avslutad" for walk in cases.values()):
            for case_id, walk in cases.items():
                writes += walk.run_part(handler, actors, case_id)
            waiting = [(case_id, w.waiting) for case_id, w in cases.items() if w.waiting]
            if waiting:
                _wait(handler, clock, *waiting[0])
                for case_id, walk in cases.items():
                    writes += walk.fire_waiting(handler, actors, case_id)
    db.dispose()
    transitions = sum(w.transitions for w in cases.values())
    return transitions, sum(w.seconds for w in cases.values()), writes


def _setup(handler: Handler) -> dict[str, Actor]:
    handler.run(LoadSeedDefinitions())
    handler.run(LoadSeedThresholds())
    actors: dict[str, Actor] = {}
    for role in roles():  # everyone who acts on the path
        mandate = "kommundirektor" if role == "delegat" else None
        added = handler.run(
            AddUser(
                name=role,
                email=f"{role}@example.se",
                role=role,
                organisation="kommunstyrelsens_forvaltning",
                mandate=mandate,
            )
        ).result
        actors[role] = actor_of(added.user)
    sample = SEEDS / "sanctions" / "sample.csv"
    handler.run(
        LoadSanctionsList(
            text=sample.read_text(encoding="utf-8"), source=sample.name, list_date=today()
        )
    )
    return actors


def _wait(handler: Handler, clock: Any, case_id: int, step: PlannedStep) -> None:
    """Move the clock to the first day the waiting step's trigger holds (all cases are alike)."""
    assert step.trigger is not None and step.wait_days is not None
    with handler.reader() as uow:
        found = first_day_gates_hold(
            uow,
            registry=handler.registry,
            case_id=case_id,
            trigger=step.trigger,
            since=today(),
            within_days=step.wait_days,
        )
    if found.day is None:
        raise SystemExit(f"{step.trigger} does not hold within {step.wait_days} days: {found}")
    clock.move_to(datetime.combine(found.day, clock_time(9), tzinfo=STOCKHOLM))


@dataclass
class Walk:
    """One case on its way: its phase, the facts it has recorded, the step it waits to take."""

    state: str = "behovsanalys"
    recorded: dict[str, Any] = field(default_factory=dict)
    waiting: PlannedStep | None = None
    transitions: int = 0
    seconds: float = 0.0  # in transitions

    def run_part(self, handler: Handler, actors: dict[str, Actor], case_id: int) -> int:
        """Take the steps up to the next wait; returns the writes."""
        if self.state == "avslutad" or self.waiting is not None:
            return 0
        steps = plan_part(self.state, today(), self.recorded)
        if steps and steps[-1].wait_days is not None:
            self.waiting = steps.pop()
        for step in steps:
            self._take(handler, actors[step.role], case_id, step)
        return len(steps)

    def fire_waiting(self, handler: Handler, actors: dict[str, Actor], case_id: int) -> int:
        step, self.waiting = self.waiting, None
        if step is None:
            return 0
        self._take(handler, actors[step.role], case_id, step)
        return 1

    def _take(self, handler: Handler, actor: Actor, case_id: int, step: PlannedStep) -> None:
        if step.kind is not None:
            handler.run(
                RecordEvidence(actor=actor, case_id=case_id, kind=step.kind, data=dict(step.data))
            )
            self.recorded |= {f"{step.kind}.{k}": v for k, v in step.data.items()}
            return
        assert step.trigger is not None
        started = perf_counter()
        handler.run(Advance(actor=actor, case_id=case_id, trigger=step.trigger))
        self.seconds += perf_counter() - started
        self.transitions += 1
        self.state = definition().trigger[step.trigger].dest


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
