"""The engine: deciding transitions, previewing what a case offers and validating evidence."""

from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Any

import pytest

from fakes import ContextLookups
from upphandla.seeds.loader import DEFINITIONS, read_yaml
from upphandla.states.attributes import CaseAttributes
from upphandla.states.case import CaseSnapshot, Evidence, EvidenceRecord
from upphandla.states.checks_lists import ChecklistParams
from upphandla.states.definition import Definition
from upphandla.states.delegation import Mandate, mandate_record
from upphandla.states.engine import Decision, check_evidence, decide, offered, preview
from upphandla.states.errors import (
    Conflict,
    EvidenceRefused,
    Forbidden,
    Invalid,
    NotFound,
    TransitionRefused,
)
from upphandla.states.machine import Lifecycle
from upphandla.states.parse import parse_definition
from upphandla.states.roles import Actor

TODAY = date(2026, 3, 10)
UPPHANDLARE = Actor(1, "Anna Upphandlare", "upphandlare")
BESTALLARE = Actor(2, "Bo Beställare", "bestallare")
DELEGAT = Actor(3, "Dan Delegat", "delegat")
CONTROLLER = Actor(4, "Cia Controller", "controller")
INFOSAK = Actor(5, "Ida Informationssäkerhet", "informationssakerhet")
SAKERHET = Actor(6, "Sam Säkerhet", "sakerhet")


@pytest.fixture(scope="module")
def v1() -> Definition:
    return parse_definition(read_yaml(DEFINITIONS / "it-upphandling.v1.yaml"))


@pytest.fixture(scope="module")
def lifecycle(v1: Definition) -> Lifecycle:
    return Lifecycle(v1)


def attributes(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "title": "Nytt verksamhetssystem för socialtjänsten",
        "organisation": "Socialförvaltningen",
        "subcategory": "Verksamhetssystem",
        "route": "annonserad",
        "estimated_value_sek": 4_000_000,
        "personal_data": True,
        "citizen_facing": True,
        "critical_service": True,
        "uses_ai": False,
        "cloud_service": True,
        "consultants": False,
        "hardware": False,
    }
    base.update(overrides)
    return CaseAttributes.model_validate(base).model_dump()


def case(
    state: str,
    key: str = "it-upphandling",
    context: dict[str, Any] | None = None,
    **overrides: Any,
) -> CaseSnapshot:
    return CaseSnapshot(
        id=11,
        definition_key=key,
        definition_version=1,
        state=state,
        attributes=attributes(**overrides),
        phase_entered_on=date(2026, 3, 2),
        lookups=ContextLookups(context),
    )


# What the use-case layer puts in the context after screening against a list without hits.
SCREENED = {"sanctions": {"list_date": "2026-01-01", "hits": []}}


def record(kind: str, role: str, **data: Any) -> EvidenceRecord:
    return EvidenceRecord(
        kind=kind,
        data=data,
        recorded_at=datetime(2026, 3, 2, 9, tzinfo=timezone.utc),
        recorded_by="Anna",
        role=role,
    )


def run_decide(
    definition: Definition,
    lc: Lifecycle,
    snapshot: CaseSnapshot,
    evidence: Evidence,
    trigger: str,
    actor: Actor,
    comment: str | None = None,
    today: date = TODAY,
) -> Decision:
    return decide(
        definition,
        lc,
        snapshot,
        evidence,
        trigger_id=trigger,
        actor=actor,
        today=today,
        comment=comment,
    )


# -- a small definition with two gates on one trigger --------------------------------------------
SMALL: dict[str, Any] = {
    "key": "liten",
    "version": 1,
    "title": "Liten process",
    "effective_from": "2026-01-01",
    "initial": "start",
    "phases": [
        {"id": "start", "title": "Start"},
        {"id": "klar", "title": "Klar", "final": True},
    ],
    "evidence_kinds": [
        {"id": "plan", "title": "Plan", "roles": ["upphandlare"], "fields": []},
        {
            "id": "granskning",
            "title": "Granskning",
            "roles": ["sakerhet"],
            "fields": [{"name": "approved", "title": "Godkänd", "type": "bool"}],
        },
    ],
    "triggers": [
        {
            "id": "finish",
            "title": "Avsluta",
            "source": ["start"],
            "dest": "klar",
            "roles": ["upphandlare"],
            "gates": [
                {
                    "id": "plan_done",
                    "title": "Plan klar",
                    "check": "evidence_recorded",
                    "params": {"kind": "plan"},
                    "message": "En plan ska finnas.",
                    "source": "§ 9.2.5",
                },
                {
                    "id": "review_done",
                    "title": "Granskning",
                    "check": "evidence_recorded",
                    "params": {"kind": "granskning", "where": {"approved": True}},
                    "applies_when": {"fact": "critical_service", "eq": True},
                    "message": "Granskningen ska vara godkänd.",
                    "source": "§ 5.2.2",
                },
            ],
        }
    ],
}


def test_decide_refuses_with_every_failing_gate_of_a_small_definition() -> None:
    d = parse_definition(SMALL)
    lc = Lifecycle(d)
    snapshot = case("start", key="liten", critical_service=True)
    with pytest.raises(TransitionRefused) as exc:
        run_decide(d, lc, snapshot, Evidence(), "finish", UPPHANDLARE)
    assert [(r.gate, r.message, r.source) for r in exc.value.reasons] == [
        ("plan_done", "En plan ska finnas.", "§ 9.2.5"),
        ("review_done", "Granskningen ska vara godkänd.", "§ 5.2.2"),
    ]
    assert exc.value.trigger == "finish"
    assert "2 villkor" in exc.value.detail
    assert exc.value.extra()["reasons"][1] == {
        "gate": "review_done",
        "message": "Granskningen ska vara godkänd.",
        "source": "§ 5.2.2",
        # What lifts it: the kind the gate asks for, who records it, its fields and the value.
        "evidence": [
            {
                "kind": "granskning",
                "title": "Granskning",
                "roles": ["sakerhet"],
                "fields": [
                    {
                        "name": "approved",
                        "title": "Godkänd",
                        "type": "bool",
                        "required": True,
                        "choices": None,
                        "items": None,
                    }
                ],
                "values": {"approved": True},
                "hint": "Registrera ”Granskning” (granskning) med ”Godkänd” = ja. Får registreras "
                "av Trygghets- och säkerhetssektionen.",
            }
        ],
    }


def test_decide_refuses_with_only_the_gates_that_still_fail() -> None:
    d = parse_definition(SMALL)
    snapshot = case("start", key="liten", critical_service=True)
    evidence = Evidence.of([record("plan", "upphandlare")])
    with pytest.raises(TransitionRefused) as exc:
        run_decide(d, Lifecycle(d), snapshot, evidence, "finish", UPPHANDLARE)
    assert [r.gate for r in exc.value.reasons] == ["review_done"]


def test_decide_moves_when_inapplicable_gates_are_skipped() -> None:
    d = parse_definition(SMALL)
    snapshot = case("start", key="liten", critical_service=False)
    evidence = Evidence.of([record("plan", "upphandlare")])
    decision = run_decide(d, Lifecycle(d), snapshot, evidence, "finish", UPPHANDLARE)
    assert (decision.from_state, decision.to_state) == ("start", "klar")
    assert [(g.gate, g.applies, g.ok) for g in decision.gate_results] == [
        ("plan_done", True, True),
        ("review_done", False, True),
    ]


def test_sign_contract_refused_with_pub_accessibility_and_planning__5_2_1_9_2_13_9_2_5(
    v1: Definition, lifecycle: Lifecycle
) -> None:
    snapshot = case("avtalstecknande", personal_data=True, citizen_facing=True)
    with pytest.raises(TransitionRefused) as exc:
        run_decide(v1, lifecycle, snapshot, Evidence(), "sign_contract", DELEGAT)
    assert [(r.gate, r.source) for r in exc.value.reasons] == [
        ("standstill_ended", "LOU 20 kap. 1–2 §§ och 6 §, § 10.8.8.1, lag (1930:173)"),
        ("contract_signed_with_mandate", "§ 5.4.5, § 9.2.10 b"),
        ("pub_avtal_when_personal_data", "§ 5.2.1, § 6.2, § 9.2.10"),
        ("accessibility_report_when_citizen_facing", "§ 9.2.13"),
        ("implementation_planned", "§ 9.2.5, § 10.6.2"),
        ("contract_registered", "§ 10.3, § 6.4"),
        ("sanctions_check", "§ 10.11; EU-förordning 833/2014 art. 5k"),  # screened again
    ]
    # Without personal data and for an internal system, those two gates do not apply.
    internal = case("avtalstecknande", personal_data=False, citizen_facing=False)
    with pytest.raises(TransitionRefused) as exc:
        run_decide(v1, lifecycle, internal, Evidence(), "sign_contract", DELEGAT)
    assert [r.gate for r in exc.value.reasons] == [
        "standstill_ended",
        "contract_signed_with_mandate",
        "implementation_planned",
        "contract_registered",
        "sanctions_check",
    ]


# The checklist items that apply to the default case (a citizen-facing, critical Verksamhetssystem
# with personal data) before any SSA is recorded, in the definition's order.
APPLICABLE_WITHOUT_SSA = [
    "wcag_2_1_aa",
    "encryption_2fa_traceability",
    "pub_instruction",
    "confidentiality",
    "exit_strategy",
    "sla",
    "crisis_clauses",
    "circular_element",
    "usability",
    "testability",
]


def checklist_sources(v1: Definition, item_ids: list[str]) -> list[str]:
    spec = next(g for g in v1.trigger["publish_tender"].gates if g.check == "checklist_covered")
    items = {item.id: item for item in spec.params_as(ChecklistParams).items}
    return [items[i].source for i in item_ids]


def included(*items: str) -> list[EvidenceRecord]:
    return [
        record("requirement_included", "upphandlare", item=i, reference=f"Bilaga 1, {i}")
        for i in items
    ]


def test_publish_tender_refused_with_requirements_and_crisis_review__9_2_4_k_5_2_2(
    v1: Definition, lifecycle: Lifecycle
) -> None:
    snapshot = case("kravstallning", critical_service=True)
    with pytest.raises(TransitionRefused) as exc:
        run_decide(v1, lifecycle, snapshot, Evidence(), "publish_tender", UPPHANDLARE)
    reasons = exc.value.reasons
    # One reason per requirement missing from the checklist, each citing its own source.
    assert [r.gate for r in reasons] == [
        "requirements_done",
        *["requirement_set_complete"] * len(APPLICABLE_WITHOUT_SSA),
        "crisis_review_for_critical",
    ]
    assert [r.source for r in reasons[1:-1]] == checklist_sources(v1, APPLICABLE_WITHOUT_SSA)
    assert reasons[0].source == "§ 9.2.4 k"
    assert reasons[-1].source == "§ 5.2.2, § 9.2.14"


def test_refused_transition_is_a_conflict(v1: Definition, lifecycle: Lifecycle) -> None:
    with pytest.raises(Conflict) as exc:
        run_decide(
            v1, lifecycle, case("behovsanalys"), Evidence(), "complete_behovsanalys", BESTALLARE
        )
    assert isinstance(exc.value, TransitionRefused)
    assert exc.value.kind == "conflict"


# -- refusals before the gates -------------------------------------------------------------------
def test_unknown_trigger_is_not_found(v1: Definition, lifecycle: Lifecycle) -> None:
    with pytest.raises(NotFound) as exc:
        run_decide(v1, lifecycle, case("behovsanalys"), Evidence(), "skip_to_end", UPPHANDLARE)
    assert exc.value.key == "unknown_trigger"
    assert exc.value.kind == "not_found"
    assert "skip_to_end" in exc.value.detail
    assert "it-upphandling v1" in exc.value.detail


def test_wrong_role_is_forbidden(v1: Definition, lifecycle: Lifecycle) -> None:
    evidence = Evidence.of([record("implementation_planned", "bestallare")])
    with pytest.raises(Forbidden) as exc:
        run_decide(v1, lifecycle, case("avtalstecknande"), evidence, "sign_contract", UPPHANDLARE)
    assert exc.value.key == "role_not_allowed"
    assert "upphandlare" in exc.value.detail
    assert "delegat" in exc.value.detail


def test_controller_cannot_move_a_case(v1: Definition, lifecycle: Lifecycle) -> None:
    with pytest.raises(Forbidden):
        run_decide(v1, lifecycle, case("annonsering"), Evidence(), "close_tender", CONTROLLER)


def test_system_may_end_the_standstill_but_not_sign(v1: Definition, lifecycle: Lifecycle) -> None:
    evidence = Evidence.of(
        [record("award_decision_sent", "upphandlare", sent_on="2026-12-21", electronic=True)]
    )
    decision = run_decide(
        v1,
        lifecycle,
        case("avtalsparr"),
        evidence,
        "end_standstill",
        Actor.system(),
        today=date(2027, 1, 5),
    )
    assert decision.to_state == "avtalstecknande"
    with pytest.raises(Forbidden):
        run_decide(
            v1, lifecycle, case("avtalstecknande"), evidence, "sign_contract", Actor.system()
        )


def test_trigger_not_from_this_state_is_a_conflict(v1: Definition, lifecycle: Lifecycle) -> None:
    with pytest.raises(Conflict) as exc:
        run_decide(v1, lifecycle, case("behovsanalys"), Evidence(), "close_tender", UPPHANDLARE)
    assert exc.value.key == "trigger_not_available"
    assert not isinstance(exc.value, TransitionRefused)
    assert "behovsanalys" in exc.value.detail


@pytest.mark.parametrize("final", ["avslutad", "avbruten"])
def test_final_state_is_a_conflict(v1: Definition, lifecycle: Lifecycle, final: str) -> None:
    with pytest.raises(Conflict) as exc:
        run_decide(v1, lifecycle, case(final), Evidence(), "cancel", UPPHANDLARE, comment="igen")
    assert exc.value.key == "case_closed"
    assert final in exc.value.detail


@pytest.mark.parametrize("comment", [None, "", "   \n"])
def test_cancel_requires_a_comment(
    v1: Definition, lifecycle: Lifecycle, comment: str | None
) -> None:
    with pytest.raises(Invalid) as exc:
        run_decide(v1, lifecycle, case("forstudie"), Evidence(), "cancel", BESTALLARE, comment)
    assert exc.value.key == "comment_required"
    assert exc.value.kind == "invalid"


def test_cancel_with_a_comment_ends_the_case(v1: Definition, lifecycle: Lifecycle) -> None:
    decision = run_decide(
        v1,
        lifecycle,
        case("tilldelning"),
        Evidence(),
        "cancel",
        BESTALLARE,
        comment="Behovet har försvunnit efter omorganisation.",
    )
    assert (decision.trigger, decision.from_state, decision.to_state) == (
        "cancel",
        "tilldelning",
        "avbruten",
    )
    assert decision.gate_results == ()


def test_cancel_not_allowed_after_signing(v1: Definition, lifecycle: Lifecycle) -> None:
    with pytest.raises(Conflict) as exc:
        run_decide(v1, lifecycle, case("acceptanstest"), Evidence(), "cancel", BESTALLARE, "x")
    assert exc.value.key == "trigger_not_available"


# -- routes: available_when ----------------------------------------------------------------------
def test_publish_tender_not_offered_for_direktupphandling__10_7_4(
    v1: Definition, lifecycle: Lifecycle
) -> None:
    snapshot = case("kravstallning", route="direktupphandling", estimated_value_sek=300_000)
    ids = [t.id for t in offered(v1, snapshot, Evidence())]
    assert "publish_tender" not in ids
    assert "direct_award" in ids
    evidence = Evidence.of([record("requirements_done", "upphandlare", summary="Krav")])
    with pytest.raises(Conflict) as exc:
        run_decide(v1, lifecycle, snapshot, evidence, "publish_tender", UPPHANDLARE)
    assert exc.value.key == "trigger_not_offered"
    assert not isinstance(exc.value, TransitionRefused)


def test_direct_award_goes_straight_to_signing__10_7_4(
    v1: Definition, lifecycle: Lifecycle
) -> None:
    snapshot = case(
        "kravstallning",
        route="direktupphandling",
        estimated_value_sek=300_000,
        context=SCREENED,
    )
    with pytest.raises(TransitionRefused) as exc:
        run_decide(v1, lifecycle, snapshot, Evidence(), "direct_award", UPPHANDLARE)
    assert [(r.gate, r.source) for r in exc.value.reasons] == [
        ("direct_award_objektledare_consulted", "§ 9.2.7, § 10.7.4"),
        ("direct_award_ssa", "§ 10.7.4"),
        ("direct_award_it_templates", "§ 9.2.7, § 10.7.4"),
        ("requirements_done", "§ 9.2.4 k"),
        ("sanctions_check", "§ 10.11; EU-förordning 833/2014 art. 5k"),
    ]
    evidence = Evidence.of(
        [
            record("objektledare_consulted", "objektledare_it", comment="Passar"),
            record(
                "ssa_approved",
                "informationssakerhet",
                information_class="2",
                nis_scope=False,
                personal_data=True,
                critical_for_society=False,
                security_level="bas",
                third_country_transfer=False,
            ),
            record("it_templates_used", "upphandlare", templates="Kravmall IT 2026"),
            record("requirements_done", "upphandlare", summary="Krav"),
            record(
                "sanctions_declaration",
                "upphandlare",
                parties=[
                    {
                        "name": "Leverantören AB",
                        "relation": "leverantor",
                        "share_percent": 100,
                        "declaration": True,
                    }
                ],
            ),
        ]
    )
    decision = run_decide(v1, lifecycle, snapshot, evidence, "direct_award", UPPHANDLARE)
    assert decision.to_state == "avtalstecknande"
    # 300 000 kr is under the direct-award threshold in force (§ 10.7.4).
    threshold = decision.gate_results[0]
    assert (threshold.gate, threshold.applies, threshold.ok) == (
        "direct_award_below_threshold",
        True,
        True,
    )


@pytest.mark.parametrize(
    ("route", "way_on"),
    [
        ("annonserad", "publish_tender"),
        ("avrop", "call_off"),
        ("fornyad_konkurrensutsattning", "publish_tender"),
        ("dis", "publish_tender"),
    ],
)
def test_direct_award_not_offered_for_other_routes(
    v1: Definition, lifecycle: Lifecycle, route: str, way_on: str
) -> None:
    snapshot = case("kravstallning", route=route)
    ids = [t.id for t in offered(v1, snapshot, Evidence())]
    assert ids == [way_on, "cancel"]
    with pytest.raises(Conflict) as exc:
        run_decide(v1, lifecycle, snapshot, Evidence(), "direct_award", UPPHANDLARE)
    assert exc.value.key == "trigger_not_offered"


# -- preview -------------------------------------------------------------------------------------
def test_preview_lists_offered_triggers_with_role_and_gate_results(v1: Definition) -> None:
    snapshot = case("kravstallning", critical_service=True)
    evidence = Evidence.of([record("requirements_done", "upphandlare", summary="Krav")])
    previews = {
        p.trigger.id: p for p in preview(v1, snapshot, evidence, actor=UPPHANDLARE, today=TODAY)
    }
    assert set(previews) == {"publish_tender", "cancel"}
    publish = previews["publish_tender"]
    assert publish.role_allowed
    assert [(g.gate, g.applies, g.ok) for g in publish.gate_results] == [
        ("requirements_done", True, True),
        ("requirement_set_complete", True, False),
        ("crisis_review_for_critical", True, False),
    ]
    assert not publish.ready
    assert previews["cancel"].ready
    assert previews["cancel"].gate_results == ()


def test_preview_marks_triggers_the_role_may_not_fire(v1: Definition) -> None:
    snapshot = case("kravstallning")
    previews = {
        p.trigger.id: p for p in preview(v1, snapshot, Evidence(), actor=SAKERHET, today=TODAY)
    }
    assert previews["publish_tender"].role_allowed is False
    assert previews["cancel"].role_allowed is False
    bestallare = {
        p.trigger.id: p.role_allowed
        for p in preview(v1, snapshot, Evidence(), actor=BESTALLARE, today=TODAY)
    }
    assert bestallare == {"publish_tender": False, "cancel": True}


def test_preview_ready_when_every_gate_passes_or_does_not_apply(v1: Definition) -> None:
    snapshot = case("kravstallning", critical_service=False)
    # Without a critical service, neither the crisis review nor its clauses apply.
    items = [i for i in APPLICABLE_WITHOUT_SSA if i != "crisis_clauses"]
    evidence = Evidence.of(
        [record("requirements_done", "upphandlare", summary="Krav"), *included(*items)]
    )

    def publish(evidence: Evidence) -> Any:
        [p] = [
            p
            for p in preview(v1, snapshot, evidence, actor=UPPHANDLARE, today=TODAY)
            if p.trigger.id == "publish_tender"
        ]
        return p

    assert publish(evidence).ready
    assert [(g.applies, g.ok) for g in publish(evidence).gate_results] == [
        (True, True),
        (True, True),
        (False, True),
    ]
    # One applicable item short, and it is not ready.
    fewer = Evidence.of([r for r in evidence.records if r.data.get("item") != "testability"])
    assert not publish(fewer).ready


def test_preview_of_a_direct_award_hides_publish_tender(v1: Definition) -> None:
    snapshot = case("kravstallning", route="direktupphandling", estimated_value_sek=100_000)
    ids = [p.trigger.id for p in preview(v1, snapshot, Evidence(), actor=UPPHANDLARE, today=TODAY)]
    assert ids == ["direct_award", "cancel"]


def test_preview_standstill_uses_today(v1: Definition) -> None:
    snapshot = case("avtalsparr")
    evidence = Evidence.of(
        [record("award_decision_sent", "upphandlare", sent_on="2026-12-21", electronic=True)]
    )

    def ready(today: date) -> bool:
        [p] = [
            p
            for p in preview(v1, snapshot, evidence, actor=Actor.system(), today=today)
            if p.trigger.id == "end_standstill"
        ]
        return p.ready

    assert not ready(date(2027, 1, 4))
    assert ready(date(2027, 1, 5))


@pytest.mark.parametrize("final", ["avslutad", "avbruten"])
def test_preview_of_a_closed_case_is_empty(v1: Definition, final: str) -> None:
    assert preview(v1, case(final), Evidence(), actor=UPPHANDLARE, today=TODAY) == []


# -- check_evidence ------------------------------------------------------------------------------
def check(v1: Definition, state: str, kind: str, actor: Actor, data: Any) -> dict[str, Any]:
    return check_evidence(v1, case(state), kind_id=kind, actor=actor, data=data, today=TODAY)


def problem_paths(exc: pytest.ExceptionInfo[Invalid]) -> dict[str, str]:
    return {p.path: p.message for p in exc.value.problems}


def test_check_evidence_parses_a_date_and_keeps_a_bool(v1: Definition) -> None:
    data = check(
        v1,
        "tilldelning",
        "award_decision_sent",
        UPPHANDLARE,
        {"sent_on": "2026-03-05", "electronic": True, "value_sek": 4_000_000},
    )
    assert data == {"sent_on": "2026-03-05", "electronic": True, "value_sek": 4_000_000}


def test_check_evidence_accepts_a_date_object_and_stores_it_as_iso(v1: Definition) -> None:
    data = check(
        v1,
        "tilldelning",
        "award_decision_sent",
        UPPHANDLARE,
        {"sent_on": date(2026, 3, 5), "electronic": False, "value_sek": 4_000_000},
    )
    assert data == {"sent_on": "2026-03-05", "electronic": False, "value_sek": 4_000_000}


def test_check_evidence_refuses_a_malformed_date(v1: Definition) -> None:
    with pytest.raises(Invalid) as exc:
        check(
            v1,
            "tilldelning",
            "award_decision_sent",
            UPPHANDLARE,
            {"sent_on": "21/12/2026", "electronic": True, "value_sek": 4_000_000},
        )
    assert list(problem_paths(exc)) == ["data.sent_on"]
    assert "ÅÅÅÅ-MM-DD" in problem_paths(exc)["data.sent_on"]


def test_check_evidence_refuses_a_number_for_a_date(v1: Definition) -> None:
    # 1766275200 is a Unix time (2025-12-21); a number is not a date.
    with pytest.raises(Invalid) as exc:
        check(
            v1,
            "tilldelning",
            "award_decision_sent",
            UPPHANDLARE,
            {"sent_on": 1766275200, "electronic": True, "value_sek": 4_000_000},
        )
    assert list(problem_paths(exc)) == ["data.sent_on"]


@pytest.mark.parametrize("value", ["true", 1, "ja", None])
def test_check_evidence_refuses_a_non_bool_for_a_bool(v1: Definition, value: Any) -> None:
    with pytest.raises(Invalid) as exc:
        check(
            v1,
            "tilldelning",
            "award_decision_sent",
            UPPHANDLARE,
            {"sent_on": "2026-12-21", "electronic": value, "value_sek": 4_000_000},
        )
    assert exc.value.key == "evidence_invalid"
    assert list(problem_paths(exc)) == ["data.electronic"]


def test_check_evidence_refuses_an_unknown_field(v1: Definition) -> None:
    with pytest.raises(Invalid) as exc:
        check(
            v1,
            "tilldelning",
            "award_decision_sent",
            UPPHANDLARE,
            {"sent_on": "2026-12-21", "electronic": True, "value_sek": 4_000_000, "by": "mail"},
        )
    assert problem_paths(exc) == {"data.by": "okänt fält"}


def test_check_evidence_refuses_a_missing_required_field(v1: Definition) -> None:
    with pytest.raises(Invalid) as exc:
        check(v1, "tilldelning", "award_decision_sent", UPPHANDLARE, {"sent_on": "2026-12-21"})
    assert problem_paths(exc) == {
        "data.electronic": "fältet saknas",
        "data.value_sek": "fältet saknas",
    }


def test_check_evidence_reports_every_missing_field_of_empty_data(v1: Definition) -> None:
    with pytest.raises(Invalid) as exc:
        check(v1, "tilldelning", "award_decision_sent", UPPHANDLARE, None)
    assert problem_paths(exc) == {
        "data.sent_on": "fältet saknas",
        "data.electronic": "fältet saknas",
        "data.value_sek": "fältet saknas",
    }


def test_check_evidence_refuses_data_that_is_not_an_object(v1: Definition) -> None:
    with pytest.raises(Invalid) as exc:
        check(v1, "tilldelning", "award_decision_sent", UPPHANDLARE, ["2026-12-21", True])
    assert list(problem_paths(exc)) == ["data"]


def test_check_evidence_optional_field_may_be_left_out(v1: Definition) -> None:
    data = check(v1, "kravstallning", "crisis_review_done", SAKERHET, {"approved": True})
    assert data == {"approved": True}


def test_check_evidence_text_is_stripped_and_blank_text_refused(v1: Definition) -> None:
    assert check(
        v1, "kravstallning", "requirements_done", UPPHANDLARE, {"summary": "  Krav  "}
    ) == {"summary": "Krav"}
    with pytest.raises(Invalid) as exc:
        check(v1, "kravstallning", "requirements_done", UPPHANDLARE, {"summary": "   "})
    assert list(problem_paths(exc)) == ["data.summary"]


def test_check_evidence_refuses_a_number_for_text(v1: Definition) -> None:
    with pytest.raises(Invalid) as exc:
        check(v1, "kravstallning", "requirements_done", UPPHANDLARE, {"summary": 5})
    assert problem_paths(exc) == {"data.summary": "ska vara en text"}


def test_check_evidence_choice_must_be_one_of_the_choices(v1: Definition) -> None:
    ok = {
        "information_class": "3",
        "nis_scope": True,
        "personal_data": True,
        "critical_for_society": True,
        "security_level": "hog",
        "third_country_transfer": False,
    }
    assert check(v1, "ssa", "ssa_approved", INFOSAK, ok) == ok
    with pytest.raises(Invalid) as exc:
        check(v1, "ssa", "ssa_approved", INFOSAK, {**ok, "information_class": 3})
    assert list(problem_paths(exc)) == ["data.information_class"]
    with pytest.raises(Invalid):
        check(v1, "ssa", "ssa_approved", INFOSAK, {**ok, "security_level": "extrem"})


def test_check_evidence_refuses_a_role_not_allowed(v1: Definition) -> None:
    with pytest.raises(Forbidden) as exc:
        check(v1, "ssa", "ssa_approved", UPPHANDLARE, {})
    assert exc.value.key == "role_not_allowed"
    assert "informationssakerhet" in exc.value.detail


def test_check_evidence_refuses_a_phase_not_allowed(v1: Definition) -> None:
    with pytest.raises(Conflict) as exc:
        check(
            v1,
            "avtalstecknande",
            "award_decision_sent",
            UPPHANDLARE,
            {"sent_on": "2026-12-21", "electronic": True, "value_sek": 4_000_000},
        )
    assert exc.value.key == "evidence_not_in_phase"
    assert "avtalstecknande" in exc.value.detail


def test_check_evidence_refuses_an_unknown_kind(v1: Definition) -> None:
    with pytest.raises(NotFound) as exc:
        check(v1, "ssa", "ssa_done", INFOSAK, {})
    assert exc.value.key == "unknown_evidence_kind"


def test_check_evidence_refuses_a_closed_case(v1: Definition) -> None:
    with pytest.raises(Conflict) as exc:
        check(v1, "avslutad", "exit_done", UPPHANDLARE, {"data_returned": True})
    assert exc.value.key == "case_closed"


def test_pub_avtal_may_be_recorded_in_several_phases__6_2(v1: Definition) -> None:
    data = {"signed_on": "2026-05-01", "reference": "KS 2026/17"}
    for state in ("avtalsparr", "avtalstecknande", "acceptanstest", "inforande", "forvaltning"):
        assert check(v1, state, "pub_avtal_signed", Actor(9, "Dina", "dso"), data) == data
    with pytest.raises(Conflict):
        check(v1, "avslut", "pub_avtal_signed", Actor(9, "Dina", "dso"), data)


# -- check_evidence: the kind's own gates ----------------------------------------------------------
def test_check_evidence_refuses_a_signature_beyond_the_mandate__5_4_5(v1: Definition) -> None:
    """The mandate is compared with the case's recorded value (here the awarded 12 000 000 kr,
    in a decision sent long enough ago that the standstill has ended); the signatory gives none."""
    data = {"signed_on": "2026-03-10", "supplier": "Leverantören AB"}
    awarded = Evidence.of(
        [
            record(
                "award_decision_sent",
                "upphandlare",
                sent_on="2026-01-20",
                electronic=True,
                value_sek=12_000_000,
            )
        ]
    )
    small = mandate_record(
        Mandate(id="forvaltningschef", title="Förvaltningschef", max_value_sek=10_000_000)
    )
    with pytest.raises(EvidenceRefused) as exc:
        check_evidence(
            v1,
            case("avtalstecknande"),
            kind_id="contract_signed",
            actor=DELEGAT,
            data=data,
            evidence=awarded,
            today=TODAY,
            extra=small,
        )
    assert [(r.gate, r.source) for r in exc.value.reasons] == [
        ("signatory_mandate", "§ 5.4.5, § 9.2.10 b")
    ]
    assert "Förvaltningschef" in exc.value.reasons[0].message
    assert exc.value.kind_id == "contract_signed"
    assert isinstance(exc.value, Conflict)

    large = mandate_record(
        Mandate(id="kommundirektor", title="Kommundirektör", max_value_sek=50_000_000)
    )
    clean = check_evidence(
        v1,
        case("avtalstecknande"),
        kind_id="contract_signed",
        actor=DELEGAT,
        data=data,
        evidence=awarded,
        today=TODAY,
        extra=large,
    )
    # The mandate used is kept with the record.
    assert clean == {**data, **large}


def test_a_signature_during_the_standstill_is_refused__lou_20_kap(v1: Definition) -> None:
    during = Evidence.of(
        [record("award_decision_sent", "upphandlare", sent_on="2026-03-05", electronic=True)]
    )
    mandate = mandate_record(
        Mandate(id="kommundirektor", title="Kommundirektör", max_value_sek=50_000_000)
    )
    with pytest.raises(EvidenceRefused) as exc:
        check_evidence(
            v1,
            case("avtalsparr"),
            kind_id="contract_signed",
            actor=DELEGAT,
            data={"signed_on": "2026-03-10", "supplier": "Leverantören AB"},
            evidence=during,
            today=TODAY,
            extra=mandate,
        )
    assert [r.gate for r in exc.value.reasons] == ["standstill_ended"]
    assert "2026-03-16" in exc.value.reasons[0].message  # 10 days from 03-05, a Sunday -> Monday


def test_check_evidence_gates_count_the_evidence_already_recorded__9_2_5(v1: Definition) -> None:
    results = {"results": [{"id": "K1", "result": "godkand"}]}

    def check_round(evidence: Evidence) -> dict[str, Any]:
        return check_evidence(
            v1,
            case("acceptanstest"),
            kind_id="acceptance_round",
            actor=BESTALLARE,
            data=results,
            evidence=evidence,
            today=TODAY,
        )

    with pytest.raises(EvidenceRefused) as exc:
        check_round(Evidence())
    assert [r.gate for r in exc.value.reasons] == [
        "supplier_ready_before_testing",
        "requirement_list_before_testing",
    ]
    ready = Evidence.of(
        [
            record(
                "acceptance_requirements",
                "bestallare",
                requirements=[{"id": "K1", "text": "Tvåfaktor", "level": "ska"}],
            ),
            record("supplier_ready", "bestallare", ready_on="2026-03-09"),
        ]
    )
    assert check_round(ready) == results


def test_a_refusal_counts_its_unmet_conditions_in_proper_swedish() -> None:
    d = parse_definition(SMALL)
    lc = Lifecycle(d)
    with pytest.raises(TransitionRefused) as one:
        snapshot = case("start", key="liten", critical_service=False)
        run_decide(d, lc, snapshot, Evidence(), "finish", UPPHANDLARE)
    assert one.value.detail.endswith(": 1 villkor är inte uppfyllt.")
    with pytest.raises(TransitionRefused) as two:
        run_decide(
            d, lc, case("start", key="liten", critical_service=True), Evidence(), "finish",
            UPPHANDLARE,
        )  # fmt: skip
    assert two.value.detail.endswith(": 2 villkor är inte uppfyllda.")
