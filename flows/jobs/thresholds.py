"""Watching threshold amounts: when the newest amount of a series has passed the end of its
period, the checks still decide on it (and say so), and the kategoriledare and administrators
are told every week until an administrator enters the announced amount for the new period."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from upphandla.flows.commands.notify import enqueue_notice
from upphandla.flows.registry import Registry
from upphandla.states.clock import local_date
from upphandla.states.thresholds import in_force
from upphandla.store.uow import UnitOfWork

TOLD_ROLES = ["kategoriledare", "admin"]
TEMPLATE = "threshold_stale"


@dataclass(frozen=True)
class WatchThresholds:
    """Queue this week's notice for each series whose newest amount's period has ended."""

    at: datetime

    def handle(self, uow: UnitOfWork, registry: Registry) -> int:
        day = local_date(self.at)
        entries = uow.thresholds.all()
        queued = 0
        for series in dict.fromkeys(e.series for e in entries):
            current = in_force([e for e in entries if e.series == series], day)
            if current is None or not current.stale:
                continue
            year, week, _ = day.isocalendar()
            assert current.entry.until is not None  # stale: its period has a last day
            key = f"threshold:{series}:{current.entry.until.isoformat()}:{year}-W{week:02d}"
            context = {
                "series": series,
                "amount": current.describe(),
                "note": current.note(),
                "source": current.entry.source,
            }
            if enqueue_notice(
                uow,
                dedupe_key=key,
                roles=TOLD_ROLES,
                template=TEMPLATE,
                context=context,
                at=self.at,
            ):
                queued += 1
        return queued
