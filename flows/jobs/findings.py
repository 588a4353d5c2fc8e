"""Findings on a case: gate re-checks that block on a running case (states.rechecks), kept open
while they block and closed when they no longer do. Each change is an audit event."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select

from upphandla.flows.commands.cases import actor_payload
from upphandla.states.clock import local_date
from upphandla.states.rechecks import Finding
from upphandla.states.roles import Actor
from upphandla.store import audit
from upphandla.store.casestore import StoredCase
from upphandla.store.models import FindingRow
from upphandla.store.uow import UnitOfWork


@dataclass(frozen=True)
class FindingChanges:
    opened: list[Finding]
    closed: list[str]  # keys
    open_since: dict[str, tuple[Finding, date]]  # every open finding and the day it was found


def open_findings(uow: UnitOfWork, case_id: int) -> list[FindingRow]:
    return list(
        uow.s.scalars(
            select(FindingRow)
            .where(FindingRow.case_id == case_id, FindingRow.closed_at.is_(None))
            .order_by(FindingRow.id)
        )
    )


def case_findings(uow: UnitOfWork, case_id: int) -> list[FindingRow]:
    """Every finding of a case, open first, then the latest closed."""
    rows = uow.s.scalars(select(FindingRow).where(FindingRow.case_id == case_id))
    return sorted(rows, key=lambda r: (r.closed_at is not None, -r.id))


def sync_findings(
    uow: UnitOfWork, case: StoredCase, current: list[Finding], *, at: datetime
) -> FindingChanges:
    """Open a finding for each new blocking re-check, close those that hold again, and append
    one audit event per change to the case's chain (the caller saves the case)."""
    by_key = {f.key: f for f in current}
    rows = {r.key: r for r in open_findings(uow, case.id)}
    opened = [f for key, f in by_key.items() if key not in rows]
    closed = [key for key in rows if key not in by_key]
    for f in opened:
        row = FindingRow(
            case_id=case.id,
            key=f.key,
            kind="recheck",
            title=f.title,
            message=f.message,
            source=f.source,
            details={"state": case.state},
            opened_at=at,
        )
        uow.s.add(row)
        rows[f.key] = row
        _event(
            uow,
            case,
            at,
            "finding_raised",
            {"key": f.key, "title": f.title, "message": f.message, "source": f.source},
        )
    for key in closed:
        rows[key].closed_at = at
        _event(uow, case, at, "finding_closed", {"key": key, "title": rows[key].title})
    uow.s.flush()
    open_since = {
        key: (by_key[key], local_date(row.opened_at)) for key, row in rows.items() if key in by_key
    }
    return FindingChanges(opened, closed, open_since)


def _event(uow: UnitOfWork, case: StoredCase, at: datetime, action: str, finding: Any) -> None:
    audit.append(
        uow.s,
        case,
        at=at,
        action=action,
        actor_id=None,
        payload={
            **actor_payload(Actor.system()),
            "definition": {"key": case.definition_key, "version": case.definition_version},
            "from_state": case.state,
            "to_state": case.state,
            "finding": finding,
        },
    )
