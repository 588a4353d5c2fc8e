"""users' mandates under the delegation order; loaded sanctions lists and their entries

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("mandate", sa.String(length=64), nullable=True))
    op.create_table(
        "sanctions_lists",
        sa.Column("id", ID, primary_key=True),
        sa.Column("list_date", sa.Date(), nullable=False),
        sa.Column("checksum", sa.String(length=64), nullable=False, unique=True),
        sa.Column("source", sa.String(length=500), nullable=False),
        sa.Column("entries", sa.Integer(), nullable=False),
        sa.Column("loaded_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "sanctions_entries",
        sa.Column("id", ID, primary_key=True),
        sa.Column("list_id", ID, sa.ForeignKey("sanctions_lists.id"), nullable=False),
        sa.Column("name", sa.String(length=500), nullable=False),
        sa.Column("match_key", sa.String(length=500), nullable=False),
        sa.Column("identifier", sa.String(length=100), nullable=True),
        sa.Column("country", sa.String(length=100), nullable=True),
        sa.Column("reference", sa.String(length=200), nullable=True),
    )
    op.create_index("ix_sanctions_entries_key", "sanctions_entries", ["list_id", "match_key"])


def downgrade() -> None:
    op.drop_index("ix_sanctions_entries_key", table_name="sanctions_entries")
    op.drop_table("sanctions_entries")
    op.drop_table("sanctions_lists")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("mandate")
