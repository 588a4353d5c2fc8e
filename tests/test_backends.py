"""The `db` fixture reaches each backend, migrated, with the audit log's append-only guard."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.exc import DBAPIError

from upphandla.store.db import Database


def _seed_one_audit_event(db: Database) -> None:
    with db.writer.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO users (id, name, email, role, organisation, active,"
                " created_at) VALUES (1, 'Test Testsson', 'test@example.org', 'handlaggare',"
                " 'Kommunen', :active, CURRENT_TIMESTAMP)"
            ),
            {"active": True},
        )
        conn.execute(
            text(
                "INSERT INTO cases (id, definition_key, definition_version, state, title,"
                " organisation, subcategory, route, attributes, created_by, created_at,"
                " updated_at, phase_entered_at, next_due_at, audit_seq, audit_head, row_version)"
                " VALUES (1, 'it-upphandling', 1, 'behov', 'Testfall', 'Kommunen', 'saas',"
                " 'direkt', '{}', 1, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP,"
                " NULL, 1, :head, 1)"
            ),
            {"head": "a" * 64},
        )
        conn.execute(
            text(
                "INSERT INTO audit_events (id, case_id, seq, at, action, actor_id, body,"
                " prev_hash, hash) VALUES (1, 1, 1, CURRENT_TIMESTAMP, 'case.started', 1,"
                " '{}', :prev, :hash)"
            ),
            {"prev": "0" * 64, "hash": "a" * 64},
        )


def test_db_is_on_the_backend_and_migrated(db: Database, backend: str) -> None:
    assert db.writer.dialect.name == backend
    assert db.reader.dialect.name == backend
    tables = set(inspect(db.reader).get_table_names())
    assert {"cases", "audit_events", "users", "alembic_version"} <= tables
    with db.reader.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM cases")).scalar_one() == 0
        assert conn.execute(text("SELECT count(*) FROM audit_events")).scalar_one() == 0


@pytest.mark.parametrize(
    "statement",
    ["UPDATE audit_events SET action = 'tampered' WHERE id = 1", "DELETE FROM audit_events"],
    ids=["update", "delete"],
)
def test_audit_events_refuse_change(db: Database, backend: str, statement: str) -> None:
    assert db.writer.dialect.name == backend
    _seed_one_audit_event(db)

    with pytest.raises(DBAPIError, match="append-only"):
        with db.writer.begin() as conn:
            conn.execute(text(statement))

    with db.reader.connect() as conn:
        rows = conn.execute(text("SELECT id, action FROM audit_events")).all()
    assert [tuple(row) for row in rows] == [(1, "case.started")]
