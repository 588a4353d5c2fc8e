"""Crash safety: what the API acknowledged survives the process being killed, and nothing is left
half-written.

The real server (uvicorn, as in the README's tour) runs on a database with the demo data while a
few threads start cases, record evidence on cases started earlier (also before an earlier crash)
and move cases with that evidence on to the förstudie. At a random moment the server's whole
process group is killed with SIGKILL, several times over, and restarted on the same database.
After every restart:

- every acknowledged write (a 2xx answer received in full) is in the database: each started
  case with its title, each piece of evidence under its number, each transition's new state;
- nothing is half-applied: every case's chain ends at its recorded head and length and begins
  with `case_started` (`contract_imported` for the demo's contracts), every piece of evidence has
  its `evidence_recorded` event and is in its case's evidence log; no evidence or outbox row
  belongs to a case that does not exist;
- SQLite's integrity and foreign key checks pass (PostgreSQL keeps running; only the API dies);
- `upphandla audit verify` exits 0.

The kill moments and the writers' choices come from a seed that is printed, so a failing run can
be repeated (as far as the threads' timing allows) with UPPHANDLA_CRASH_SEED=<seed>. The test asserts that it wrote enough and that a kill hit requests
in flight, so it cannot pass without having crashed anything.
"""

from __future__ import annotations

import contextlib
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select, text
from sqlalchemy.engine import Connection

from upphandla.cli.startup import prepare
from upphandla.flows.settings import Settings
from upphandla.store.db import open_database
from upphandla.store.models import CaseRow

ROUNDS = 5
WRITERS = 4  # two as the beställare, two as the upphandlare
WRITE_SECONDS = (1.5, 3.5)  # the kill comes this long after the writers start, at random
MIN_ACKNOWLEDGED = 100

CASE = {
    "organisation": "kommunstyrelsens_forvaltning", "subcategory": "Verksamhetssystem",
    "route": "annonserad", "estimated_value_sek": 4_000_000, "personal_data": True,
    "citizen_facing": True, "critical_service": True, "uses_ai": False, "cloud_service": True,
    "consultants": False, "hardware": False,
}  # fmt: skip
NEED = {
    "need": "Digital planering",
    "current_state": "Pappersscheman",
    "budget_owner": "Socialchefen",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """The API in a process group of its own, started, killed and started again."""

    def __init__(self, env: dict[str, str], cwd: Path) -> None:
        self.env, self.cwd = env, cwd
        self.proc: subprocess.Popen[bytes] | None = None
        self.port = 0
        self.starts = 0
        self.log = cwd / "server.log"

    def start(self) -> None:
        self.port, self.starts = free_port(), self.starts + 1
        self.log = self.cwd / f"server-{self.starts}.log"
        with self.log.open("wb") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "uvicorn", "--factory", "upphandla.api.app:create_app",
                 "--port", str(self.port), "--log-level", "warning"],
                env=self.env, cwd=self.cwd, stdout=subprocess.DEVNULL, stderr=log,
                start_new_session=True,
            )  # fmt: skip
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"http://127.0.0.1:{self.port}/health", timeout=1).raise_for_status()
                return
            except httpx.HTTPError:
                assert self.proc.poll() is None, self.log.read_text(errors="replace")
                assert time.monotonic() < deadline, "the API did not answer"
                time.sleep(0.05)

    def kill(self) -> None:
        assert self.proc is not None
        with contextlib.suppress(ProcessLookupError):  # already gone if a check failed early
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)
        deadline = time.monotonic() + 10
        while True:  # until no process of the group is left
            try:
                os.killpg(self.proc.pid, 0)
            except ProcessLookupError:
                return
            assert time.monotonic() < deadline, "the server's processes did not go away"
            time.sleep(0.05)


@dataclass
class Acknowledged:
    """Every write the API answered with 2xx, and what went wrong otherwise."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    cases: dict[int, str] = field(default_factory=dict)  # case id -> title
    evidence: dict[int, int] = field(default_factory=dict)  # evidence id -> case id
    advanced: dict[int, str] = field(default_factory=dict)  # case id -> state moved to
    cut_off: int = 0  # requests in flight when the server was killed
    unexpected: list[str] = field(default_factory=list)

    @property
    def writes(self) -> int:
        return len(self.cases) + len(self.evidence) + len(self.advanced)


class Writer:
    """One client thread. It works on the cases it started itself, so that its writes never
    race another writer's and any answer but 2xx is a fault."""

    def __init__(self, number: int, token: str, acked: Acknowledged, rng: random.Random) -> None:
        self.number, self.token, self.acked, self.rng = number, token, acked, rng
        self.open: list[int] = []  # started, still in the behovsanalys
        self.ready: list[int] = []  # with its behovsanalys recorded
        self.written = 0

    def run(self, port: int, killed: threading.Event) -> None:
        headers = {"Authorization": f"Bearer {self.token}"}
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=headers, timeout=15) as http:
            while True:
                try:
                    self.step(http)
                except httpx.TransportError as exc:
                    with self.acked.lock:
                        if not killed.is_set():
                            self.acked.unexpected.append(f"writer {self.number}: {exc!r}")
                        elif not isinstance(exc, httpx.ConnectError):
                            self.acked.cut_off += 1
                    return
                except Exception as exc:  # e.g. an answer without the expected fields
                    with self.acked.lock:
                        self.acked.unexpected.append(f"writer {self.number}: {exc!r}")
                    return

    def step(self, http: httpx.Client) -> None:
        choice = self.rng.random()
        if self.ready and choice < 0.25:
            self.advance(http, self.ready.pop(self.rng.randrange(len(self.ready))))
        elif self.open and choice < 0.6:
            self.record(http, self.rng.choice(self.open))
        else:
            self.start(http)

    def start(self, http: httpx.Client) -> None:
        self.written += 1
        title = f"Krocktest {self.number}-{self.written}-{self.rng.randrange(10**9)}"
        r = http.post("/api/cases", json={"title": title, **CASE})
        if self.expect(r, 201):
            case_id = int(r.headers["Location"].rsplit("/", 1)[1])
            with self.acked.lock:
                self.acked.cases[case_id] = title
            self.open.append(case_id)

    def record(self, http: httpx.Client, case_id: int) -> None:
        body = {"kind": "behovsanalys_done", "data": NEED}
        r = http.post(f"/api/cases/{case_id}/evidence", json=body)
        if self.expect(r, 201):
            with self.acked.lock:
                self.acked.evidence[r.json()["id"]] = case_id
            if case_id not in self.ready:
                self.ready.append(case_id)

    def advance(self, http: httpx.Client, case_id: int) -> None:
        # Once sent, whether it was done is unknown until the answer comes: the case is not used
        # again either way.
        self.open.remove(case_id)
        r = http.post(
            f"/api/cases/{case_id}/transitions", json={"trigger": "complete_behovsanalys"}
        )
        if self.expect(r, 200):
            with self.acked.lock:
                self.acked.advanced[case_id] = r.json()["to_state"]

    def expect(self, r: httpx.Response, status: int) -> bool:
        if r.status_code == status:
            return True
        with self.acked.lock:
            what = f"{r.request.method} {r.request.url.path}: {r.status_code} {r.text[:300]}"
            self.acked.unexpected.append(what)
        return False


def rows(conn: Connection, sql: str) -> list[Any]:
    return list(conn.execute(text(sql)).all())


def check(db_url: str, acked: Acknowledged, env: dict[str, str]) -> None:
    """Everything acknowledged is there, nothing is half there, and the chains verify."""
    db = open_database(db_url)
    try:
        with db.reader.connect() as conn:
            titles = dict(rows(conn, "SELECT id, title FROM cases"))
            lost = {i: t for i, t in acked.cases.items() if titles.get(i) != t}
            assert not lost, f"acknowledged cases missing: {lost}"
            evidence = {r.id: r for r in rows(conn, "SELECT id, case_id, kind FROM evidence")}
            lost_evidence = [
                i for i, case_id in acked.evidence.items()
                if i not in evidence or (evidence[i].case_id, evidence[i].kind) != (case_id, "behovsanalys_done")
            ]  # fmt: skip
            assert not lost_evidence, f"acknowledged evidence missing: {lost_evidence}"
            states = dict(rows(conn, "SELECT id, state FROM cases"))
            moved = {
                r.case_id
                for r in rows(conn, "SELECT case_id FROM audit_events WHERE action = 'transition'")
            }
            lost_moves = [
                i for i, to in acked.advanced.items() if states[i] != to or i not in moved
            ]
            assert not lost_moves, f"acknowledged transitions missing: {lost_moves}"

            half = {
                "chain length or head": """SELECT c.id FROM cases c WHERE c.audit_seq !=
                    (SELECT count(*) FROM audit_events a WHERE a.case_id = c.id)
                    OR c.audit_head != coalesce((SELECT a.hash FROM audit_events a
                        WHERE a.case_id = c.id AND a.seq = c.audit_seq), '')""",
                "no first event": """SELECT c.id FROM cases c WHERE NOT EXISTS
                    (SELECT 1 FROM audit_events a WHERE a.case_id = c.id AND a.seq = 1
                     AND a.action IN ('case_started', 'contract_imported'))""",
                "evidence without its event": """SELECT e.id FROM evidence e WHERE NOT e.sealed
                    AND NOT EXISTS (SELECT 1 FROM audit_events a WHERE a.case_id = e.case_id
                        AND a.seq = e.audit_seq AND a.action = 'evidence_recorded')""",
                "evidence of no case": "SELECT id FROM evidence WHERE case_id NOT IN (SELECT id FROM cases)",
                "outbox of no case": """SELECT id FROM outbox WHERE case_id IS NOT NULL
                    AND case_id NOT IN (SELECT id FROM cases)""",
            }
            found = {name: rows(conn, sql) for name, sql in half.items()}
            assert not any(found.values()), f"half-applied writes: {found}"
            counts = Counter(evidence[i].case_id for i in evidence)
            logs = conn.execute(
                select(CaseRow.id, CaseRow.evidence_log).where(CaseRow.title.like("Krocktest %"))
            )
            off = [case_id for case_id, log in logs if len(log) != counts[case_id]]
            assert not off, f"evidence log out of step with the evidence: cases {off}"

            if db.is_sqlite:
                assert rows(conn, "PRAGMA integrity_check") == [("ok",)]
                assert rows(conn, "PRAGMA foreign_key_check") == []
    finally:
        db.dispose()
    verify = subprocess.run(
        [sys.executable, "-m", "upphandla.cli.main", "audit", "verify"],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert verify.returncode == 0, verify.stdout + verify.stderr


def test_acknowledged_writes_survive_the_server_being_killed(db_url: str, tmp_path: Path) -> None:
    seed = int(os.environ.get("UPPHANDLA_CRASH_SEED") or random.randrange(2**32))
    print(f"crash test seed {seed} (UPPHANDLA_CRASH_SEED={seed} repeats the kill moments)")
    rng = random.Random(seed)
    db = open_database(db_url)
    try:
        tokens = {u.role: u.token for u in prepare(db, Settings(database_url=db_url), demo=True)}
    finally:
        db.dispose()
    env = {
        **os.environ,
        "UPPHANDLA_DATABASE_URL": db_url,
        "UPPHANDLA_AUDIT_KEY_FILE": str(tmp_path / "audit.key"),
        "UPPHANDLA_CHECKPOINT_DIR": str(tmp_path / "checkpoints"),
    }
    acked = Acknowledged()
    roles = ("bestallare", "upphandlare")
    writers = [
        Writer(n, tokens[roles[n % 2]], acked, random.Random(rng.randrange(2**32)))
        for n in range(WRITERS)
    ]
    server = Server(env, tmp_path)
    server.start()
    began = time.monotonic()
    try:
        for _ in range(ROUNDS):
            killed = threading.Event()
            threads = [threading.Thread(target=w.run, args=(server.port, killed)) for w in writers]
            for t in threads:
                t.start()
            time.sleep(rng.uniform(*WRITE_SECONDS))  # the kill moment, not a timing under test
            killed.set()
            server.kill()
            for t in threads:
                t.join(timeout=30)
                assert not t.is_alive(), "a writer hung after the kill"
            assert not acked.unexpected, acked.unexpected
            server.start()
            check(db_url, acked, env)
    finally:
        server.kill()
    print(
        f"crash test: {ROUNDS} kills in {time.monotonic() - began:.1f} s, {acked.writes} "
        f"acknowledged writes ({len(acked.cases)} cases, {len(acked.evidence)} evidence, "
        f"{len(acked.advanced)} transitions), {acked.cut_off} requests cut off, seed {seed}"
    )
    assert acked.writes >= MIN_ACKNOWLEDGED
    assert acked.advanced, "no case was moved on"
    assert acked.cut_off > 0, "no kill caught a request in flight"
