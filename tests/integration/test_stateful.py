"""Random sequences of use cases, checked against a pure model, on every backend.

A Hypothesis state machine starts cases, records evidence (valid and invalid, by every role),
fires triggers (offered or not, allowed or not) and cancels, each through the use-case layer in a
unit of work of its own that is committed on success. For every step the expected outcome comes
from the pure domain applied to the model's own snapshot of the case: the use case must agree on
accepted or refused (and on the kind of refusal) and on the new state. A refusal writes nothing.

After every step the store is opened afresh and compared with the model: state, attributes,
evidence, the audit trail (one event per applied change), the outbox (one message per applied
transition) and the totals of every table; and every audit chain in the database must verify.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, TypeVar

import pytest
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    multiple,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import func, select

from flows import cases as use_cases
from flows.queries import get_case
from flows.registry import Registry, load_seed_definitions
from flows.users import add_user
from helpers import User, drive, start
from helpers import attributes as helper_attributes
from seeds.loader import definition_files, read_yaml
from states.attributes import ROUTES, SUBCATEGORIES, CaseAttributes
from states.case import CaseSnapshot, Evidence, EvidenceRecord
from states.clock import now, today
from states.definition import Definition, EvidenceKind, FieldSpec, parse_definition
from states.engine import check_evidence, decide, evaluate_gates, offered
from states.errors import DomainError, Invalid, TransitionRefused
from states.machine import Lifecycle
from states.roles import ROLES, SYSTEM_ROLE, Actor
from store import audit
from store.db import Database, open_database
from store.models import AuditEventRow, CaseRow, EvidenceRow, OutboxRow, UserRow
from store.uow import UnitOfWork

T = TypeVar("T")

EXAMPLES = 25
STEPS = 30
MAX_CASES = 2  # per example: few cases, so that the steps take them far

# -- the definitions, read from the seed files (not from the store) --------------------------


def _seed_definitions() -> dict[tuple[str, int], tuple[Definition, Lifecycle]]:
    out: dict[tuple[str, int], tuple[Definition, Lifecycle]] = {}
    for path in definition_files():
        definition = parse_definition(read_yaml(path))
        out[(definition.key, definition.version)] = (definition, Lifecycle(definition))
    return out


DEFINITIONS = _seed_definitions()
KEYS = sorted({key for key, _ in DEFINITIONS})
LATEST = {key: max(v for k, v in DEFINITIONS if k == key) for key in KEYS}
ALL_KINDS = sorted({k.id for d, _ in DEFINITIONS.values() for k in d.evidence_kinds})
ALL_TRIGGERS = sorted({t.id for d, _ in DEFINITIONS.values() for t in d.triggers})
ACTING_ROLES = sorted(ROLES) + [SYSTEM_ROLE]  # the system acts too (timers, sweeps)
START_ROLES = sorted({r for d, _ in DEFINITIONS.values() for r in d.start_roles})

# -- strategies ----------------------------------------------------------------------------------

# Text the way a person types it: letters (Swedish too), digits, punctuation, spaces around.
_CHARS = st.characters(
    codec="utf-8", categories=("L", "N", "P", "Zs"), include_characters="åäöÅÄÖ§-–"
)
texts = st.text(_CHARS, min_size=1, max_size=40).filter(lambda s: s.strip() != "")
short_texts = st.text(_CHARS, min_size=1, max_size=200).filter(lambda s: s.strip() != "")


def _near_today() -> st.SearchStrategy[date]:
    # Around today, so that the standstill gate (10 or 15 days, to a working day) can go either
    # way when a case gets that far.
    day = today()
    return st.dates(min_value=day - timedelta(days=45), max_value=day + timedelta(days=5))


def dates() -> st.SearchStrategy[date]:
    # Evidence dates are accepted from 1900-01-01 to 2200-12-31.
    return st.one_of(
        _near_today(), st.dates(min_value=date(1900, 1, 1), max_value=date(2200, 12, 31))
    )


attributes = st.fixed_dictionaries(
    {
        "title": short_texts,
        "organisation": short_texts,
        "subcategory": st.sampled_from(SUBCATEGORIES),
        "route": st.sampled_from(sorted(ROUTES)),
        "estimated_value_sek": st.integers(min_value=0, max_value=100_000_000_000),
        "personal_data": st.booleans(),
        "citizen_facing": st.booleans(),
        "critical_service": st.booleans(),
        "uses_ai": st.booleans(),
        "cloud_service": st.booleans(),
        "consultants": st.booleans(),
        "hardware": st.booleans(),
    }
)

# Attributes that are refused: one attribute made wrong, missing or added.
_WRONG_ATTRIBUTE: dict[str, st.SearchStrategy[Any]] = {
    "title": st.sampled_from(["", "   ", 7, None, "x" * 201]),
    "organisation": st.sampled_from(["", 7, None]),
    "subcategory": st.sampled_from(["IT", "verksamhetssystem", 1]),
    "route": st.sampled_from(["Annonserad", "upphandling", 0]),
    "estimated_value_sek": st.sampled_from([-1, 100_000_000_001, "1000", 1.5, True]),
    "personal_data": st.sampled_from(["ja", "true", 1, None]),
    "uses_ai": st.sampled_from(["nej", 0]),
}


@st.composite
def invalid_attributes(draw: st.DrawFn) -> dict[str, Any]:
    attrs = dict(draw(attributes))
    how = draw(st.sampled_from(["wrong", "missing", "extra"]))
    if how == "wrong":
        name = draw(st.sampled_from(sorted(_WRONG_ATTRIBUTE)))
        attrs[name] = draw(_WRONG_ATTRIBUTE[name])
    elif how == "missing":
        del attrs[draw(st.sampled_from(sorted(attrs)))]
    else:
        attrs["priority"] = "hög"
    return attrs


def valid_value(spec: FieldSpec) -> st.SearchStrategy[Any]:
    if spec.type == "text":
        return texts
    if spec.type == "bool":
        return st.booleans()
    if spec.type == "int":
        return st.integers(min_value=-(10**15), max_value=10**15)
    if spec.type == "date":
        return dates()
    assert spec.choices
    return st.sampled_from(spec.choices)


def wrong_value(spec: FieldSpec) -> st.SearchStrategy[Any]:
    """A value of the wrong type (or shape) for the field; never None (optional fields take it)."""
    if spec.type == "text":
        return st.sampled_from([17, True, ["text"], {"text": "x"}, "", "   ", "a\x00b", "\x07"])
    if spec.type == "bool":
        return st.sampled_from(["ja", "true", 1, 0, [True]])
    if spec.type == "int":
        return st.sampled_from(["12", 1.5, True, [1]])
    if spec.type == "date":
        return st.sampled_from(
            ["31/12/2026", "2026-02-30", "i morgon", True, [2026, 1, 1], "1899-12-31", "2201-01-01"]
        )
    return st.sampled_from(["__inget_av_valen__", 1, True, None if spec.required else "  "])


@st.composite
def valid_data(draw: st.DrawFn, kind: EvidenceKind) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for spec in kind.fields:
        if spec.required:
            data[spec.name] = draw(valid_value(spec))
        else:
            choice = draw(st.sampled_from(["value", "absent", "null"]))
            if choice == "value":
                data[spec.name] = draw(valid_value(spec))
            elif choice == "null":
                data[spec.name] = None
    return data


@st.composite
def invalid_data(draw: st.DrawFn, kind: EvidenceKind) -> Any:
    data = draw(valid_data(kind))
    forms = ["wrong_type", "extra_field", "not_an_object"]
    if any(f.required for f in kind.fields):
        forms.append("missing_field")
    form = draw(st.sampled_from(forms))
    if form == "wrong_type" and kind.fields:
        spec = draw(st.sampled_from(kind.fields))
        data[spec.name] = draw(wrong_value(spec))
    elif form == "missing_field":
        spec = draw(st.sampled_from([f for f in kind.fields if f.required]))
        data.pop(spec.name, None)
    elif form == "not_an_object":
        return draw(st.sampled_from([[], ["a"], "data", 3, True]))
    else:
        data["okant_falt"] = "x"
    return data


def normalised(kind: EvidenceKind, data: dict[str, Any]) -> dict[str, Any]:
    """What valid data is stored as: text stripped, dates as ISO text, empty optionals left out."""
    out: dict[str, Any] = {}
    for spec in kind.fields:
        value = data.get(spec.name)
        if value is None:
            continue
        if spec.type == "text":
            value = value.strip()
        elif spec.type == "date":
            value = value.isoformat()
        out[spec.name] = value
    return out


# -- the model -----------------------------------------------------------------------------------


@dataclass
class ModelCase:
    id: int
    key: str
    version: int
    state: str
    attributes: dict[str, Any]
    records: list[EvidenceRecord] = field(default_factory=list)
    record_phases: list[str] = field(default_factory=list)
    actions: list[str] = field(default_factory=lambda: ["case_started"])
    messages: int = 0  # outbox messages: one per applied transition that notifies anyone

    @property
    def definition(self) -> Definition:
        return DEFINITIONS[(self.key, self.version)][0]

    @property
    def lifecycle(self) -> Lifecycle:
        return DEFINITIONS[(self.key, self.version)][1]

    def snapshot(self) -> CaseSnapshot:
        return CaseSnapshot(
            id=self.id,
            definition_key=self.key,
            definition_version=self.version,
            state=self.state,
            attributes=self.attributes,
            phase_entered_on=today(),
        )

    def evidence(self) -> Evidence:
        return Evidence.of(self.records)


@dataclass(frozen=True)
class Totals:
    users: int
    cases: int
    evidence: int
    audit_events: int
    outbox: int


def totals(session: Any) -> Totals:
    def count(model: Any) -> int:
        return int(session.scalar(select(func.count()).select_from(model)))

    return Totals(
        count(UserRow), count(CaseRow), count(EvidenceRow), count(AuditEventRow), count(OutboxRow)
    )


def expect(fn: Callable[[], T]) -> tuple[T | None, DomainError | None]:
    try:
        return fn(), None
    except DomainError as exc:
        return None, exc


def outcome(exc: DomainError | None) -> str:
    return "accepted" if exc is None else f"{type(exc).__name__}({exc.key})"


def describe(exc: DomainError | None) -> str:
    if exc is None:
        return "accepted"
    return f"{type(exc).__name__}({exc.key}: {exc.detail})"


def assert_same_verdict(expected: DomainError | None, actual: DomainError | None) -> None:
    assert (expected is None) == (actual is None), (
        f"model: {describe(expected)}; store: {describe(actual)}"
    )
    if expected is None or actual is None:
        return
    assert type(actual) is type(expected) and actual.key == expected.key, (
        f"model: {describe(expected)}; store: {describe(actual)}"
    )
    if isinstance(expected, TransitionRefused):
        assert isinstance(actual, TransitionRefused)
        assert [r.as_dict() for r in actual.reasons] == [r.as_dict() for r in expected.reasons]
    if isinstance(expected, Invalid):
        assert isinstance(actual, Invalid)
        assert [p.as_dict() for p in actual.problems] == [p.as_dict() for p in expected.problems]


# -- the machine ---------------------------------------------------------------------------------


def make_machine(db: Database, db_url: str) -> type[RuleBasedStateMachine]:
    registry = Registry()

    class UseCases(RuleBasedStateMachine):
        cases = Bundle("cases")

        def __init__(self) -> None:
            super().__init__()
            self.actors: dict[str, Actor] = {}
            self.model: dict[int, ModelCase] = {}
            self.base = Totals(0, 0, 0, 0, 0)
            self.users_added = 0

        # -- helpers --------------------------------------------------------------------------

        def in_uow(self, fn: Callable[[UnitOfWork], T]) -> tuple[T | None, DomainError | None]:
            """Run a use case in a unit of work of its own; commit it unless it is refused."""
            with UnitOfWork(db) as uow:
                try:
                    result = fn(uow)
                except DomainError as exc:
                    return None, exc
                uow.commit()
                return result, None

        def store_evidence(
            self, case: ModelCase, actor: Actor, kind: str, data: Any
        ) -> DomainError | None:
            expected_clean, expected = expect(
                lambda: check_evidence(
                    case.definition, case.snapshot(), kind_id=kind, actor=actor, data=data
                )
            )
            recorded, actual = self.in_uow(
                lambda uow: use_cases.record_evidence(
                    uow, registry=registry, actor=actor, case_id=case.id, kind=kind, data=data
                )
            )
            assert_same_verdict(expected, actual)
            event(f"evidence: {outcome(actual)}")
            if recorded is not None:
                assert expected_clean is not None
                assert recorded.row.data == expected_clean
                assert recorded.row.phase == case.state
                case.records.append(
                    EvidenceRecord(kind, expected_clean, now(), actor.name, actor.role)
                )
                case.record_phases.append(case.state)
                case.actions.append("evidence_recorded")
            return actual

        def fire(
            self, case: ModelCase, actor: Actor, trigger: str, comment: str | None, *, cancel: bool
        ) -> DomainError | None:
            snapshot, evidence = case.snapshot(), case.evidence()
            decision, expected = expect(
                lambda: decide(
                    case.definition,
                    case.lifecycle,
                    snapshot,
                    evidence,
                    trigger_id=trigger,
                    actor=actor,
                    today=today(),
                    comment=comment,
                )
            )
            if cancel:
                assert comment is not None
                reason = comment
                stored, actual = self.in_uow(
                    lambda uow: use_cases.cancel(
                        uow, registry=registry, actor=actor, case_id=case.id, reason=reason
                    )
                )
            else:
                stored, actual = self.in_uow(
                    lambda uow: use_cases.advance(
                        uow,
                        registry=registry,
                        actor=actor,
                        case_id=case.id,
                        trigger=trigger,
                        comment=comment,
                    )
                )
            assert_same_verdict(expected, actual)
            event(f"{trigger}: {outcome(actual)}")
            if stored is not None:
                assert decision is not None
                assert (stored.from_state, stored.to_state) == (case.state, decision.to_state)
                case.state = decision.to_state
                case.actions.append("cancelled" if trigger == "cancel" else "transition")
                # A trigger that names recipients queues one message; every role has a user
                # here and the creator is one, so there is always someone to send it to.
                if case.definition.trigger[trigger].notify:
                    case.messages += 1
            return actual

        # -- rules ----------------------------------------------------------------------------

        @initialize()
        def create_users(self) -> None:
            with UnitOfWork(db) as uow:
                load_seed_definitions(uow)  # once per database: later calls add nothing
                uow.commit()
            with UnitOfWork(db, write=False) as uow:
                self.base = totals(uow.s)
            with UnitOfWork(db) as uow:
                for role in sorted(ROLES):
                    row, _token = add_user(
                        uow, name=f"Test {role}", email=f"{role}@kommun.example", role=role
                    )
                    self.actors[role] = Actor(row.id, row.name, row.role, row.organisation)
                    self.users_added += 1
                uow.commit()
            self.actors[SYSTEM_ROLE] = Actor.system()

        @precondition(lambda self: len(self.model) < MAX_CASES)
        @rule(
            target=cases,
            role=st.one_of(st.sampled_from(START_ROLES), st.sampled_from(ACTING_ROLES)),
            key=st.sampled_from(KEYS),
            attrs=attributes,
        )
        def start_case(self, role: str, key: str, attrs: dict[str, Any]) -> Any:
            actor = self.actors[role]
            definition = DEFINITIONS[(key, LATEST[key])][0]
            clean = CaseAttributes.model_validate(attrs).model_dump(mode="json")
            row, actual = self.in_uow(
                lambda uow: use_cases.start_case(
                    uow, registry=registry, actor=actor, attributes=attrs, definition_key=key
                )
            )
            if role not in definition.start_roles:
                assert actual is not None and actual.kind == "forbidden", describe(actual)
                return multiple()
            assert actual is None, describe(actual)
            assert row is not None
            assert (row.definition_key, row.definition_version) == (key, LATEST[key])
            assert row.state == definition.initial
            self.model[row.id] = ModelCase(row.id, key, LATEST[key], row.state, clean)
            return row.id

        @precondition(lambda self: len(self.model) < MAX_CASES)
        @rule(
            role=st.sampled_from(START_ROLES), key=st.sampled_from(KEYS), attrs=invalid_attributes()
        )
        def start_case_invalid(self, role: str, key: str, attrs: dict[str, Any]) -> None:
            actor = self.actors[role]
            _, actual = self.in_uow(
                lambda uow: use_cases.start_case(
                    uow, registry=registry, actor=actor, attributes=attrs, definition_key=key
                )
            )
            assert isinstance(actual, Invalid) and actual.key == "invalid_attributes", describe(
                actual
            )

        @rule(
            case=cases,
            role=st.sampled_from(ACTING_ROLES),
            kind=st.sampled_from(ALL_KINDS),
            data=st.data(),
        )
        def record_evidence(self, case: int, role: str, kind: str, data: st.DataObject) -> None:
            model = self.model[case]
            spec = model.definition.evidence_kind.get(kind)
            payload = data.draw(valid_data(spec), label="data") if spec else {}
            actual = self.store_evidence(model, self.actors[role], kind, payload)
            if actual is None and spec is not None:
                assert model.records[-1].data == normalised(spec, payload)

        @rule(case=cases, data=st.data())
        def record_fitting_evidence(self, case: int, data: st.DataObject) -> None:
            """A kind that may be recorded in the case's phase, by a role that may record it."""
            model = self.model[case]
            kinds = [
                k
                for k in model.definition.evidence_kinds
                if k.phases is None or model.state in k.phases
            ]
            if not kinds:
                kinds = model.definition.evidence_kinds
            spec = data.draw(st.sampled_from(kinds), label="kind")
            role = data.draw(st.sampled_from(spec.roles), label="role")
            payload = data.draw(valid_data(spec), label="data")
            actual = self.store_evidence(model, self.actors[role], spec.id, payload)
            if actual is None:
                assert model.records[-1].data == normalised(spec, payload)

        def progress_once(self, model: ModelCase, data: st.DataObject) -> bool:
            """One use case that takes the case towards the next phase along a trigger it offers:
            the evidence the trigger's first blocking gate asks for (with the values it wants),
            or, when no gate blocks (or that evidence cannot be recorded now), the trigger itself
            by a role that may fire it. False when the case offers nothing to do."""
            if model.definition.phase[model.state].final:
                return False
            snapshot, evidence = model.snapshot(), model.evidence()
            choices = [t for t in offered(model.definition, snapshot, evidence) if t.id != "cancel"]
            if not choices:
                return False
            trigger = data.draw(st.sampled_from(choices), label="trigger")
            results = evaluate_gates(trigger, snapshot, evidence, today())
            blocking = [
                gate for gate, result in zip(trigger.gates, results, strict=True) if not result.ok
            ]
            spec = (
                model.definition.evidence_kind.get(blocking[0].params.get("kind", ""))
                if blocking
                else None
            )
            if spec is not None and (spec.phases is None or model.state in spec.phases):
                role = data.draw(st.sampled_from(spec.roles), label="role")
                where = blocking[0].params.get("where", {})
                payload = {**data.draw(valid_data(spec), label="data"), **where}
                if self.store_evidence(model, self.actors[role], spec.id, payload) is None:
                    assert model.records[-1].data == normalised(spec, payload)
                return True
            role = data.draw(st.sampled_from(trigger.roles), label="role")
            comment = data.draw(st.one_of(st.none(), texts), label="comment")
            self.fire(model, self.actors[role], trigger.id, comment, cancel=False)
            return True

        @rule(case=cases, steps=st.integers(min_value=1, max_value=6), data=st.data())
        def progress(self, case: int, steps: int, data: st.DataObject) -> None:
            """A few use cases in a row that take the case forward (see progress_once); the
            store is checked after each of them, as after every rule."""
            model = self.model[case]
            for i in range(steps):
                if i:
                    self.store_agrees_with_model()
                if not self.progress_once(model, data):
                    return

        @rule(
            case=cases,
            role=st.sampled_from(ACTING_ROLES),
            kind=st.sampled_from(ALL_KINDS),
            data=st.data(),
        )
        def record_invalid_evidence(
            self, case: int, role: str, kind: str, data: st.DataObject
        ) -> None:
            model = self.model[case]
            spec = model.definition.evidence_kind[kind]
            payload = data.draw(invalid_data(spec), label="data")
            actual = self.store_evidence(model, self.actors[role], kind, payload)
            assert actual is not None, "invalid evidence data was accepted"

        @rule(
            case=cases,
            role=st.sampled_from(ACTING_ROLES),
            trigger=st.sampled_from([*ALL_TRIGGERS, "ingen_sadan_overgang"]),
            comment=st.one_of(st.none(), texts, st.just("   ")),
        )
        def advance(self, case: int, role: str, trigger: str, comment: str | None) -> None:
            self.fire(self.model[case], self.actors[role], trigger, comment, cancel=False)

        @rule(case=cases, data=st.data())
        def advance_offered(self, case: int, data: st.DataObject) -> None:
            """A trigger the case offers now, by a role that may fire it (its gates may block)."""
            model = self.model[case]
            choices = [
                t
                for t in offered(model.definition, model.snapshot(), model.evidence())
                if t.id != "cancel"
            ]
            if not choices or model.definition.phase[model.state].final:
                return
            trigger = data.draw(st.sampled_from(choices), label="trigger")
            role = data.draw(st.sampled_from(trigger.roles), label="role")
            comment = data.draw(st.one_of(st.none(), texts), label="comment")
            self.fire(model, self.actors[role], trigger.id, comment, cancel=False)

        @rule(
            case=cases,
            role=st.sampled_from(ACTING_ROLES),
            reason=st.one_of(texts, st.sampled_from(["", "   "])),
        )
        def cancel(self, case: int, role: str, reason: str) -> None:
            self.fire(self.model[case], self.actors[role], "cancel", reason, cancel=True)

        # -- what the store must say after every step -----------------------------------------

        @invariant()
        def store_agrees_with_model(self) -> None:
            fresh = open_database(db_url)
            try:
                with UnitOfWork(fresh, write=False) as uow:
                    s = uow.s
                    for m in self.model.values():
                        row = s.get(CaseRow, m.id)
                        assert row is not None, f"case {m.id} is gone"
                        assert row.state == m.state, f"case {m.id}: {row.state} != {m.state}"
                        assert row.attributes == m.attributes
                        actions = list(
                            s.scalars(
                                select(AuditEventRow.action)
                                .where(AuditEventRow.case_id == m.id)
                                .order_by(AuditEventRow.seq)
                            )
                        )
                        assert actions == m.actions, f"case {m.id}: audit {actions}"
                        assert row.audit_seq == len(m.actions)
                        evidence = list(
                            s.scalars(
                                select(EvidenceRow)
                                .where(EvidenceRow.case_id == m.id)
                                .order_by(EvidenceRow.id)
                            )
                        )
                        assert [(e.kind, e.data, e.role, e.recorded_by_name) for e in evidence] == [
                            (r.kind, r.data, r.role, r.recorded_by) for r in m.records
                        ]
                        assert [e.phase for e in evidence] == m.record_phases
                        messages = s.scalar(
                            select(func.count())
                            .select_from(OutboxRow)
                            .where(OutboxRow.case_id == m.id)
                        )
                        assert messages == m.messages, f"case {m.id}: {messages} outbox messages"
                    # Nothing else was written: every row is accounted for by the model.
                    assert totals(s) == Totals(
                        users=self.base.users + self.users_added,
                        cases=self.base.cases + len(self.model),
                        evidence=self.base.evidence
                        + sum(len(m.records) for m in self.model.values()),
                        audit_events=self.base.audit_events
                        + sum(len(m.actions) for m in self.model.values()),
                        outbox=self.base.outbox + sum(m.messages for m in self.model.values()),
                    )
                    report = audit.verify_all(s)
                    assert report.ok, [b.as_dict() for b in report.breaks]
            finally:
                fresh.dispose()

    return UseCases


def test_random_use_case_sequences_agree_with_the_model(db: Database, db_url: str) -> None:
    run_state_machine_as_test(
        make_machine(db, db_url),
        settings=settings(
            max_examples=EXAMPLES,
            stateful_step_count=STEPS,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        ),
    )


# -- two inputs at the edges, each with a test of its own -------------------------------------
#
# Text with a NUL character, which PostgreSQL cannot store, and a date at the end of the calendar,
# where the standstill would end beyond it: both must get a domain answer on every backend.


def _count_rows(db: Database) -> Totals:
    with UnitOfWork(db, write=False) as uow:
        return totals(uow.s)


@pytest.mark.parametrize("where", ["case title", "evidence text"])
def test_a_nul_character_in_text_is_refused_or_kept_alike_on_every_backend(
    db: Database, db_url: str, users: dict[str, User], where: str
) -> None:
    """A NUL character (U+0000) in a case's attributes or in evidence text: refused as Invalid
    with nothing written, or stored and read back unchanged; never a database error."""
    registry = Registry()
    bestallare = users["bestallare"].actor
    case_id = None if where == "case title" else start(db, users["bestallare"])
    text_with_nul = "Nytt\x00system"
    before = _count_rows(db)

    def write(uow: UnitOfWork) -> Any:
        if case_id is None:
            return use_cases.start_case(
                uow,
                registry=registry,
                actor=bestallare,
                attributes=helper_attributes(title=text_with_nul),
                definition_key="it-upphandling",
            )
        return use_cases.record_evidence(
            uow,
            registry=registry,
            actor=bestallare,
            case_id=case_id,
            kind="behovsanalys_done",
            data={"need": text_with_nul, "current_state": "Nuläge", "budget_owner": "Chefen"},
        )

    with UnitOfWork(db) as uow:
        try:
            written = write(uow)
        except DomainError as exc:
            assert isinstance(exc, Invalid), describe(exc)
            written = None
        else:
            uow.commit()
    if written is None:
        assert _count_rows(db) == before
        return
    fresh = open_database(db_url)
    try:
        with UnitOfWork(fresh, write=False) as uow:
            if case_id is None:
                row = uow.s.get(CaseRow, written.id)
                assert row is not None
                assert (row.title, row.attributes["title"]) == (text_with_nul, text_with_nul)
            else:
                stored = uow.s.scalars(
                    select(EvidenceRow.data).where(EvidenceRow.case_id == case_id)
                ).one()
                assert stored["need"] == text_with_nul
            assert audit.verify_all(uow.s).ok
    finally:
        fresh.dispose()


def test_an_award_decision_dated_at_the_end_of_the_calendar_is_refused_not_a_crash(
    db: Database, users: dict[str, User]
) -> None:
    """An award decision sent on 9999-12-31 has a standstill that would end beyond the calendar.
    Recording it may be refused as Invalid; once it is recorded, ending the standstill must be
    refused (TransitionRefused: it has not ended) and the case must stay readable."""
    registry = Registry()
    upphandlare = users["upphandlare"].actor
    case_id = start(db, users["bestallare"])
    drive(db, case_id, "tilldelning", users)
    with UnitOfWork(db) as uow:
        try:
            use_cases.record_evidence(
                uow,
                registry=registry,
                actor=upphandlare,
                case_id=case_id,
                kind="award_decision_sent",
                data={"sent_on": "9999-12-31", "electronic": True},
            )
        except DomainError as exc:
            assert isinstance(exc, Invalid), describe(exc)
            return
        uow.commit()
    with UnitOfWork(db) as uow:
        use_cases.advance(
            uow,
            registry=registry,
            actor=upphandlare,
            case_id=case_id,
            trigger="send_award_decision",
        )
        uow.commit()
    with UnitOfWork(db, write=False) as uow:
        view = get_case(uow, registry=registry, actor=upphandlare, case_id=case_id)
        assert view.row.state == "avtalsparr"
    with UnitOfWork(db) as uow, pytest.raises(TransitionRefused):
        use_cases.advance(
            uow, registry=registry, actor=upphandlare, case_id=case_id, trigger="end_standstill"
        )
