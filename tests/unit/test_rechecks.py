"""The reminder policy, timers and re-checks of the definition, without a database: refused
when broken (with the exact path), and the re-check gates and the deadlines they feed."""

from __future__ import annotations

from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from fakes import ContextLookups
from upphandla.seeds.loader import DEFINITIONS, read_yaml
from upphandla.states.attributes import CaseAttributes
from upphandla.states.case import CaseSnapshot, Evidence, EvidenceRecord
from upphandla.states.deadlines import case_deadlines
from upphandla.states.definition import DefinitionError
from upphandla.states.parse import parse_definition
from upphandla.states.rechecks import finding_deadline, findings

RAW = read_yaml(Path(DEFINITIONS / "it-upphandling.v1.yaml"))
V1 = parse_definition(RAW)
ATTRS = {
    "title": "Kommunikation som tjänst",
    "organisation": "Kommunledningsförvaltningen",
    "subcategory": "IT som tjänst",
    "route": "annonserad",
    "estimated_value_sek": 2_000_000,
    "personal_data": False,
    "citizen_facing": False,
    "critical_service": False,
    "uses_ai": False,
    "cloud_service": True,
    "consultants": False,
    "hardware": False,
}
CONTRACT = {
    "supplier": "Leverantören AB",
    "value_sek": 2_000_000,
    "end_on": "2030-12-31",
    "kraljic": "standard",
    "framework": False,
    "processes_personal_data": False,
    "citizen_facing": False,
    "critical": False,
    "register_reference": "AVT-1",
}


def snapshot(
    state: str = "forvaltning",
    context: dict[str, Any] | None = None,
    entered: date = date(2026, 3, 2),
    **attrs: Any,
) -> CaseSnapshot:
    return CaseSnapshot(
        id=3,
        definition_key="it-upphandling",
        definition_version=1,
        state=state,
        attributes=CaseAttributes.model_validate({**ATTRS, **attrs}).model_dump(),
        phase_entered_on=entered,
        lookups=ContextLookups(context),
    )


def records(*items: tuple[str, dict[str, Any]]) -> Evidence:
    at = datetime(2026, 3, 2, tzinfo=timezone.utc)
    return Evidence.of(EvidenceRecord(k, d, at, "Någon", "upphandlare") for k, d in items)


def broken(change: Any) -> dict[str, str]:
    raw = parse_definition(RAW).model_dump(mode="json")
    change(raw)
    with pytest.raises(DefinitionError) as exc:
        parse_definition(raw)
    return {p.path: p.message for p in exc.value.problems}


# -- the definition is checked -----------------------------------------------------------------
def test_an_unknown_deadline_kind_is_refused_with_its_path() -> None:
    problems = broken(lambda r: r["reminders"]["policies"][0].update(deadline="lunch"))
    assert "okänd sorts frist ”lunch”" in problems["reminders.policies[0].deadline"]


def test_an_unknown_recipient_is_refused() -> None:
    problems = broken(lambda r: r["reminders"]["policies"][0]["escalate_to"].append("vd"))
    assert problems["reminders.policies[0].escalate_to[1]"] == "okänd mottagare ”vd”"


def test_escalation_needs_someone_to_escalate_to() -> None:
    problems = broken(lambda r: r["reminders"]["policies"][0].update(escalate_to=[]))
    assert "reminders.policies[0].escalate_to" in problems


def test_a_timer_needs_the_system_role_and_a_known_deadline() -> None:
    def change(raw: dict[str, Any]) -> None:
        trigger = next(t for t in raw["triggers"] if t["id"] == "end_standstill")
        trigger["roles"] = ["upphandlare"]
        trigger["fires_after"] = "tomorrow"

    problems = broken(change)
    index = next(i for i, t in enumerate(RAW["triggers"]) if t["id"] == "end_standstill")
    assert f"triggers[{index}].fires_after" in problems
    assert f"triggers[{index}].roles" in problems


def test_a_recheck_with_an_unknown_phase_or_kind_is_refused() -> None:
    def change(raw: dict[str, Any]) -> None:
        raw["reminders"]["rechecks"][0]["phases"] = ["drift"]
        raw["reminders"]["rechecks"][1]["params"]["kinds"] = ["avtal"]

    problems = broken(change)
    assert problems["reminders.rechecks[0].phases[0]"] == "okänd fas ”drift”"
    assert problems["reminders.rechecks[1].params.kinds[0]"] == "okänt underlag ”avtal”"


# -- re-checks ----------------------------------------------------------------------------------
def test_pub_avtal_missing_in_forvaltning_is_found__6_2() -> None:
    evidence = records(("contract_registered", {**CONTRACT, "processes_personal_data": True}))
    [found] = findings(V1, snapshot(), evidence, date(2026, 11, 2))
    assert found.key == "pub_avtal_in_forvaltning"
    assert found.source == "§ 6.2; GDPR art. 28"
    signed = records(
        ("contract_registered", {**CONTRACT, "processes_personal_data": True}),
        ("pub_avtal_signed", {"signed_on": "2026-03-01", "reference": "KS 1"}),
    )
    assert findings(V1, snapshot(), signed, date(2026, 11, 2)) == []


def test_no_personal_data_no_finding_and_not_outside_its_phases() -> None:
    evidence = records(("contract_registered", CONTRACT))
    assert findings(V1, snapshot(), evidence, date(2026, 11, 2)) == []
    data = records(("contract_registered", {**CONTRACT, "processes_personal_data": True}))
    assert findings(V1, snapshot("avslut"), data, date(2026, 11, 2)) == []


def test_a_sanctioned_supplier_is_found_and_named__10_11() -> None:
    screening = {
        "list_date": "2026-11-10",
        "hits": [{"party": "Leverantören AB", "listed_name": "LEVERANTOREN", "reference": "R-1"}],
    }
    evidence = records(("contract_registered", CONTRACT))
    [found] = findings(
        V1, snapshot(context={"supplier_sanctions": screening}), evidence, date(2026, 11, 10)
    )
    assert found.key == "supplier_not_sanctioned"
    assert "Leverantören AB" in found.message and "2026-11-10" in found.message
    assert "R-1" in found.message
    # A hit for a name the contract does not carry is not this contract's finding.
    other = {**screening, "hits": [{**screening["hits"][0], "party": "Annan AB"}]}
    assert (
        findings(V1, snapshot(context={"supplier_sanctions": other}), evidence, date(2026, 11, 10))
        == []
    )


DECLARED = {
    "parties": [
        {"name": "Leverantören AB", "relation": "leverantor", "share_percent": 100,
         "declaration": True},
    ]
}  # fmt: skip


@pytest.mark.parametrize("state", ["avtalsparr", "avtalstecknande"])
def test_a_party_listed_after_the_award_decision_is_a_finding_before_signing__10_11(
    state: str,
) -> None:
    evidence = records(
        ("sanctions_declaration", DECLARED), ("evaluation_done", {"winner": "Leverantören AB"})
    )
    listed = {
        "list_date": "2026-11-10",
        "hits": [
            {"party": "Leverantören AB", "listed_name": "Leverantoren OOO", "reference": "R-9"}
        ],
    }
    [found] = findings(V1, snapshot(state, {"sanctions": listed}), evidence, date(2026, 11, 10))
    assert found.key == "sanctions_before_signing"
    assert found.source == "§ 10.11; EU-förordning 833/2014 art. 5k"
    assert "Avtalet får inte tecknas" in found.message
    assert "Leverantören AB (100 %) finns på sanktionslistan daterad 2026-11-10" in found.message
    # Not listed: no finding; and before the award decision the re-check does not run.
    clean = {"list_date": "2026-11-10", "hits": []}
    assert findings(V1, snapshot(state, {"sanctions": clean}), evidence, date(2026, 11, 10)) == []
    assert (
        findings(V1, snapshot("tilldelning", {"sanctions": listed}), evidence, date(2026, 11, 10))
        == []
    )


def test_a_possible_match_is_a_finding_until_a_reviewer_clears_it__10_11() -> None:
    screening = {
        "list_date": "2026-11-10",
        "hits": [
            {"party": "Leverantören AB", "listed_name": "Leverantorin OOO", "match": "possible",
             "score": 88}
        ],
    }  # fmt: skip
    evidence = records(("contract_registered", CONTRACT))
    context = {"supplier_sanctions": screening}
    [found] = findings(V1, snapshot(context=context), evidence, date(2026, 11, 10))
    assert found.key == "supplier_not_sanctioned"
    assert "liknar ”Leverantorin OOO”" in found.message and "likhet 88 av 100" in found.message
    clearance = {
        "party": "Leverantören AB",
        "listed_name": "Leverantorin OOO",
        "reason": "Annat bolag",
    }
    cleared = Evidence.of(
        [*evidence.records, EvidenceRecord("sanctions_match_cleared", clearance,
                                           datetime(2026, 11, 10, 9, tzinfo=timezone.utc),
                                           "Kim Kategoriledare", "kategoriledare")]
    )  # fmt: skip
    assert findings(V1, snapshot(context=context), cleared, date(2026, 11, 10)) == []


def test_a_finding_is_a_deadline_due_the_day_it_was_found() -> None:
    evidence = records(("contract_registered", {**CONTRACT, "processes_personal_data": True}))
    [found] = findings(V1, snapshot(), evidence, date(2026, 11, 2))
    d = finding_deadline("forvaltning", found, date(2026, 11, 2))
    assert (d.kind, d.due_on, d.key) == (
        "finding",
        date(2026, 11, 2),
        "finding:pub_avtal_in_forvaltning:2026-11-02",
    )
    assert d.source == found.source and d.action == found.message


# -- deadlines the policy covers -----------------------------------------------------------------
def test_wcag_follow_up_only_on_citizen_facing_contracts__9_2_13() -> None:
    plain = case_deadlines(V1, snapshot(), records(("contract_registered", CONTRACT)))
    assert not [d for d in plain if d.kind == "wcag_follow_up"]
    facing = case_deadlines(
        V1, snapshot(citizen_facing=True), records(("contract_registered", CONTRACT))
    )
    [wcag] = [d for d in facing if d.kind == "wcag_follow_up"]
    assert wcag.due_on == date(2027, 3, 2)  # a year after entering förvaltning
    followed = case_deadlines(
        V1,
        snapshot(citizen_facing=True),
        records(
            ("contract_registered", CONTRACT),
            ("wcag_followup", {"done_on": "2027-02-15", "result": "Godkänd"}),
        ),
    )
    assert [d.due_on for d in followed if d.kind == "wcag_follow_up"] == [date(2028, 2, 15)]


def test_standstill_end_is_a_deadline_only_while_in_the_standstill() -> None:
    sent = records(("award_decision_sent", {"sent_on": "2026-06-05", "electronic": False}))
    in_standstill = snapshot("avtalsparr", entered=date(2026, 6, 5))
    [end] = [d for d in case_deadlines(V1, in_standstill, sent) if d.kind == "standstill_end"]
    assert end.due_on == date(2026, 6, 22)  # 15 days by post, midsommar moved it
    assert not [
        d
        for d in case_deadlines(V1, snapshot("avtalstecknande", entered=date(2026, 6, 23)), sent)
        if d.kind == "standstill_end"
    ]
    direct = snapshot("avtalsparr", entered=date(2026, 6, 5), route="direktupphandling")
    assert not [d for d in case_deadlines(V1, direct, sent) if d.kind == "standstill_end"]


def test_closed_cases_have_no_deadlines() -> None:
    assert (
        case_deadlines(V1, snapshot("avslutad"), records(("contract_registered", CONTRACT))) == []
    )


def test_a_decided_option_and_a_started_procurement_settle_their_deadlines__9_1() -> None:
    options = {
        **CONTRACT,
        "extensions": [
            {"until": "2031-12-31", "decide_by": "2030-06-30"},
            {"until": "2032-12-31", "decide_by": "2031-06-30"},
        ],
    }

    def keys(*items: tuple[str, dict[str, Any]]) -> list[str]:
        evidence = records(("contract_registered", options), *items)
        return sorted(d.key for d in case_deadlines(V1, snapshot(), evidence))

    # IT som tjänst: 18 months before the last possible end, 2032-12-31.
    assert keys() == [
        "extension_decision:2031-12-31:2030-06-30",
        "extension_decision:2032-12-31:2031-06-30",
        "new_procurement_start:2031-06-30",
    ]
    decision = {"until": "2031-12-31", "extend": True, "decided_on": "2030-05-02"}
    assert keys(("extension_decided", decision)) == [
        "extension_decision:2032-12-31:2031-06-30",
        "new_procurement_start:2031-06-30",
    ]
    started = {"started_on": "2030-09-01", "reference": "UH 2030/12"}
    assert keys(("new_procurement_started", started)) == [
        "extension_decision:2031-12-31:2030-06-30",
        "extension_decision:2032-12-31:2031-06-30",
    ]


def test_an_option_without_a_decision_date_gets_the_default_lead_time__9_1_2() -> None:
    """The contracts section's default: decided six months before the term the option extends
    ends (the contract's end for the first option, the previous option's for the next)."""
    default = V1.contracts.extension_decision_default if V1.contracts else None
    assert default is not None and default.months == 6
    options = {
        **CONTRACT,
        "extensions": [
            {"until": "2031-12-31"},
            {"until": "2032-12-31", "decide_by": "2031-09-30"},
            {"until": "2033-12-31"},
        ],
    }
    evidence = records(("contract_registered", options))
    decisions = [
        d for d in case_deadlines(V1, snapshot(), evidence) if d.kind == "extension_decision"
    ]
    assert [(d.key, d.source) for d in decisions] == [
        ("extension_decision:2031-12-31:2030-06-30", default.source),
        ("extension_decision:2032-12-31:2031-09-30", "§ 9.1.2–9.1.4"),  # the contract's own date
        ("extension_decision:2033-12-31:2032-06-30", default.source),
    ]
    assert "6 månader" in decisions[0].rule and "2030-12-31" in decisions[0].rule
    # Without a default in the definition there is no date to remind of.
    raw = parse_definition(RAW).model_dump(mode="json")
    raw["contracts"]["extension_decision_default"] = None
    bare = parse_definition(raw)
    assert [
        d.key for d in case_deadlines(bare, snapshot(), evidence) if d.kind == "extension_decision"
    ] == ["extension_decision:2032-12-31:2031-09-30"]


def test_the_settling_kinds_must_exist() -> None:
    problems = broken(lambda r: r["contracts"].update(procurement_started_kind="nytt"))
    assert problems["contracts.procurement_started_kind"] == "okänt underlag ”nytt”"
