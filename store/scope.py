"""The access policy as query predicates: which cases, and which of their audit events, one
person may see. Every query that hands out case data ANDs one of these into its WHERE, so that
what may not be seen is never read, counted or paged over."""

from __future__ import annotations

from typing import cast

from sqlalchemy import ColumnElement, Select, Table, false, or_, select, true

from upphandla.states.access import CaseScope
from upphandla.store.models import AuditEventRow, CaseRow

CASES = cast(Table, CaseRow.__table__)
AUDIT = cast(Table, AuditEventRow.__table__)


def visible_cases(scope: CaseScope) -> ColumnElement[bool]:
    """A predicate over the `cases` table: the cases the person may read."""
    if scope.every_case:
        return true()
    parts: list[ColumnElement[bool]] = []
    if scope.own_cases:
        parts.append(CASES.c.created_by == scope.user_id)
    if scope.organisation is not None:
        parts.append(CASES.c.organisation == scope.organisation)
    if scope.participant:
        if scope.participant_phases:
            parts.append(CASES.c.state.in_(sorted(scope.participant_phases)))
        parts.append(CASES.c.assigned_to == scope.user_id)
        acted = select(AUDIT.c.case_id).where(AUDIT.c.actor_id == scope.user_id)
        parts.append(CASES.c.id.in_(acted))
    return or_(*parts) if parts else false()


def visible_case_ids(scope: CaseScope) -> Select[tuple[int]]:
    """A subquery of the ids of the cases the person may read."""
    return select(CASES.c.id).where(visible_cases(scope))


def visible_events(scope: CaseScope) -> ColumnElement[bool]:
    """A predicate over the `audit_events` table: the events of the cases the person may read
    (sealed evidence has a chain of its own and never appears there)."""
    if scope.every_case:
        return true()
    if scope.nothing:
        return false()
    return AUDIT.c.case_id.in_(visible_case_ids(scope))
