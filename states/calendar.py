"""The legal calendar: Swedish working days per lag (1930:173).

A period whose last day falls on a Saturday, Sunday, public holiday, midsommarafton, julafton or
nyårsafton runs to the next working day. The `holidays` library's Swedish `public` and `de_facto`
categories hold exactly those holidays and eves.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache

import holidays
from dateutil.relativedelta import relativedelta


@lru_cache(maxsize=64)
def _holidays_for(year: int) -> holidays.HolidayBase:
    return holidays.country_holidays(
        "SE", years=year, categories=("public", "de_facto"), language="sv"
    )


def holiday_name(day: date) -> str | None:
    """The Swedish name of the holiday on `day`, or None."""
    name = _holidays_for(day.year).get(day)
    return str(name) if name else None


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and holiday_name(day) is None


def next_working_day_on_or_after(day: date) -> date:
    while not is_working_day(day):
        day += timedelta(days=1)
    return day


def period_end(start: date, days: int) -> date:
    """Last day of a period of `days` days counted from the day after `start`.

    If that day is not a working day, the period runs to the next working day.
    """
    return next_working_day_on_or_after(start + timedelta(days=days))


def add_working_days(start: date, days: int) -> date:
    """The date `days` working days after `start`."""
    day = start
    remaining = days
    while remaining > 0:
        day += timedelta(days=1)
        if is_working_day(day):
            remaining -= 1
    return day


def add_months(day: date, months: int) -> date:
    """The same day `months` later (earlier when negative); the month's last day when it has
    fewer days (31 January + 1 month is 28 or 29 February)."""
    return day + relativedelta(months=months)
