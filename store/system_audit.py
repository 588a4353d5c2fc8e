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


@dataclass(frozen=True, slots=True)
class SystemBreak:
    """The first place the system chain does not verify."""

    seq: int | None
    event_id: int | None
    problem: str

    def as_dict(self) -> dict[str, Any]:
        return {"seq": self.seq, "event_id": self.event_id, "problem": self.problem}


@dataclass(frozen=True)
class SystemReport:
    events: int
    brk: SystemBreak | None

    @property
    def ok(self) -> bool:
        return self.brk is None


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

    def verify(self) -> SystemReport:
        return verify_system(self._conn)


def _check(row: Any, expected: int, prev: str) -> str | None:
    if row.seq != expected:
        return f"händelse {expected} saknas eller har flyttats (fann sekvensnummer {row.seq})"
    try:
        body = json.loads(row.body)
    except ValueError:
        return "händelsens innehåll är inte giltig JSON"
    if not isinstance(body, dict):
        return "händelsens innehåll är inte ett JSON-objekt"
    if sha256_hex(row.body) != row.hash:
        return "händelsens innehåll stämmer inte med dess hash (ändrad)"
    if body.get("seq") != row.seq:
        return "händelsen har flyttats (sekvensnumret stämmer inte med innehållet)"
    if row.prev_hash != prev or body.get("prev_hash") != prev:
        return "kedjan är bruten: föregående hash stämmer inte (borttagen eller omkastad händelse)"
    if (
        body.get("action") != row.action
        or body.get("at") != row.at.isoformat()
        or body.get("actor_id") != row.actor_id
        or body.get("actor_name") != row.actor_name
    ):
        return "händelsens kolumner stämmer inte med dess innehåll (ändrad)"
    return None


def verify_system(conn: Connection) -> SystemReport:
    """Verify the system chain; the first break, if any."""
    head = conn.execute(_HEAD).first()
    if head is None:
        return SystemReport(0, SystemBreak(None, None, "kedjans huvud saknas (tabellen är tömd)"))
    head_seq, head_hash = head
    prev, expected, count = GENESIS, 1, 0
    for row in conn.execute(select(EVENTS).order_by(EVENTS.c.seq, EVENTS.c.id)):
        count += 1
        if row.seq > head_seq:
            return SystemReport(
                count,
                SystemBreak(
                    row.seq,
                    row.id,
                    f"händelse {row.seq} ligger efter kedjans sista registrerade händelse "
                    f"{head_seq} (tillagd utanför motorn)",
                ),
            )
        problem = _check(row, expected, prev)
        if problem:
            return SystemReport(count, SystemBreak(expected, row.id, problem))
        prev, expected = row.hash, expected + 1
    if expected - 1 != head_seq:
        return SystemReport(
            count,
            SystemBreak(
                expected,
                None,
                f"händelse {expected} saknas: kedjans huvud anger {head_seq} händelser men "
                f"kedjan slutar vid {expected - 1} (händelser i slutet borttagna)",
            ),
        )
    if prev != head_hash:
        return SystemReport(
            count,
            SystemBreak(
                head_seq,
                None,
                f"händelse {head_seq} är inte den som kedjans huvud anger (händelser i slutet "
                "borttagna eller ersatta och huvudet ändrat)",
            ),
        )
    return SystemReport(count, None)
