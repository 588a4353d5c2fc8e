"""the sweep: when each case must next be looked at, reminders sent (one row per reminder key),
findings raised by gate re-checks, and personal calendar feeds

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSONDoc = sa.JSON().with_variant(sa.dialects.postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("next_sweep_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index("ix_cases_next_sweep_at", "cases", ["next_sweep_at", "id"])
    op.create_table(
        "reminders",
        sa.Column("id", ID, primary_key=True),
        sa.Column("case_id", ID, sa.ForeignKey("cases.id"), nullable=False),
        sa.Column("deadline_key", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("threshold", sa.Integer(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("planned_on", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("recipients", JSONDoc, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint(
            "case_id", "deadline_key", "kind", "threshold", name="uq_reminders_key"
        ),
    )
    op.create_table(
        "findings",
        sa.Column("id", ID, primary_key=True),
        sa.Column("case_id", ID, sa.ForeignKey("cases.id"), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("source", sa.String(length=300), nullable=False),
        sa.Column("details", JSONDoc, nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_findings_case", "findings", ["case_id"])
    op.create_index(
        "uq_findings_open",
        "findings",
        ["case_id", "key"],
        unique=True,
        sqlite_where=sa.text("closed_at IS NULL"),
        postgresql_where=sa.text("closed_at IS NULL"),
    )
    op.create_table(
        "calendar_feeds",
        sa.Column("id", ID, primary_key=True),
        sa.Column("user_id", ID, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False, unique=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_calendar_feeds_user", "calendar_feeds", ["user_id"])
    op.create_index("ix_audit_events_actor", "audit_events", ["actor_id", "case_id"])


def downgrade() -> None:
    op.drop_index("ix_audit_events_actor", table_name="audit_events")
    op.drop_index("ix_calendar_feeds_user", table_name="calendar_feeds")
    op.drop_table("calendar_feeds")
    op.drop_index("uq_findings_open", table_name="findings")
    op.drop_index("ix_findings_case", table_name="findings")
    op.drop_table("findings")
    op.drop_table("reminders")
    op.drop_index("ix_cases_next_sweep_at", table_name="cases")
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("next_sweep_at")
