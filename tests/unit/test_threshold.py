"""The direct-award threshold: effective-dated, refused at or above it, with the figures; the
amount is data (a threshold series), looked up for the check."""

from __future__ import annotations

from datetime import date

from upphandla.states.case import CaseSnapshot, Evidence
from upphandla.states.checks_money import gate_value_below_threshold
from upphandla.states.definition import GateSpec
from upphandla.states.thresholds import ThresholdEntry, ThresholdSeries

SPEC = GateSpec.model_validate(
    {
        "id": "direct_award_below_threshold",
        "title": "Under direktupphandlingsgränsen",
        "check": "value_below_threshold",
        "params": {
            "series": "direct_award",
            "values": [{"fact": "estimated_value_sek", "title": "Uppskattat värde"}],
        },
        "message": "Direktupphandling kräver ett värde under gränsen.",
        "source": "§ 10.7.4",
    }
)
SERIES = (
    ThresholdEntry("direct_award", date(2022, 2, 1), date(2026, 12, 31), 700_000, "LOU"),
    ThresholdEntry("direct_award", date(2027, 1, 1), None, 800_000, "En senare ändring"),
)


def case_worth(value: int) -> CaseSnapshot:
    snapshot = CaseSnapshot(
        1, "k", 1, "kravstallning", {"estimated_value_sek": value}, date(2026, 1, 1)
    )
    return snapshot.with_lookups({ThresholdSeries("direct_award"): SERIES})


def test_direct_award_of_800_000_is_refused_with_threshold_and_value__10_7_4() -> None:
    result = gate_value_below_threshold(case_worth(800_000), Evidence(), date(2026, 11, 25), SPEC)
    assert not result.ok
    message = result.reasons[0].message
    assert "700\u00a0000 kr" in message and "Uppskattat värde 800\u00a0000 kr" in message
    assert "2022-02-01–2026-12-31" in message
    assert result.reasons[0].source == "§ 10.7.4"


def test_direct_award_of_600_000_is_below_the_threshold__10_7_4() -> None:
    assert gate_value_below_threshold(case_worth(600_000), Evidence(), date(2026, 11, 25), SPEC).ok


def test_a_value_equal_to_the_threshold_is_not_below_it__10_7_4() -> None:
    result = gate_value_below_threshold(case_worth(700_000), Evidence(), date(2026, 6, 1), SPEC)
    assert not result.ok


def test_a_later_entry_takes_over_on_its_effective_date() -> None:
    before = gate_value_below_threshold(case_worth(750_000), Evidence(), date(2026, 12, 31), SPEC)
    after = gate_value_below_threshold(case_worth(750_000), Evidence(), date(2027, 1, 1), SPEC)
    assert not before.ok and after.ok


def test_before_any_entry_is_in_force_the_gate_blocks() -> None:
    result = gate_value_below_threshold(case_worth(1), Evidence(), date(2020, 1, 1), SPEC)
    assert not result.ok and "Inget belopp" in result.reasons[0].message


def test_an_amount_whose_period_has_ended_still_decides_and_says_so() -> None:
    ended = (ThresholdEntry("direct_award", date(2022, 2, 1), date(2025, 12, 31), 700_000, "x"),)
    snapshot = case_worth(600_000).with_lookups({ThresholdSeries("direct_award"): ended})
    result = gate_value_below_threshold(snapshot, Evidence(), date(2026, 3, 1), SPEC)
    assert result.ok and len(result.notes) == 1
    assert "gällde till och med 2025-12-31" in result.notes[0]
