"""The lifecycle machine, and a walk through the whole v1 lifecycle in pure code."""

from __future__ import annotations

import copy
import dataclasses
from datetime import date, datetime, time, timezone
from typing import Any

import pytest
from transitions import MachineError

from fakes import ContextLookups
from upphandla.seeds.loader import DEFINITIONS, SEEDS, read_yaml
from upphandla.states.attributes import CaseAttributes
from upphandla.states.case import CaseSnapshot, Evidence, EvidenceRecord
from upphandla.states.checks_lists import ChecklistParams
from upphandla.states.clock import STOCKHOLM
from upphandla.states.definition import Definition, DefinitionError
from upphandla.states.delegation import DelegationOrder, mandate_record, parse_delegation
from upphandla.states.engine import check_evidence, decide
from upphandla.states.errors import Conflict, EvidenceRefused, TransitionRefused
from upphandla.states.machine import Lifecycle
from upphandla.states.parse import parse_definition
from upphandla.states.roles import Actor


@pytest.fixture(scope="module")
def raw_v1() -> dict[str, Any]:
    return read_yaml(DEFINITIONS / "it-upphandling.v1.yaml")


@pytest.fixture(scope="module")
def v1(raw_v1: dict[str, Any]) -> Definition:
    return parse_definition(copy.deepcopy(raw_v1))


@pytest.fixture
def lifecycle(v1: Definition) -> Lifecycle:
    return Lifecycle(v1)


# -- Lifecycle.apply -----------------------------------------------------------------------------
def test_apply_moves_the_state_and_records_the_change(lifecycle: Lifecycle) -> None:
    moved = lifecycle.apply("behovsanalys", "complete_behovsanalys")
    assert moved.state == "forstudie"
    assert moved.changes == [("complete_behovsanalys", "behovsanalys", "forstudie")]


def test_apply_starts_from_the_given_state_not_the_previous_result(lifecycle: Lifecycle) -> None:
    lifecycle.apply("behovsanalys", "complete_behovsanalys")
    moved = lifecycle.apply("tilldelning", "send_award_decision")
    assert moved.state == "avtalsparr"
    # Changes of an earlier call do not leak into the next one.
    assert moved.changes == [("send_award_decision", "tilldelning", "avtalsparr")]


def test_apply_returns_a_copy_that_later_calls_do_not_change(lifecycle: Lifecycle) -> None:
    first = lifecycle.apply("annonsering", "close_tender")
    lifecycle.apply("behovsanalys", "cancel")
    assert first.state == "utvardering"
    assert first.changes == [("close_tender", "annonsering", "utvardering")]


def test_cancel_from_any_phase_before_signing(lifecycle: Lifecycle, v1: Definition) -> None:
    for state in v1.trigger["cancel"].source:
        moved = lifecycle.apply(state, "cancel")
        assert moved.changes == [("cancel", state, "avbruten")]


def test_trigger_not_valid_in_the_state_raises(lifecycle: Lifecycle) -> None:
    with pytest.raises(MachineError):
        lifecycle.apply("behovsanalys", "sign_contract")


def test_trigger_from_a_final_state_raises(lifecycle: Lifecycle) -> None:
    with pytest.raises(MachineError):
        lifecycle.apply("avslutad", "cancel")


def test_unknown_trigger_raises(lifecycle: Lifecycle) -> None:
    with pytest.raises(AttributeError):
        lifecycle.apply("behovsanalys", "skip_everything")


def test_unknown_state_raises(lifecycle: Lifecycle) -> None:
    with pytest.raises(ValueError):
        lifecycle.apply("okand", "complete_behovsanalys")


def test_failed_apply_does_not_break_the_next_one(lifecycle: Lifecycle) -> None:
    with pytest.raises(MachineError):
        lifecycle.apply("behovsanalys", "sign_contract")
    moved = lifecycle.apply("avtalstecknande", "sign_contract")
    assert moved.changes == [("sign_contract", "avtalstecknande", "acceptanstest")]


def test_no_auto_transitions_to_states(lifecycle: Lifecycle, v1: Definition) -> None:
    # A generated `to_<state>` would move a case past every gate.
    model = lifecycle._model
    for phase in v1.phases:
        assert not hasattr(model, f"to_{phase.id}"), phase.id
    assert not [name for name in dir(model) if name.startswith("to_")]
    for phase in v1.phases:
        triggers = lifecycle._machine.get_triggers(phase.id)
        assert not [t for t in triggers if t.startswith("to_")], phase.id
        assert set(triggers) == {t.id for t in v1.triggers_from(phase.id)}


def test_machine_has_every_phase_and_trigger(lifecycle: Lifecycle, v1: Definition) -> None:
    assert set(lifecycle._machine.states) == {p.id for p in v1.phases}
    assert set(lifecycle._machine.events) == {t.id for t in v1.triggers}


@pytest.mark.parametrize("trigger_id", ["state", "trigger", "changes"])
def test_trigger_id_clashing_with_the_case_model_is_refused_or_works(
    raw_v1: dict[str, Any], trigger_id: str
) -> None:
    # A definition the parser accepts must give a machine that can fire every trigger.
    raw = copy.deepcopy(raw_v1)
    i = next(i for i, t in enumerate(raw["triggers"]) if t["id"] == "close_tender")
    raw["triggers"][i]["id"] = trigger_id
    try:
        d = parse_definition(raw)
    except DefinitionError as exc:
        assert any(p.path == f"triggers[{i}].id" for p in exc.problems)
        return
    moved = Lifecycle(d).apply("annonsering", trigger_id)
    assert moved.state == "utvardering"


# -- the whole v1 lifecycle ----------------------------------------------------------------------
BESTALLARE = Actor(1, "Bo Beställare", "bestallare")
UPPHANDLARE = Actor(2, "Anna Upphandlare", "upphandlare")
INFOSAK = Actor(3, "Ida Informationssäkerhet", "informationssakerhet")
SAKERHET = Actor(4, "Sam Säkerhet", "sakerhet")
DSO = Actor(5, "Dina Dataskyddsombud", "dso")
DELEGAT = Actor(6, "Dan Delegat", "delegat", mandate="kommundirektor")
OBJEKTLEDARE = Actor(7, "Olle Objektledare", "objektledare_it")
CHEF = Actor(8, "Frida Förvaltningschef", "delegat", mandate="forvaltningschef")
DELEGATION: DelegationOrder = parse_delegation(read_yaml(SEEDS / "delegation.yaml"))
# The sanctions screening the use-case layer puts in the case's context: a list without hits.
SCREENED = {"sanctions": {"list_date": "2026-01-01", "hits": []}}


@dataclasses.dataclass
class Walk:
    """One case going through the lifecycle: record evidence and decide triggers, in pure code."""

    definition: Definition
    lifecycle: Lifecycle
    case: CaseSnapshot
    evidence: Evidence
    today: date
    history: list[tuple[str, str, str]] = dataclasses.field(default_factory=list)

    def record(self, kind: str, actor: Actor, data: dict[str, Any]) -> None:
        # As the use-case layer does: the signatory's mandate goes with the record, and the
        # kind's own gates see the evidence so far.
        records_mandate = self.definition.evidence_kind[kind].records_mandate
        clean = check_evidence(
            self.definition,
            self.case,
            kind_id=kind,
            actor=actor,
            data=data,
            evidence=self.evidence,
            today=self.today,
            extra=mandate_record(DELEGATION.get(actor.mandate)) if records_mandate else None,
        )
        self.evidence = self.evidence.with_record(
            EvidenceRecord(
                kind=kind,
                data=clean,
                recorded_at=datetime.combine(self.today, time(10), tzinfo=STOCKHOLM).astimezone(
                    timezone.utc
                ),
                recorded_by=actor.name,
                role=actor.role,
            )
        )

    def refused(self, trigger: str, actor: Actor, comment: str | None = None) -> list[str]:
        """Gate ids that block `trigger`; fails the test if the trigger is not refused."""
        with pytest.raises(TransitionRefused) as exc:
            self._decide(trigger, actor, comment)
        assert self.case.state in self.definition.trigger[trigger].source
        return [r.gate for r in exc.value.reasons]

    def reasons(self, trigger: str, actor: Actor) -> list[str]:
        with pytest.raises(TransitionRefused) as exc:
            self._decide(trigger, actor, None)
        return [r.message for r in exc.value.reasons]

    def refused_evidence(
        self, kind: str, actor: Actor, data: dict[str, Any]
    ) -> list[tuple[str, str]]:
        """(gate, message) of the kind's own gates that refuse this record; nothing is kept."""
        before = self.evidence
        with pytest.raises(EvidenceRefused) as exc:
            self.record(kind, actor, data)
        assert self.evidence is before
        return [(r.gate, r.message) for r in exc.value.reasons]

    def fire(self, trigger: str, actor: Actor, expect: str, comment: str | None = None) -> None:
        decision = self._decide(trigger, actor, comment)
        assert decision.from_state == self.case.state
        assert decision.to_state == expect
        assert all(g.ok for g in decision.gate_results)
        self.history.append((trigger, decision.from_state, decision.to_state))
        self.case = dataclasses.replace(self.case, state=expect, phase_entered_on=self.today)

    def _decide(self, trigger: str, actor: Actor, comment: str | None) -> Any:
        return decide(
            self.definition,
            self.lifecycle,
            self.case,
            self.evidence,
            trigger_id=trigger,
            actor=actor,
            today=self.today,
            comment=comment,
        )


@pytest.fixture
def walk(v1: Definition, lifecycle: Lifecycle) -> Walk:
    attributes = CaseAttributes.model_validate(
        {
            "title": "Verksamhetssystem för individ- och familjeomsorg",
            "organisation": "Socialförvaltningen",
            "subcategory": "Verksamhetssystem",
            "route": "annonserad",
            "estimated_value_sek": 12_000_000,
            "personal_data": True,
            "citizen_facing": True,
            "critical_service": True,
            "uses_ai": False,
            "cloud_service": True,
            "consultants": False,
            "hardware": False,
        }
    ).model_dump()
    start = date(2026, 9, 1)
    snapshot = CaseSnapshot(
        id=1,
        definition_key=v1.key,
        definition_version=v1.version,
        state=v1.initial,
        attributes=attributes,
        phase_entered_on=start,
        lookups=ContextLookups(SCREENED),
    )
    return Walk(v1, lifecycle, snapshot, Evidence(), start)


# The requirement checklist for this case: a citizen-facing, critical Verksamhetssystem with
# personal data, which the SSA places in NIS scope at security level "hög".
APPLICABLE = [
    "wcag_2_1_aa",
    "security_level",
    "nis2",
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
NOT_APPLICABLE = [
    "ecolabels_chemicals",
    "ilo_working_conditions",
    "equality",
    "fossil_free_transport",
    "onsite_consultant_share",
]


def test_whole_v1_lifecycle_of_an_annonserad_critical_system_with_personal_data(
    walk: Walk,
) -> None:
    w = walk
    assert w.case.state == "behovsanalys"
    checklist = next(
        g for g in w.definition.trigger["publish_tender"].gates if g.check == "checklist_covered"
    )
    items = {item.id: item for item in checklist.params_as(ChecklistParams).items}
    assert set(items) == {*APPLICABLE, *NOT_APPLICABLE}

    # 1. Behovsanalys (§ 5.4.2, § 9.2.4 a); no consultants (§ 5.4.4) and no AI (§ 5.4.3)
    w.today = date(2026, 9, 15)
    assert w.refused("complete_behovsanalys", BESTALLARE) == ["behovsanalys_done"]
    w.record(
        "behovsanalys_done",
        BESTALLARE,
        {
            "need": "Ersätta dagens system för IFO",
            "current_state": "Avtalet löper ut 2028",
            "budget_owner": "Socialförvaltningen",
        },
    )
    w.fire("complete_behovsanalys", BESTALLARE, "forstudie")

    # 2. Förstudie (§ 5.4.2, § 5.4.8); a cloud service after a market dialogue (§ 9.2.4 b)
    w.today = date(2026, 10, 15)
    assert w.refused("complete_forstudie", UPPHANDLARE) == [
        "forstudie_done",
        "objektledare_involved",
        "lots_considered",
    ]
    forstudie = {
        "market_dialogue": "genomford",
        "sourcing_model": "Molntjänst med lokal support",
        "lots_considered": True,
        "objektledare_involved": True,
    }
    w.record("forstudie_done", UPPHANDLARE, forstudie)
    assert w.refused("complete_forstudie", UPPHANDLARE) == ["us_cloud_alternatives"]
    w.record("forstudie_done", UPPHANDLARE, {**forstudie, "us_cloud_alternatives_asked": True})
    w.fire("complete_forstudie", UPPHANDLARE, "ssa")

    # 3. SSA for a system (§ 5.2.1, § 10.4.9)
    w.today = date(2026, 11, 2)
    assert w.refused("complete_ssa", INFOSAK) == ["ssa_required_for_systems"]
    w.record(
        "ssa_approved",
        INFOSAK,
        {
            "information_class": "3",
            "nis_scope": True,
            "personal_data": True,
            "critical_for_society": True,
            "security_level": "hog",
            "third_country_transfer": True,
        },
    )
    w.fire("complete_ssa", INFOSAK, "kravstallning")

    # 4. Kravställning: requirements (§ 9.2.4 k), every requirement that applies (one reason per
    #    missing item, with its own source) and the crisis review (§ 5.2.2, § 9.2.14)
    w.today = date(2026, 11, 16)
    assert w.refused("publish_tender", UPPHANDLARE) == [
        "requirements_done",
        *["requirement_set_complete"] * len(APPLICABLE),
        "crisis_review_for_critical",
    ]
    missing = w.reasons("publish_tender", UPPHANDLARE)[1:-1]
    for message, item in zip(missing, APPLICABLE, strict=True):
        assert message.endswith(f"Saknas: {items[item].title} ({items[item].why})."), item
    w.record("requirements_done", UPPHANDLARE, {"summary": "WCAG 2.1 AA, PUB, NIS2, exit"})
    for n, item in enumerate(APPLICABLE, start=1):
        if item != "crisis_clauses":
            reference = f"Förfrågningsunderlaget, bilaga 2, avsnitt {n}"
            w.record("requirement_included", UPPHANDLARE, {"item": item, "reference": reference})
    assert w.refused("publish_tender", UPPHANDLARE) == [
        "requirement_set_complete",
        "crisis_review_for_critical",
    ]
    assert f"Saknas: {items['crisis_clauses'].title}" in w.reasons("publish_tender", UPPHANDLARE)[0]
    w.record(
        "requirement_included",
        UPPHANDLARE,
        {"item": "crisis_clauses", "reference": "Förfrågningsunderlaget, bilaga 3, avsnitt 4"},
    )
    assert w.refused("publish_tender", UPPHANDLARE) == ["crisis_review_for_critical"]
    w.record("crisis_review_done", SAKERHET, {"approved": False, "comment": "Force majeure"})
    assert w.refused("publish_tender", UPPHANDLARE) == ["crisis_review_for_critical"]
    assert "uppfyller inte: approved" in w.reasons("publish_tender", UPPHANDLARE)[0]
    w.record("crisis_review_done", SAKERHET, {"approved": True})
    w.fire("publish_tender", UPPHANDLARE, "annonsering")

    # 5. Annonsering: the notice goes out the day the case gets there; 12 000 000 kr reaches the
    #    EU threshold (LOU 11 kap. 2 § and 6 §: open procedure, tenders electronically, at least
    #    30 days): day 30 is Wednesday 16 December, so the tender closes on 17 December at the
    #    earliest.
    notice = {"sent_on": "2026-11-16", "procedure": "oppet", "electronic": True}
    assert [
        g
        for g, _ in w.refused_evidence(
            "tender_published", UPPHANDLARE, {**notice, "sent_on": "2026-11-13"}
        )
    ] == ["tender_published_on_bounded"]
    w.record("tender_published", UPPHANDLARE, notice)
    w.today = date(2026, 12, 16)
    assert w.refused("close_tender", UPPHANDLARE) == ["tender_period_ended"]
    assert "tidigast 2026-12-17" in w.reasons("close_tender", UPPHANDLARE)[0]
    w.today = date(2026, 12, 17)
    w.fire("close_tender", UPPHANDLARE, "utvardering")

    # 6. Utvärdering (§ 2.3)
    w.today = date(2026, 12, 18)
    assert w.refused("complete_evaluation", UPPHANDLARE) == ["evaluation_done"]
    w.record("evaluation_done", UPPHANDLARE, {"winner": "Leverantör AB"})
    w.fire("complete_evaluation", UPPHANDLARE, "tilldelning")

    # 7. Tilldelningsbeslut, and sanctions screening of every party above 10 % (§ 10.11)
    w.today = date(2026, 12, 21)
    assert w.refused("send_award_decision", UPPHANDLARE) == [
        "award_decision_sent",
        "sanctions_check",
    ]
    w.record(
        "award_decision_sent",
        UPPHANDLARE,
        {"sent_on": "2026-12-21", "electronic": True, "value_sek": 12_000_000},
    )
    supplier = {
        "name": "Leverantör AB",
        "identifier": "556000-0001",
        "relation": "leverantor",
        "share_percent": 75,
        "declaration": True,
    }
    subcontractor = {
        "name": "Driftpartner AB",
        "identifier": "556000-0002",
        "relation": "underleverantor",
        "share_percent": 25,
        "declaration": False,
    }
    w.record("sanctions_declaration", UPPHANDLARE, {"parties": [supplier, subcontractor]})
    assert w.refused("send_award_decision", UPPHANDLARE) == ["sanctions_check"]
    assert (
        "försäkran saknas för Driftpartner AB" in w.reasons("send_award_decision", UPPHANDLARE)[0]
    )
    w.record(
        "sanctions_declaration",
        UPPHANDLARE,
        {"parties": [supplier, {**subcontractor, "declaration": True}]},
    )
    w.fire("send_award_decision", UPPHANDLARE, "avtalsparr")

    # 8. Avtalsspärr: 10 days, day 10 is nyårsafton, runs to Monday 2027-01-04 (LOU 20 kap.).
    #    Signing straight from the standstill is held back by the same gate.
    for day in (date(2026, 12, 31), date(2027, 1, 4)):
        w.today = day
        assert w.refused("end_standstill", Actor.system()) == ["standstill_ended"]
        assert w.refused("sign_contract", DELEGAT)[0] == "standstill_ended"
    assert w.reasons("end_standstill", Actor.system())[0].endswith(
        "Avtalsspärren löper till och med 2027-01-04."
    )
    w.today = date(2027, 1, 5)
    w.fire("end_standstill", Actor.system(), "avtalstecknande")

    # 9. Avtalstecknande: signed by a delegat whose mandate covers the value (§ 5.4.5), PUB
    #    (§ 5.2.1), accessibility (§ 9.2.13), implementation (§ 9.2.5), registered (§ 10.3)
    w.today = date(2027, 1, 12)
    assert w.refused("sign_contract", DELEGAT) == [
        "contract_signed_with_mandate",
        "pub_avtal_when_personal_data",
        "accessibility_report_when_citizen_facing",
        "implementation_planned",
        "contract_registered",
    ]
    w.record("pub_avtal_signed", DSO, {"signed_on": "2027-01-11", "reference": "SOC 2027/3"})
    assert w.refused("sign_contract", DELEGAT) == [
        "contract_signed_with_mandate",
        "accessibility_report_when_citizen_facing",
        "implementation_planned",
        "contract_registered",
    ]
    w.record("accessibility_report_received", UPPHANDLARE, {"received_on": "2027-01-08"})
    w.record(
        "implementation_planned",
        OBJEKTLEDARE,
        {"project_lead": "Olle Objektledare", "plan_reference": "PP-2027-01"},
    )
    assert w.refused("sign_contract", DELEGAT) == [
        "contract_signed_with_mandate",
        "contract_registered",
    ]
    # The mandate is compared with the awarded value (12 000 000 kr), not with anything the
    # signatory gives.
    signed = {"signed_on": "2027-01-12", "supplier": "Leverantör AB"}
    [(gate, message)] = w.refused_evidence("contract_signed", CHEF, signed)
    assert gate == "signatory_mandate"
    assert "”Förvaltningschef”" in message and "Tilldelat värde 12\u00a0000\u00a0000 kr" in message
    w.record("contract_signed", DELEGAT, signed)
    assert w.evidence.latest("contract_signed").data == {  # type: ignore[union-attr]
        **signed,
        "mandate_id": "kommundirektor",
        "mandate_title": "Kommundirektör",
        "mandate_max_sek": 50_000_000,
    }
    assert w.refused("sign_contract", DELEGAT) == ["contract_registered"]
    w.record(
        "contract_registered",
        UPPHANDLARE,
        {
            "supplier": "Leverantör AB",
            "value_sek": 12_000_000,
            "start_on": "2027-02-01",
            "end_on": "2031-01-31",
            "extensions": [{"until": "2033-01-31", "decide_by": "2030-07-31"}],
            "kraljic": "strategiskt",
            "framework": False,
            "processes_personal_data": True,
            "citizen_facing": True,
            "critical": True,
            "register_reference": "AVT-2027-001",
        },
    )
    w.fire("sign_contract", DELEGAT, "acceptanstest")

    # 10. Acceptanstest: every skakrav passed in the latest round (§ 5.4.5, § 9.2.5, § 10.6.2),
    #     and the objektledare's sign-off for a system (§ 9.2.5)
    w.today = date(2027, 3, 1)
    assert w.refused("approve_acceptance", BESTALLARE) == [
        "all_skakrav_passed",
        "objektledare_signoff_for_systems",
    ]
    w.record(
        "acceptance_requirements",
        BESTALLARE,
        {
            "requirements": [
                {"id": "K1", "text": "Inloggning med tvåfaktor", "level": "ska"},
                {"id": "K2", "text": "Export av all data", "level": "ska"},
                {"id": "K3", "text": "Mörkt läge", "level": "bor"},
            ]
        },
    )
    first_round = {
        "results": [
            {"id": "K1", "result": "godkand"},
            {"id": "K2", "result": "underkand", "note": "Exporten saknar bilagor"},
            {"id": "K3", "result": "godkand"},
        ]
    }
    assert [g for g, _ in w.refused_evidence("acceptance_round", BESTALLARE, first_round)] == [
        "supplier_ready_before_testing"
    ]
    w.record("supplier_ready", UPPHANDLARE, {"ready_on": "2027-02-26"})
    w.record("acceptance_round", BESTALLARE, first_round)
    assert w.refused("approve_acceptance", BESTALLARE) == [
        "all_skakrav_passed",
        "objektledare_signoff_for_systems",
    ]
    assert "(nr 1): K2." in w.reasons("approve_acceptance", BESTALLARE)[0]
    w.today = date(2027, 3, 15)
    w.record(
        "acceptance_round",
        OBJEKTLEDARE,
        {
            "results": [
                {"id": "K1", "result": "godkand"},
                {"id": "K2", "result": "godkand"},
                {"id": "K3", "result": "underkand"},
            ]
        },
    )
    assert w.refused("approve_acceptance", BESTALLARE) == ["objektledare_signoff_for_systems"]
    w.record("acceptance_signoff_objektledare", OBJEKTLEDARE, {"comment": "Godkänt"})
    w.fire("approve_acceptance", BESTALLARE, "inforande")

    # 11. Införande: handover (§ 10.6.2)
    w.today = date(2027, 4, 1)
    assert w.refused("go_live", OBJEKTLEDARE) == ["handover_done"]
    w.record("handover_done", OBJEKTLEDARE, {"forvaltning_owner": "IFO-förvaltningen"})
    w.fire("go_live", OBJEKTLEDARE, "forvaltning")

    # 12. Förvaltning: no gate to start the exit
    w.today = date(2031, 1, 10)
    w.fire("start_exit", UPPHANDLARE, "avslut")

    # 13. Avslut: data returned (§ 5.1.3); no hardware to dispose of
    w.today = date(2031, 6, 1)
    assert w.refused("close_case", UPPHANDLARE) == ["data_returned"]
    w.record("exit_done", UPPHANDLARE, {"data_returned": False})
    assert w.refused("close_case", UPPHANDLARE) == ["data_returned"]
    w.record("exit_done", BESTALLARE, {"data_returned": True})
    w.fire("close_case", UPPHANDLARE, "avslutad")

    assert w.case.state == "avslutad"
    assert [t for t, _, _ in w.history] == [
        "complete_behovsanalys",
        "complete_forstudie",
        "complete_ssa",
        "publish_tender",
        "close_tender",
        "complete_evaluation",
        "send_award_decision",
        "end_standstill",
        "sign_contract",
        "approve_acceptance",
        "go_live",
        "start_exit",
        "close_case",
    ]
    # Each step starts where the previous one ended.
    assert all(a[2] == b[1] for a, b in zip(w.history, w.history[1:], strict=False))
    assert w.case.phase_entered_on == date(2031, 6, 1)


def test_walk_cannot_skip_a_phase(walk: Walk) -> None:
    with pytest.raises(Conflict) as exc:
        walk._decide("publish_tender", UPPHANDLARE, None)
    assert exc.value.key == "trigger_not_available"
    assert walk.case.state == "behovsanalys"


def test_walk_can_be_cancelled_with_a_reason_before_signing(walk: Walk) -> None:
    walk.record(
        "behovsanalys_done",
        BESTALLARE,
        {"need": "Nytt system", "current_state": "Gammalt", "budget_owner": "Soc"},
    )
    walk.fire("complete_behovsanalys", BESTALLARE, "forstudie")
    walk.fire("cancel", BESTALLARE, "avbruten", comment="Behovet täcks av befintligt ramavtal.")
    assert walk.history[-1] == ("cancel", "forstudie", "avbruten")
