"""Shared helpers for the API and integration tests.

- `attributes(**overrides)`: a valid attribute dict for starting a case;
- `make_users(db)`: one user per role, each with an Actor and a bearer token;
- `start(...)` and `drive(...)`: start a case and move it to a phase through the real use cases;
- `counts(db)` and `case_state(db, id)`: what the database holds, read directly with SQL;
- `make_client(...)` and `assert_problem(...)`: the API under test and its error shape.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from freezegun import freeze_time
from httpx import Response
from sqlalchemy import text
from sqlalchemy.orm import Session

from upphandla.api.app import create_app
from upphandla.flows.commands.cases import Advance, RecordEvidence, StartCase
from upphandla.flows.commands.contracts import ImportContract
from upphandla.flows.commands.definitions import LoadSeedDefinitions
from upphandla.flows.commands.sanctions import LoadSanctionsList
from upphandla.flows.commands.users import AddUser, actor_of
from upphandla.flows.handler import Command, Handler, R
from upphandla.flows.settings import Settings
from upphandla.seeds.loader import DEFINITIONS, SEEDS, read_yaml
from upphandla.states.clock import today
from upphandla.states.roles import ROLES, Actor
from upphandla.states.texts import TEXTS
from upphandla.store.db import Database

V1_FILE = DEFINITIONS / "it-upphandling.v1.yaml"
DEFINITION_KEY = "it-upphandling"
GENESIS = "0" * 64
PROBLEM_JSON = "application/problem+json"
SWEDISH_TITLES = frozenset(title for title, _ in TEXTS.values())
TABLES = ("cases", "audit_events", "evidence", "outbox")


def v1_body() -> dict[str, Any]:
    """The shipped v1 definition as raw data (a fresh copy each call)."""
    return read_yaml(V1_FILE)


def v1_gate(trigger: str, gate: str) -> dict[str, Any]:
    """A gate of the shipped v1 file, as written there (for comparing messages and sources)."""
    body = v1_body()
    spec = next(t for t in body["triggers"] if t["id"] == trigger)
    return next(g for g in spec["gates"] if g["id"] == gate)


def frozen(at: str) -> Any:
    """freeze_time for the use cases. Evidence models are built on first use, with `date`
    fields; pydantic cannot build one from freezegun's FakeDate, so that module keeps the real
    class (it never reads the clock)."""
    return freeze_time(at, ignore=["upphandla.states.evidence"])


# -- attributes and evidence --------------------------------------------------------------------


def attributes(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "title": "Verksamhetssystem för socialtjänsten",
        "organisation": "Socialförvaltningen",
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
    }
    unknown = set(overrides) - set(base)
    assert not unknown, f"not case attributes: {unknown}"
    return {**base, **overrides}


SYSTEMS = {
    "IT-programvara och licenser",
    "Verksamhetssystem",
    "Välfärdsteknik",
    "IT som tjänst",
    "Telekommunikation",
}
CHECKLIST_ITEMS = (
    "wcag_2_1_aa security_level nis2 encryption_2fa_traceability pub_instruction confidentiality "
    "exit_strategy sla crisis_clauses ecolabels_chemicals ilo_working_conditions equality "
    "fossil_free_transport onsite_consultant_share circular_element usability testability"
).split()
SUPPLIER = "Leverantören AB"


def evidence_data(kind: str, attrs: dict[str, Any] | None = None) -> dict[str, Any]:
    """Valid data for each evidence kind of v1 (dates relative to today, so the clock decides)."""
    value = int((attrs or {}).get("estimated_value_sek", 4_000_000))
    data: dict[str, dict[str, Any]] = {
        "behovsanalys_done": {
            "need": "Ett sammanhållet system för handläggning",
            "current_state": "Tre system utan integration",
            "budget_owner": "Socialchefen",
        },
        "internal_competence_checked": {
            "answer": "finns_inte_internt",
            "contact": "Digitaliseringschefen",
        },
        "ai_assessment_done": {
            "opportunities": "Snabbare handläggning",
            "risks": "Felklassning; manuell kontroll",
        },
        "forstudie_done": {
            "market_dialogue": "genomford",
            "sourcing_model": "SaaS",
            "lots_considered": True,
            "objektledare_involved": True,
            "us_cloud_alternatives_asked": True,
        },
        "ssa_approved": {
            "information_class": "3",
            "nis_scope": False,
            "personal_data": True,
            "critical_for_society": False,
            "security_level": "hog",
            "third_country_transfer": False,
        },
        "requirements_done": {"summary": "Krav på säkerhet, tillgänglighet, exit och SLA"},
        "crisis_review_done": {"approved": True},
        "objektledare_consulted": {"comment": "Passar målarkitekturen"},
        "it_templates_used": {"templates": "Kravmall IT 2026"},
        "sanctions_declaration": {
            "parties": [
                {
                    "name": SUPPLIER,
                    "identifier": "556000-0001",
                    "relation": "leverantor",
                    "share_percent": 100,
                    "declaration": True,
                }
            ]
        },
        "evaluation_done": {"winner": SUPPLIER},
        "award_decision_sent": {
            # 40 days back: the standstill (10 days, extended over holidays) has surely ended.
            "sent_on": (today() - timedelta(days=40)).isoformat(),
            "electronic": True,
        },
        "pub_avtal_signed": {"signed_on": today().isoformat(), "reference": "KS 2026/123"},
        "accessibility_report_received": {"received_on": today().isoformat()},
        "implementation_planned": {"project_lead": "Projektledaren", "plan_reference": "PP-1"},
        "direct_award_documentation": {
            "responsible": "Upphandlaren",
            "subject": "Licenser",
            "competition": "Tre leverantörer tillfrågade",
            "suppliers_asked": "A, B, C",
            "winner": SUPPLIER,
            "why_winner": "Lägst pris",
            "value_sek": value,
            "term": "2 år",
        },
        "direct_award_reported": {"reported_on": today().isoformat()},
        "contract_signed": {
            "signed_on": today().isoformat(),
            "supplier": SUPPLIER,
            "value_sek": value,
        },
        "contract_registered": {
            "supplier": SUPPLIER,
            "value_sek": value,
            "start_on": today().isoformat(),
            "end_on": (today() + timedelta(days=3 * 365)).isoformat(),
            "kraljic": "strategiskt",
            "framework": False,
            "processes_personal_data": False,
            "citizen_facing": False,
            "critical": False,
            "register_reference": "AVT-1",
        },
        "acceptance_requirements": {
            "requirements": [
                {"id": "K1", "text": "Inloggning med tvåfaktor", "level": "ska"},
                {"id": "K2", "text": "Export av all data", "level": "ska"},
                {"id": "K3", "text": "Mörkt läge", "level": "bor"},
            ]
        },
        "supplier_ready": {"ready_on": today().isoformat()},
        "acceptance_round": {
            "results": [
                {"id": "K1", "result": "godkand"},
                {"id": "K2", "result": "godkand"},
                {"id": "K3", "result": "underkand"},
            ]
        },
        "acceptance_signoff_objektledare": {"comment": "Godkänt"},
        "handover_done": {"forvaltning_owner": "Förvaltningsledaren"},
        "exit_done": {"data_returned": True},
        "hardware_disposed": {"method": "datakvarnen"},
    }
    return data[kind]


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


def make_users(db: Database, roles: frozenset[str] | set[str] = ROLES) -> dict[str, User]:
    users: dict[str, User] = {}
    for role in sorted(roles):
        added = run(
            db,
            AddUser(
                name=f"Testperson {role}",
                email=f"{role}@example.se",
                role=role,
                organisation="Testkommunen",
                mandate="kommundirektor" if role == "delegat" else None,
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


def _is_direct(a: dict[str, Any]) -> bool:
    return a["route"] == "direktupphandling"


def _needs_consultant_check(a: dict[str, Any]) -> bool:
    return bool(a["consultants"]) or a["subcategory"] == "IT-konsulter"


# What moves a case out of each phase: (role, "evidence" | "trigger", kind or trigger id, when).
Step = tuple[str, str, str, Any]
_ALWAYS = None
_STEPS: dict[str, list[Step]] = {
    "behovsanalys": [
        ("bestallare", "evidence", "behovsanalys_done", _ALWAYS),
        ("bestallare", "evidence", "internal_competence_checked", _needs_consultant_check),
        ("bestallare", "evidence", "ai_assessment_done", lambda a: a["uses_ai"]),
        ("bestallare", "trigger", "complete_behovsanalys", _ALWAYS),
    ],
    "forstudie": [
        ("upphandlare", "evidence", "forstudie_done", _ALWAYS),
        ("upphandlare", "trigger", "complete_forstudie", _ALWAYS),
    ],
    "ssa": [
        ("informationssakerhet", "evidence", "ssa_approved", _ALWAYS),
        ("informationssakerhet", "trigger", "complete_ssa", _ALWAYS),
    ],
    "kravstallning": [
        ("upphandlare", "evidence", "requirements_done", _ALWAYS),
        *[
            ("upphandlare", "evidence", f"requirement_included:{item}", _ALWAYS)
            for item in CHECKLIST_ITEMS
        ],
        ("sakerhet", "evidence", "crisis_review_done", lambda a: a["critical_service"]),
        (
            "upphandlare",
            "evidence",
            "sanctions_declaration",
            lambda a: a["route"] in ("direktupphandling", "avrop"),
        ),
        ("objektledare_it", "evidence", "objektledare_consulted", _is_direct),
        ("upphandlare", "evidence", "it_templates_used", _is_direct),
        (
            "upphandlare",
            "evidence",
            "direct_award_documentation",
            lambda a: _is_direct(a) and a["estimated_value_sek"] >= 100_000,
        ),
        (
            "upphandlare",
            "evidence",
            "direct_award_reported",
            lambda a: _is_direct(a) and a["estimated_value_sek"] > 50_000,
        ),
        ("upphandlare", "trigger", "publish_tender|direct_award|call_off", _ALWAYS),
    ],
    "annonsering": [("upphandlare", "trigger", "close_tender", _ALWAYS)],
    "utvardering": [
        ("upphandlare", "evidence", "evaluation_done", _ALWAYS),
        ("upphandlare", "evidence", "sanctions_declaration", _ALWAYS),
        ("upphandlare", "trigger", "complete_evaluation", _ALWAYS),
    ],
    "tilldelning": [
        ("upphandlare", "evidence", "award_decision_sent", _ALWAYS),
        ("upphandlare", "trigger", "send_award_decision", _ALWAYS),
    ],
    "avtalsparr": [("upphandlare", "trigger", "end_standstill", _ALWAYS)],
    "avtalstecknande": [
        ("dso", "evidence", "pub_avtal_signed", lambda a: a["personal_data"]),
        ("upphandlare", "evidence", "accessibility_report_received", lambda a: a["citizen_facing"]),
        ("bestallare", "evidence", "implementation_planned", _ALWAYS),
        ("delegat", "evidence", "contract_signed", _ALWAYS),
        (
            "upphandlare",
            "evidence",
            "contract_registered",
            lambda a: not (_is_direct(a) and a["estimated_value_sek"] <= 50_000),
        ),
        ("delegat", "trigger", "sign_contract", _ALWAYS),
    ],
    "acceptanstest": [
        ("bestallare", "evidence", "acceptance_requirements", _ALWAYS),
        ("upphandlare", "evidence", "supplier_ready", _ALWAYS),
        ("bestallare", "evidence", "acceptance_round", _ALWAYS),
        (
            "objektledare_it",
            "evidence",
            "acceptance_signoff_objektledare",
            lambda a: a["subcategory"] in SYSTEMS,
        ),
        ("bestallare", "trigger", "approve_acceptance", _ALWAYS),
    ],
    "inforande": [
        ("bestallare", "evidence", "handover_done", _ALWAYS),
        ("bestallare", "trigger", "go_live", _ALWAYS),
    ],
    "forvaltning": [("upphandlare", "trigger", "start_exit", _ALWAYS)],
    "avslut": [
        ("upphandlare", "evidence", "exit_done", _ALWAYS),
        (
            "upphandlare",
            "evidence",
            "hardware_disposed",
            lambda a: a["hardware"] or a["subcategory"] == "IT-hårdvara",
        ),
        ("upphandlare", "trigger", "close_case", _ALWAYS),
    ],
}
_ROUTE_TRIGGER = {"direktupphandling": "direct_award", "avrop": "call_off"}


def _steps(state: str, attrs: dict[str, Any]) -> list[tuple[str, str, str]]:
    out = []
    for role, what, name, when in _STEPS[state]:
        if when is not None and not when(attrs):
            continue
        if name == "publish_tender|direct_award|call_off":
            name = _ROUTE_TRIGGER.get(attrs["route"], "publish_tender")
        out.append((role, what, name))
    return out


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
    """Move a case forward through the real use cases (one transaction per step, as a request
    would) until it is in `to_state`."""
    handler = handler or Handler.on(db)
    ensure_sanctions_list(db, handler)
    for _ in range(20):
        state, _, _ = case_state(db, case_id)
        if state == to_state:
            return
        attrs = case_attributes(db, case_id)
        for role, what, name in _steps(state, attrs):
            actor = users[role].actor
            if what == "evidence":
                kind, _, item = name.partition(":")
                data = (
                    {"item": item, "reference": f"Bilaga krav, avsnitt {item}"}
                    if item
                    else evidence_data(kind, attrs)
                )
                handler.run(RecordEvidence(actor=actor, case_id=case_id, kind=kind, data=data))
            else:
                handler.run(Advance(actor=actor, case_id=case_id, trigger=name))
    raise AssertionError(f"case {case_id} did not reach {to_state}")


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
    added = run(db, AddUser(**fields))
    return User(actor_of(added.user), added.token)


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
