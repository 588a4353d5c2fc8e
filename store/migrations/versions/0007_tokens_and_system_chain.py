"""named access tokens with expiry (users.token_hash moves into them and is dropped); the system
chain of administrative acts, append-only, with its head in a one-row table

Existing tokens become the token "standard" of their user, expiring UPPHANDLA_TOKEN_DAYS (90 by
default) after the migration; a disabled user's token is revoked at the migration.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
GENESIS = "0" * 64

GUARD_SQLITE = [
    "CREATE TRIGGER system_events_no_update BEFORE UPDATE ON system_events "
    "BEGIN SELECT RAISE(ABORT, 'system_events is append-only'); END",
    "CREATE TRIGGER system_events_no_delete BEFORE DELETE ON system_events "
    "BEGIN SELECT RAISE(ABORT, 'system_events is append-only'); END",
]
GUARD_POSTGRESQL = [
    "CREATE FUNCTION system_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
    "BEGIN RAISE EXCEPTION 'system_events is append-only'; END $$",
    "CREATE TRIGGER system_events_no_change BEFORE UPDATE OR DELETE ON system_events "
    "FOR EACH ROW EXECUTE FUNCTION system_events_append_only()",
    "CREATE TRIGGER system_events_no_truncate BEFORE TRUNCATE ON system_events "
    "FOR EACH STATEMENT EXECUTE FUNCTION system_events_append_only()",
]


def _postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def _token_days() -> int:
    try:
        return max(1, int(os.environ.get("UPPHANDLA_TOKEN_DAYS", "90")))
    except ValueError:
        return 90


def upgrade() -> None:
    tokens = op.create_table(
        "tokens",
        sa.Column("id", ID, primary_key=True),
        sa.Column("user_id", ID, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False, unique=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_tokens_user", "tokens", ["user_id"])

    at = datetime.now(timezone.utc)
    if not _postgresql():
        at = at.replace(tzinfo=None)  # SQLite keeps UTC without an offset (store.types)
    users = op.get_bind().execute(sa.text("SELECT id, token_hash, active FROM users")).all()
    if users:
        op.bulk_insert(
            tokens,
            [
                {
                    "user_id": user_id,
                    "name": "standard",
                    "token_hash": token_hash,
                    "created_at": at,
                    "expires_at": at + timedelta(days=_token_days()),
                    "last_used_at": None,
                    "revoked_at": None if active else at,
                }
                for user_id, token_hash, active in users
            ],
        )
    if _postgresql():
        op.drop_column("users", "token_hash")
    else:
        _drop_token_hash_on_sqlite()

    op.create_table(
        "system_events",
        sa.Column("id", ID, primary_key=True),
        sa.Column("seq", sa.Integer(), nullable=False, unique=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor_name", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
    )
    chain = op.create_table(
        "system_chain",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("head", sa.String(length=64), nullable=False),
    )
    op.bulk_insert(chain, [{"id": 1, "seq": 0, "head": GENESIS}])
    for statement in GUARD_POSTGRESQL if _postgresql() else GUARD_SQLITE:
        op.execute(statement)


def _drop_token_hash_on_sqlite() -> None:
    """SQLite cannot drop a column under a UNIQUE constraint, and a copied table (Alembic's
    batch mode) would leave the rows that refer to users counted as orphans until the commit
    fails (foreign keys are on and cannot be turned off inside the migration's transaction).
    So: keep the rows aside, drop the table, create it again without the column (as it is now,
    whatever earlier migrations added), and put the rows back: each row put back adopts the
    rows that refer to it again before the commit checks them."""
    bind = op.get_bind()
    old = sa.Table("users", sa.MetaData(), autoload_with=bind)
    keep = [c.name for c in old.columns if c.name != "token_hash"]
    columns = ", ".join(f'"{name}"' for name in keep)
    new = sa.Table("users", sa.MetaData(), *[old.c[name]._copy() for name in keep])
    for index in old.indexes:
        names = [c.name for c in index.columns]
        if "token_hash" not in names:
            sa.Index(index.name, *[new.c[n] for n in names], unique=index.unique)
    op.execute("PRAGMA defer_foreign_keys = ON")
    op.execute(f"CREATE TABLE users_0007_rows AS SELECT {columns} FROM users")
    op.execute("DROP TABLE users")
    new.create(bind)
    op.execute(f"INSERT INTO users ({columns}) SELECT {columns} FROM users_0007_rows")
    op.execute("DROP TABLE users_0007_rows")


def downgrade() -> None:
    if _postgresql():
        op.execute("DROP TRIGGER IF EXISTS system_events_no_change ON system_events")
        op.execute("DROP TRIGGER IF EXISTS system_events_no_truncate ON system_events")
        op.execute("DROP FUNCTION IF EXISTS system_events_append_only()")
    else:
        op.execute("DROP TRIGGER IF EXISTS system_events_no_update")
        op.execute("DROP TRIGGER IF EXISTS system_events_no_delete")
    op.drop_table("system_chain")
    op.drop_table("system_events")
    # Each user gets back the hash of their newest token (a user without one gets none: the
    # column comes back nullable, unique through an index).
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("token_hash", sa.String(length=64), nullable=True))
    op.execute(
        "UPDATE users SET token_hash = (SELECT t.token_hash FROM tokens t "
        "WHERE t.user_id = users.id ORDER BY t.id DESC LIMIT 1)"
    )
    op.create_index("uq_users_token_hash", "users", ["token_hash"], unique=True)
    op.drop_index("ix_tokens_user", table_name="tokens")
    op.drop_table("tokens")
