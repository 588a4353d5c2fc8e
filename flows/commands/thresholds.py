"""Entering threshold amounts (states.thresholds): the shipped ones at start, later ones by an
administrator. An amount is never edited: a new period is a new entry."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from upphandla.flows.registry import Registry
from upphandla.seeds.loader import THRESHOLDS, read_yaml
from upphandla.states.clock import now
from upphandla.states.errors import Conflict, Invalid
from upphandla.states.roles import Actor
from upphandla.states.thresholds import NewThreshold, ThresholdEntry, overlapping
from upphandla.states.validation import problems_from
from upphandla.store.uow import UnitOfWork


@dataclass(frozen=True)
class Entered:
    entry: ThresholdEntry
    added: bool  # False: the same amount for the same period was there already


@dataclass(frozen=True, kw_only=True)
class EnterThreshold:
    """Enter one amount of a series with its period and source."""

    data: Any  # series, from, until, amount_sek, source
    entered_by: str
    actor: Actor = field(default_factory=Actor.system)

    def handle(self, uow: UnitOfWork, registry: Registry) -> Entered:
        try:
            entry = NewThreshold.model_validate(self.data).entry()
        except ValidationError as exc:
            raise Invalid("threshold_invalid", problems_from(exc, ["threshold"])) from None
        return enter(uow, entry, entered_by=self.entered_by, actor=self.actor)


@dataclass(frozen=True)
class LoadSeedThresholds:
    """The amounts shipped in seeds/thresholds.yaml that are not entered yet."""

    def handle(self, uow: UnitOfWork, registry: Registry) -> list[ThresholdEntry]:
        added = []
        for series, spec in (read_yaml(THRESHOLDS).get("series") or {}).items():
            for item in spec.get("entries") or []:
                command = EnterThreshold(
                    data={**item, "series": series}, entered_by="seeds/thresholds.yaml"
                )
                entered = command.handle(uow, registry)
                if entered.added:
                    added.append(entered.entry)
        return added


def enter(
    uow: UnitOfWork, entry: ThresholdEntry, *, entered_by: str, actor: Actor | None = None
) -> Entered:
    """Store the amount (recorded in the system chain); the same amount for the same period
    again changes nothing; an overlapping period is refused."""
    existing = uow.thresholds.series(entry.series)
    clash = overlapping(existing, entry)
    if clash == entry:
        return Entered(entry, added=False)
    if clash is not None:
        raise Conflict(
            "threshold_overlaps",
            series=entry.series,
            begins=clash.effective_from.isoformat(),
            ends=clash.until.isoformat() if clash.until else "tills vidare",
        )
    at = now()
    uow.thresholds.add(entry, entered_by=entered_by, at=at)
    uow.system_audit.append(
        "threshold.entered",
        {
            "series": entry.series,
            "from": entry.effective_from.isoformat(),
            "until": entry.until.isoformat() if entry.until else None,
            "amount_sek": entry.amount_sek,
            "source": entry.source,
            "entered_by": entered_by,
        },
        actor=actor or Actor.system(),
        at=at,
    )
    return Entered(entry, added=True)
