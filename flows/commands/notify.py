"""The notification outbox: messages are written in the same transaction as their cause and
delivered after commit by a separate step (flows.jobs.delivery)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from upphandla.store.records import StoredCase
from upphandla.store.uow import UnitOfWork


def recipients_for(uow: UnitOfWork, case: StoredCase, names: list[str]) -> list[str]:
    """The e-mail addresses of the named roles and/or the case's creator ("creator")."""
    user_ids = [case.created_by] if "creator" in names and case.created_by else []
    roles = [r for r in names if r != "creator"]
    return uow.users.emails(user_ids=user_ids, roles=roles)


def enqueue(
    uow: UnitOfWork,
    *,
    case: StoredCase,
    dedupe_key: str,
    template: str,
    emails: list[str],
    context: dict[str, Any],
    at: datetime,
) -> None:
    uow.outbox.add(
        dedupe_key=dedupe_key,
        case_id=case.id,
        template=template,
        recipients=emails,
        context={**context, "case_id": case.id, "case_title": case.title},
        at=at,
    )


def enqueue_notice(
    uow: UnitOfWork,
    *,
    dedupe_key: str,
    roles: list[str],
    template: str,
    context: dict[str, Any],
    at: datetime,
) -> bool:
    """Queue one message about no case in particular to everybody holding the roles, once per
    key. False when it was queued before or nobody holds the roles."""
    emails = uow.users.emails(user_ids=[], roles=roles)
    if not emails or uow.outbox.has(dedupe_key):
        return False
    uow.outbox.add(
        dedupe_key=dedupe_key,
        case_id=None,
        template=template,
        recipients=emails,
        context=context,
        at=at,
    )
    return True


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
    emails = recipients_for(uow, case, recipients)
    if not emails:
        return False
    enqueue(
        uow,
        case=case,
        dedupe_key=f"case:{case.id}:event:{event_seq}:{template}",
        template=template,
        emails=emails,
        context=context,
        at=at,
    )
    return True
