"""Threshold amounts as effective-dated data with their period and source: the direct-award limit
and the EU thresholds. The EU amounts in kronor are revised every second year and announced
officially; an administrator enters each new amount (never converted at a rate here). A check
asks for a series by name (`ThresholdSeries`, a lookup) and decides with the amount in force.
When the day of the check lies after the newest amount's period, the check still decides on that
amount but says so (`InForce.note`), and a re-check raises a finding until the new amount is in."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Annotated

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from upphandla.states.definition import Identifier
from upphandla.states.money import kronor
from upphandla.states.validation import no_control_characters


@dataclass(frozen=True, slots=True)
class ThresholdEntry:
    series: str
    effective_from: date
    until: date | None  # the last day of its period; None: until further notice
    amount_sek: int
    source: str  # where the amount was announced or laid down


@dataclass(frozen=True, slots=True)
class ThresholdSeries:
    """Lookup: every entry of a named series (e.g. "direct_award", "eu_goods_services")."""

    series: str


@dataclass(frozen=True, slots=True)
class InForce:
    entry: ThresholdEntry
    day: date
    stale: bool  # the day lies after the entry's period and no newer entry exists

    @property
    def amount_sek(self) -> int:
        return self.entry.amount_sek

    def describe(self) -> str:
        """The amount with its period, e.g. "2 389 585 kr (gäller 2024-01-01–2025-12-31)"."""
        period = f"från {self.entry.effective_from.isoformat()}"
        if self.entry.until is not None:
            period = f"{self.entry.effective_from.isoformat()}–{self.entry.until.isoformat()}"
        return f"{kronor(self.entry.amount_sek)} (gäller {period})"

    def note(self) -> str | None:
        """What a check says when it decides on an amount whose period has ended."""
        if not self.stale or self.entry.until is None:
            return None
        return (
            f"Det senast inlagda beloppet {kronor(self.entry.amount_sek)} gällde till och med "
            f"{self.entry.until.isoformat()}; inget belopp är inlagt för {self.day.isoformat()}. "
            "Kontrollen använder det senaste beloppet tills en administratör lägger in det "
            "officiellt beslutade beloppet för den nya perioden."
        )


def in_force(entries: Iterable[ThresholdEntry], day: date) -> InForce | None:
    """The entry in force on `day`: the latest whose period has begun. None when none has."""
    begun = [e for e in entries if e.effective_from <= day]
    if not begun:
        return None
    entry = max(begun, key=lambda e: e.effective_from)
    return InForce(entry, day, stale=entry.until is not None and day > entry.until)


class NewThreshold(BaseModel):
    """An amount as an administrator enters it (or as seeds/thresholds.yaml gives it)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    series: Identifier
    effective_from: date = Field(alias="from")
    until: date | None = None
    amount_sek: int = Field(gt=0, le=10**12)
    source: Annotated[
        str,
        StringConstraints(strip_whitespace=True, min_length=1, max_length=500),
        AfterValidator(no_control_characters),
    ]

    @model_validator(mode="after")
    def _period(self) -> NewThreshold:
        if self.until is not None and self.until < self.effective_from:
            raise ValueError("periodens sista dag ligger före dess första")
        return self

    def entry(self) -> ThresholdEntry:
        return ThresholdEntry(
            self.series, self.effective_from, self.until, self.amount_sek, self.source
        )


def overlapping(entries: Iterable[ThresholdEntry], new: ThresholdEntry) -> ThresholdEntry | None:
    """An entered entry whose closed period the new one's first day falls in, or that begins the
    same day. (An open-ended entry ends where a later one begins.)"""
    for e in entries:
        if e.effective_from == new.effective_from:
            return e
        if e.until is not None and e.effective_from <= new.effective_from <= e.until:
            return e
        if new.until is not None and new.effective_from <= e.effective_from <= new.until:
            return e
    return None
