"""Gates: each check blocks with the definition's message and source, or passes, or does not apply."""

from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Any

import pytest

from upphandla.seeds.loader import DEFINITIONS, read_yaml
from upphandla.states.attributes import CaseAttributes
from upphandla.states.case import CaseSnapshot, Evidence, EvidenceRecord
from upphandla.states.checks import CHECKS, evaluate
from upphandla.states.checks_time import StandstillParams, standstill_last_day
from upphandla.states.definition import Definition, GateSpec
from upphandla.states.gates import GateResult, Reason
from upphandla.states.parse import parse_definition


@pytest.fixture(scope="module")
def v1() -> Definition:
    return parse_definition(read_yaml(DEFINITIONS / "it-upphandling.v1.yaml"))


def gate(definition: Definition, trigger_id: str, gate_id: str) -> GateSpec:
    return next(g for g in definition.trigger[trigger_id].gates if g.id == gate_id)


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


def case(state: str, **overrides: Any) -> CaseSnapshot:
    return CaseSnapshot(
        id=7,
        definition_key="it-upphandling",
        definition_version=1,
        state=state,
        attributes=attributes(**overrides),
        phase_entered_on=date(2026, 3, 2),
    )


def record(kind: str, role: str = "upphandlare", hour: int = 9, **data: Any) -> EvidenceRecord:
    return EvidenceRecord(
        kind=kind,
        data=data,
        recorded_at=datetime(2026, 3, 2, hour, tzinfo=timezone.utc),
        recorded_by="Anna Upphandlare",
        role=role,
    )


def run(spec: GateSpec, snapshot: CaseSnapshot, evidence: Evidence, today: date) -> GateResult:
    return evaluate(spec, snapshot, evidence, today, snapshot.facts(evidence))


TODAY = date(2026, 3, 10)


# -- evidence_recorded ---------------------------------------------------------------------------
def test_behovsanalys_required_before_forstudie__5_4_2(v1: Definition) -> None:
    spec = gate(v1, "complete_behovsanalys", "behovsanalys_done")
    result = run(spec, case("behovsanalys"), Evidence(), TODAY)
    assert (result.applies, result.ok) == (True, False)
    assert result.reasons == (
        Reason(
            "behovsanalys_done",
            "Behovsanalys med nulägesanalys och budgetansvarig ska vara genomförd innan "
            "förstudien börjar.",
            "§ 5.4.2, § 9.2.4 a",
        ),
    )
    assert result.source == "§ 5.4.2, § 9.2.4 a"


def test_behovsanalys_recorded_passes__5_4_2(v1: Definition) -> None:
    spec = gate(v1, "complete_behovsanalys", "behovsanalys_done")
    evidence = Evidence.of(
        [record("behovsanalys_done", need="Nytt system", current_state="Gammalt", budget_owner="X")]
    )
    result = run(spec, case("behovsanalys"), evidence, TODAY)
    assert (result.applies, result.ok, result.reasons) == (True, True, ())


def test_evidence_of_another_kind_does_not_satisfy_a_gate(v1: Definition) -> None:
    spec = gate(v1, "complete_forstudie", "forstudie_done")
    evidence = Evidence.of([record("behovsanalys_done", need="x")])
    assert not run(spec, case("forstudie"), evidence, TODAY).ok


def test_crisis_review_blocks_when_missing_for_critical_service__5_2_2(v1: Definition) -> None:
    spec = gate(v1, "publish_tender", "crisis_review_for_critical")
    result = run(spec, case("kravstallning", critical_service=True), Evidence(), TODAY)
    assert (result.applies, result.ok) == (True, False)
    [reason] = result.reasons
    assert reason.gate == "crisis_review_for_critical"
    assert reason.message == spec.message
    assert reason.message.startswith("Trygghets- och säkerhetssektionen ska ha granskat")
    assert reason.source == "§ 5.2.2, § 9.2.14"


def test_crisis_review_not_approved_blocks_and_names_the_field__5_2_2(v1: Definition) -> None:
    spec = gate(v1, "publish_tender", "crisis_review_for_critical")
    evidence = Evidence.of([record("crisis_review_done", role="sakerhet", approved=False)])
    result = run(spec, case("kravstallning"), evidence, TODAY)
    assert not result.ok
    [reason] = result.reasons
    assert reason.message.startswith(spec.message)
    assert reason.message.endswith("Det senast registrerade underlaget uppfyller inte: approved.")
    assert reason.source == "§ 5.2.2, § 9.2.14"


def test_crisis_review_approved_passes__5_2_2(v1: Definition) -> None:
    spec = gate(v1, "publish_tender", "crisis_review_for_critical")
    evidence = Evidence.of([record("crisis_review_done", role="sakerhet", approved=True)])
    assert run(spec, case("kravstallning"), evidence, TODAY).ok


def test_crisis_review_latest_record_counts__5_2_2(v1: Definition) -> None:
    spec = gate(v1, "publish_tender", "crisis_review_for_critical")
    approved_then_withdrawn = Evidence.of(
        [
            record("crisis_review_done", role="sakerhet", hour=9, approved=True),
            record("crisis_review_done", role="sakerhet", hour=10, approved=False),
        ]
    )
    rejected_then_approved = Evidence.of(
        [
            record("crisis_review_done", role="sakerhet", hour=9, approved=False),
            record("crisis_review_done", role="sakerhet", hour=10, approved=True),
        ]
    )
    assert not run(spec, case("kravstallning"), approved_then_withdrawn, TODAY).ok
    assert run(spec, case("kravstallning"), rejected_then_approved, TODAY).ok


def test_where_field_missing_from_the_record_blocks__5_4_8(v1: Definition) -> None:
    spec = gate(v1, "complete_forstudie", "lots_considered")
    evidence = Evidence.of([record("forstudie_done", market_dialogue="genomford")])
    result = run(spec, case("forstudie"), evidence, TODAY)
    assert not result.ok
    assert result.reasons[0].message.endswith("uppfyller inte: lots_considered.")


def test_where_does_not_take_one_for_true__5_4_8(v1: Definition) -> None:
    spec = gate(v1, "complete_forstudie", "lots_considered")
    one = Evidence.of([record("forstudie_done", lots_considered=1)])
    assert not run(spec, case("forstudie"), one, TODAY).ok
    true = Evidence.of([record("forstudie_done", lots_considered=True)])
    assert run(spec, case("forstudie"), true, TODAY).ok


def test_crisis_review_not_applicable_without_critical_service__5_2_2(v1: Definition) -> None:
    spec = gate(v1, "publish_tender", "crisis_review_for_critical")
    result = run(spec, case("kravstallning", critical_service=False), Evidence(), TODAY)
    assert (result.applies, result.ok, result.reasons) == (False, True, ())
    assert result.source == "§ 5.2.2, § 9.2.14"


def test_ssa_required_for_systems__5_2_1(v1: Definition) -> None:
    spec = gate(v1, "complete_ssa", "ssa_required_for_systems")
    for sub in (
        "IT-programvara och licenser",
        "Verksamhetssystem",
        "Välfärdsteknik",
        "IT som tjänst",
        "Telekommunikation",
    ):
        result = run(spec, case("ssa", subcategory=sub), Evidence(), TODAY)
        assert (result.applies, result.ok) == (True, False), sub
        assert result.reasons[0].source == "§ 5.2.1, § 5.4.3, § 10.4.9, § 10.7.4"


@pytest.mark.parametrize("sub", ["IT-konsulter", "IT-hårdvara", "Övrigt IT"])
def test_ssa_not_required_outside_systems__5_2_1(v1: Definition, sub: str) -> None:
    spec = gate(v1, "complete_ssa", "ssa_required_for_systems")
    result = run(spec, case("ssa", subcategory=sub), Evidence(), TODAY)
    assert (result.applies, result.ok) == (False, True)


@pytest.mark.parametrize("sub", ["IT-konsulter", "IT-hårdvara", "Övrigt IT", "Verksamhetssystem"])
def test_ssa_required_for_every_direct_award__10_7_4(v1: Definition, sub: str) -> None:
    spec = gate(v1, "complete_ssa", "ssa_required_for_systems")
    snapshot = case("ssa", subcategory=sub, route="direktupphandling", estimated_value_sek=200_000)
    result = run(spec, snapshot, Evidence(), TODAY)
    assert (result.applies, result.ok) == (True, False)
    assert "också vid direktupphandling" in result.reasons[0].message


def test_pub_avtal_required_when_personal_data__5_2_1(v1: Definition) -> None:
    spec = gate(v1, "sign_contract", "pub_avtal_when_personal_data")
    blocked = run(spec, case("avtalstecknande", personal_data=True), Evidence(), TODAY)
    assert not blocked.ok
    assert blocked.reasons[0].source == "§ 5.2.1, § 6.2, § 9.2.10"
    signed = Evidence.of(
        [record("pub_avtal_signed", role="dso", signed_on="2026-03-09", reference="KS 2026/1")]
    )
    assert run(spec, case("avtalstecknande", personal_data=True), signed, TODAY).ok


def test_pub_avtal_not_applicable_without_personal_data__5_2_1(v1: Definition) -> None:
    spec = gate(v1, "sign_contract", "pub_avtal_when_personal_data")
    result = run(spec, case("avtalstecknande", personal_data=False), Evidence(), TODAY)
    assert (result.applies, result.ok) == (False, True)


def test_accessibility_report_only_for_citizen_facing__9_2_13(v1: Definition) -> None:
    spec = gate(v1, "sign_contract", "accessibility_report_when_citizen_facing")
    assert not run(spec, case("avtalstecknande", citizen_facing=True), Evidence(), TODAY).ok
    internal = run(spec, case("avtalstecknande", citizen_facing=False), Evidence(), TODAY)
    assert (internal.applies, internal.ok) == (False, True)


def test_gate_result_as_dict_carries_reasons_and_source(v1: Definition) -> None:
    spec = gate(v1, "complete_behovsanalys", "behovsanalys_done")
    d = run(spec, case("behovsanalys"), Evidence(), TODAY).as_dict()
    assert d == {
        "gate": "behovsanalys_done",
        "title": "Behovsanalys genomförd",
        "applies": True,
        "ok": False,
        "reasons": [
            {
                "gate": "behovsanalys_done",
                "message": spec.message,
                "source": "§ 5.4.2, § 9.2.4 a",
            }
        ],
        "source": "§ 5.4.2, § 9.2.4 a",
    }


# -- acceptance_passed ---------------------------------------------------------------------------
REQUIREMENTS = [
    {"id": "K1", "text": "Inloggning med tvåfaktor", "level": "ska"},
    {"id": "K2", "text": "Export av all data", "level": "ska"},
    {"id": "K3", "text": "Mörkt läge", "level": "bor"},
]


def test_acceptance_blocks_without_requirement_list_or_round__9_2_5(v1: Definition) -> None:
    spec = gate(v1, "approve_acceptance", "all_skakrav_passed")
    nothing = run(spec, case("acceptanstest"), Evidence(), TODAY)
    assert not nothing.ok
    assert nothing.reasons[0].message.endswith("Kravlistan för acceptanstestet är inte inläst.")
    assert nothing.reasons[0].source == "§ 5.4.5, § 9.2.5, § 10.6.2"
    listed = Evidence.of(
        [record("acceptance_requirements", role="bestallare", requirements=REQUIREMENTS)]
    )
    no_round = run(spec, case("acceptanstest"), listed, TODAY)
    assert not no_round.ok
    assert no_round.reasons[0].message.endswith("Ingen testomgång är registrerad.")


def test_acceptance_every_skakrav_must_pass_in_the_latest_round__9_2_5(v1: Definition) -> None:
    spec = gate(v1, "approve_acceptance", "all_skakrav_passed")
    requirements = record(
        "acceptance_requirements", role="bestallare", hour=8, requirements=REQUIREMENTS
    )
    # K2 untested and K3 (a bör-krav) failed: only the skakrav blocks.
    first = record(
        "acceptance_round",
        role="bestallare",
        hour=9,
        results=[{"id": "K1", "result": "godkand"}, {"id": "K3", "result": "underkand"}],
    )
    result = run(spec, case("acceptanstest"), Evidence.of([requirements, first]), TODAY)
    assert not result.ok
    [reason] = result.reasons
    assert "(nr 1): K2." in reason.message
    assert "K1" not in reason.message and "K3" not in reason.message
    # "ej_testad" is not a pass either.
    untested = record(
        "acceptance_round",
        role="bestallare",
        hour=10,
        results=[{"id": "K1", "result": "godkand"}, {"id": "K2", "result": "ej_testad"}],
    )
    evidence = Evidence.of([requirements, first, untested])
    assert "(nr 2): K2." in run(spec, case("acceptanstest"), evidence, TODAY).reasons[0].message
    passing = record(
        "acceptance_round",
        role="bestallare",
        hour=11,
        results=[
            {"id": "K1", "result": "godkand"},
            {"id": "K2", "result": "godkand"},
            {"id": "K3", "result": "underkand"},
        ],
    )
    assert run(spec, case("acceptanstest"), evidence.with_record(passing), TODAY).ok
    # A later failing round counts again: there is no waiver.
    regressed = record(
        "acceptance_round", role="bestallare", hour=12, results=[{"id": "K2", "result": "godkand"}]
    )
    later = Evidence.of([requirements, first, untested, passing, regressed])
    assert "(nr 4): K1." in run(spec, case("acceptanstest"), later, TODAY).reasons[0].message


# -- standstill_ended ----------------------------------------------------------------------------
STANDSTILL_SOURCE = "LOU 20 kap. 1–2 §§ och 6 §, § 10.8.8.1, lag (1930:173)"


def sent(on: str, electronic: bool) -> Evidence:
    return Evidence.of([record("award_decision_sent", sent_on=on, electronic=electronic)])


def test_standstill_blocks_before_the_award_decision_is_sent__lou_20_kap(v1: Definition) -> None:
    spec = gate(v1, "end_standstill", "standstill_ended")
    result = run(spec, case("avtalsparr"), Evidence(), date(2027, 6, 1))
    assert not result.ok
    [reason] = result.reasons
    assert reason.message.startswith(spec.message)
    assert "inte registrerat som skickat" in reason.message
    assert reason.source == STANDSTILL_SOURCE


def test_standstill_electronic_blocks_on_its_last_day_over_new_year__lou_20_kap(
    v1: Definition,
) -> None:
    spec = gate(v1, "end_standstill", "standstill_ended")
    evidence = sent("2026-12-21", electronic=True)
    for today in (date(2026, 12, 21), date(2026, 12, 31), date(2027, 1, 1), date(2027, 1, 4)):
        result = run(spec, case("avtalsparr"), evidence, today)
        assert not result.ok, today
        [reason] = result.reasons
        assert reason.gate == "standstill_ended"
        assert reason.message == (
            "Avtal får inte tecknas förrän avtalsspärren har löpt ut. "
            "Avtalsspärren löper till och med 2027-01-04."
        )
        assert reason.source == STANDSTILL_SOURCE


def test_standstill_electronic_passes_the_day_after_its_last_day__lou_20_kap(
    v1: Definition,
) -> None:
    spec = gate(v1, "end_standstill", "standstill_ended")
    evidence = sent("2026-12-21", electronic=True)
    assert run(spec, case("avtalsparr"), evidence, date(2027, 1, 5)).ok


def test_standstill_by_post_runs_15_days_over_midsommar__lou_20_kap(v1: Definition) -> None:
    spec = gate(v1, "end_standstill", "standstill_ended")
    evidence = sent("2026-06-05", electronic=False)
    last = run(spec, case("avtalsparr"), evidence, date(2026, 6, 22))
    assert not last.ok
    assert last.reasons[0].message.endswith("löper till och med 2026-06-22.")
    assert run(spec, case("avtalsparr"), evidence, date(2026, 6, 23)).ok


def test_standstill_electronic_is_10_days_and_post_15_days__lou_20_kap(v1: Definition) -> None:
    spec = gate(v1, "end_standstill", "standstill_ended")
    # Sent 2026-06-05: electronic ends Monday 2026-06-15, by post Monday 2026-06-22.
    electronic = sent("2026-06-05", electronic=True)
    post = sent("2026-06-05", electronic=False)
    assert not run(spec, case("avtalsparr"), electronic, date(2026, 6, 15)).ok
    assert run(spec, case("avtalsparr"), electronic, date(2026, 6, 16)).ok
    assert not run(spec, case("avtalsparr"), post, date(2026, 6, 16)).ok
    assert "2026-06-22" in run(spec, case("avtalsparr"), post, date(2026, 6, 16)).reasons[0].message


def test_standstill_latest_sending_counts__lou_20_kap(v1: Definition) -> None:
    # A decision re-sent later restarts the count.
    spec = gate(v1, "end_standstill", "standstill_ended")
    evidence = Evidence.of(
        [
            record("award_decision_sent", hour=9, sent_on="2026-06-01", electronic=True),
            record("award_decision_sent", hour=10, sent_on="2026-06-05", electronic=True),
        ]
    )
    result = run(spec, case("avtalsparr"), evidence, date(2026, 6, 12))
    assert not result.ok
    assert "2026-06-15" in result.reasons[0].message


def test_standstill_extended_by_a_review_filed_in_time__10_8_8_1(v1: Definition) -> None:
    # Sent 2026-06-05 electronically: the standstill runs to 2026-06-15.
    spec = gate(v1, "end_standstill", "standstill_ended")
    review = record(
        "review_filed", hour=10, filed_on="2026-06-10", court="Förvaltningsrätten, mål 123-26"
    )
    evidence = sent("2026-06-05", electronic=True).with_record(review)
    waiting = run(spec, case("avtalsparr"), evidence, date(2026, 7, 1))
    assert not waiting.ok
    assert "överprövning ansöktes 2026-06-10" in waiting.reasons[0].message
    decided = evidence.with_record(
        record("court_decided", hour=11, decided_on="2026-08-03", outcome="avslag")
    )
    last = run(spec, case("avtalsparr"), decided, date(2026, 8, 13))
    assert not last.ok
    assert last.reasons[0].message.endswith("löper till och med 2026-08-13.")
    assert run(spec, case("avtalsparr"), decided, date(2026, 8, 14)).ok


def test_standstill_not_extended_by_a_review_filed_after_it_ended__10_8_8_1(
    v1: Definition,
) -> None:
    spec = gate(v1, "end_standstill", "standstill_ended")
    late = record("review_filed", hour=10, filed_on="2026-06-16", court="Förvaltningsrätten")
    evidence = sent("2026-06-05", electronic=True).with_record(late)
    assert run(spec, case("avtalsparr"), evidence, date(2026, 6, 16)).ok


def test_standstill_applies_to_sign_contract_only_for_competitive_routes(v1: Definition) -> None:
    spec = gate(v1, "sign_contract", "standstill_ended")
    for route in ("annonserad", "dis", "fornyad_konkurrensutsattning"):
        assert run(spec, case("avtalsparr", route=route), Evidence(), TODAY).applies, route
    for route in ("direktupphandling", "avrop"):
        result = run(spec, case("avtalstecknande", route=route), Evidence(), TODAY)
        assert (result.applies, result.ok) == (False, True), route


def test_standstill_last_day_uses_the_params_days() -> None:
    params = StandstillParams(kind="award_decision_sent", days_electronic=10, days_other=15)
    assert standstill_last_day(date(2026, 12, 21), True, params) == date(2027, 1, 4)
    assert standstill_last_day(date(2026, 12, 21), False, params) == date(2027, 1, 5)
    assert standstill_last_day(date(2026, 6, 5), False, params) == date(2026, 6, 22)


# -- registry ------------------------------------------------------------------------------------
def test_checks_registry_names_the_known_checks() -> None:
    assert set(CHECKS) == {
        "evidence_recorded",
        "standstill_ended",
        "value_below_threshold",
        "checklist_covered",
        "acceptance_passed",
        "round_names_known_requirements",
        "requirement_list_kept",
        "signoff_after_failed_round",
        "framework_term",
        "contract_dates_in_order",
        "mandate_covers_value",
        "amendment_within_limits",
        "sanctions_clear",
        "suppliers_not_sanctioned",
        "correction_explained",
        "sanctions_match_clearable",
        "date_bounded",
        "tender_period_ended",
        "court_ordered",
    }
    assert all(check.fn.__doc__ for check in CHECKS.values())
    assert CHECKS["evidence_recorded"].evidence_param == "kind"
    assert CHECKS["standstill_ended"].evidence_param == "kind"
