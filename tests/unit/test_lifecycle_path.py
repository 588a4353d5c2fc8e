"""The lifecycle path (seeds/lifecycle.yaml) and its planner: which steps a case takes, with which
data, per route and per attribute; and a path that does not fit the definition is refused with
the exact place of each problem."""

from __future__ import annotations

import copy
from datetime import date
from typing import Any

import pytest

from helpers import attributes
from upphandla.seeds.loader import DEFINITIONS, LIFECYCLE, read_yaml
from upphandla.states.attributes import CaseAttributes
from upphandla.states.lifecycle_path import PathError, parse_path
from upphandla.states.parse import parse_definition
from upphandla.states.planner import PlannedStep, plan_steps, recording_data
from upphandla.states.validation import Problem

V1 = parse_definition(read_yaml(DEFINITIONS / "it-upphandling.v1.yaml"))
RAW_PATH = read_yaml(LIFECYCLE)
PATH = parse_path(copy.deepcopy(RAW_PATH), V1)
DAY = date(2026, 3, 10)


def attrs(**overrides: Any) -> dict[str, Any]:
    return CaseAttributes.model_validate({**attributes(), **overrides}).model_dump()


def plan(state: str = "behovsanalys", **kwargs: Any) -> list[PlannedStep]:
    """The steps from `state`, across the path's waits: each plan ends at a step that waits, and
    the next is planned from the phase it leads to (here on the same DAY: the dates of the steps
    after a wait are not what these tests look at)."""
    until = kwargs.pop("until", None)
    recorded = dict(kwargs.pop("recorded", None) or {})
    steps: list[PlannedStep] = []
    while True:
        part = plan_steps(
            PATH,
            V1,
            state=state,
            attributes=attrs(**kwargs),
            today=DAY,
            until=until,
            recorded=recorded,
        )
        steps += part
        if not part or part[-1].wait_days is None:
            return steps
        for step in part:
            if step.kind is not None:
                recorded = {k: v for k, v in recorded.items() if not k.startswith(f"{step.kind}.")}
                recorded |= {f"{step.kind}.{k}": v for k, v in step.data.items()}
        state = V1.trigger[part[-1].trigger or ""].dest


def triggers(steps: list[PlannedStep]) -> list[str]:
    return [s.trigger for s in steps if s.trigger]


def records(steps: list[PlannedStep]) -> list[str]:
    return [s.kind for s in steps if s.kind]


def data_of(steps: list[PlannedStep], kind: str) -> dict[str, Any]:
    (step,) = [s for s in steps if s.kind == kind]
    return dict(step.data)


# -- per route -------------------------------------------------------------------------------------
AFTER_SIGNING = ["sign_contract", "approve_acceptance", "go_live", "start_exit", "close_case"]
BEFORE_REQUIREMENTS = ["complete_behovsanalys", "complete_forstudie", "complete_ssa"]


def test_an_annonserad_case_is_tendered_evaluated_awarded_and_waits_out_the_standstill() -> None:
    steps = plan()
    assert triggers(steps) == [
        *BEFORE_REQUIREMENTS,
        "publish_tender",
        "close_tender",
        "complete_evaluation",
        "send_award_decision",
        "end_standstill",
        *AFTER_SIGNING,
    ]
    # The notice and the award decision go out the day they are recorded; closing the tender and
    # ending the standstill wait until the law lets them.
    assert data_of(steps, "tender_published") == {
        "sent_on": "2026-03-10",
        "procedure": "oppet",
        "electronic": True,
    }
    assert data_of(steps, "award_decision_sent") == {
        "sent_on": "2026-03-10",
        "electronic": True,
        "value_sek": 4_000_000,  # the case's estimate is what the example decision awards
    }
    assert {s.trigger: s.wait_days for s in steps if s.wait_days} == {
        "close_tender": 60,
        "end_standstill": 30,
    }
    assert "sanctions_declaration" in records([s for s in steps if s.phase == "utvardering"])


def test_a_direct_award_documents_reports_and_goes_straight_to_signing() -> None:
    steps = plan(route="direktupphandling", estimated_value_sek=300_000)
    assert triggers(steps) == [*BEFORE_REQUIREMENTS, "direct_award", *AFTER_SIGNING]
    kravstallning = records([s for s in steps if s.phase == "kravstallning"])
    assert kravstallning[-5:] == [
        "sanctions_declaration",
        "objektledare_consulted",
        "it_templates_used",
        "direct_award_documentation",
        "direct_award_reported",
    ]
    assert data_of(steps, "direct_award_documentation")["value_sek"] == 300_000


def test_a_small_direct_award_is_neither_documented_reported_nor_registered() -> None:
    steps = plan(route="direktupphandling", estimated_value_sek=40_000)
    kinds = records(steps)
    assert "direct_award_documentation" not in kinds
    assert "direct_award_reported" not in kinds
    assert "contract_registered" not in kinds
    assert "contract_signed" in kinds


def test_a_call_off_declares_sanctions_before_it_is_made() -> None:
    steps = plan(route="avrop")
    assert triggers(steps) == [*BEFORE_REQUIREMENTS, "call_off", *AFTER_SIGNING]
    kravstallning = records([s for s in steps if s.phase == "kravstallning"])
    assert "sanctions_declaration" in kravstallning
    assert "objektledare_consulted" not in kravstallning


# -- per attribute ---------------------------------------------------------------------------------
def test_records_that_only_some_cases_need() -> None:
    plain = records(plan(subcategory="Övrigt IT"))
    for kind in (
        "internal_competence_checked",
        "ai_assessment_done",
        "crisis_review_done",
        "accessibility_report_received",
        "acceptance_signoff_objektledare",
        "hardware_disposed",
    ):
        assert kind not in plain, kind
    rich = records(
        plan(
            subcategory="IT-hårdvara",
            consultants=True,
            uses_ai=True,
            critical_service=True,
            citizen_facing=True,
        )
    )
    for kind in (
        "internal_competence_checked",
        "ai_assessment_done",
        "crisis_review_done",
        "accessibility_report_received",
        "hardware_disposed",
    ):
        assert kind in rich, kind
    assert "acceptance_signoff_objektledare" in records(plan(subcategory="IT som tjänst"))


def test_conditions_see_the_evidence_planned_and_recorded_before() -> None:
    # The example SSA finds personal data, so a PUB-avtal is signed even when the case's
    # attribute says none; an SSA recorded without personal data leaves it out.
    assert "pub_avtal_signed" in records(plan(personal_data=False))
    recorded = {"ssa_approved.personal_data": False, "ssa_approved.critical_for_society": True}
    steps = plan("kravstallning", personal_data=False, recorded=recorded)
    assert "pub_avtal_signed" not in records(steps)
    assert "crisis_review_done" in records(steps)


def test_one_requirement_record_per_checklist_item() -> None:
    steps = [s for s in plan() if s.kind == "requirement_included"]
    (item,) = [f for f in V1.evidence_kind["requirement_included"].fields if f.name == "item"]
    assert [s.data["item"] for s in steps] == item.choices
    assert {s.data["reference"] for s in steps} == {
        "Förfrågningsunderlaget, bilaga 2 Kravspecifikation"
    }


def test_the_acceptance_round_passes_every_requirement_of_the_list() -> None:
    steps = plan()
    listed = data_of(steps, "acceptance_requirements")["requirements"]
    assert data_of(steps, "acceptance_round") == {
        "results": [{"id": r["id"], "result": "godkand"} for r in listed]
    }
    # A list recorded before (here given as a fact) is answered item by item; with none known,
    # the example round stays.
    facts = {"acceptance_requirements.requirements": [{"id": "A7", "level": "bor"}]}
    assert recording_data(PATH, V1, "acceptance_round", facts=facts, today=DAY) == {
        "results": [{"id": "A7", "result": "godkand"}]
    }
    example = recording_data(PATH, V1, "acceptance_round", facts={}, today=DAY)
    assert [r["id"] for r in example["results"]] == ["K1", "K2", "K3"]


def test_the_contract_takes_its_value_and_flags_from_the_case() -> None:
    steps = plan(estimated_value_sek=7_500_000, personal_data=True, critical_service=True)
    awarded = data_of(steps, "award_decision_sent")
    registered = data_of(steps, "contract_registered")
    assert (awarded["value_sek"], registered["value_sek"]) == (7_500_000, 7_500_000)
    # The signatory records no value: the mandate is compared with the case's.
    assert "value_sek" not in data_of(steps, "contract_signed")
    assert (registered["processes_personal_data"], registered["critical"]) == (True, True)
    assert registered["citizen_facing"] is False
    assert [s.role for s in steps if s.phase == "avtalstecknande"][-2:] == [
        "upphandlare",
        "delegat",
    ]


def test_recording_data_is_what_the_path_records_or_else_the_examples() -> None:
    facts = attrs(estimated_value_sek=123_000)
    assert recording_data(PATH, V1, "award_decision_sent", facts=facts, today=DAY) == {
        "sent_on": "2026-03-10",
        "electronic": True,
        "value_sek": 123_000,
    }
    amendment = recording_data(PATH, V1, "amendment", facts=facts, today=DAY)
    assert amendment == {
        "description": "Utökning med 50 licenser",
        "value_sek": 200_000,
        "legal_ground": "ingen",
    }


# -- where it stops --------------------------------------------------------------------------------
def test_a_plan_stops_at_the_phase_asked_for() -> None:
    steps = plan(until="ssa")
    assert triggers(steps) == ["complete_behovsanalys", "complete_forstudie"]
    assert plan("ssa", until="ssa") == []
    assert triggers(plan("avtalsparr", until="acceptanstest")) == [
        "end_standstill",
        "sign_contract",
    ]


def test_a_phase_the_route_does_not_pass_cannot_be_reached() -> None:
    with pytest.raises(PathError) as exc:
        plan(route="direktupphandling", estimated_value_sek=300_000, until="annonsering")
    assert exc.value.problems == [Problem("phases", "vägen leder inte till ”annonsering”")]


def test_a_final_phase_has_no_steps() -> None:
    assert plan("avslutad") == []
    assert plan("avbruten") == []


# -- a path that does not fit the definition -------------------------------------------------------
def _broken(change: Any) -> list[Problem]:
    raw = copy.deepcopy(RAW_PATH)
    change(raw["phases"])
    with pytest.raises(PathError) as exc:
        parse_path(raw, V1)
    return exc.value.problems


def test_a_path_through_another_definition_is_refused() -> None:
    raw = {**copy.deepcopy(RAW_PATH), "definition": "it-drift"}
    with pytest.raises(PathError) as exc:
        parse_path(raw, V1)
    assert exc.value.problems == [
        Problem("definition", "vägen går genom ”it-drift”, inte ”it-upphandling”")
    ]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            lambda p: p["forstudie"].insert(0, {"role": "upphandlare", "record": "okand"}),
            [Problem("phases.forstudie[0].record", "okänt underlag ”okand”")],
        ),
        (
            lambda p: p["forstudie"][0].update(role="bestallare"),
            [
                Problem(
                    "phases.forstudie[0].role", "”bestallare” får inte registrera ”forstudie_done”"
                )
            ],
        ),
        (
            lambda p: p["forstudie"][0].update(record="handover_done"),
            [
                Problem(
                    "phases.forstudie[0].record",
                    "”handover_done” kan inte registreras i ”forstudie”",
                ),
                Problem(
                    "phases.forstudie[0].role", "”upphandlare” får inte registrera ”handover_done”"
                ),
            ],
        ),
        (
            lambda p: p["forstudie"][1].update(trigger="go_live"),
            [
                Problem("phases.forstudie[1].trigger", "”go_live” leder inte ut ur ”forstudie”"),
                Problem("phases.forstudie[1].role", "”upphandlare” får inte utföra ”go_live”"),
            ],
        ),
        (
            lambda p: p["forstudie"].pop(),
            [Problem("phases.forstudie", "fasen har ingen övergång som för ärendet vidare")],
        ),
        (
            lambda p: p.update(okand=[{"role": "upphandlare", "trigger": "close_case"}]),
            [Problem("phases.okand", "okänd fas ”okand”")],
        ),
        (
            lambda p: p["forstudie"][0].update(when={"fact": "budget", "eq": True}),
            [Problem("phases.forstudie[0].when", "okänt faktum ”budget”")],
        ),
        (
            lambda p: p["forstudie"][0].update(when={"fact": "uses_ai", "eq": "ja"}),
            [Problem("phases.forstudie[0].when", "”uses_ai” jämförs med ett värde av fel typ")],
        ),
        (
            lambda p: p["forstudie"][0].update(each="sourcing_model"),
            [
                Problem(
                    "phases.forstudie[0].each",
                    "”forstudie_done” har inget valfält ”sourcing_model”",
                )
            ],
        ),
        (
            lambda p: p["forstudie"][0].update(
                from_case={"budget": "estimated_value_sek", "lots_considered": "lots"}
            ),
            [
                Problem(
                    "phases.forstudie[0].from_case.budget",
                    "”forstudie_done” har inget fält ”budget”",
                ),
                Problem("phases.forstudie[0].from_case.lots_considered", "okänt faktum ”lots”"),
            ],
        ),
        (
            lambda p: p["acceptanstest"][2]["items"].update(
                list="resultat", of="acceptance_requirements.text"
            ),
            [Problem("phases.acceptanstest[2].items.list", "inget listfält ”resultat”")],
        ),
        (
            lambda p: p["acceptanstest"][2]["items"].update(
                of="supplier_ready.ready_on", keep=["id", "nr"], set={"betyg": 5}
            ),
            [
                Problem(
                    "phases.acceptanstest[2].items.of",
                    "”supplier_ready.ready_on” är inget listfält i något underlag",
                ),
                Problem("phases.acceptanstest[2].items.keep[1]", "”results” har inget fält ”nr”"),
                Problem(
                    "phases.acceptanstest[2].items.set.betyg", "”results” har inget fält ”betyg”"
                ),
            ],
        ),
        (
            lambda p: p["forstudie"][1].update(from_case={"x": "title"}),
            [
                Problem(
                    "phases.forstudie[1]",
                    "from_case, each och items hör bara till steg som registrerar underlag",
                )
            ],
        ),
        (
            lambda p: p["forstudie"][0].update(trigger="complete_forstudie"),
            [Problem("phases.forstudie[0]", "ett steg ska ha exakt en av record eller trigger")],
        ),
    ],
)
def test_a_path_that_does_not_fit_the_definition_is_refused_at_each_place(
    change: Any, expected: list[Problem]
) -> None:
    assert _broken(change) == expected
