"""Data for bench.bench_verify: many cases with chains that verify, written straight into the
tables in large batches. Each case has the events a case has early in its life: started, the
need analysis recorded by two people, a transition, the förstudie recorded, a transition, and a
reminder event, seven in all, each an RFC 8785 body chained as the engine chains them, with
their evidence rows, the evidence the gates read, and their places in the global log."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta, timezone
from typing import Any

from bench.lifecycle_plan import ATTRIBUTES
from sqlalchemy import insert, select, update

from upphandla.flows.commands.definitions import LoadSeedDefinitions
from upphandla.flows.commands.thresholds import LoadSeedThresholds
from upphandla.flows.commands.users import AddUser
from upphandla.flows.handler import Handler
from upphandla.states.canonical import event_json
from upphandla.states.events import CaseStarted, DefinitionRef, EvidenceRecorded, payload
from upphandla.states.roles import Actor
from upphandla.store.db import Database
from upphandla.store.migrate import upgrade
from upphandla.store.models import (
    AuditEventRow,
    CaseRow,
    DefinitionRow,
    EvidenceRow,
    LogHeadRow,
)

BATCH = 5_000
GENESIS = "0" * 64
NEED = {"need": "Digital planering", "current_state": "Papper", "budget_owner": "Nämnden"}
STUDY = {
    "market_dialogue": "genomford",
    "sourcing_model": "SaaS",
    "lots_considered": True,
    "objektledare_involved": True,
    "us_cloud_alternatives_asked": True,
}


def _people(handler: Handler) -> dict[str, Actor]:
    people = {}
    for role, org in (
        ("bestallare", "socialforvaltningen"),
        ("upphandlare", "kommunstyrelsens_forvaltning"),
    ):
        user = handler.run(
            AddUser(name=f"Bänk {role}", email=f"{role}@example.se", role=role, organisation=org)
        ).result.user
        people[role] = Actor(user_id=user.id, name=user.name, role=role)
    return people


class _Writer:
    def __init__(self, people: dict[str, Actor], definition: DefinitionRef) -> None:
        self.people = people
        self.definition = definition
        self.cases: list[dict[str, Any]] = []
        self.events: list[dict[str, Any]] = []
        self.evidence: list[dict[str, Any]] = []
        self.index = 0

    def case(self, case_id: int, at: datetime) -> None:
        attrs = {**ATTRIBUTES, "title": f"Ärende {case_id}"}
        head, seq, state = GENESIS, 0, "behovsanalys"
        log: list[list[Any]] = []
        b, u = self.people["bestallare"], self.people["upphandlare"]

        def add(body: dict[str, Any], action: str, actor: Actor) -> None:
            nonlocal head, seq, at
            seq += 1
            at = at + timedelta(seconds=1)
            text = event_json(
                {**body, "case_id": case_id, "seq": seq, "at": at.isoformat(),
                 "action": action, "prev_hash": head}
            )  # fmt: skip
            digest = hashlib.sha256(text.encode()).hexdigest()
            self.events.append(
                {"case_id": case_id, "seq": seq, "at": at, "action": action,
                 "actor_id": actor.user_id, "body": text, "prev_hash": head, "hash": digest,
                 "log_index": self.index}
            )  # fmt: skip
            self.index += 1
            head = digest

        def common(actor: Actor, to_state: str) -> dict[str, Any]:
            return {"actor": {"id": actor.user_id, "name": actor.name}, "role": actor.role,
                    "definition": {"key": self.definition.key, "version": self.definition.version},
                    "from_state": state, "to_state": to_state, "request_id": None}  # fmt: skip

        start = CaseStarted(actor=b, definition=self.definition, from_state=None,
                            to_state=state, attributes=attrs)  # fmt: skip
        add(payload(start), "case_started", b)
        created = at

        def evidence(actor: Actor, kind: str, data: dict[str, Any]) -> None:
            ev = EvidenceRecorded(actor=actor, definition=self.definition, from_state=state,
                                  to_state=state, kind=kind, data=data)  # fmt: skip
            add(payload(ev), "evidence_recorded", actor)
            log.append([kind, data, at.isoformat(), actor.name, actor.role])
            self.evidence.append(
                {"case_id": case_id, "kind": kind, "data": data, "phase": state,
                 "recorded_by": actor.user_id, "recorded_by_name": actor.name,
                 "role": actor.role, "recorded_at": at, "audit_seq": seq}
            )  # fmt: skip

        def move(to_state: str, trigger: str) -> None:
            nonlocal state
            add({**common(u, to_state), "trigger": trigger, "comment": None, "gates": [],
                 "changes": {}}, "transition", u)  # fmt: skip
            state = to_state

        evidence(b, "behovsanalys_done", NEED)
        evidence(u, "behovsanalys_done", NEED)
        move("forstudie", "complete_behovsanalys")
        evidence(u, "forstudie_done", STUDY)
        move("ssa", "complete_forstudie")
        add({**common(u, state), "reminders": [{"deadline": "ssa", "kind": "reminder"}]},
            "reminders_queued", Actor.system())  # fmt: skip
        self.cases.append(
            {"id": case_id, "definition_key": self.definition.key,
             "definition_version": self.definition.version, "state": state,
             "title": attrs["title"], "organisation": attrs["organisation"],
             "subcategory": attrs["subcategory"], "route": attrs["route"], "attributes": attrs,
             "created_by": b.user_id, "created_at": created, "updated_at": at,
             "phase_entered_at": at, "next_due_at": None, "next_sweep_at": None,
             "audit_seq": seq, "audit_head": head, "row_version": seq, "evidence_log": log}
        )  # fmt: skip


def fill_log(db: Database, *, cases: int) -> int:
    """`cases` cases of seven events each (and the setup's system events); the events written."""
    upgrade(db)
    handler = Handler.on(db)
    handler.run(LoadSeedDefinitions())
    handler.run(LoadSeedThresholds())
    people = _people(handler)
    definitions = DefinitionRow.__table__
    with db.writer.begin() as conn:
        size = conn.execute(select(LogHeadRow.__table__.c.size)).scalar_one()
        key, version = conn.execute(
            select(definitions.c.key, definitions.c.version).order_by(definitions.c.id).limit(1)
        ).one()
    writer = _Writer(people, DefinitionRef(key, version))
    writer.index = size
    at = datetime(2026, 1, 5, 8, 0, tzinfo=timezone.utc)
    case_id = 0
    while case_id < cases:
        for _ in range(min(BATCH, cases - case_id)):
            case_id += 1
            writer.case(case_id, at)
        with db.writer.begin() as conn:
            conn.execute(insert(CaseRow.__table__), writer.cases)
            conn.execute(insert(AuditEventRow.__table__), writer.events)
            conn.execute(insert(EvidenceRow.__table__), writer.evidence)
            conn.execute(update(LogHeadRow.__table__).values(size=writer.index))
        writer.cases, writer.events, writer.evidence = [], [], []
    return writer.index - size
