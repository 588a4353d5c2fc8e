"""The sweep: everything time makes due, in one pass over the cases whose `next_sweep_at` has
come (an indexed column, so the cost follows what is due, not how many cases there are).

For each due case, in one unit of work of its own:
1. timers: a trigger the definition declares `fires_after` a kind of deadline is fired by the
   system, through the same `advance` use case the API calls, once that deadline has passed and
   the trigger's gates hold (the standstill: the day after its last day, never earlier);
2. re-checks: gates whose facts can go stale are evaluated again, and open or close findings;
3. reminders and escalations that are due are recorded under their unique key and queued in the
   outbox (flows.reminding);
4. the case's `next_sweep_at` moves to the next moment anything of the above falls due.

Two sweeps at once never queue the same reminder: the case row is locked (SQLite's writer lock,
PostgreSQL's FOR UPDATE), a case swept already is no longer due, and the reminder's key is
unique in the database in any case. Prefect runs this (flows.orchestration); so can a test.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import asdict, dataclass, fields
from datetime import date, datetime, time, timedelta

from sqlalchemy import or_, select, tuple_, update

from upphandla.flows.casefile import deadlines_of, evidence_of, snapshot
from upphandla.flows.commands.cases import actor_payload, advance
from upphandla.flows.context import with_context
from upphandla.flows.jobs.findings import sync_findings
from upphandla.flows.jobs.reminding import remind
from upphandla.flows.registry import Registry
from upphandla.states import rechecks
from upphandla.states.case import CaseSnapshot, Evidence
from upphandla.states.clock import STOCKHOLM, local_date, now
from upphandla.states.deadlines import Deadline
from upphandla.states.definition import Definition, parse_definition
from upphandla.states.engine import preview
from upphandla.states.errors import DomainError, TransitionRefused
from upphandla.states.reminders import send_time
from upphandla.states.roles import Actor
from upphandla.store import audit
from upphandla.store.casestore import StoredCase, fetch_case, fetch_evidence, save_case
from upphandla.store.db import Database
from upphandla.store.models import CaseRow, DefinitionRow
from upphandla.store.uow import UnitOfWork

log = logging.getLogger("upphandla.sweep")
RETRY_BROKEN_AFTER = timedelta(hours=1)


@dataclass(frozen=True)
class SweepReport:
    cases: int = 0
    enqueued: int = 0
    escalated: int = 0
    transitions: int = 0
    findings: int = 0
    findings_closed: int = 0
    errors: int = 0

    def __add__(self, other: SweepReport) -> SweepReport:
        return SweepReport(*(getattr(self, f.name) + getattr(other, f.name) for f in fields(self)))

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def run_sweep(
    db: Database, *, registry: Registry | None = None, batch_size: int = 200
) -> SweepReport:
    """One whole sweep, as of now."""
    registry = registry or Registry()
    at = now()
    report = SweepReport()
    for ids in due_case_batches(db, at=at, batch_size=batch_size):
        report += sweep_cases(db, ids, registry=registry, at=at)
    return report


def due_case_batches(db: Database, *, at: datetime, batch_size: int) -> Iterator[list[int]]:
    """Ids of the cases due at `at`, in batches, by (next_sweep_at, id): an index range scan."""
    after: tuple[datetime, int] | None = None
    while True:
        query = (
            select(CaseRow.id, CaseRow.next_sweep_at)
            .where(CaseRow.next_sweep_at <= at)
            .order_by(CaseRow.next_sweep_at, CaseRow.id)
            .limit(batch_size)
        )
        if after is not None:
            query = query.where(tuple_(CaseRow.next_sweep_at, CaseRow.id) > tuple_(*after))
        with UnitOfWork(db, write=False) as uow:
            rows = uow.s.execute(query).all()
        if not rows:
            return
        yield [row.id for row in rows]
        after = (rows[-1].next_sweep_at, rows[-1].id)
        if len(rows) < batch_size:
            return


def sweep_cases(db: Database, ids: list[int], *, registry: Registry, at: datetime) -> SweepReport:
    """Sweep the given cases, each in a unit of work of its own."""
    report = SweepReport()
    for case_id in ids:
        try:
            report += sweep_case(db, case_id, registry=registry, at=at)
        except DomainError as exc:  # e.g. a concurrent change: the next sweep takes it
            log.info("sweep: case %s left for the next sweep: %s", case_id, exc.detail)
        except Exception:
            log.exception("sweep: case %s failed; tried again in an hour", case_id)
            _defer(db, case_id, at + RETRY_BROKEN_AFTER)
            report += SweepReport(errors=1)
    return report


def sweep_case(db: Database, case_id: int, *, registry: Registry, at: datetime) -> SweepReport:
    with UnitOfWork(db) as uow:
        case = fetch_case(uow.s, case_id, for_update=True)
        if case.next_sweep_at is None or case.next_sweep_at > at:
            return SweepReport()  # swept already, by a sweep running at the same time
        definition, _ = registry.get(uow, case.definition_key, case.definition_version)
        today = local_date(at)
        evidence = evidence_of(fetch_evidence(uow.s, case.id))
        transitions = _fire_timers(uow, registry, definition, case, evidence, today)
        if transitions:
            case = fetch_case(uow.s, case_id, for_update=True)
        read_version = case.row_version
        snap = with_context(uow.s, snapshot(case), evidence, today)
        found = sync_findings(
            uow, case, rechecks.findings(definition, snap, evidence, today), at=at
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
            at=at,
            blocking=lambda: _blocking(definition, snap, evidence, today),
        )
        if reminded.queued:
            audit.append(
                uow.s,
                case,
                at=at,
                action="reminders_queued",
                actor_id=None,
                payload={
                    **actor_payload(Actor.system()),
                    "definition": {"key": case.definition_key, "version": case.definition_version},
                    "from_state": case.state,
                    "to_state": case.state,
                    "reminders": reminded.queued,
                },
            )
        timers = [day for day in _timer_days(definition, case.state, deadlines) if day > today]
        case.next_sweep_at = _next_sweep(reminded.next_on, timers)
        case.row_version = read_version + 1
        save_case(uow.s, case, read_version=read_version)
        uow.commit()
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
    same `advance` as the API (so its gates decide). Returns 1 if the case moved, else 0."""
    deadlines = deadlines_of(definition, case, evidence)
    for trigger in definition.triggers_from(case.state):
        kind = trigger.fires_after
        if kind is None or not any(d.kind == kind and d.due_on < today for d in deadlines):
            continue
        try:
            advance(
                uow, registry=registry, actor=Actor.system(), case_id=case.id, trigger=trigger.id
            )
        except TransitionRefused as exc:
            log.info("sweep: timer %s on case %s refused: %s", trigger.id, case.id, exc.detail)
            continue
        return 1
    return 0


def _blocking(
    definition: Definition, snap: CaseSnapshot, evidence: Evidence, today: date
) -> list[dict[str, str]]:
    """What still blocks leaving the case's phase: every failing gate's reason, once."""
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
    return min(moments, default=None)


def mark_for_recheck(uow: UnitOfWork, *, check: str, at: datetime) -> int:
    """Make every running case due now whose phase has a re-check using `check`, e.g. after a
    new sanctions list is loaded. Returns how many cases were marked. The caller commits."""
    marked = 0
    for key, version, body in uow.s.execute(
        select(DefinitionRow.key, DefinitionRow.version, DefinitionRow.body)
    ):
        rules = parse_definition(body).reminders
        phases = {
            phase
            for spec in (rules.rechecks if rules else [])
            if spec.check == check
            for phase in spec.phases
        }
        if not phases:
            continue
        result = uow.s.execute(
            update(CaseRow)
            .where(
                CaseRow.definition_key == key,
                CaseRow.definition_version == version,
                CaseRow.state.in_(phases),
                or_(CaseRow.next_sweep_at.is_(None), CaseRow.next_sweep_at > at),
            )
            .values(next_sweep_at=at)
        )
        marked += result.rowcount  # type: ignore[attr-defined]
    return marked


def _defer(db: Database, case_id: int, until: datetime) -> None:
    with UnitOfWork(db) as uow:
        uow.s.execute(update(CaseRow).where(CaseRow.id == case_id).values(next_sweep_at=until))
        uow.commit()
