"""Data for bench.bench_sweep: many cases written straight into the tables (Core, in large
batches), a queue of outbox messages, and an SMTP server on loopback that counts what arrives."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from aiosmtpd.controller import Controller
from bench.lifecycle_plan import ATTRIBUTES
from sqlalchemy import insert

from upphandla.flows.commands.definitions import LoadSeedDefinitions
from upphandla.flows.commands.thresholds import LoadSeedThresholds
from upphandla.flows.commands.users import AddUser
from upphandla.flows.handler import Handler
from upphandla.states.clock import now
from upphandla.store.db import Database
from upphandla.store.migrate import upgrade
from upphandla.store.models import CaseRow, OutboxRow

BATCH = 20_000


def fill_cases(db: Database, *, total: int, due: int) -> None:
    """`total` cases in behovsanalys; `due` of them entered the phase a year ago and are due
    for the sweep now, the rest are next looked at in a month."""
    upgrade(db)
    handler = Handler.on(db)
    handler.run(LoadSeedDefinitions())
    handler.run(LoadSeedThresholds())
    creator = handler.run(
        AddUser(
            name="Beställare",
            email="b@example.se",
            role="bestallare",
            organisation="socialforvaltningen",
        )
    ).result.user
    for role in ("upphandlare", "kategoriledare"):
        handler.run(
            AddUser(
                name=role,
                email=f"{role}@example.se",
                role=role,
                organisation="kommunstyrelsens_forvaltning",
            )
        )
    at = now()
    year_ago = at - timedelta(days=365)
    later = at + timedelta(days=30)
    every = max(total // max(due, 1), 1)

    def row(n: int) -> dict[str, Any]:
        is_due = n % every == 0 and n // every < due
        entered = year_ago if is_due else at
        return {
            "definition_key": "it-upphandling",
            "definition_version": 1,
            "state": "behovsanalys",
            "title": f"Ärende {n}",
            "organisation": ATTRIBUTES["organisation"],
            "subcategory": ATTRIBUTES["subcategory"],
            "route": ATTRIBUTES["route"],
            "attributes": ATTRIBUTES,
            "created_by": creator.id,
            "created_at": entered,
            "updated_at": entered,
            "phase_entered_at": entered,
            "next_due_at": entered + timedelta(days=60),
            "next_sweep_at": year_ago if is_due else later,
            "audit_seq": 0,
            "audit_head": "0" * 64,
            "row_version": 1,
        }

    with db.writer.begin() as conn:
        for start in range(0, total, BATCH):
            conn.execute(insert(CaseRow), [row(n) for n in range(start, min(start + BATCH, total))])


def fill_outbox(db: Database, messages: int) -> None:
    upgrade(db)
    at = now()
    rows = [
        {
            "dedupe_key": f"bench:{n}",
            "case_id": None,
            "template": "case_advanced",
            "recipients": ["mottagare@example.se"],
            "context": {
                "case_id": n,
                "case_title": f"Ärende {n}",
                "trigger": "complete_ssa",
                "from_phase": "Systemsäkerhetsanalys",
                "to_phase": "Kravställning",
                "actor": "Upphandlaren",
                "comment": None,
            },
            "state": "pending",
            "attempts": 0,
            "next_attempt_at": at,
            "created_at": at,
        }
        for n in range(messages)
    ]
    with db.writer.begin() as conn:
        for start in range(0, messages, BATCH):
            conn.execute(insert(OutboxRow), rows[start : start + BATCH])


class _Counter:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.ids: list[str] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        with self.lock:
            self.ids.append(envelope.mail_from)
        return "250 OK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def smtp_sink() -> Iterator[tuple[int, list[str]]]:
    handler = _Counter()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port, handler.ids
    finally:
        controller.stop()
