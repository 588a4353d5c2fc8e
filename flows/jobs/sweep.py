"""The sweep: everything time makes due, in one pass over the cases whose `next_sweep_at` has
come (an indexed column, so the cost follows what is due, not how many cases there are).

For each due case, as one command (`SweepCase`) in a unit of work of its own:
1. timers: a trigger the definition declares `fires_after` a kind of deadline is fired by the
   system, through the same `advance` the API calls, once that deadline has passed and the
   trigger's gates hold (the standstill: the day after its last day, never earlier);
2. re-checks: gates whose facts can go stale are evaluated again, and open or close findings;
3. reminders and escalations that are due are recorded under their unique key and queued in the
   outbox (flows.jobs.reminding);
4. the case's `next_sweep_at` moves to the next moment anything of the above falls due.

Two sweeps at once never queue the same reminder: the case row is locked (SQLite's writer lock,
PostgreSQL's FOR UPDATE), a case swept already is no longer due, and the reminder's key is
unique in the database in any case. `sweep_due` is the one loop over the due cases, batch by
batch: `run_sweep` drives it with plain calls, the Prefect flow with one task per batch.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import asdict, dataclass, fields
from datetime import date, datetime, time, timedelta, timezone

from upphandla.flows.casefile import deadlines_of, definition_ref, snapshot
from upphandla.flows.commands.cases import Advance, advance
from upphandla.flows.handler import Handler
from upphandla.flows.idempotency import PurgeExpiredKeys
from upphandla.flows.jobs.findings import sync_findings
from upphandla.flows.jobs.reminding import remind
from upphandla.flows.jobs.thresholds import WatchThresholds
from upphandla.flows.lookups import with_lookups
from upphandla.flows.registry import Registry
from upphandla.states import rechecks
from upphandla.states.case import CaseSnapshot, Evidence
from upphandla.states.clock import STOCKHOLM, local_date, now
from upphandla.states.deadlines import Deadline
from upphandla.states.definition import Definition
from upphandla.states.engine import preview, preview_lookups
from upphandla.states.errors import Conflict, DomainError, Unavailable
from upphandla.states.events import RemindersQueued
from upphandla.states.reminders import send_time
from upphandla.states.roles import Actor
from upphandla.store.records import StoredCase
from upphandla.store.uow import UnitOfWork

log = logging.getLogger("upphandla.sweep")
RETRY_BROKEN_AFTER = timedelta(hours=1)
BatchRunner = Callable[[list[int], int], Awaitable["SweepReport"]]


@dataclass(frozen=True)
class SweepReport:
    cases: int = 0
    enqueued: int = 0
    escalated: int = 0
    transitions: int = 0
    findings: int = 0
    findings_closed: int = 0
    errors: int = 0
    threshold_notices: int = (
        0  # series whose newest amount's period has ended (flows.jobs.thresholds)
    )
    idempotency_keys_purged: int = 0  # expired (flows.idempotency)

    def __add__(self, other: SweepReport) -> SweepReport:
        return SweepReport(*(getattr(self, f.name) + getattr(other, f.name) for f in fields(self)))

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


async def sweep_due(
    handler: Handler, *, at: datetime, batch_size: int, run_batch: BatchRunner
) -> tuple[SweepReport, int]:
    """The one loop of a sweep: every case due at `at`, batch by batch, each batch handed to
    `run_batch(ids, number)`. Returns the summed report and the number of batches."""
    report = SweepReport(
        threshold_notices=await asyncio.to_thread(_watch, handler, at),
        idempotency_keys_purged=await asyncio.to_thread(_purge, handler, at),
    )
    number = 0
    batches = due_case_batches(handler, at=at, batch_size=batch_size)
    # The database work runs in a worker thread, so the caller's event loop stays free.
    while (ids := await asyncio.to_thread(next, batches, None)) is not None:
        number += 1
        report += await run_batch(ids, number)
    return report, number


def _watch(handler: Handler, at: datetime) -> int:
    try:
        return int(handler.run(WatchThresholds(at)).result)
    except (Conflict, Unavailable):  # another sweep queued it at the same moment; or try later
        return 0


def _purge(handler: Handler, at: datetime) -> int:
    try:
        return int(handler.run(PurgeExpiredKeys(at)).result)
    except Unavailable:  # the next sweep purges them
        return 0


def run_sweep(handler: Handler, *, batch_size: int = 200) -> SweepReport:
    """One whole sweep as of now, with plain calls (the tests', and `sweep_due`'s reference)."""
    at = now()

    async def each(ids: list[int], number: int) -> SweepReport:
        return sweep_cases(handler, ids, at=at)

    report, _ = asyncio.run(sweep_due(handler, at=at, batch_size=batch_size, run_batch=each))
    return report


def due_case_batches(handler: Handler, *, at: datetime, batch_size: int) -> Iterator[list[int]]:
    """Ids of the cases due at `at`, in batches, by (next_sweep_at, id): an index range scan."""
    after: tuple[datetime, int] | None = None
    while True:
        with handler.reader() as uow:
            rows = uow.cases.due(at, after=after, limit=batch_size)
        if not rows:
            return
        yield [row.id for row in rows]
        after = (rows[-1].next_sweep_at, rows[-1].id)
        if len(rows) < batch_size:
            return


def sweep_cases(handler: Handler, ids: list[int], *, at: datetime) -> SweepReport:
    """Sweep the given cases, each in a unit of work of its own."""
    report = SweepReport()
    for case_id in ids:
        try:
            report += handler.run(SweepCase(case_id, at)).result
        except DomainError as exc:  # e.g. a concurrent change: the next sweep takes it
            log.info("sweep: case %s left for the next sweep: %s", case_id, exc.detail)
        except Exception:
            log.exception("sweep: case %s failed; tried again in an hour", case_id)
            handler.run(DeferSweep(case_id, at + RETRY_BROKEN_AFTER))
            report += SweepReport(errors=1)
    return report


@dataclass(frozen=True)
class DeferSweep:
    case_id: int
    until: datetime

    def handle(self, uow: UnitOfWork, registry: Registry) -> None:
        uow.cases.defer(self.case_id, self.until)


@dataclass(frozen=True)
class SweepCase:
    case_id: int
    at: datetime

    def handle(self, uow: UnitOfWork, registry: Registry) -> SweepReport:
        case, records = uow.cases.get_for_change(self.case_id)
        if case.next_sweep_at is None or case.next_sweep_at > self.at:
            return SweepReport()  # swept already, by a sweep running at the same time
        definition, _ = registry.get(uow, case.definition_key, case.definition_version)
        today = local_date(self.at)
        evidence = Evidence(records)
        transitions = _fire_timers(uow, registry, definition, case, evidence, today)
        if transitions:
            case = uow.cases.get(self.case_id, for_update=True)
        snap = snapshot(case)
        snap = with_lookups(uow, snap, rechecks.recheck_lookups(definition, snap, evidence, today))
        found = sync_findings(
            uow, case, rechecks.findings(definition, snap, evidence, today), at=self.at
        )
        deadlines = deadlines_of(definition, case, evidence)
        reminded = remind(
            uow,
            definition,
            case,
            deadlines
            + [
                rechecks.finding_deadline(case.state, finding, opened_on)
                for finding, opened_on in found.open_since.values()
            ],
            today=today,
            at=self.at,
            blocking=lambda: _blocking(uow, definition, snap, evidence, today),
        )
        if reminded.queued:
            event = RemindersQueued(
                actor=Actor.system(),
                definition=definition_ref(case),
                from_state=case.state,
                to_state=case.state,
                reminders=reminded.queued,
            )
            uow.audit.append(case, event, at=self.at)
        timers = [day for day in _timer_days(definition, case.state, deadlines) if day > today]
        case.next_sweep_at = _next_sweep(reminded.next_on, timers)
        uow.cases.save(case)
        return SweepReport(
            cases=1,
            enqueued=reminded.enqueued,
            escalated=reminded.escalated,
            transitions=transitions,
            findings=len(found.opened),
            findings_closed=len(found.closed),
        )


def _fire_timers(
    uow: UnitOfWork,
    registry: Registry,
    definition: Definition,
    case: StoredCase,
    evidence: Evidence,
    today: date,
) -> int:
    """Fire the first timer of the case's phase whose day has come, as the system, through the
    same `advance` as the API (so its gates decide). Returns 1 if the case moved, else 0. A
    timer that is refused, for whatever reason, leaves the case where it is: its reminders and
    findings still go out."""
    deadlines = deadlines_of(definition, case, evidence)
    for trigger in definition.triggers_from(case.state):
        kind = trigger.fires_after
        if kind is None or not any(d.kind == kind and d.due_on < today for d in deadlines):
            continue
        command = Advance(actor=Actor.system(), case_id=case.id, trigger=trigger.id)
        try:
            advance(uow, command, registry)
        except DomainError as exc:
            log.info("sweep: timer %s on case %s refused: %s", trigger.id, case.id, exc.detail)
            continue
        return 1
    return 0


def _blocking(
    uow: UnitOfWork, definition: Definition, snap: CaseSnapshot, evidence: Evidence, today: date
) -> list[dict[str, str]]:
    """What still blocks leaving the case's phase: every failing gate's reason, once."""
    snap = with_lookups(uow, snap, preview_lookups(definition, snap, evidence, today=today))
    seen: dict[str, dict[str, str]] = {}
    for step in preview(definition, snap, evidence, actor=Actor.system(), today=today):
        for result in step.gate_results:
            for reason in result.reasons:
                seen.setdefault(reason.gate, reason.as_dict())
    return list(seen.values())[:20]


def _timer_days(definition: Definition, state: str, deadlines: list[Deadline]) -> list[date]:
    """The days on which a timer of the phase fires: the day after its kind of deadline."""
    kinds = {t.fires_after for t in definition.triggers_from(state) if t.fires_after}
    return [d.due_on + timedelta(days=1) for d in deadlines if d.kind in kinds]


def _next_sweep(next_on: date | None, timer_days: list[date]) -> datetime | None:
    """The next moment the case is due: the next reminder's send time (07:00), or the start of
    the day a timer fires (00:00 Stockholm), whichever is first."""
    moments = [send_time(next_on)] if next_on is not None else []
    moments += [datetime.combine(day, time(0), tzinfo=STOCKHOLM) for day in timer_days]
    first = min(moments, default=None)
    return first.astimezone(timezone.utc) if first is not None else None
