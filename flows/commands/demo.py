"""Demo data: users with fresh tokens, the sample sanctions list, and the category plan's own
procurement plan (§ 9.1.1–9.1.4): the 2023 rows as cases in early phases, the 2024–2026 rows as
contracts in förvaltning with the date their extension runs out, so a new user sees at once which
procurements are already late to start."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from upphandla.flows.commands.cases import Advance, RecordEvidence, StartCase
from upphandla.flows.commands.contracts import ImportContract
from upphandla.flows.commands.sanctions import LoadSanctionsList
from upphandla.flows.commands.users import AddUser, RotateToken, actor_of
from upphandla.flows.registry import Registry
from upphandla.seeds.loader import SEEDS, read_yaml
from upphandla.states.clock import today
from upphandla.states.roles import Actor
from upphandla.store.uow import UnitOfWork

IMPORTED_INTO = "forvaltning"


@dataclass(frozen=True)
class DemoUser:
    name: str
    role: str
    email: str
    token: str


@dataclass(frozen=True)
class LoadDemo:
    """Create (or give new tokens to) the demo users and add the plan's cases not yet there."""

    definition_key: str
    path: Path | None = None

    def handle(self, uow: UnitOfWork, registry: Registry) -> list[DemoUser]:
        demo = read_yaml(self.path or SEEDS / "demo.yaml")
        users, actors = _users(uow, registry, demo["users"])
        if uow.sanctions.current() is None:
            sample = SEEDS / "sanctions" / "sample.csv"
            LoadSanctionsList(
                text=sample.read_text(encoding="utf-8"), source=sample.name, list_date=today()
            ).handle(uow, registry)
        plan = read_yaml(SEEDS / "plan.yaml")
        phases = demo["planned_phases"]
        key = self.definition_key
        for i, row in enumerate(plan["planned_2023"]):
            target = phases[i % len(phases)]
            _planned_case(uow, registry, key, actors, demo, row, target)
        for row in plan["needs"]:
            if row["extension_possible_until"] is None:  # "Snarast": the need starts now
                _planned_case(uow, registry, key, actors, demo, row, "behovsanalys")
            else:
                _contract(uow, registry, key, actors["upphandlare"], demo, row)
        return users


def _users(
    uow: UnitOfWork, registry: Registry, specs: list[dict[str, Any]]
) -> tuple[list[DemoUser], dict[str, Actor]]:
    users: list[DemoUser] = []
    actors: dict[str, Actor] = {}
    for spec in specs:
        user = uow.users.by_email(spec["email"])
        if user is None:
            added = AddUser(
                name=spec["name"],
                email=spec["email"],
                role=spec["role"],
                organisation=spec.get("organisation"),
                mandate=spec.get("mandate"),
            ).handle(uow, registry)
            user, token = added.user, added.token
        else:
            token = RotateToken(user.id).handle(uow, registry)
        users.append(DemoUser(user.name, user.role, user.email, token))
        actors.setdefault(user.role, actor_of(user))
    return users, actors


def _exists(uow: UnitOfWork, title: str, *, contract: bool) -> bool:
    """Whether this row is loaded already (the plan names "Utskrift som tjänst" both as a 2023
    procurement and as a contract, so the kind of case counts too)."""
    if contract:
        return uow.cases.titled(title, in_state=IMPORTED_INTO, not_in_state=None)
    return uow.cases.titled(title, in_state=None, not_in_state=IMPORTED_INTO)


def _attributes(demo: dict[str, Any], row: dict[str, Any]) -> dict[str, Any]:
    subcategory = row["subcategory"]
    return {
        **demo["defaults"],
        "title": row["need"][:200],
        "subcategory": subcategory,
        "consultants": subcategory == "IT-konsulter",
        "hardware": subcategory == "IT-hårdvara",
        "uses_ai": "intelligens" in row["need"].lower(),
    }


def _planned_case(
    uow: UnitOfWork,
    registry: Registry,
    definition_key: str,
    actors: dict[str, Actor],
    demo: dict[str, Any],
    row: dict[str, Any],
    target: str,
) -> None:
    attrs = _attributes(demo, row)
    if _exists(uow, attrs["title"], contract=False):
        return
    case = StartCase(
        actor=actors["bestallare"], attributes=attrs, definition_key=definition_key
    ).handle(uow, registry)
    for phase in demo["planned_phases"]:
        if phase == target:
            return
        for step in demo["steps"][phase]:
            if step.get("when") and not attrs[step["when"]]:
                continue
            actor = actors[step["as"]]
            if "evidence" in step:
                RecordEvidence(
                    actor=actor, case_id=case.case_id, kind=step["evidence"], data=step["data"]
                ).handle(uow, registry)
            else:
                Advance(actor=actor, case_id=case.case_id, trigger=step["trigger"]).handle(
                    uow, registry
                )


def _contract(
    uow: UnitOfWork,
    registry: Registry,
    definition_key: str,
    actor: Actor,
    demo: dict[str, Any],
    row: dict[str, Any],
) -> None:
    attrs = _attributes(demo, row)
    if _exists(uow, attrs["title"], contract=True):
        return
    ImportContract(
        actor=actor,
        attributes=attrs,
        contract={
            "supplier": "Uppgift saknas i kategoriplanen",
            "value_sek": 0,
            "end_on": row["extension_possible_until"].isoformat(),
            "kraljic": "standard",
            "framework": False,
            "processes_personal_data": False,
            "citizen_facing": False,
            "critical": False,
            "register_reference": f"Kategoriplan § {row['section']}",
        },
        definition_key=definition_key,
    ).handle(uow, registry)
