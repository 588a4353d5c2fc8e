"""A refusal says what to do: for each blocked gate, the evidence that would lift it, who may
record it and its fields, derived from the definition; an unknown kind lists what may be
recorded in the case's phase; each next step says who may take it."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from fakes import BASE_ATTRIBUTES
from upphandla.seeds.loader import DEFINITIONS, read_yaml
from upphandla.states.attributes import CaseAttributes
from upphandla.states.case import CaseSnapshot, Evidence
from upphandla.states.definition import GateSpec
from upphandla.states.engine import check_evidence, decide, preview
from upphandla.states.errors import TransitionRefused, UnknownEvidenceKind
from upphandla.states.machine import Lifecycle
from upphandla.states.parse import parse_definition
from upphandla.states.remedies import evidence_for, kinds_in_phase
from upphandla.states.roles import Actor

V1 = parse_definition(read_yaml(DEFINITIONS / "it-upphandling.v1.yaml"))
TODAY = date(2026, 3, 10)
INFORMATIONSSAKERHET = Actor(3, "Ia Säkerhet", "informationssakerhet")
UPPHANDLARE = Actor(2, "Anna Upphandlare", "upphandlare")


def case(state: str, **overrides: Any) -> CaseSnapshot:
    attributes = {**BASE_ATTRIBUTES, **overrides}
    return CaseSnapshot(
        id=1,
        definition_key="it-upphandling",
        definition_version=1,
        state=state,
        attributes=CaseAttributes.model_validate(attributes).model_dump(),
        phase_entered_on=date(2026, 3, 2),
    )


def gate(trigger: str, gate_id: str) -> GateSpec:
    return next(g for g in V1.trigger[trigger].gates if g.id == gate_id)


def test_the_ssa_gate_asks_for_ssa_approved_by_informationssakerhet_with_its_fields() -> None:
    with pytest.raises(TransitionRefused) as exc:
        decide(
            V1,
            Lifecycle(V1),
            case("ssa"),
            Evidence(),
            trigger_id="complete_ssa",
            actor=UPPHANDLARE,
            today=TODAY,
            comment=None,
        )
    [reason] = exc.value.extra()["reasons"]
    assert reason["gate"] == "ssa_required_for_systems"
    [need] = reason["evidence"]
    assert (need["kind"], need["title"], need["roles"]) == (
        "ssa_approved",
        "Systemsäkerhetsanalys (SSA) godkänd",
        ["informationssakerhet"],
    )
    kind = V1.evidence_kind["ssa_approved"]
    assert [f["name"] for f in need["fields"]] == [f.name for f in kind.fields]
    first = need["fields"][0]
    assert first == {
        "name": "information_class",
        "title": "Informationsklassning (högsta nivå)",
        "type": "choice",
        "required": True,
        "choices": ["1", "2", "3", "4"],
        "items": None,
    }
    sensitive = next(f for f in need["fields"] if f["name"] == "sensitive_data")
    assert sensitive["required"] is False
    assert "Informationssäkerhet" in need["hint"] and "ssa_approved" in need["hint"]


def test_a_list_field_lists_the_fields_of_its_items() -> None:
    [need] = evidence_for(V1, gate("approve_acceptance", "all_skakrav_passed"), "acceptanstest")[1:]
    assert need.kind == "acceptance_round"
    [results] = need.as_dict()["fields"]
    assert results["type"] == "list"
    assert [(f["name"], f["choices"]) for f in results["items"]] == [
        ("id", None),
        ("result", ["godkand", "underkand", "ej_testad"]),
        ("note", None),
    ]


def test_values_the_gate_requires_are_named() -> None:
    [need] = evidence_for(V1, gate("complete_forstudie", "objektledare_involved"), "forstudie")
    assert need.kind == "forstudie_done"
    assert dict(need.values) == {"objektledare_involved": True}
    assert "med ”Objektledare IT involverad” = ja" in need.hint


@pytest.mark.parametrize(
    ("trigger", "gate_id", "state", "kinds"),
    [
        # Both the list and a round lift the acceptance gate.
        (
            "approve_acceptance",
            "all_skakrav_passed",
            "acceptanstest",
            ["acceptance_requirements", "acceptance_round"],
        ),
        # Only a new sign-off lifts the sign-off gate; a round does not.
        (
            "approve_acceptance",
            "objektledare_signoff_for_systems",
            "acceptanstest",
            ["acceptance_signoff_objektledare"],
        ),
        # During the standstill only time lifts it: the award decision cannot be recorded in
        # avtalsspärr, a review would extend it and the court's decision starts ten more days.
        ("end_standstill", "standstill_ended", "avtalsparr", []),
        ("send_award_decision", "award_decision_sent", "tilldelning", ["award_decision_sent"]),
        ("sign_contract", "contract_signed_with_mandate", "avtalstecknande", ["contract_signed"]),
    ],
)
def test_only_kinds_that_lift_the_gate_and_can_be_recorded_now(
    trigger: str, gate_id: str, state: str, kinds: list[str]
) -> None:
    assert [n.kind for n in evidence_for(V1, gate(trigger, gate_id), state)] == kinds


def test_an_unknown_kind_lists_the_kinds_of_the_phase() -> None:
    with pytest.raises(UnknownEvidenceKind) as exc:
        check_evidence(V1, case("ssa"), kind_id="ssa", actor=INFORMATIONSSAKERHET, data={})
    assert exc.value.kind == "not_found"
    kinds = [k["kind"] for k in exc.value.extra()["kinds"]]
    assert kinds == [k.id for k in V1.evidence_kinds if k.phases is None or "ssa" in k.phases]
    assert "ssa_approved" in kinds and "forstudie_done" not in kinds
    assert "ssa_approved" in exc.value.detail and "Systemsäkerhetsanalys" in exc.value.detail
    assert kinds_in_phase(V1, "avslutad") == ()


def test_the_preview_carries_what_lifts_each_blocked_gate_and_nothing_for_open_ones() -> None:
    steps = {
        s.trigger.id: s
        for s in preview(V1, case("ssa"), Evidence(), actor=UPPHANDLARE, today=TODAY)
    }
    step = steps["complete_ssa"]
    assert step.trigger.roles == ["informationssakerhet", "upphandlare"]
    assert [n.kind for n in step.needs["ssa_required_for_systems"]] == ["ssa_approved"]
    assert dict(steps["cancel"].needs) == {}  # no gates
    hardware = case("ssa", subcategory="IT-hårdvara")
    [open_step] = [
        s
        for s in preview(V1, hardware, Evidence(), actor=UPPHANDLARE, today=TODAY)
        if s.trigger.id == "complete_ssa"
    ]
    assert open_step.ready and dict(open_step.needs) == {}
