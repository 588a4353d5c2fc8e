"""the case's assigned upphandlare (access policy), and sealed evidence (bids, OSL 19 kap. 3 §)
with a hash chain of its own per case, hidden until the award decision

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

# The sealed chains are append-only, like the case chains (0001).
GUARD_SQLITE = [
    "CREATE TRIGGER sealed_events_no_update BEFORE UPDATE ON sealed_events "
    "BEGIN SELECT RAISE(ABORT, 'sealed_events is append-only'); END",
    "CREATE TRIGGER sealed_events_no_delete BEFORE DELETE ON sealed_events "
    "BEGIN SELECT RAISE(ABORT, 'sealed_events is append-only'); END",
]
GUARD_POSTGRESQL = [
    "CREATE FUNCTION sealed_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
    "BEGIN RAISE EXCEPTION 'sealed_events is append-only'; END $$",
    "CREATE TRIGGER sealed_events_no_change BEFORE UPDATE OR DELETE ON sealed_events "
    "FOR EACH ROW EXECUTE FUNCTION sealed_events_append_only()",
    "CREATE TRIGGER sealed_events_no_truncate BEFORE TRUNCATE ON sealed_events "
    "FOR EACH STATEMENT EXECUTE FUNCTION sealed_events_append_only()",
]


def upgrade() -> None:
    # SQLite: a plain ADD COLUMN with a REFERENCES clause (allowed on a column whose default is
    # NULL); a batch copy of `cases` would trip over the tables that reference it.
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE cases ADD COLUMN assigned_to INTEGER REFERENCES users (id)")
    else:
        op.add_column("cases", sa.Column("assigned_to", ID, nullable=True))
        op.create_foreign_key("fk_cases_assigned_to", "cases", "users", ["assigned_to"], ["id"])
    op.add_column(
        "evidence", sa.Column("sealed", sa.Boolean(), nullable=False, server_default=sa.false())
    )
    op.create_table(
        "sealed_events",
        sa.Column("id", ID, primary_key=True),
        sa.Column("case_id", ID, sa.ForeignKey("cases.id"), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("actor_id", ID, sa.ForeignKey("users.id"), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.UniqueConstraint("case_id", "seq", name="uq_sealed_case_seq"),
    )
    op.create_table(
        "sealed_heads",
        sa.Column("case_id", ID, sa.ForeignKey("cases.id"), primary_key=True),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("head", sa.String(length=64), nullable=False),
    )
    postgresql = op.get_bind().dialect.name == "postgresql"
    for statement in GUARD_POSTGRESQL if postgresql else GUARD_SQLITE:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS sealed_events_no_change ON sealed_events")
        op.execute("DROP TRIGGER IF EXISTS sealed_events_no_truncate ON sealed_events")
        op.execute("DROP FUNCTION IF EXISTS sealed_events_append_only()")
    else:
        op.execute("DROP TRIGGER IF EXISTS sealed_events_no_update")
        op.execute("DROP TRIGGER IF EXISTS sealed_events_no_delete")
    op.drop_table("sealed_heads")
    op.drop_table("sealed_events")
    op.drop_column("evidence", "sealed")
    op.drop_column("cases", "assigned_to")
