"""The system chain: one append-only hash chain of administrative acts (users, tokens,
definitions, sanctions lists, threshold amounts), built like the case chains (store.audit).

Each event's `body` is canonical JSON holding the act, its sequence number, time, actor and the
previous event's hash; its `hash` is SHA-256 of that body. The one row of `system_chain` keeps
the head (last sequence number and hash); appending moves it in the same transaction, so a cut
tail shows as a mismatch between the head and the last event.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, insert, select, update
from sqlalchemy.engine import Connection

from upphandla.states.canonical import event_json, sha256_hex
from upphandla.states.roles import Actor
from upphandla.store.log import LogSequencer
from upphandla.store.models import SystemChainRow, SystemEventRow

GENESIS = "0" * 64
EVENTS = cast(Table, SystemEventRow.__table__)
CHAIN = cast(Table, SystemChainRow.__table__)
_HEAD = select(CHAIN.c.seq, CHAIN.c.head).where(CHAIN.c.id == 1)


@dataclass(frozen=True, slots=True)
class SystemEvent:
    seq: int
    at: str
    action: str
    actor_id: int | None
    actor_name: str
    data: dict[str, Any]
    hash: str


class SystemAuditRepository:
    def __init__(self, conn: Connection, log: LogSequencer, *, lock_rows: bool) -> None:
        self._conn = conn
        self._log = log
        self._lock_rows = lock_rows

    def append(
        self, action: str, data: dict[str, Any], *, actor: Actor, at: datetime
    ) -> SystemEvent:
        """Append one act to the chain and move its head, in the caller's transaction (the
        head's row is held until it ends, so two acts at once are chained one after the other;
        SQLite: BEGIN IMMEDIATE already does)."""
        head_q = _HEAD.with_for_update() if self._lock_rows else _HEAD
        seq, prev = self._conn.execute(head_q).one()
        seq += 1
        body = event_json(
            {
                "data": data,
                "seq": seq,
                "at": at.isoformat(),
                "action": action,
                "actor_id": actor.user_id,
                "actor_name": actor.name,
                "prev_hash": prev,
            }
        )
        digest = sha256_hex(body)
        self._conn.execute(
            insert(EVENTS).values(
                seq=seq,
                at=at,
                action=action,
                actor_id=actor.user_id,
                actor_name=actor.name,
                body=body,
                prev_hash=prev,
                hash=digest,
                log_index=self._log.take(),
            )
        )
        self._conn.execute(update(CHAIN).where(CHAIN.c.id == 1).values(seq=seq, head=digest))
        return SystemEvent(seq, at.isoformat(), action, actor.user_id, actor.name, data, digest)

    def events(self) -> list[SystemEvent]:
        """The chain as hashed, oldest first."""
        rows = self._conn.execute(select(EVENTS.c.body, EVENTS.c.hash).order_by(EVENTS.c.seq))
        found = []
        for body, digest in rows:
            b = json.loads(body)
            found.append(
                SystemEvent(
                    b["seq"],
                    b["at"],
                    b["action"],
                    b["actor_id"],
                    b["actor_name"],
                    b["data"],
                    digest,
                )
            )
        return found
