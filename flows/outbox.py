"""The notification outbox: messages are written in the same transaction as their cause and
delivered after commit by a separate step."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select

from store.models import CaseRow, OutboxRow, UserRow
from store.uow import UnitOfWork


def enqueue_case_message(
    uow: UnitOfWork,
    *,
    case: CaseRow,
    event_seq: int,
    template: str,
    context: dict[str, Any],
    at: datetime,
) -> OutboxRow | None:
    """Tell the case's beställare (its creator) what happened; keyed by case and audit event."""
    if case.created_by is None:
        return None
    email = uow.s.scalar(select(UserRow.email).where(UserRow.id == case.created_by))
    if not email:
        return None
    row = OutboxRow(
        dedupe_key=f"case:{case.id}:event:{event_seq}:{template}",
        case_id=case.id,
        template=template,
        recipients=[email],
        context={**context, "case_id": case.id, "case_title": case.title},
        state="pending",
        attempts=0,
        next_attempt_at=at,
        created_at=at,
    )
    uow.s.add(row)
    return row
