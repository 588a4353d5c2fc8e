"""The case's values by step (states.values): which recorded value counts, and the contract's
value with its amendments."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from upphandla.states.case import EvidenceRecord
from upphandla.states.values import (
    CaseValue,
    ValueFact,
    recorded_values,
    value_before,
    value_of_step,
    value_problems,
    with_changes,
)

VALUES = [
    ValueFact("contract_registered.value_sek", "Avtalets värde"),
    ValueFact("award_decision_sent.value_sek", "Tilldelat värde"),
    ValueFact("estimated_value_sek", "Uppskattat värde"),
]
ATTRIBUTES = {"estimated_value_sek": 650_000}


def rec(kind: str, **data: Any) -> EvidenceRecord:
    at = datetime(2026, 3, 2, 9, tzinfo=timezone.utc)
    return EvidenceRecord(kind, data, at, "Anna Upphandlare", "upphandlare")


def test_the_value_of_the_step_is_the_latest_step_recorded() -> None:
    assert value_of_step(VALUES, ATTRIBUTES) == CaseValue(650_000, "Uppskattat värde")
    awarded = {**ATTRIBUTES, "award_decision_sent.value_sek": 1_400_000}
    assert value_of_step(VALUES, awarded) == CaseValue(1_400_000, "Tilldelat värde")
    contract = {**awarded, "contract_registered.value_sek": 1_300_000}
    assert value_of_step(VALUES, contract) == CaseValue(1_300_000, "Avtalets värde")


def test_every_recorded_value_in_the_order_of_the_list() -> None:
    facts = {**ATTRIBUTES, "contract_registered.value_sek": 700_000, "other.value_sek": 1}
    assert recorded_values(VALUES, facts) == (
        CaseValue(700_000, "Avtalets värde"),
        CaseValue(650_000, "Uppskattat värde"),
    )
    # A fact that is not an amount is not a value.
    assert recorded_values(VALUES, {"estimated_value_sek": True}) == ()
    assert value_of_step(VALUES, {}) is None


def test_the_value_before_the_first_amendment_is_the_original() -> None:
    records = [
        rec("contract_registered", value_sek=10_000_000),
        rec("amendment", value_sek=500_000),
        rec("contract_registered", value_sek=12_000_000, correction_reason="Med ändringen"),
    ]
    before = value_before(VALUES, records, ATTRIBUTES, "amendment")
    assert before == CaseValue(10_000_000, "Avtalets värde")
    # Without an amendment, the value as it is now.
    assert value_before(VALUES, records[:1], ATTRIBUTES, "amendment") == before


def test_the_contract_with_its_amendments_is_the_original_plus_their_net_sum() -> None:
    records = [
        rec("contract_registered", value_sek=9_800_000),
        rec("amendment", value_sek=400_000),
        rec("amendment", value_sek=-100_000),
    ]
    total = with_changes(VALUES, records, ATTRIBUTES, "amendment", "value_sek")
    assert total is not None
    assert total.amount == 10_100_000
    assert total.describe() == (
        "Avtalets värde med ändringar 10\u00a0100\u00a0000 kr (Avtalets värde 9\u00a0800\u00a0000 kr "
        "före första ändringen och 2 ändringar på netto 300\u00a0000 kr)"
    )
    assert with_changes(VALUES, records[:1], ATTRIBUTES, "amendment", "value_sek") == CaseValue(
        9_800_000, "Avtalets värde"
    )


def test_a_values_list_names_amounts_only() -> None:
    facts = {"estimated_value_sek": int, "contract_registered.value_sek": int, "title": str}
    assert value_problems(VALUES[::2], "params.values", facts) == []
    [problem] = value_problems([ValueFact("title", "Titel")], "params.values", facts)
    assert (problem.path, problem.message) == (
        "params.values[0].fact",
        "”title” är inte en beloppsuppgift",
    )
    assert value_problems([], "params.values", facts)[0].message == "minst ett värde behövs"
