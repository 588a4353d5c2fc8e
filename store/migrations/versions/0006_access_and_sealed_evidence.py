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


def upgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("assigned_to", ID, nullable=True))
        batch.create_foreign_key("fk_cases_assigned_to", "users", ["assigned_to"], ["id"])
    with op.batch_alter_table("evidence") as batch:
        batch.add_column(
            sa.Column("sealed", sa.Boolean(), nullable=False, server_default=sa.false())
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


def downgrade() -> None:
    op.drop_table("sealed_heads")
    op.drop_table("sealed_events")
    with op.batch_alter_table("evidence") as batch:
        batch.drop_column("sealed")
    with op.batch_alter_table("cases") as batch:
        batch.drop_constraint("fk_cases_assigned_to", type_="foreignkey")
        batch.drop_column("assigned_to")
