"""the evidence a case's gates read, kept on the case row in recording order (a projection of
the evidence table, written in the same transaction), so that a change reads one row

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29
"""

from __future__ import annotations

import json
from datetime import timezone

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

JSONDoc = sa.JSON().with_variant(sa.dialects.postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    # A plain ADD COLUMN (SQLite takes a constant default): no copy of the table, which the
    # rows that refer to cases would not allow.
    op.add_column(
        "cases",
        sa.Column("evidence_log", JSONDoc, nullable=False, server_default=sa.text("'[]'")),
    )
    conn = op.get_bind()
    cases = sa.table("cases", sa.column("id"), sa.column("evidence_log", JSONDoc))
    evidence = sa.table(
        "evidence",
        sa.column("id"),
        sa.column("case_id"),
        sa.column("kind"),
        sa.column("data", JSONDoc),
        sa.column("recorded_at", sa.DateTime(timezone=True)),
        sa.column("recorded_by_name"),
        sa.column("role"),
    )
    logs: dict[int, list[list[object]]] = {}
    rows = conn.execute(
        sa.select(
            evidence.c.case_id,
            evidence.c.kind,
            evidence.c.data,
            evidence.c.recorded_at,
            evidence.c.recorded_by_name,
            evidence.c.role,
        ).order_by(evidence.c.id)
    )
    for case_id, kind, data, at, by, role in rows:
        data = json.loads(data) if isinstance(data, str) else data
        at = at.replace(tzinfo=timezone.utc) if at.tzinfo is None else at.astimezone(timezone.utc)
        logs.setdefault(case_id, []).append([kind, data, at.isoformat(), by, role])
    for case_id, log in logs.items():
        conn.execute(cases.update().where(cases.c.id == case_id).values(evidence_log=log))


def downgrade() -> None:
    op.drop_column("cases", "evidence_log")
