"""The notification outbox: messages are written in the same transaction as their cause and
delivered after commit by a separate step."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from store.casestore import StoredCase, emails_for, insert_outbox
from store.uow import UnitOfWork


def enqueue_case_message(
    uow: UnitOfWork,
    *,
    case: StoredCase,
    recipients: list[str],
    event_seq: int,
    template: str,
    context: dict[str, Any],
    at: datetime,
) -> bool:
    """Queue one message about a case to the named roles and/or its creator ("creator").
    Keyed by case, audit event and template, so the same cause never queues twice."""
    user_ids = [case.created_by] if "creator" in recipients and case.created_by else []
    roles = [r for r in recipients if r != "creator"]
    emails = emails_for(uow.s, user_ids=user_ids, roles=roles)
    if not emails:
        return False
    insert_outbox(
        uow.s,
        {
            "dedupe_key": f"case:{case.id}:event:{event_seq}:{template}",
            "case_id": case.id,
            "template": template,
            "recipients": emails,
            "context": {**context, "case_id": case.id, "case_title": case.title},
            "state": "pending",
            "attempts": 0,
            "next_attempt_at": at,
            "created_at": at,
        },
    )
    return True
