"""The rules of time as pure checks of the shipped definition: dates that start legal periods are
bounded by what the case recorded; the minimum tender period (LOU 11 kap. 2 § and 6 §, below the
EU threshold 19 kap. 11 §); what the förvaltningsrätt decided (LOU 20 kap. 6 §) decides the
standstill. Expected days are counted by hand on the Swedish calendar of 2026: Easter Sunday is
5 April, so Långfredagen (3 April) and Annandag påsk (6 April) are not working days."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import Any

import pytest

from fakes import BASE_ATTRIBUTES
from upphandla.seeds.loader import DEFINITIONS, LIFECYCLE, read_yaml
from upphandla.states.attributes import CaseAttributes
from upphandla.states.case import CaseSnapshot, Evidence, EvidenceRecord
from upphandla.states.checks import evaluate
from upphandla.states.deadlines import COURT_DECISION, STANDSTILL_END, case_deadlines
from upphandla.states.definition import Definition, GateSpec
from upphandla.states.gates import GateResult
from upphandla.states.lifecycle_path import PathError, parse_path
from upphandla.states.parse import parse_definition
from upphandla.states.planner import plan_steps
from upphandla.states.thresholds import ThresholdEntry, ThresholdSeries

EU = ThresholdSeries("eu_goods_services")
EU_2024 = ThresholdEntry(
    "eu_goods_services", date(2024, 1, 1), date(2025, 12, 31), 2_389_585, "2023/2495"
)
EU_2026 = ThresholdEntry("eu_goods_services", date(2026, 1, 1), None, 2_300_000, "tillkännagivande")


@pytest.fixture(scope="module")
def v1() -> Definition:
    return parse_definition(read_yaml(DEFINITIONS / "it-upphandling.v1.yaml"))


def trigger_gate(d: Definition, trigger: str, gate_id: str) -> GateSpec:
    return next(g for g in d.trigger[trigger].gates if g.id == gate_id)


def kind_gate(d: Definition, kind: str, gate_id: str) -> GateSpec:
    return next(g for g in d.evidence_kind[kind].gates if g.id == gate_id)


def case(
    state: str, entered: date, *, thresholds: tuple[ThresholdEntry, ...] = (EU_2026,), **attrs: Any
) -> CaseSnapshot:
    base: dict[str, Any] = {**BASE_ATTRIBUTES, **attrs}
    snap = CaseSnapshot(
        id=1,
        definition_key="it-upphandling",
        definition_version=1,
        state=state,
        attributes=CaseAttributes.model_validate(base).model_dump(),
        phase_entered_on=entered,
    )
    return snap.with_lookups({EU: thresholds})


_SEQ = iter(range(1, 10_000))


def rec(kind: str, **data: Any) -> EvidenceRecord:
    """A record; records made later are later in the case's order."""
    at = datetime(2026, 1, 1, tzinfo=timezone.utc) + timedelta(minutes=next(_SEQ))
    return EvidenceRecord(kind, data, at, "Olle Upphandlare", "upphandlare")


def run(spec: GateSpec, snap: CaseSnapshot, evidence: Evidence, today: date) -> GateResult:
    return evaluate(spec, snap, evidence, today, snap.facts(evidence))


def message(result: GateResult) -> str:
    assert not result.ok
    [reason] = result.reasons
    return reason.message


# -- dates that start legal periods are bounded ---------------------------------------------------
def test_a_backdated_award_decision_is_refused_naming_the_phase_entry(v1: Definition) -> None:
    spec = kind_gate(v1, "award_decision_sent", "award_decision_sent_on_bounded")
    snap = case("tilldelning", date(2026, 3, 20))
    backdated = Evidence.of([rec("award_decision_sent", sent_on="2026-02-09", electronic=True)])
    text = message(run(spec, snap, backdated, date(2026, 3, 24)))
    assert text.startswith(spec.message)
    assert "2026-02-09 ligger före den dag ärendet kom till fasen (2026-03-20)" in text
    assert run(spec, snap, backdated, date(2026, 3, 24)).reasons[0].source == "LOU 20 kap. 1–2 §§"


def test_an_award_decision_sent_tomorrow_is_refused_naming_today(v1: Definition) -> None:
    spec = kind_gate(v1, "award_decision_sent", "award_decision_sent_on_bounded")
    snap = case("tilldelning", date(2026, 3, 20))
    future = Evidence.of([rec("award_decision_sent", sent_on="2026-03-25", electronic=True)])
    assert "ligger efter dagens datum (2026-03-24)" in message(
        run(spec, snap, future, date(2026, 3, 24))
    )


def test_an_award_decision_sent_in_the_phase_passes(v1: Definition) -> None:
    spec = kind_gate(v1, "award_decision_sent", "award_decision_sent_on_bounded")
    snap = case("tilldelning", date(2026, 3, 20))
    for day in ("2026-03-20", "2026-03-24"):
        sent = Evidence.of([rec("award_decision_sent", sent_on=day, electronic=True)])
        assert run(spec, snap, sent, date(2026, 3, 24)).ok, day


def test_the_award_decision_of_an_earlier_round_does_not_let_the_case_leave_tilldelning(
    v1: Definition,
) -> None:
    # Back in tilldelning after a court's order: the decision recorded before does not count.
    spec = trigger_gate(v1, "send_award_decision", "award_decision_sent_on_bounded")
    old = Evidence.of([rec("award_decision_sent", sent_on="2026-03-24", electronic=True)])
    text = message(run(spec, case("tilldelning", date(2026, 6, 1)), old, date(2026, 6, 2)))
    assert "2026-03-24 ligger före den dag ärendet kom till fasen (2026-06-01)" in text


def test_a_review_filed_before_the_award_decision_is_refused(v1: Definition) -> None:
    spec = kind_gate(v1, "review_filed", "review_filed_on_bounded")
    evidence = Evidence.of(
        [
            rec("award_decision_sent", sent_on="2026-03-24", electronic=True),
            rec("review_filed", filed_on="2026-03-23", court="FR Stockholm, mål 1-26"),
        ]
    )
    text = message(run(spec, case("avtalsparr", date(2026, 3, 24)), evidence, date(2026, 3, 30)))
    assert "2026-03-23 ligger före dagen då tilldelningsbeslutet skickades (2026-03-24)" in text


def test_a_court_decision_before_the_review_or_without_one_is_refused(v1: Definition) -> None:
    spec = kind_gate(v1, "court_decided", "court_decided_on_bounded")
    snap = case("avtalsparr", date(2026, 3, 24))
    award = rec("award_decision_sent", sent_on="2026-03-24", electronic=True)
    alone = Evidence.of([award, rec("court_decided", decided_on="2026-04-20", outcome="avslag")])
    assert "ingen registrerad uppgift om dagen då ansökan" in message(
        run(spec, snap, alone, date(2026, 4, 21))
    )
    review = rec("review_filed", filed_on="2026-03-30", court="FR Stockholm, mål 1-26")
    early = Evidence.of(
        [award, review, rec("court_decided", decided_on="2026-03-29", outcome="avslag")]
    )
    assert "2026-03-29 ligger före dagen då ansökan om överprövning kom in (2026-03-30)" in (
        message(run(spec, snap, early, date(2026, 4, 21)))
    )
    right = Evidence.of(
        [award, review, rec("court_decided", decided_on="2026-04-20", outcome="avslag")]
    )
    assert run(spec, snap, right, date(2026, 4, 21)).ok


def test_a_contract_signed_before_the_phase_or_in_the_future_is_refused(v1: Definition) -> None:
    spec = kind_gate(v1, "contract_signed", "contract_signed_on_bounded")
    snap = case("avtalstecknande", date(2026, 4, 8))
    for day, bound in (("2026-04-07", "(2026-04-08)"), ("2026-04-10", "(2026-04-09)")):
        signed = Evidence.of([rec("contract_signed", signed_on=day, supplier="A", value_sek=1)])
        assert bound in message(run(spec, snap, signed, date(2026, 4, 9))), day
    signed = Evidence.of(
        [rec("contract_signed", signed_on="2026-04-09", supplier="A", value_sek=1)]
    )
    assert run(spec, snap, signed, date(2026, 4, 9)).ok


# -- the minimum tender period ----------------------------------------------------------------------
def notice(on: str, *, procedure: str = "oppet", electronic: bool = True) -> Evidence:
    return Evidence.of(
        [rec("tender_published", sent_on=on, procedure=procedure, electronic=electronic)]
    )


def tender_gate(v1: Definition) -> GateSpec:
    return trigger_gate(v1, "close_tender", "tender_period_ended")


def test_an_open_procedure_above_the_threshold_waits_30_days_over_easter__11_kap_2_6(
    v1: Definition,
) -> None:
    # Sent Wednesday 4 March: day 30 is Långfredagen; Easter runs the period to Tuesday 7 April.
    spec, snap = tender_gate(v1), case("annonsering", date(2026, 3, 4))
    evidence = notice("2026-03-04")
    for today in (date(2026, 3, 5), date(2026, 4, 3), date(2026, 4, 7)):
        result = run(spec, snap, evidence, today)
        text = message(result)
        assert text.startswith(spec.message)
        assert "minst 30 dagar (LOU 11 kap. 2 § och 6 §)" in text
        assert "Uppskattat värde 4\u00a0000\u00a0000 kr når EU:s tröskelvärde" in text
        assert "löper till och med 2026-04-07" in text
        assert text.endswith("Anbudstiden kan stängas tidigast 2026-04-08.")
        assert result.reasons[0].source == "LOU 11 kap. 2 § och 6 §, 12 kap. 10 §, 19 kap. 11 §"
    assert run(spec, snap, evidence, date(2026, 4, 8)).ok


def test_without_electronic_tenders_the_open_procedure_waits_35_days__11_kap_2(
    v1: Definition,
) -> None:
    # Sent Monday 2 March: day 35 is Annandag påsk, so the period runs to Tuesday 7 April.
    spec, snap = tender_gate(v1), case("annonsering", date(2026, 3, 2))
    evidence = notice("2026-03-02", electronic=False)
    assert "tidigast 2026-04-08" in message(run(spec, snap, evidence, date(2026, 4, 7)))
    assert run(spec, snap, evidence, date(2026, 4, 8)).ok


def test_below_the_threshold_the_municipality_s_reasonable_time_holds__19_kap_11(
    v1: Definition,
) -> None:
    # 1 000 000 kr is below the threshold: 20 days from 2 March end on Sunday 22 March, so the
    # period runs to Monday 23 March.
    spec = tender_gate(v1)
    snap = case("annonsering", date(2026, 3, 2), estimated_value_sek=1_000_000)
    evidence = notice("2026-03-02", procedure="forenklat")
    text = message(run(spec, snap, evidence, date(2026, 3, 23)))
    assert "understiger EU:s tröskelvärde" in text and "minst 20 dagar" in text
    assert "tidigast 2026-03-24" in text
    assert run(spec, snap, evidence, date(2026, 3, 24)).ok


def test_the_value_equal_to_the_threshold_is_above_it(v1: Definition) -> None:
    spec = tender_gate(v1)
    snap = case("annonsering", date(2026, 3, 2), estimated_value_sek=EU_2026.amount_sek)
    assert "minst 30 dagar" in message(run(spec, snap, notice("2026-03-02"), date(2026, 3, 24)))


def test_a_simplified_procedure_above_the_threshold_has_no_minimum_and_is_refused(
    v1: Definition,
) -> None:
    spec, snap = tender_gate(v1), case("annonsering", date(2026, 3, 2))
    text = message(run(spec, snap, notice("2026-03-02", procedure="forenklat"), date(2026, 6, 1)))
    assert "ingen minsta anbudstid för förfarandet ”forenklat”" in text


def test_a_tender_cannot_close_without_a_notice_of_this_round(v1: Definition) -> None:
    spec = tender_gate(v1)
    snap = case("annonsering", date(2026, 6, 1))
    assert "inte registrerad som skickad" in message(run(spec, snap, Evidence(), date(2026, 9, 1)))
    # The notice of a procurement that the court ordered redone does not start this period.
    text = message(run(spec, snap, notice("2026-03-02"), date(2026, 6, 2)))
    assert "skickades 2026-03-02, före den dag ärendet kom till fasen (2026-06-01)" in text


def test_a_threshold_whose_period_has_ended_still_decides_and_says_so(v1: Definition) -> None:
    spec = tender_gate(v1)
    snap = case("annonsering", date(2026, 3, 4), thresholds=(EU_2024,))
    blocked = run(spec, snap, notice("2026-03-04"), date(2026, 3, 5))
    assert "gällde till och med 2025-12-31" in message(blocked)
    passed = run(spec, snap, notice("2026-03-04"), date(2026, 4, 8))
    assert passed.ok and "gällde till och med 2025-12-31" in passed.notes[0]


def test_the_tender_period_is_for_advertised_procurements(v1: Definition) -> None:
    spec = tender_gate(v1)
    snap = case("annonsering", date(2026, 3, 2), route="dis")
    assert not run(spec, snap, Evidence(), date(2026, 3, 2)).applies


# -- the court's outcome decides ----------------------------------------------------------------------
def standstill(v1: Definition) -> GateSpec:
    return trigger_gate(v1, "sign_contract", "standstill_ended")


AWARD = ("award_decision_sent", {"sent_on": "2026-03-24", "electronic": True})
REVIEW = ("review_filed", {"filed_on": "2026-03-30", "court": "FR Stockholm, mål 1-26"})


def history(*items: tuple[str, dict[str, Any]]) -> Evidence:
    return Evidence.of([rec(kind, **data) for kind, data in items])


def decided(on: str, outcome: str) -> tuple[str, dict[str, Any]]:
    return ("court_decided", {"decided_on": on, "outcome": outcome})


def test_a_correct_award_over_easter_ends_the_standstill_on_tuesday__lou_20_kap(
    v1: Definition,
) -> None:
    # Sent Tuesday 24 March: day 10 is Långfredagen; the standstill runs to Tuesday 7 April.
    snap = case("avtalsparr", date(2026, 3, 24))
    text = message(run(standstill(v1), snap, history(AWARD), date(2026, 4, 7)))
    assert text.endswith("Avtalsspärren löper till och med 2026-04-07.")
    assert run(standstill(v1), snap, history(AWARD), date(2026, 4, 8)).ok


def test_a_pending_review_blocks_and_the_case_shows_when_to_check_the_court(
    v1: Definition,
) -> None:
    snap = case("avtalsparr", date(2026, 3, 24))
    evidence = history(AWARD, REVIEW)
    assert "överprövning ansöktes 2026-03-30" in message(
        run(standstill(v1), snap, evidence, date(2026, 9, 1))
    )
    [deadline] = case_deadlines(v1, snap, evidence)
    # 14 days after 30 March is Monday 13 April.
    assert (deadline.kind, deadline.due_on) == (COURT_DECISION, date(2026, 4, 13))
    assert "registrera beslutet" in deadline.action


def test_an_order_to_redo_never_lets_the_case_sign_on_that_award__20_kap_6(v1: Definition) -> None:
    snap = case("avtalsparr", date(2026, 3, 24))
    evidence = history(AWARD, REVIEW, decided("2026-04-20", "gora_om"))
    for today in (date(2026, 4, 21), date(2026, 5, 4), date(2027, 4, 21)):
        text = message(run(standstill(v1), snap, evidence, today))
        assert "beslutade 2026-04-20 att upphandlingen ska göras om" in text
        assert "tilldelningsbeslutet som skickades 2026-03-24" in text
    assert case_deadlines(v1, snap, evidence) == []  # no end of the standstill to wait for
    redo = trigger_gate(v1, "redo_after_review", "court_ordered_redo")
    assert run(redo, snap, evidence, date(2026, 4, 21)).ok
    correct = trigger_gate(v1, "correct_after_review", "court_ordered_correction")
    assert "utfallet ”gora_om”" in message(run(correct, snap, evidence, date(2026, 4, 21)))


def test_an_order_to_correct_sends_the_case_back_to_the_evaluation__20_kap_6(
    v1: Definition,
) -> None:
    snap = case("avtalsparr", date(2026, 3, 24))
    evidence = history(AWARD, REVIEW, decided("2026-04-20", "rattelse"))
    text = message(run(standstill(v1), snap, evidence, date(2026, 5, 20)))
    assert "får avslutas först sedan rättelse har gjorts" in text
    correct = trigger_gate(v1, "correct_after_review", "court_ordered_correction")
    assert run(correct, snap, evidence, date(2026, 4, 21)).ok
    assert v1.trigger["correct_after_review"].dest == "utvardering"
    assert v1.trigger["redo_after_review"].dest == "kravstallning"


def test_a_rejected_review_lets_the_case_sign_ten_days_after_the_court(v1: Definition) -> None:
    # Decided Monday 20 April: the tenth day, Thursday 30 April, is a working day and the last
    # day; the contract may be signed from 1 May (a holiday only matters for a period's last day).
    snap = case("avtalsparr", date(2026, 3, 24))
    evidence = history(AWARD, REVIEW, decided("2026-04-20", "avslag"))
    assert "löper till och med 2026-04-30" in message(
        run(standstill(v1), snap, evidence, date(2026, 4, 30))
    )
    assert run(standstill(v1), snap, evidence, date(2026, 5, 1)).ok
    [deadline] = case_deadlines(v1, snap, evidence)
    assert (deadline.kind, deadline.due_on) == (STANDSTILL_END, date(2026, 4, 30))


def test_a_new_award_after_going_back_starts_a_new_standstill(v1: Definition) -> None:
    # The old review and the court's order belong to the old award; the new award decision,
    # sent Monday 1 June, ends its standstill on Thursday 11 June.
    snap = case("avtalsparr", date(2026, 6, 1))
    new_award = ("award_decision_sent", {"sent_on": "2026-06-01", "electronic": True})
    evidence = history(AWARD, REVIEW, decided("2026-04-20", "rattelse"), new_award)
    text = message(run(standstill(v1), snap, evidence, date(2026, 6, 11)))
    assert text.endswith("Avtalsspärren löper till och med 2026-06-11.")
    assert run(standstill(v1), snap, evidence, date(2026, 6, 12)).ok
    redo = trigger_gate(v1, "correct_after_review", "court_ordered_correction")
    assert "efter det senaste tilldelningsbeslutet" in message(
        run(redo, snap, evidence, date(2026, 6, 12))
    )


# -- the lifecycle path waits ---------------------------------------------------------------------------
def test_a_plan_ends_at_the_step_that_waits(v1: Definition) -> None:
    path = parse_path(read_yaml(LIFECYCLE), v1)
    attrs = case("behovsanalys", date(2026, 3, 2)).attributes
    steps = plan_steps(path, v1, state="behovsanalys", attributes=attrs, today=date(2026, 3, 2))
    last = steps[-1]
    assert (last.phase, last.trigger, last.wait_days) == ("annonsering", "close_tender", 60)
    assert [s.wait_days for s in steps[:-1]] == [None] * (len(steps) - 1)
    after = plan_steps(path, v1, state="tilldelning", attributes=attrs, today=date(2026, 4, 8))
    assert after[0].data["sent_on"] == "2026-04-08"  # dated the day it is made
    assert (after[-1].trigger, after[-1].wait_days) == ("end_standstill", 30)


def test_a_wait_belongs_to_a_trigger_step(v1: Definition) -> None:
    data = read_yaml(LIFECYCLE)
    data["phases"]["forstudie"][0]["wait_days"] = 3
    with pytest.raises(PathError) as refused:
        parse_path(data, v1)
    assert "wait_days hör bara till steg som gör en övergång" in str(refused.value)
