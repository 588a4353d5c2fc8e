"""The engine: deciding transitions, previewing what a case offers and validating evidence."""

from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Any

import pytest

from seeds.loader import DEFINITIONS, read_yaml
from states.attributes import CaseAttributes
from states.case import CaseSnapshot, Evidence, EvidenceRecord
from states.definition import Definition, parse_definition
from states.engine import Decision, check_evidence, decide, offered, preview
from states.errors import Conflict, Forbidden, Invalid, NotFound, TransitionRefused
from states.machine import Lifecycle
from states.roles import Actor

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


def case(state: str, key: str = "it-upphandling", **overrides: Any) -> CaseSnapshot:
    return CaseSnapshot(
        id=11,
        definition_key=key,
        definition_version=1,
        state=state,
        attributes=attributes(**overrides),
        phase_entered_on=date(2026, 3, 2),
    )


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
    assert [r.gate for r in exc.value.reasons] == [
        "pub_avtal_when_personal_data",
        "accessibility_report_when_citizen_facing",
        "implementation_planned",
    ]
    assert [r.source for r in exc.value.reasons] == [
        "§ 5.2.1, § 6.2",
        "§ 9.2.13",
        "§ 9.2.5, § 10.6.2",
    ]


def test_publish_tender_refused_with_requirements_and_crisis_review__9_2_4_k_5_2_2(
    v1: Definition, lifecycle: Lifecycle
) -> None:
    snapshot = case("kravstallning", critical_service=True)
    with pytest.raises(TransitionRefused) as exc:
        run_decide(v1, lifecycle, snapshot, Evidence(), "publish_tender", UPPHANDLARE)
    assert [r.gate for r in exc.value.reasons] == [
        "requirements_done",
        "crisis_review_for_critical",
    ]


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
    snapshot = case("kravstallning", route="direktupphandling", estimated_value_sek=300_000)
    with pytest.raises(TransitionRefused) as exc:
        run_decide(v1, lifecycle, snapshot, Evidence(), "direct_award", UPPHANDLARE)
    assert [r.gate for r in exc.value.reasons] == ["requirements_done_direct"]
    assert exc.value.reasons[0].source == "§ 10.7.4"
    evidence = Evidence.of([record("requirements_done", "upphandlare", summary="Krav")])
    decision = run_decide(v1, lifecycle, snapshot, evidence, "direct_award", UPPHANDLARE)
    assert decision.to_state == "avtalstecknande"


@pytest.mark.parametrize("route", ["annonserad", "avrop", "fornyad_konkurrensutsattning", "dis"])
def test_direct_award_not_offered_for_other_routes(
    v1: Definition, lifecycle: Lifecycle, route: str
) -> None:
    snapshot = case("kravstallning", route=route)
    ids = [t.id for t in offered(v1, snapshot, Evidence())]
    assert "publish_tender" in ids
    assert "direct_award" not in ids
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
    evidence = Evidence.of([record("requirements_done", "upphandlare", summary="Krav")])
    [publish] = [
        p
        for p in preview(v1, snapshot, evidence, actor=UPPHANDLARE, today=TODAY)
        if p.trigger.id == "publish_tender"
    ]
    assert publish.ready
    assert [(g.applies, g.ok) for g in publish.gate_results] == [(True, True), (False, True)]


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
    return check_evidence(v1, case(state), kind_id=kind, actor=actor, data=data)


def problem_paths(exc: pytest.ExceptionInfo[Invalid]) -> dict[str, str]:
    return {p.path: p.message for p in exc.value.problems}


def test_check_evidence_parses_a_date_and_keeps_a_bool(v1: Definition) -> None:
    data = check(
        v1,
        "tilldelning",
        "award_decision_sent",
        UPPHANDLARE,
        {"sent_on": "2026-12-21", "electronic": True},
    )
    assert data == {"sent_on": "2026-12-21", "electronic": True}


def test_check_evidence_accepts_a_date_object_and_stores_it_as_iso(v1: Definition) -> None:
    data = check(
        v1,
        "tilldelning",
        "award_decision_sent",
        UPPHANDLARE,
        {"sent_on": date(2026, 12, 21), "electronic": False},
    )
    assert data == {"sent_on": "2026-12-21", "electronic": False}


def test_check_evidence_refuses_a_malformed_date(v1: Definition) -> None:
    with pytest.raises(Invalid) as exc:
        check(
            v1,
            "tilldelning",
            "award_decision_sent",
            UPPHANDLARE,
            {"sent_on": "21/12/2026", "electronic": True},
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
            {"sent_on": 1766275200, "electronic": True},
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
            {"sent_on": "2026-12-21", "electronic": value},
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
            {"sent_on": "2026-12-21", "electronic": True, "by": "mail"},
        )
    assert problem_paths(exc) == {"data.by": "okänt fält"}


def test_check_evidence_refuses_a_missing_required_field(v1: Definition) -> None:
    with pytest.raises(Invalid) as exc:
        check(v1, "tilldelning", "award_decision_sent", UPPHANDLARE, {"sent_on": "2026-12-21"})
    assert problem_paths(exc) == {"data.electronic": "fältet saknas"}


def test_check_evidence_reports_every_missing_field_of_empty_data(v1: Definition) -> None:
    with pytest.raises(Invalid) as exc:
        check(v1, "tilldelning", "award_decision_sent", UPPHANDLARE, None)
    assert problem_paths(exc) == {
        "data.sent_on": "fältet saknas",
        "data.electronic": "fältet saknas",
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
            {"sent_on": "2026-12-21", "electronic": True},
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
    for state in ("avtalstecknande", "acceptanstest", "inforande", "forvaltning"):
        assert check(v1, state, "pub_avtal_signed", Actor(9, "Dina", "dso"), data) == data
    with pytest.raises(Conflict):
        check(v1, "avslut", "pub_avtal_signed", Actor(9, "Dina", "dso"), data)
