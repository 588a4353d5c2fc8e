"""What the repositories hand out: plain records, no database objects. Use cases change a
`StoredCase` and give it back to the repository to save; the other records are read-only."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Generic, TypeVar

T = TypeVar("T")


@dataclass
class StoredCase:
    id: int
    definition_key: str
    definition_version: int
    state: str
    title: str
    organisation: str
    subcategory: str
    route: str
    attributes: dict[str, Any]
    created_by: int | None
    created_at: datetime
    phase_entered_at: datetime
    next_due_at: datetime | None
    next_sweep_at: datetime | None
    updated_at: datetime
    audit_seq: int
    audit_head: str
    row_version: int
    assigned_to: int | None = None  # the case's upphandlare


@dataclass(frozen=True)
class StoredEvidence:
    id: int
    case_id: int
    kind: str
    data: dict[str, Any]
    phase: str
    recorded_by: int | None
    recorded_by_name: str
    role: str
    recorded_at: datetime
    audit_seq: int
    sealed: bool = False  # a bid: in the case's sealed chain, hidden until unsealed


@dataclass(frozen=True)
class StoredFinding:
    id: int
    case_id: int
    key: str
    title: str
    message: str
    source: str
    opened_at: datetime
    closed_at: datetime | None


@dataclass(frozen=True)
class OutboxMessage:
    id: int
    case_id: int | None
    template: str
    recipients: list[str]
    context: dict[str, Any]
    state: str
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None


@dataclass(frozen=True)
class StoredUser:
    id: int
    name: str
    email: str
    role: str
    organisation: str | None
    mandate: str | None
    active: bool


@dataclass(frozen=True)
class StoredDefinition:
    key: str
    version: int
    title: str
    checksum: str
    body: dict[str, Any]
    loaded_at: datetime


@dataclass(frozen=True)
class SanctionsList:
    id: int
    list_date: date
    checksum: str
    source: str
    entries: int
    loaded_at: datetime


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int
