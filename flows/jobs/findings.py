"""Findings on a case: gate re-checks that block on a running case (states.rechecks), kept open
while they block and closed when they no longer do. Each change is an audit event."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from upphandla.flows.casefile import definition_ref
from upphandla.states.clock import local_date
from upphandla.states.events import FindingChanged
from upphandla.states.rechecks import Finding
from upphandla.states.roles import Actor
from upphandla.store.records import StoredCase
from upphandla.store.uow import UnitOfWork


@dataclass(frozen=True)
class FindingChanges:
    opened: list[Finding]
    closed: list[str]  # keys
    open_since: dict[str, tuple[Finding, date]]  # every open finding and the day it was found


def sync_findings(
    uow: UnitOfWork, case: StoredCase, current: list[Finding], *, at: datetime
) -> FindingChanges:
    """Open a finding for each new blocking re-check, close those that hold again, and append
    one audit event per change to the case's chain (the caller saves the case)."""
    by_key = {f.key: f for f in current}
    stored = {f.key: f for f in uow.findings.of_case(case.id, open_only=True)}
    opened = [f for key, f in by_key.items() if key not in stored]
    closed = [key for key in stored if key not in by_key]
    opened_on: dict[str, date] = {key: local_date(f.opened_at) for key, f in stored.items()}
    for f in opened:
        uow.findings.open(
            case_id=case.id,
            key=f.key,
            title=f.title,
            message=f.message,
            source=f.source,
            state=case.state,
            at=at,
        )
        opened_on[f.key] = local_date(at)
        _event(uow, case, at, key=f.key, title=f.title, opened=True, finding=f)
    for key in closed:
        uow.findings.close(stored[key].id, at=at)
        _event(uow, case, at, key=key, title=stored[key].title, opened=False, finding=None)
    open_since = {key: (f, opened_on[key]) for key, f in by_key.items()}
    return FindingChanges(opened, closed, open_since)


def _event(
    uow: UnitOfWork,
    case: StoredCase,
    at: datetime,
    *,
    key: str,
    title: str,
    opened: bool,
    finding: Finding | None,
) -> None:
    event = FindingChanged(
        actor=Actor.system(),
        definition=definition_ref(case),
        from_state=case.state,
        to_state=case.state,
        key=key,
        title=title,
        opened=opened,
        message=finding.message if finding else None,
        source=finding.source if finding else None,
    )
    uow.audit.append(case, event, at=at)
