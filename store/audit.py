"""The audit log: append-only, one hash chain per case.

Each event's `body` is canonical JSON (sorted keys, no spaces, UTF-8) holding the event and the
previous event's hash; its `hash` is SHA-256 of that body. The case row keeps the head of its
chain (last sequence number and hash), so appending needs no read of the log, and truncating the
tail of a chain shows as a mismatch between the case and its last event.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, cast

from sqlalchemy import ColumnElement, Table, func, insert, select
from sqlalchemy.engine import Connection

from upphandla.states.access import CaseScope
from upphandla.states.canonical import event_json, sha256_hex
from upphandla.states.events import AuditEvent, payload
from upphandla.store.log import LogSequencer
from upphandla.store.models import AuditEventRow, CaseRow, SealedEventRow, SealedHeadRow, UserRow
from upphandla.store.scope import visible_events

GENESIS = "0" * 64
AUDIT = cast(Table, AuditEventRow.__table__)
CASES = cast(Table, CaseRow.__table__)
SEALED = cast(Table, SealedEventRow.__table__)
SEALED_HEADS = cast(Table, SealedHeadRow.__table__)
USERS = cast(Table, UserRow.__table__)
_INSERT_EVENT = insert(AUDIT)


class ChainHead(Protocol):
    """A case as the chain sees it: its id and the head of its chain, which append moves."""

    id: int
    audit_seq: int
    audit_head: str


@dataclass(frozen=True)
class EventQuery:
    """Which events a search asks for: of one case, by one person, of some actions, in the
    half-open time range since <= at < until. Empty fields do not filter."""

    case_id: int | None = None
    actor_id: int | None = None
    actions: tuple[str, ...] = ()
    since: datetime | None = None
    until: datetime | None = None

    def where(self) -> list[ColumnElement[bool]]:
        parts: list[ColumnElement[bool]] = []
        if self.case_id is not None:
            parts.append(AUDIT.c.case_id == self.case_id)
        if self.actor_id is not None:
            parts.append(AUDIT.c.actor_id == self.actor_id)
        if self.actions:
            parts.append(AUDIT.c.action.in_(sorted(set(self.actions))))
        if self.since is not None:
            parts.append(AUDIT.c.at >= self.since)
        if self.until is not None:
            parts.append(AUDIT.c.at < self.until)
        return parts


@dataclass(frozen=True, slots=True)
class FoundEvent:
    """One event as a search finds it: its columns, the case's title and the actor's name
    (as they are now), and the body exactly as hashed."""

    id: int
    case_id: int
    case_title: str
    seq: int
    at: datetime
    action: str
    actor_id: int | None
    actor_name: str | None
    body: str
    hash: str
    log_index: int | None


_FOUND = select(
    AUDIT.c.id,
    AUDIT.c.case_id,
    CASES.c.title.label("case_title"),
    AUDIT.c.seq,
    AUDIT.c.at,
    AUDIT.c.action,
    AUDIT.c.actor_id,
    USERS.c.name.label("actor_name"),
    AUDIT.c.body,
    AUDIT.c.hash,
    AUDIT.c.log_index,
).select_from(
    AUDIT.join(CASES, CASES.c.id == AUDIT.c.case_id).outerjoin(
        USERS, USERS.c.id == AUDIT.c.actor_id
    )
)


@dataclass(frozen=True, slots=True)
class Appended:
    seq: int
    hash: str


@dataclass
class ChainHeadRow:
    """A chain's head in the shape the chain code moves (id, audit_seq, audit_head)."""

    id: int
    audit_seq: int
    audit_head: str


class AuditRepository:
    """A case's chain in `table`: the case chains (`audit_events`) or the sealed chains."""

    def __init__(self, conn: Connection, log: LogSequencer, table: Table = AUDIT) -> None:
        self._conn = conn
        self._log = log
        self._table = table
        self._insert = _INSERT_EVENT if table is AUDIT else insert(table)

    def append(self, case: ChainHead, event: AuditEvent, *, at: datetime) -> Appended:
        """Append one event to the case's chain and move the case's head (the use case saves
        the case in the same unit of work)."""
        seq = case.audit_seq + 1
        action = event.action
        body = event_json(
            {
                **payload(event),
                "case_id": case.id,
                "seq": seq,
                "at": at.isoformat(),
                "action": action,
                "prev_hash": case.audit_head,
            }
        )
        appended = Appended(seq, sha256_hex(body))
        self._conn.execute(
            self._insert,
            {
                "case_id": case.id,
                "seq": seq,
                "at": at,
                "action": action,
                "actor_id": event.actor.user_id,
                "body": body,
                "prev_hash": case.audit_head,
                "hash": appended.hash,
                "log_index": self._log.take(),
            },
        )
        case.audit_seq = seq
        case.audit_head = appended.hash
        return appended

    def trail(self, case_id: int) -> list[dict[str, Any]]:
        """The case's events as hashed, each with its hash, oldest first."""
        table = self._table
        rows = self._conn.execute(
            select(table.c.body, table.c.hash)
            .where(table.c.case_id == case_id)
            .order_by(table.c.seq)
        )
        return [{**json.loads(body), "hash": hash_} for body, hash_ in rows]

    def search(
        self,
        query: EventQuery,
        scope: CaseScope,
        *,
        limit: int,
        after_id: int | None = None,
        up_to_id: int | None = None,
    ) -> list[FoundEvent]:
        """Up to `limit` events the scope may see that match the query, in id order (the order
        they were written), those after `after_id` and up to `up_to_id` when given."""
        where = [visible_events(scope), *query.where()]
        if after_id is not None:
            where.append(AUDIT.c.id > after_id)
        if up_to_id is not None:
            where.append(AUDIT.c.id <= up_to_id)
        rows = self._conn.execute(_FOUND.where(*where).order_by(AUDIT.c.id).limit(limit))
        return [FoundEvent(**r._asdict()) for r in rows]

    def last_id(self) -> int:
        """The id of the latest event written (0 for none)."""
        return int(self._conn.execute(select(func.max(AUDIT.c.id))).scalar_one() or 0)
