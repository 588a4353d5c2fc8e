"""The evidence a case's gates read is kept on the case row (`evidence_log`), a projection of the
evidence table written in the same transaction: it always says what the table says, and a
database from before it gets it filled in by the migration."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from alembic import command
from sqlalchemy import text

from helpers import User, drive, start
from upphandla.store.db import Database, open_database
from upphandla.store.migrate import alembic_config, upgrade


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def evidence_rows(db: Database, case_id: int) -> list[list[Any]]:
    with db.reader.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT kind, data, recorded_at, recorded_by_name, role FROM evidence"
                " WHERE case_id = :c ORDER BY id"
            ),
            {"c": case_id},
        ).all()
    out = []
    for kind, data, at, by, role in rows:
        moment = at if isinstance(at, datetime) else datetime.fromisoformat(str(at))
        moment = moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment
        out.append([kind, _json(data), moment.astimezone(timezone.utc), by, role])
    return out


def evidence_log(db: Database, case_id: int) -> list[list[Any]]:
    with db.reader.connect() as conn:
        log = _json(
            conn.execute(
                text("SELECT evidence_log FROM cases WHERE id = :c"), {"c": case_id}
            ).scalar_one()
        )
    return [[k, d, datetime.fromisoformat(at), by, role] for k, d, at, by, role in log]


def test_the_log_on_the_case_says_what_the_evidence_table_says(
    db: Database, users: dict[str, User]
) -> None:
    case_id = start(db, users["bestallare"], personal_data=True, citizen_facing=True)
    drive(db, case_id, "acceptanstest", users)
    rows = evidence_rows(db, case_id)
    assert len(rows) > 20
    assert evidence_log(db, case_id) == rows


def test_the_migration_fills_in_the_log_of_a_database_from_before_it(tmp_path: Path) -> None:
    db = open_database(f"sqlite:///{tmp_path / 'gammal.db'}")
    try:
        with db.writer.begin() as conn:
            cfg = alembic_config(db)
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "0003")
        with db.writer.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO cases (id, definition_key, definition_version, state, title,"
                    " organisation, subcategory, route, attributes, created_by, created_at,"
                    " updated_at, phase_entered_at, audit_seq, audit_head, row_version) VALUES"
                    " (1, 'it-upphandling', 1, 'forstudie', 'T', 'O', 'Verksamhetssystem',"
                    " 'annonserad', '{}', NULL, '2026-03-02 09:00:00.000000',"
                    " '2026-03-02 09:00:00.000000', '2026-03-02 09:00:00.000000', 0, '', 1),"
                    " (2, 'it-upphandling', 1, 'behovsanalys', 'U', 'O', 'Verksamhetssystem',"
                    " 'annonserad', '{}', NULL, '2026-03-02 09:00:00.000000',"
                    " '2026-03-02 09:00:00.000000', '2026-03-02 09:00:00.000000', 0, '', 1)"
                )
            )
            conn.execute(
                text(
                    "INSERT INTO evidence (case_id, kind, data, phase, recorded_by,"
                    " recorded_by_name, role, recorded_at, audit_seq) VALUES"
                    " (1, 'behovsanalys_done', '{\"need\": \"n\"}', 'behovsanalys', NULL, 'Bo',"
                    " 'bestallare', '2026-03-02 10:00:00.000000', 2),"
                    " (1, 'forstudie_done', '{\"sourcing_model\": \"SaaS\"}', 'forstudie', NULL,"
                    " 'Anna', 'upphandlare', '2026-03-03 11:30:00.250000', 4)"
                )
            )
        upgrade(db)
        assert evidence_log(db, 1) == [
            ["behovsanalys_done", {"need": "n"},
             datetime(2026, 3, 2, 10, tzinfo=timezone.utc), "Bo", "bestallare"],
            ["forstudie_done", {"sourcing_model": "SaaS"},
             datetime(2026, 3, 3, 11, 30, 0, 250000, tzinfo=timezone.utc), "Anna", "upphandlare"],
        ]  # fmt: skip
        assert evidence_log(db, 2) == []
    finally:
        db.dispose()
