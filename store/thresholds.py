"""Threshold amounts: every entered amount of each series, with its period and source."""

from __future__ import annotations

from datetime import date, datetime
from typing import cast

from sqlalchemy import Table, insert, select
from sqlalchemy.engine import Connection

from upphandla.states.thresholds import ThresholdEntry
from upphandla.store.models import ThresholdAmountRow

AMOUNTS = cast(Table, ThresholdAmountRow.__table__)
_COLUMNS = [
    AMOUNTS.c.series,
    AMOUNTS.c.effective_from,
    AMOUNTS.c.until,
    AMOUNTS.c.amount_sek,
    AMOUNTS.c.source,
]


class ThresholdRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def series(self, name: str) -> tuple[ThresholdEntry, ...]:
        """Every entry of the series, oldest period first."""
        rows = self._conn.execute(
            select(*_COLUMNS).where(AMOUNTS.c.series == name).order_by(AMOUNTS.c.effective_from)
        )
        return tuple(ThresholdEntry(*row) for row in rows)

    def all(self) -> tuple[ThresholdEntry, ...]:
        rows = self._conn.execute(
            select(*_COLUMNS).order_by(AMOUNTS.c.series, AMOUNTS.c.effective_from)
        )
        return tuple(ThresholdEntry(*row) for row in rows)

    def entered(self, series: str, effective_from: date) -> ThresholdEntry | None:
        row = self._conn.execute(
            select(*_COLUMNS).where(
                AMOUNTS.c.series == series, AMOUNTS.c.effective_from == effective_from
            )
        ).one_or_none()
        return ThresholdEntry(*row) if row is not None else None

    def add(self, entry: ThresholdEntry, *, entered_by: str, at: datetime) -> None:
        self._conn.execute(
            insert(AMOUNTS).values(
                series=entry.series,
                effective_from=entry.effective_from,
                until=entry.until,
                amount_sek=entry.amount_sek,
                source=entry.source,
                entered_by=entered_by,
                entered_at=at,
            )
        )
