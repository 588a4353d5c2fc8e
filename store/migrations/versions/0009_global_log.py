"""one global log over every chain: each event of the case chains, the sealed chains and the
system chain gets its place (`log_index`, from 0, in the order events were written), the head
of the log (`log_head`, its size) moves with every append; users, tokens, definitions,
threshold amounts and sanctions lists that predate the system chain are recorded in it, so that
verification can replay every one of them

Existing events are placed in the order of their time (ties: case chains, sealed chains, system
chain, then row id). The append-only guards are lifted for that one update and put back.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03
"""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime, timezone
from typing import Any

import rfc8785
import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TABLES = ("audit_events", "sealed_events", "system_events")
GENESIS = "0" * 64
MIGRATION_ACTOR = "databasuppgradering 0009"


def _sqlite_guard(table: str) -> str:
    return (
        f"CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table} "
        f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
    )


def _place_existing_events(bind: sa.Connection) -> int:
    """Give every existing event its place in the log; the log's size."""
    rows = []
    for order, table in enumerate(TABLES):
        for id_, at in bind.execute(sa.text(f"SELECT id, at FROM {table}")):
            rows.append((_utc(at), order, id_, table))
    rows.sort()
    sqlite = bind.dialect.name == "sqlite"
    for table in TABLES:
        if sqlite:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_update")
        else:
            op.execute(f"ALTER TABLE {table} DISABLE TRIGGER {table}_no_change")
    for index, (_, _, id_, table) in enumerate(rows):
        bind.execute(
            sa.text(f"UPDATE {table} SET log_index = :n WHERE id = :id"), {"n": index, "id": id_}
        )
    for table in TABLES:
        if sqlite:
            op.execute(_sqlite_guard(table))
        else:
            op.execute(f"ALTER TABLE {table} ENABLE TRIGGER {table}_no_change")
    return len(rows)


def _record_unchained(bind: sa.Connection, size: int) -> int:
    """Append `user.existing`, `token.existing`, `definition.existing`, `threshold.existing`
    and `sanctions.existing` to the system chain for every user, token, definition, threshold
    amount and sanctions list that no event of the chain names, with what the row holds now;
    the log's new size."""
    events = sa.table(
        "system_events",
        *(sa.column(c) for c in ("seq", "at", "action", "actor_id", "actor_name", "body")),
        *(sa.column(c) for c in ("prev_hash", "hash", "log_index")),
    )
    named_users, named_tokens, named_definitions, named_amounts = set(), set(), set(), set()
    named_lists = set()
    for (body,) in bind.execute(sa.text("SELECT body FROM system_events")):
        data = json.loads(body).get("data")
        if isinstance(data, dict):
            named_users.add(data.get("user_id"))
            named_tokens.add(data.get("token_id"))
            named_definitions.add((data.get("key"), data.get("version")))
            named_amounts.add((data.get("series"), data.get("from")))
            if "list_id" in data:
                named_lists.add(data.get("list_id"))
    head = bind.execute(sa.text("SELECT seq, head FROM system_chain WHERE id = 1")).first()
    seq, prev = (head[0], head[1]) if head is not None else (0, GENESIS)
    now = datetime.now(timezone.utc)
    acts: list[tuple[str, dict[str, Any]]] = []
    users = bind.execute(
        sa.text(
            "SELECT id, name, email, role, organisation, mandate, active FROM users ORDER BY id"
        )
    )
    for u in users:
        if u.id not in named_users:
            acts.append(
                (
                    "user.existing",
                    {
                        "user_id": u.id,
                        "name": u.name,
                        "email": u.email,
                        "role": u.role,
                        "organisation": u.organisation,
                        "mandate": u.mandate,
                        "active": bool(u.active),
                    },
                )
            )
    tokens = bind.execute(
        sa.text("SELECT id, user_id, name, expires_at, revoked_at FROM tokens ORDER BY id")
    )
    for t in tokens:
        if t.id not in named_tokens:
            acts.append(
                (
                    "token.existing",
                    {
                        "token_id": t.id,
                        "user_id": t.user_id,
                        "name": t.name,
                        "expires_at": _utc(t.expires_at).isoformat(),
                        "revoked": t.revoked_at is not None,
                    },
                )
            )
    definitions = bind.execute(
        sa.text("SELECT key, version, title, checksum FROM definitions ORDER BY id")
    )
    for d in definitions:
        if (d.key, d.version) not in named_definitions:
            acts.append(
                (
                    "definition.existing",
                    {"key": d.key, "version": d.version, "title": d.title, "checksum": d.checksum},
                )
            )
    amounts = bind.execute(
        sa.text(
            "SELECT series, effective_from, until, amount_sek, source FROM threshold_amounts "
            "ORDER BY id"
        )
    )
    for a in amounts:
        start, until = _day(a.effective_from), _day(a.until)
        if (a.series, start) not in named_amounts:
            acts.append(
                (
                    "threshold.existing",
                    {
                        "series": a.series,
                        "from": start,
                        "until": until,
                        "amount_sek": a.amount_sek,
                        "source": a.source,
                    },
                )
            )
    lists = bind.execute(
        sa.text("SELECT id, list_date, checksum, source, entries FROM sanctions_lists ORDER BY id")
    )
    for sl in lists:
        if sl.id not in named_lists:
            acts.append(
                (
                    "sanctions.existing",
                    {
                        "list_id": sl.id,
                        "list_date": _day(sl.list_date),
                        "checksum": sl.checksum,
                        "source": sl.source,
                        "entries": sl.entries,
                        "entries_digest": _entries_digest(bind, sl.id),
                    },
                )
            )
    for action, data in acts:
        seq += 1
        body = rfc8785.dumps(
            {
                "format": 2,
                "data": data,
                "seq": seq,
                "at": now.isoformat(),
                "action": action,
                "actor_id": None,
                "actor_name": MIGRATION_ACTOR,
                "prev_hash": prev,
            }
        ).decode("utf-8")
        digest = hashlib.sha256(body.encode("utf-8")).hexdigest()
        at = now.replace(tzinfo=None) if bind.dialect.name == "sqlite" else now
        bind.execute(
            events.insert().values(
                seq=seq,
                at=at,
                action=action,
                actor_id=None,
                actor_name=MIGRATION_ACTOR,
                body=body,
                prev_hash=prev,
                hash=digest,
                log_index=size,
            )
        )
        prev, size = digest, size + 1
    if acts:
        bind.execute(
            sa.text("UPDATE system_chain SET seq = :seq, head = :head WHERE id = 1"),
            {"seq": seq, "head": prev},
        )
    return size


def _entries_digest(bind: sa.Connection, list_id: int) -> str:
    """SHA-256 of a list's entries as stored, in the order loaded (states.sanctions)."""
    digest = hashlib.sha256()
    rows = bind.execute(
        sa.text(
            "SELECT name, identifier, country, reference FROM sanctions_entries "
            "WHERE list_id = :l ORDER BY id"
        ),
        {"l": list_id},
    )
    for row in rows:
        line = json.dumps(list(row), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        digest.update(line.encode("utf-8") + b"\n")
    return digest.hexdigest()


def _day(value: date | str | None) -> str | None:
    """A stored date as ISO text (SQLite keeps text)."""
    if value is None:
        return None
    return value if isinstance(value, str) else value.isoformat()


def _utc(value: datetime | str) -> datetime:
    """A stored time as an aware UTC datetime (SQLite keeps naive UTC, sometimes as text)."""
    parsed = datetime.fromisoformat(value) if isinstance(value, str) else value
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=timezone.utc)
    return parsed.astimezone(timezone.utc)


def upgrade() -> None:
    bind = op.get_bind()
    for table in TABLES:
        op.add_column(table, sa.Column("log_index", sa.BigInteger(), nullable=True))
        op.create_index(f"uq_{table}_log_index", table, ["log_index"], unique=True)
    op.create_table(
        "log_head",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("id = 1", name="ck_log_head_one_row"),
    )
    size = _place_existing_events(bind)
    size = _record_unchained(bind, size)
    bind.execute(sa.text("INSERT INTO log_head (id, size) VALUES (1, :size)"), {"size": size})


def downgrade() -> None:
    op.drop_table("log_head")
    for table in TABLES:
        op.drop_index(f"uq_{table}_log_index", table_name=table)
        if op.get_bind().dialect.name == "sqlite":
            # DROP COLUMN on SQLite rebuilds nothing here, but the guard triggers name no column
            op.execute(f"ALTER TABLE {table} DROP COLUMN log_index")
        else:
            op.drop_column(table, "log_index")
