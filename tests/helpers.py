"""Shared helpers for the API and integration tests.

- `attributes(**overrides)`: a valid attribute dict for starting a case;
- `make_users(db)`: one user per role, each with an Actor and a bearer token;
- `evidence_data(kind)`: valid data for a kind, from the definition's examples;
- `start(...)` and `drive(...)`: start a case and move it along the lifecycle path
  (seeds/lifecycle.yaml) to a phase through the real use cases, moving the test's frozen clock
  (`frozen(...)`) across the waits the law makes (the tender period, the standstill);
- `counts(db)` and `case_state(db, id)`: what the database holds, read directly with SQL;
- `make_client(...)` and `assert_problem(...)`: the API under test and its error shape.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from freezegun import freeze_time
from httpx import Response
from sqlalchemy import make_url, text
from sqlalchemy.orm import Session

from upphandla.api.app import create_app
from upphandla.flows.commands.cases import Advance, RecordEvidence, StartCase
from upphandla.flows.commands.contracts import ImportContract
from upphandla.flows.commands.definitions import LoadSeedDefinitions
from upphandla.flows.commands.sanctions import LoadSanctionsList
from upphandla.flows.commands.thresholds import LoadSeedThresholds
from upphandla.flows.commands.users import AddUser, actor_of
from upphandla.flows.handler import Command, Handler, R
from upphandla.flows.settings import Settings
from upphandla.flows.verify import Verification, verify_log
from upphandla.flows.views.waiting import first_day_gates_hold
from upphandla.seeds.loader import DEFINITIONS, LIFECYCLE, SEEDS, read_yaml
from upphandla.states.clock import STOCKHOLM, today
from upphandla.states.definition import Definition
from upphandla.states.lifecycle_path import LifecyclePath, parse_path
from upphandla.states.parse import parse_definition
from upphandla.states.planner import PlannedStep, plan_steps, recording_data
from upphandla.states.roles import ROLES, Actor
from upphandla.states.texts import TEXTS
from upphandla.store.db import Database, open_database

V1_FILE = DEFINITIONS / "it-upphandling.v1.yaml"
DEFINITION_KEY = "it-upphandling"
GENESIS = "0" * 64
PROBLEM_JSON = "application/problem+json"
SWEDISH_TITLES = frozenset(title for title, _ in TEXTS.values())
TABLES = ("cases", "audit_events", "evidence", "outbox", "sealed_events")
# Tests move their clocks years ahead (reviews, contract terms): their users' tokens outlive that.
TEST_TOKEN_DAYS = 36500


def v1_body() -> dict[str, Any]:
    """The shipped v1 definition as raw data (a fresh copy each call)."""
    return read_yaml(V1_FILE)


def v1_gate(trigger: str, gate: str) -> dict[str, Any]:
    """A gate of the shipped v1 file, as written there (for comparing messages and sources)."""
    body = v1_body()
    spec = next(t for t in body["triggers"] if t["id"] == trigger)
    return next(g for g in spec["gates"] if g["id"] == gate)


# The clocks of the `frozen` blocks a test is in, innermost last: drive() moves the innermost.
_CLOCKS: list[Any] = []


@contextmanager
def frozen(at: str | datetime, *, also_ignore: tuple[str, ...] = ()) -> Iterator[Any]:
    """freeze_time for the use cases; yields freezegun's clock (move_to, tick). Evidence models
    are built on first use, with `date` fields; pydantic cannot build one from freezegun's
    FakeDate, so that module keeps the real class (it never reads the clock).

    The clock is handed to drive(): a case driven across a wait of the lifecycle path leaves the
    clock on the day the case could go on (the test continues on that day). A state machine
    ignores `hypothesis` too, so that its own timing reads the real clock."""
    with freeze_time(at, ignore=["upphandla.states.evidence", *also_ignore]) as clock:
        _CLOCKS.append(clock)
        try:
            yield clock
        finally:
            _CLOCKS.pop()


def move_clock(day: date) -> None:
    """Move the innermost frozen clock to `day`, 09:00 Stockholm time (never back)."""
    if not _CLOCKS:
        raise AssertionError(
            f"the case has to wait until {day.isoformat()}: call drive() inside "
            "`with frozen(...)`, so that it can move the clock"
        )
    assert day >= today(), f"the clock would go back from {today()} to {day}"
    _CLOCKS[-1].move_to(datetime.combine(day, time(9), tzinfo=STOCKHOLM))


# -- attributes and evidence --------------------------------------------------------------------


def attributes(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "title": "Verksamhetssystem för socialtjänsten",
        "organisation": "socialforvaltningen",
        "subcategory": "Verksamhetssystem",
        "route": "annonserad",
        "estimated_value_sek": 4_000_000,
        "personal_data": False,
        "citizen_facing": False,
        "critical_service": False,
        "uses_ai": False,
        "cloud_service": True,
        "consultants": False,
        "hardware": False,
        "recurring": False,
    }
    unknown = set(overrides) - set(base)
    assert not unknown, f"not case attributes: {unknown}"
    return {**base, **overrides}


@cache
def v1() -> Definition:
    """The shipped v1 definition, parsed."""
    return parse_definition(v1_body())


@cache
def lifecycle() -> LifecyclePath:
    """The shipped lifecycle path (seeds/lifecycle.yaml) through v1."""
    return parse_path(read_yaml(LIFECYCLE), v1())


CHECKLIST_ITEMS = tuple(
    next(f.choices for f in v1().evidence_kind["requirement_included"].fields if f.name == "item")
    or ()
)


def evidence_data(kind: str, attrs: dict[str, Any] | None = None) -> dict[str, Any]:
    """Valid data for an evidence kind of v1, as the lifecycle path records it for a case with
    these attributes (the defaults of `attributes()` for those not given): the definition's
    examples, dates relative to today, so the clock decides."""
    facts = {**attributes(), **(attrs or {})}
    return recording_data(lifecycle(), v1(), kind, facts=facts, today=today())


SUPPLIER = evidence_data("evaluation_done")["winner"]


# -- users --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class User:
    actor: Actor
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return bearer(self.token)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def run(db: Database, command: Command[R], handler: Handler | None = None) -> R:
    """Run one command through the handler (a new one on `db` unless given), as a request
    does; its result."""
    return (handler or Handler.on(db)).run(command).result


def load_seeds(db: Database) -> None:
    run(db, LoadSeedDefinitions())
    run(db, LoadSeedThresholds())


def make_users(db: Database, roles: frozenset[str] | set[str] = ROLES) -> dict[str, User]:
    users: dict[str, User] = {}
    for role in sorted(roles):
        added = run(
            db,
            AddUser(
                name=f"Testperson {role}",
                email=f"{role}@example.se",
                role=role,
                organisation="socialforvaltningen",
                mandate="kommundirektor" if role == "delegat" else None,
                days=TEST_TOKEN_DAYS,
            ),
        )
        users[role] = User(actor_of(added.user), added.token)
    return users


# -- driving cases through the use cases --------------------------------------------------------


def start(db: Database, by: User, handler: Handler | None = None, **overrides: Any) -> int:
    command = StartCase(
        actor=by.actor, attributes=attributes(**overrides), definition_key=DEFINITION_KEY
    )
    return run(db, command, handler).case_id


def contract(**overrides: Any) -> dict[str, Any]:
    """A registered contract: ends 2029-08-31, may be extended to 2031-08-31 (decided by
    2029-02-28)."""
    return {
        "supplier": "Leverantören AB",
        "value_sek": 10_000_000,
        "start_on": "2025-09-01",
        "end_on": "2029-08-31",
        "extensions": [{"until": "2031-08-31", "decide_by": "2029-02-28"}],
        "kraljic": "strategiskt",
        "framework": False,
        "processes_personal_data": False,
        "citizen_facing": False,
        "critical": False,
        "register_reference": "AVT-7",
        **overrides,
    }


def imported(
    db: Database, by: User, data: dict[str, Any], at: str = "2026-03-02 09:00:00", **attrs: Any
) -> int:
    """An existing contract registered straight into förvaltning at `at`, as the upphandlare
    does."""
    command = ImportContract(
        actor=by.actor, attributes=attributes(**attrs), contract=data, definition_key=DEFINITION_KEY
    )
    with frozen(at):
        return run(db, command).case_id


def ensure_sanctions_list(db: Database, handler: Handler | None = None) -> None:
    """The shipped sample list, so the sanctions gate has something to screen against."""
    handler = handler or Handler.on(db)
    with handler.reader() as uow:
        loaded = uow.sanctions.current() is not None
    if not loaded:
        text_ = (SEEDS / "sanctions" / "sample.csv").read_text(encoding="utf-8")
        handler.run(LoadSanctionsList(text=text_, source="sample.csv", list_date=today()))


def drive(
    db: Database,
    case_id: int,
    to_state: str,
    users: dict[str, User],
    handler: Handler | None = None,
) -> None:
    """Move a case forward along the lifecycle path (seeds/lifecycle.yaml) through the real use
    cases, one transaction per step as a request would, until it is in `to_state`. Where the
    path waits, the test's frozen clock moves on to the first day the trigger's gates hold
    (flows.views.waiting), and the rest is planned again on that day."""
    handler = handler or Handler.on(db)
    ensure_sanctions_list(db, handler)
    while (state := case_state(db, case_id)[0]) != to_state:
        with handler.reader() as uow:
            latest = {e.kind: e.data for e in uow.evidence.of_case(case_id)}
        recorded = {f"{k}.{name}": v for k, data in latest.items() for name, v in data.items()}
        steps = plan_steps(
            lifecycle(),
            v1(),
            state=state,
            attributes=case_attributes(db, case_id),
            today=today(),
            until=to_state,
            recorded=recorded,
        )
        assert steps, f"case {case_id} in {state} has no way to {to_state}"
        for step in steps:
            if step.wait_days is not None:
                wait(handler, case_id, step)
            handler.run(step_command(step, case_id, users[step.role].actor))
    assert case_state(db, case_id)[0] == to_state, f"case {case_id} did not reach {to_state}"


def case_in(
    db: Database,
    users: dict[str, User],
    phase: str,
    *,
    before: str,
    handler: Handler | None = None,
    **overrides: Any,
) -> int:
    """A case (attributes as for `start`) that reached `phase` before the day `before`
    (YYYY-MM-DD): started 60 days earlier and driven there, waiting out the tender period on the
    way (about a month). The test then sets its own clock for what happens on `before`."""
    with frozen(f"{date.fromisoformat(before) - timedelta(days=60)} 09:00:00"):
        case_id = start(db, users["bestallare"], handler, **overrides)
        drive(db, case_id, phase, users, handler)
        assert today() < date.fromisoformat(before), f"{phase} reached only on {today()}"
    return case_id


def wait(handler: Handler, case_id: int, step: PlannedStep) -> None:
    """Let time pass until the step's trigger holds: the frozen clock moves to that day."""
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
        reasons = "; ".join(r.message for r in found.reasons)
        raise AssertionError(
            f"{step.trigger} on case {case_id} does not hold within {step.wait_days} days: {reasons}"
        )
    if found.day > today():
        move_clock(found.day)


def step_command(step: PlannedStep, case_id: int, actor: Actor) -> RecordEvidence | Advance:
    """The command that takes a planned step for a case."""
    if step.kind is not None:
        return RecordEvidence(actor=actor, case_id=case_id, kind=step.kind, data=dict(step.data))
    assert step.trigger is not None
    return Advance(actor=actor, case_id=case_id, trigger=step.trigger)


def record(db: Database, case_id: int, kind: str, by: User) -> None:
    command = RecordEvidence(actor=by.actor, case_id=case_id, kind=kind, data=evidence_data(kind))
    run(db, command)


# -- reading the database directly ----------------------------------------------------------------


@contextmanager
def orm_session(db: Database, *, commit: bool = True) -> Iterator[Session]:
    """A plain SQLAlchemy session on the writer, for tests that set up or inspect rows behind
    the engine's back; committed at the end unless `commit` is False."""
    with Session(db.writer, expire_on_commit=False) as session:
        yield session
        if commit:
            session.commit()


def add_user(db: Database, **fields: Any) -> User:
    """A user of its own (fields as for AddUser), with an actor and a token."""
    added = run(db, AddUser(**{"days": TEST_TOKEN_DAYS, **fields}))
    return User(actor_of(added.user), added.token)


def people_of(db: Database, users: dict[str, User], organisation: str) -> dict[str, User]:
    """The test users, with a beställare of `organisation` (a beställare reads and acts on the
    cases of their own organisation only)."""
    own = add_user(
        db,
        name=f"Beställare {organisation}",
        email=f"bestallare.{organisation}@example.se",
        role="bestallare",
        organisation=organisation,
    )
    return {**users, "bestallare": own}


def scalar(db: Database, sql: str, **params: Any) -> Any:
    with db.reader.connect() as conn:
        return conn.execute(text(sql), params).scalar_one()


def execute(db: Database, sql: str, **params: Any) -> None:
    with db.writer.begin() as conn:
        conn.execute(text(sql), params)


def counts(db: Database) -> dict[str, int]:
    return {table: scalar(db, f"SELECT count(*) FROM {table}") for table in TABLES}


def case_state(db: Database, case_id: int) -> tuple[str, int, int]:
    """(state, row_version, audit_seq) of a case, read with SQL."""
    with db.reader.connect() as conn:
        row = conn.execute(
            text("SELECT state, row_version, audit_seq FROM cases WHERE id = :id"), {"id": case_id}
        ).one()
    return row[0], row[1], row[2]


def case_attributes(db: Database, case_id: int) -> dict[str, Any]:
    value = scalar(db, "SELECT attributes FROM cases WHERE id = :id", id=case_id)
    return json.loads(value) if isinstance(value, str) else dict(value)


def audit_rows(db: Database, case_id: int) -> list[tuple[int, int, str]]:
    """(id, seq, action) of a case's stored audit events, by seq."""
    with db.reader.connect() as conn:
        rows = conn.execute(
            text("SELECT id, seq, action FROM audit_events WHERE case_id = :c ORDER BY seq"),
            {"c": case_id},
        ).all()
    return [(r[0], r[1], r[2]) for r in rows]


def event_hash(event: dict[str, Any]) -> str:
    """SHA-256 of an event's canonical JSON (sorted keys, no spaces, UTF-8), without its hash."""
    body = {k: v for k, v in event.items() if k != "hash"}
    canonical = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


# -- the API --------------------------------------------------------------------------------------


@contextmanager
def make_client(db: Database, db_url: str) -> Iterator[TestClient]:
    """The app on this test's database. Server errors come back as responses (a 500 is a failed
    assertion on the status, not an exception in the test)."""
    app = create_app(Settings(database_url=db_url), db)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def assert_problem(response: Response, status: int | tuple[int, ...]) -> dict[str, Any]:
    """An RFC 9457 problem with a Swedish title from the catalogue and no stack trace. `status`
    may name several acceptable statuses."""
    allowed = status if isinstance(status, tuple) else (status,)
    assert response.status_code in allowed, response.text
    assert response.headers["content-type"].startswith(PROBLEM_JSON), response.headers
    assert "Traceback" not in response.text
    assert 'File "' not in response.text
    body = response.json()
    assert body["status"] == response.status_code
    assert body["title"] in SWEDISH_TITLES, body["title"]
    assert body["type"].startswith("urn:upphandla:problem:")
    assert body["detail"]
    return body


# -- a database of its own for each example of a state machine ----------------------------------


@dataclass
class ExampleDatabase:
    db: Database
    url: str
    drop: Callable[[], None]

    def close(self) -> None:
        self.db.dispose()
        self.drop()


def example_databases(
    request: pytest.FixtureRequest, backend: str, db_url: str, tmp_path: Path
) -> Callable[[], ExampleDatabase]:
    """A migrated, empty database for each example, copied from the test's own database (which
    is left untouched as the template). Examples must not see each other's cases: the similar
    contracts of the last twelve months are looked up across all cases, so an earlier example's
    contract would change a later example's outcomes, and Hypothesis needs an example to behave
    the same every time it is run (while shrinking, too)."""
    numbers = itertools.count(1)
    template = make_url(db_url).database
    assert template
    if backend == "sqlite":
        source = Path(template)

        def new_sqlite() -> ExampleDatabase:
            path = tmp_path / f"example-{next(numbers)}.db"
            shutil.copyfile(source, path)
            wal = source.with_name(source.name + "-wal")
            if wal.exists():
                shutil.copyfile(wal, path.with_name(path.name + "-wal"))

            def drop() -> None:
                for suffix in ("", "-wal", "-shm"):
                    path.with_name(path.name + suffix).unlink(missing_ok=True)

            url = f"sqlite:///{path}"
            return ExampleDatabase(open_database(url), url, drop)

        return new_sqlite
    server = request.getfixturevalue("pg_server")

    def new_postgresql() -> ExampleDatabase:
        name = f"{template}_{next(numbers)}"
        url = server.create_database(name, template=template)
        return ExampleDatabase(open_database(url), url, lambda: server.drop_database(name))

    return new_postgresql


def verify_database(db: Database) -> Verification:
    """The whole verification of the audit log (flows.verify), without checkpoints."""
    from upphandla.store.uow import UnitOfWork

    with UnitOfWork(db, write=False) as uow:
        return verify_log(uow, None)


def sign_checkpoint(db: Database) -> Verification:
    """Verify the log and sign a checkpoint, as `upphandla audit verify` and the schedule do."""
    from upphandla.flows.checkpoints import Witness
    from upphandla.flows.settings import get_settings
    from upphandla.store.uow import UnitOfWork

    with UnitOfWork(db, write=False) as uow:
        return verify_log(uow, Witness.of(get_settings()), write=True)
