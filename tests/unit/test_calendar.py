"""The legal calendar: lag (1930:173) working days, period ends and the one clock."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from freezegun import freeze_time
from hypothesis import given, settings
from hypothesis import strategies as st

from upphandla.states import clock
from upphandla.states.calendar import (
    add_working_days,
    holiday_name,
    is_working_day,
    next_working_day_on_or_after,
    period_end,
)


# -- working days --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "day",
    [date(2026, 11, 7), date(2026, 11, 8), date(2027, 1, 2), date(2027, 1, 3)],
    ids=["saturday", "sunday", "saturday-new-year", "sunday-new-year"],
)
def test_weekend_is_not_a_working_day(day: date) -> None:
    assert day.weekday() >= 5
    assert not is_working_day(day)


@pytest.mark.parametrize(
    ("day", "name"),
    [
        (date(2027, 1, 1), "Nyårsdagen"),
        (date(2026, 1, 6), "Trettondedag jul"),
        (date(2026, 4, 3), "Långfredagen"),
        (date(2026, 4, 6), "Annandag påsk"),
        (date(2026, 5, 1), "Första maj"),
        (date(2026, 5, 14), "Kristi himmelsfärdsdag"),
        (date(2025, 6, 6), "Nationaldagen"),
        (date(2026, 12, 25), "Juldagen"),
    ],
)
def test_public_holiday_on_a_weekday_is_not_a_working_day(day: date, name: str) -> None:
    assert day.weekday() < 5
    assert holiday_name(day) == name
    assert not is_working_day(day)


@pytest.mark.parametrize(
    ("day", "name"),
    [
        (date(2026, 6, 19), "Midsommarafton"),
        (date(2026, 12, 24), "Julafton"),
        (date(2026, 12, 31), "Nyårsafton"),
        (date(2025, 6, 20), "Midsommarafton"),
        (date(2025, 12, 24), "Julafton"),
        (date(2025, 12, 31), "Nyårsafton"),
    ],
)
def test_eves_named_in_lag_1930_173_are_not_working_days(day: date, name: str) -> None:
    # All of these fall on a weekday, so only the de facto holiday makes them non-working.
    assert day.weekday() < 5
    assert holiday_name(day) == name
    assert not is_working_day(day)


@pytest.mark.parametrize(
    "day",
    [date(2026, 12, 21), date(2026, 5, 13), date(2026, 6, 22), date(2027, 1, 4)],
)
def test_ordinary_weekday_is_a_working_day(day: date) -> None:
    assert holiday_name(day) is None
    assert is_working_day(day)


@pytest.mark.parametrize(
    "day",
    [date(2026, 4, 30), date(2026, 12, 30), date(2026, 6, 18)],
    ids=["valborgsmassoafton", "day-before-nyarsafton", "day-before-midsommarafton"],
)
def test_eves_not_named_in_the_law_are_working_days(day: date) -> None:
    # Valborgsmässoafton is commonly short but not named in lag (1930:173).
    assert day.weekday() < 5
    assert is_working_day(day)


def test_next_working_day_on_or_after_keeps_a_working_day() -> None:
    assert next_working_day_on_or_after(date(2026, 12, 21)) == date(2026, 12, 21)


def test_next_working_day_on_or_after_skips_julafton_to_annandag_jul_weekend() -> None:
    # 24 julafton, 25 juldagen, 26 annandag jul (Saturday), 27 Sunday.
    assert next_working_day_on_or_after(date(2026, 12, 24)) == date(2026, 12, 28)


# -- period_end ----------------------------------------------------------------------------------
def test_standstill_10_days_from_2026_12_21_runs_past_new_year_to_2027_01_04__lou_20_kap() -> None:
    # Day 10 = 2026-12-31 nyårsafton -> 2027-01-01 nyårsdagen -> 2027-01-02/03 weekend.
    assert date(2026, 12, 21) + timedelta(days=10) == date(2026, 12, 31)
    assert period_end(date(2026, 12, 21), 10) == date(2027, 1, 4)


def test_standstill_15_days_from_2026_06_05_runs_past_midsommar_to_2026_06_22__lou_20_kap() -> None:
    # Day 15 = 2026-06-20 midsommardagen (Saturday), then Sunday 2026-06-21.
    assert date(2026, 6, 5) + timedelta(days=15) == date(2026, 6, 20)
    assert holiday_name(date(2026, 6, 20)) == "Midsommardagen"
    assert period_end(date(2026, 6, 5), 15) == date(2026, 6, 22)


def test_period_ending_on_a_working_day_ends_that_day() -> None:
    # 2026-06-05 + 10 = 2026-06-15, a Monday.
    assert period_end(date(2026, 6, 5), 10) == date(2026, 6, 15)


def test_period_counts_from_the_day_after_the_start() -> None:
    # Monday + 1 day = Tuesday: day 1 is the day after the start, not the start itself.
    assert period_end(date(2026, 12, 21), 1) == date(2026, 12, 22)


def test_period_of_zero_days_from_a_holiday_runs_to_the_next_working_day() -> None:
    assert period_end(date(2026, 12, 31), 0) == date(2027, 1, 4)


@settings(max_examples=400, deadline=None)
@given(
    start=st.dates(min_value=date(2020, 1, 1), max_value=date(2035, 12, 31)),
    days=st.integers(min_value=0, max_value=120),
)
def test_period_end_is_the_first_working_day_on_or_after_start_plus_days(
    start: date, days: int
) -> None:
    end = period_end(start, days)
    nominal = start + timedelta(days=days)
    assert is_working_day(end)
    assert end >= nominal
    # Everything from the nominal last day up to (not including) the result is non-working;
    # in particular every day strictly between them.
    day = nominal
    while day < end:
        assert not is_working_day(day), f"{day} is a working day before {end}"
        day += timedelta(days=1)
    # A long weekend plus eves never stretches a period by more than a few days.
    assert (end - nominal).days <= 5


# -- add_working_days ----------------------------------------------------------------------------
def test_add_working_days_skips_christmas() -> None:
    # 22, 23 | 24 julafton, 25 juldagen, 26 annandag jul, 27 Sunday | 28, 29, 30
    assert add_working_days(date(2026, 12, 21), 5) == date(2026, 12, 30)


def test_add_zero_working_days_is_the_start() -> None:
    assert add_working_days(date(2026, 12, 26), 0) == date(2026, 12, 26)


@settings(max_examples=200, deadline=None)
@given(
    start=st.dates(min_value=date(2020, 1, 1), max_value=date(2035, 12, 31)),
    days=st.integers(min_value=1, max_value=60),
)
def test_add_working_days_lands_on_a_working_day_after_exactly_n_working_days(
    start: date, days: int
) -> None:
    end = add_working_days(start, days)
    assert is_working_day(end)
    between = [start + timedelta(days=i) for i in range(1, (end - start).days + 1)]
    assert sum(is_working_day(d) for d in between) == days


# -- the clock -----------------------------------------------------------------------------------
@freeze_time("2026-12-31 23:30:00")
def test_today_is_the_stockholm_date_not_the_utc_date() -> None:
    # 23:30 UTC on nyårsafton is 00:30 on nyårsdagen in Stockholm (CET, UTC+1).
    assert clock.now() == datetime(2026, 12, 31, 23, 30, tzinfo=timezone.utc)
    assert clock.today() == date(2027, 1, 1)


@freeze_time("2026-06-18 22:30:00")
def test_today_follows_summer_time_in_stockholm() -> None:
    # CEST is UTC+2: 22:30 UTC is 00:30 on midsommarafton.
    assert clock.today() == date(2026, 6, 19)


@freeze_time("2026-06-18 21:30:00")
def test_today_before_stockholm_midnight_is_still_the_same_day() -> None:
    assert clock.today() == date(2026, 6, 18)


@freeze_time("2026-03-01 12:00:00")
def test_now_is_timezone_aware_utc() -> None:
    now = clock.now()
    assert now.tzinfo is not None
    assert now.utcoffset() == timedelta(0)


def test_local_date_converts_an_aware_moment_to_stockholm() -> None:
    assert clock.local_date(datetime(2026, 12, 31, 23, 30, tzinfo=timezone.utc)) == date(2027, 1, 1)
    assert clock.local_date(datetime(2026, 12, 31, 22, 59, tzinfo=timezone.utc)) == date(
        2026, 12, 31
    )
