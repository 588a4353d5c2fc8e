"""The case commands through the handler on an in-memory unit of work: no database. What a
command writes is committed once, with the case's new version; what it refuses leaves the store
as it was; the outside facts the gates declare are looked up, and only those."""

from __future__ import annotations

import inspect
from datetime import date, datetime, timezone
from typing import Any

import pytest
from freezegun import freeze_time

from fakes import (
    FakeAudit,
    FakeCases,
    FakeDefinitions,
    FakeEvidence,
    FakeOutbox,
    FakeSanctions,
    FakeStore,
    FakeThresholds,
    FakeUnitOfWork,
    FakeUsers,
)
from helpers import attributes
from upphandla.flows.commands.cases import Advance, RecordEvidence, StartCase
from upphandla.flows.handler import Handler
from upphandla.seeds.loader import DEFINITIONS, read_yaml
from upphandla.states.checks_money import ThresholdParams
from upphandla.states.errors import Forbidden, Invalid, TransitionRefused
from upphandla.states.examples import example_data
from upphandla.states.lookups import SimilarContract, SimilarContracts
from upphandla.states.parse import parse_definition
from upphandla.states.roles import Actor
from upphandla.store.audit import AuditRepository
from upphandla.store.cases import CaseRepository
from upphandla.store.definitions import DefinitionRepository
from upphandla.store.evidence import EvidenceRepository
from upphandla.store.outbox import OutboxRepository
from upphandla.store.records import StoredDefinition, StoredUser
from upphandla.store.sanctions import SanctionsRepository
from upphandla.store.thresholds import ThresholdRepository
from upphandla.store.users import UserRepository

KEY = "it-upphandling"
BESTALLARE = Actor(1, "Bo Beställare", "bestallare", "socialforvaltningen")
UPPHANDLARE = Actor(2, "Anna Upphandlare", "upphandlare", "kommunstyrelsens_forvaltning")
CONTROLLER = Actor(3, "Cecilia Controller", "controller", "kommunstyrelsens_forvaltning")
ATTRIBUTES: dict[str, Any] = attributes(title="Verksamhetssystem för hemtjänst")
V1 = parse_definition(read_yaml(DEFINITIONS / "it-upphandling.v1.yaml"))
NEED = example_data(V1.evidence_kind["behovsanalys_done"], date(2026, 3, 2))


@pytest.fixture
def store() -> FakeStore:
    body = read_yaml(DEFINITIONS / "it-upphandling.v1.yaml")
    definition = parse_definition(body)
    loaded = datetime(2026, 1, 1, tzinfo=timezone.utc)
    return FakeStore(
        definitions={
            (KEY, 1): StoredDefinition(KEY, 1, definition.title, "x", body, loaded),
        },
        users=[
            StoredUser(1, BESTALLARE.name, "bo@example.se", "bestallare", None, None, True),
            StoredUser(2, UPPHANDLARE.name, "anna@example.se", "upphandlare", None, None, True),
        ],
    )


@pytest.fixture
def handler(store: FakeStore) -> Handler:
    return Handler(lambda write: FakeUnitOfWork(store, write=write))


def start(handler: Handler, **attributes: Any) -> int:
    command = StartCase(
        actor=BESTALLARE, attributes={**ATTRIBUTES, **attributes}, definition_key=KEY
    )
    return handler.run(command).result.case_id


def actions(store: FakeStore, case_id: int) -> list[str]:
    return [body["action"] for case, _, body in store.events if case == case_id]


@freeze_time("2026-03-02 09:00:00")
def test_starting_a_case_commits_it_with_its_first_event_at_version_one(
    store: FakeStore, handler: Handler
) -> None:
    outcome = handler.run(
        StartCase(actor=BESTALLARE, attributes=ATTRIBUTES, definition_key=KEY, request_id="r-1")
    )
    case = store.cases[outcome.result.case_id]
    assert (case.state, case.row_version, outcome.version) == ("behovsanalys", 1, 1)
    assert case.attributes["title"] == ATTRIBUTES["title"]
    [(case_id, seq, body)] = store.events
    assert (case_id, seq, body["action"], body["request_id"]) == (case.id, 1, "case_started", "r-1")
    assert body["actor"] == {"id": 1, "name": BESTALLARE.name}
    assert store.commits == 1


def test_a_role_that_may_not_start_cases_is_refused_and_nothing_is_kept(
    store: FakeStore, handler: Handler
) -> None:
    with pytest.raises(Forbidden):
        handler.run(StartCase(actor=CONTROLLER, attributes=ATTRIBUTES, definition_key=KEY))
    with pytest.raises(Invalid):
        handler.run(
            StartCase(actor=BESTALLARE, attributes={**ATTRIBUTES, "route": "x"}, definition_key=KEY)
        )
    assert (store.cases, store.events, store.commits) == ({}, [], 0)


@freeze_time("2026-03-02 09:00:00")
def test_a_refused_transition_says_why_and_writes_nothing(
    store: FakeStore, handler: Handler
) -> None:
    case_id = start(handler)
    before = (store.cases[case_id].row_version, list(store.events), store.commits)
    with pytest.raises(TransitionRefused) as refused:
        handler.run(Advance(actor=BESTALLARE, case_id=case_id, trigger="complete_behovsanalys"))
    [reason] = refused.value.reasons
    assert (reason.gate, reason.source) == ("behovsanalys_done", "§ 5.4.2, § 9.2.4 a")
    assert (store.cases[case_id].row_version, store.events, store.commits) == before
    assert store.cases[case_id].state == "behovsanalys"


@freeze_time("2026-03-02 09:00:00")
def test_evidence_then_the_transition_move_the_case_one_version_at_a_time(
    store: FakeStore, handler: Handler
) -> None:
    case_id = start(handler)
    recorded = handler.run(
        RecordEvidence(actor=BESTALLARE, case_id=case_id, kind="behovsanalys_done", data=NEED)
    )
    assert recorded.version == 2
    assert recorded.result.evidence.data == NEED
    assert recorded.result.evidence.audit_seq == 2
    moved = handler.run(Advance(actor=BESTALLARE, case_id=case_id, trigger="complete_behovsanalys"))
    assert (moved.result.from_state, moved.result.to_state, moved.version) == (
        "behovsanalys",
        "forstudie",
        3,
    )
    case = store.cases[case_id]
    assert (case.state, case.row_version, case.audit_seq) == ("forstudie", 3, 3)
    assert actions(store, case_id) == ["case_started", "evidence_recorded", "transition"]
    transition = store.events[-1][2]
    assert [g["gate"] for g in transition["gates"] if g["applies"]] == ["behovsanalys_done"]
    assert transition["changes"]["state"] == {"before": "behovsanalys", "after": "forstudie"}


@freeze_time("2026-03-02 09:00:00")
def test_invalid_evidence_is_refused_with_its_fields_and_writes_nothing(
    store: FakeStore, handler: Handler
) -> None:
    case_id = start(handler)
    with pytest.raises(Invalid) as refused:
        handler.run(
            RecordEvidence(
                actor=BESTALLARE, case_id=case_id, kind="behovsanalys_done", data={"need": ""}
            )
        )
    paths = {p.path for p in refused.value.problems}
    assert {"data.need", "data.current_state", "data.budget_owner"} <= paths
    assert (store.evidence, actions(store, case_id)) == ([], ["case_started"])


@freeze_time("2026-03-10 09:00:00")
def test_similar_contracts_are_looked_up_only_for_a_recurring_direct_award(
    store: FakeStore, handler: Handler
) -> None:
    """The threshold gate declares what it needs: the amounts of the direct-award series, and
    for a recurring purchase the contracts of the same route and subcategory signed in the
    twelve months before the day or in progress (§ 10.3; LOU 5 kap. 11 §); they count towards
    the value, and the refusal names them."""
    store.similar = (
        SimilarContract(9, "Licenser för bokning", "socialforvaltningen", 350_000, "2025-11-20"),
    )
    direct = {"route": "direktupphandling", "estimated_value_sek": 400_000}
    one_off = start(handler, **direct)
    recurring = start(handler, **direct, recurring=True)
    for case_id in (one_off, recurring):
        store.cases[case_id].state = "kravstallning"

    with pytest.raises(TransitionRefused) as refused:
        handler.run(Advance(actor=UPPHANDLARE, case_id=one_off, trigger="direct_award"))
    assert "direct_award_below_threshold" not in {r.gate for r in refused.value.reasons}
    assert store.looked_up == []

    with pytest.raises(TransitionRefused) as refused:
        handler.run(Advance(actor=UPPHANDLARE, case_id=recurring, trigger="direct_award"))
    [similar] = store.looked_up
    assert similar == SimilarContracts(
        subcategory="Verksamhetssystem",
        route="direktupphandling",
        signed_kind="contract_signed",
        since=date(2025, 3, 10),
        until=date(2026, 3, 10),
        exclude_case_id=recurring,
        values=tuple(V1.trigger["direct_award"].gates[0].params_as(ThresholdParams).values),
        in_progress_phases=("behovsanalys", "forstudie", "ssa", "kravstallning", "avtalstecknande"),
        cancelled_phases=("avbruten",),
    )
    assert [v.title for v in similar.values][-1] == "Uppskattat värde"
    [threshold] = [r for r in refused.value.reasons if r.gate == "direct_award_below_threshold"]
    # A case of the same organisation: named with its title and the organisation's name.
    assert "ärende 9 ”Licenser för bokning” (Socialförvaltningen, " in threshold.message


@pytest.mark.parametrize(
    ("fake", "real"),
    [
        (FakeCases, CaseRepository),
        (FakeEvidence, EvidenceRepository),
        (FakeAudit, AuditRepository),
        (FakeOutbox, OutboxRepository),
        (FakeUsers, UserRepository),
        (FakeDefinitions, DefinitionRepository),
        (FakeSanctions, SanctionsRepository),
        (FakeThresholds, ThresholdRepository),
    ],
)
def test_each_fake_repository_method_has_the_real_ones_name_and_parameters(
    fake: type, real: type
) -> None:
    """So that a use case that works on the fakes calls what the store really offers."""
    for name, method in inspect.getmembers(fake, inspect.isfunction):
        if name.startswith("_"):
            continue
        assert hasattr(real, name), f"{real.__name__} has no {name}"
        fake_params = list(inspect.signature(method).parameters)
        real_params = list(inspect.signature(getattr(real, name)).parameters)
        if fake_params[1:] != ["values"]:  # **values stands for the real keyword arguments
            assert fake_params == real_params, f"{real.__name__}.{name}"
