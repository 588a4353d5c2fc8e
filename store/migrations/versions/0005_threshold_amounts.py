"""threshold amounts (the direct-award limit, the EU thresholds) as effective-dated rows with
their period and source, entered by an administrator

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "threshold_amounts",
        sa.Column("id", ID, primary_key=True),
        sa.Column("series", sa.String(length=64), nullable=False),
        sa.Column("effective_from", sa.Date(), nullable=False),
        sa.Column("until", sa.Date(), nullable=True),
        sa.Column("amount_sek", sa.BigInteger(), nullable=False),
        sa.Column("source", sa.String(length=500), nullable=False),
        sa.Column("entered_by", sa.String(length=200), nullable=False),
        sa.Column("entered_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("series", "effective_from", name="uq_threshold_amounts_series_from"),
    )


def downgrade() -> None:
    op.drop_table("threshold_amounts")
