"""The direct-award threshold: effective-dated, refused at or above it, with the figures."""

from __future__ import annotations

from datetime import date

from upphandla.states.case import CaseSnapshot, Evidence
from upphandla.states.checks_money import gate_value_below_threshold
from upphandla.states.definition import GateSpec

SPEC = GateSpec.model_validate(
    {
        "id": "direct_award_below_threshold",
        "title": "Under direktupphandlingsgränsen",
        "check": "value_below_threshold",
        "params": {
            "thresholds": [
                {"from": "2022-02-01", "amount_sek": 700_000},
                {"from": "2027-01-01", "amount_sek": 800_000},
            ]
        },
        "message": "Direktupphandling kräver ett värde under gränsen.",
        "source": "§ 10.7.4",
    }
)


def case_worth(value: int) -> CaseSnapshot:
    return CaseSnapshot(
        1, "k", 1, "kravstallning", {"estimated_value_sek": value}, date(2026, 1, 1)
    )


def test_direct_award_of_800_000_is_refused_with_threshold_and_value__10_7_4() -> None:
    result = gate_value_below_threshold(case_worth(800_000), Evidence(), date(2026, 11, 25), SPEC)
    assert not result.ok
    message = result.reasons[0].message
    assert "700\u00a0000 kr" in message and "800\u00a0000 kr" in message
    assert "2022-02-01" in message
    assert result.reasons[0].source == "§ 10.7.4"


def test_direct_award_of_600_000_is_below_the_threshold__10_7_4() -> None:
    assert gate_value_below_threshold(case_worth(600_000), Evidence(), date(2026, 11, 25), SPEC).ok


def test_a_value_equal_to_the_threshold_is_not_below_it__10_7_4() -> None:
    assert not gate_value_below_threshold(
        case_worth(700_000), Evidence(), date(2026, 6, 1), SPEC
    ).ok


def test_a_later_entry_takes_over_on_its_effective_date() -> None:
    before = gate_value_below_threshold(case_worth(750_000), Evidence(), date(2026, 12, 31), SPEC)
    after = gate_value_below_threshold(case_worth(750_000), Evidence(), date(2027, 1, 1), SPEC)
    assert not before.ok and after.ok


def test_before_any_entry_is_in_force_the_gate_blocks() -> None:
    result = gate_value_below_threshold(case_worth(1), Evidence(), date(2020, 1, 1), SPEC)
    assert not result.ok and "Inget tröskelvärde" in result.reasons[0].message
