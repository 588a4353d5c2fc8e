"""Threshold amounts as effective-dated series (states.thresholds): which amount is in force on a
day, what a check says when the newest amount's period has ended, and what may be entered."""

from __future__ import annotations

from datetime import date

import pytest
from pydantic import ValidationError

from upphandla.states.thresholds import NewThreshold, ThresholdEntry, in_force, overlapping

# The EU threshold for a municipality's supplies and services, 2024–2025: 221 000 euro, announced
# as 2 389 585 kr. The direct-award limit: 700 000 kr, fixed in LOU since 2022-02-01.
EU_2024 = ThresholdEntry(
    "eu_goods_services", date(2024, 1, 1), date(2025, 12, 31), 2_389_585, "2023/2495"
)
DIRECT = ThresholdEntry("direct_award", date(2022, 2, 1), None, 700_000, "LOU 19 a kap.")


def test_the_amount_in_force_is_the_latest_whose_period_has_begun() -> None:
    later = ThresholdEntry("eu_goods_services", date(2026, 1, 1), None, 2_300_000, "x")
    assert in_force([EU_2024, later], date(2025, 12, 31)).entry == EU_2024  # type: ignore[union-attr]
    assert in_force([EU_2024, later], date(2026, 1, 1)).entry == later  # type: ignore[union-attr]
    assert in_force([EU_2024], date(2023, 12, 31)) is None


def test_within_its_period_an_amount_is_not_stale_and_says_nothing_more() -> None:
    current = in_force([EU_2024], date(2025, 12, 31))
    assert current is not None and not current.stale and current.note() is None
    assert current.describe() == "2\u00a0389\u00a0585 kr (gäller 2024-01-01–2025-12-31)"
    forever = in_force([DIRECT], date(2040, 1, 1))
    assert forever is not None and not forever.stale
    assert forever.describe() == "700\u00a0000 kr (gäller från 2022-02-01)"


def test_after_its_period_the_newest_amount_still_decides_but_says_so() -> None:
    current = in_force([EU_2024], date(2027, 3, 1))
    assert current is not None and current.stale and current.amount_sek == 2_389_585
    note = current.note()
    assert note is not None
    assert "2\u00a0389\u00a0585 kr" in note and "2025-12-31" in note and "2027-03-01" in note
    assert "administratör" in note


def test_an_entered_amount_needs_a_positive_amount_a_source_and_a_period_in_order() -> None:
    ok = NewThreshold.model_validate(
        {
            "series": "eu_goods_services",
            "from": "2026-01-01",
            "until": "2027-12-31",
            "amount_sek": 2_300_000,
            "source": "Tillkännagivande",
        }
    )
    assert ok.entry().until == date(2027, 12, 31)
    for bad in (
        {"amount_sek": 0},
        {"amount_sek": -5},
        {"source": "  "},
        {"until": "2025-12-31"},
        {"series": "EU threshold"},
        {"source": "rad\x00"},
    ):
        data = {
            "series": "eu_goods_services",
            "from": "2026-01-01",
            "amount_sek": 1,
            "source": "x",
            **bad,
        }
        with pytest.raises(ValidationError):
            NewThreshold.model_validate(data)


def test_a_period_that_overlaps_an_entered_one_is_found() -> None:
    def entry(start: str, end: str | None) -> ThresholdEntry:
        return ThresholdEntry(
            "eu_goods_services",
            date.fromisoformat(start),
            date.fromisoformat(end) if end else None,
            1,
            "x",
        )

    assert overlapping([EU_2024], entry("2025-06-01", None)) == EU_2024
    assert overlapping([EU_2024], entry("2024-01-01", "2024-02-01")) == EU_2024
    assert overlapping([EU_2024], entry("2023-01-01", "2024-01-01")) == EU_2024
    assert overlapping([EU_2024], entry("2026-01-01", "2027-12-31")) is None
    # An amount laid down until further notice ends where a later one begins.
    assert (
        overlapping([DIRECT], ThresholdEntry("direct_award", date(2027, 1, 1), None, 1, "x"))
        is None
    )
