"""When a trigger that has to wait (the minimum tender period, the standstill) will let the case
go: its gates evaluated, purely, day after day on what the case holds now. Whoever runs the
lifecycle path with a clock of its own (the tests, the benchmarks) moves the clock to that day."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from upphandla.flows.casefile import evidence_of, snapshot
from upphandla.flows.lookups import with_lookups
from upphandla.flows.registry import Registry
from upphandla.states.engine import evaluate_gates, trigger_lookups
from upphandla.states.gates import Reason
from upphandla.store.uow import UnitOfWork


@dataclass(frozen=True)
class Wait:
    day: date | None  # the first day the trigger's gates hold; None: not within the days asked
    reasons: tuple[Reason, ...]  # what still blocks on the last day tried, when day is None


def first_day_gates_hold(
    uow: UnitOfWork,
    *,
    registry: Registry,
    case_id: int,
    trigger: str,
    since: date,
    within_days: int,
) -> Wait:
    """The first day from `since` (at most `within_days` later) on which every gate of `trigger`
    holds for the case as it is."""
    case = uow.cases.get(case_id)
    definition, _ = registry.get(uow, case.definition_key, case.definition_version)
    spec = definition.trigger[trigger]
    evidence = evidence_of(uow.evidence.of_case(case.id))
    snap = snapshot(case)
    reasons: tuple[Reason, ...] = ()
    for offset in range(within_days + 1):
        day = since + timedelta(days=offset)
        wanted = trigger_lookups(definition, snap, evidence, trigger_id=trigger, today=day)
        snap = with_lookups(uow, snap, wanted)
        results = evaluate_gates(spec, snap, evidence, day)
        reasons = tuple(r for g in results for r in g.reasons)
        if not reasons:
            return Wait(day, ())
    return Wait(None, reasons)
