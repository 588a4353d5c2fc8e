"""Demo data: users with fresh tokens, the sample sanctions list, and the category plan's own
procurement plan (§ 9.1.1–9.1.4): the 2023 rows as cases in early phases, the 2024–2026 rows as
contracts in förvaltning with the date their extension runs out, so a new user sees at once which
procurements are already late to start."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select

from upphandla.flows.commands import cases
from upphandla.flows.commands.contracts import import_contract
from upphandla.flows.commands.sanctions import current_list, load_sanctions_list
from upphandla.flows.commands.users import add_user, rotate_token
from upphandla.flows.registry import Registry
from upphandla.seeds.loader import SEEDS, read_yaml
from upphandla.states.clock import today
from upphandla.states.roles import Actor
from upphandla.store.models import CaseRow, UserRow
from upphandla.store.uow import UnitOfWork


@dataclass(frozen=True)
class DemoUser:
    name: str
    role: str
    email: str
    token: str


def load_demo(
    uow: UnitOfWork, *, registry: Registry, definition_key: str, path: Path | None = None
) -> list[DemoUser]:
    """Create (or give new tokens to) the demo users and add the plan's cases not yet there."""
    demo = read_yaml(path or SEEDS / "demo.yaml")
    users, actors = _users(uow, demo["users"])
    if current_list(uow.s) is None:
        sample = SEEDS / "sanctions" / "sample.csv"
        load_sanctions_list(
            uow, text=sample.read_text(encoding="utf-8"), source=str(sample.name), list_date=today()
        )
    plan = read_yaml(SEEDS / "plan.yaml")
    phases = demo["planned_phases"]
    for i, row in enumerate(plan["planned_2023"]):
        target = phases[i % len(phases)]
        _planned_case(uow, registry, definition_key, actors, demo, row, target)
    for row in plan["needs"]:
        if row["extension_possible_until"] is None:  # "Snarast": the need starts now
            _planned_case(uow, registry, definition_key, actors, demo, row, "behovsanalys")
        else:
            _contract(uow, registry, definition_key, actors["upphandlare"], demo, row)
    return users


def _users(uow: UnitOfWork, specs: list[dict[str, Any]]) -> tuple[list[DemoUser], dict[str, Actor]]:
    users: list[DemoUser] = []
    actors: dict[str, Actor] = {}
    for spec in specs:
        row = uow.s.scalar(select(UserRow).where(UserRow.email == spec["email"]))
        if row is None:
            row, token = add_user(
                uow,
                name=spec["name"],
                email=spec["email"],
                role=spec["role"],
                organisation=spec.get("organisation"),
                mandate=spec.get("mandate"),
            )
        else:
            token = rotate_token(uow, row)
        users.append(DemoUser(row.name, row.role, row.email, token))
        actors.setdefault(
            row.role, Actor(row.id, row.name, row.role, row.organisation, row.mandate)
        )
    return users, actors


def _exists(uow: UnitOfWork, title: str, *, contract: bool) -> bool:
    """Whether this row is loaded already (the plan names "Utskrift som tjänst" both as a 2023
    procurement and as a contract, so the kind of case counts too)."""
    imported = CaseRow.state == "forvaltning"
    query = select(CaseRow.id).where(CaseRow.title == title, imported if contract else ~imported)
    return uow.s.scalar(query.limit(1)) is not None


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
    case = cases.start_case(
        uow,
        registry=registry,
        actor=actors["bestallare"],
        attributes=attrs,
        definition_key=definition_key,
    )
    for phase in demo["planned_phases"]:
        if phase == target:
            return
        for step in demo["steps"][phase]:
            if step.get("when") and not attrs[step["when"]]:
                continue
            actor = actors[step["as"]]
            if "evidence" in step:
                cases.record_evidence(
                    uow,
                    registry=registry,
                    actor=actor,
                    case_id=case.id,
                    kind=step["evidence"],
                    data=step["data"],
                )
            else:
                cases.advance(
                    uow, registry=registry, actor=actor, case_id=case.id, trigger=step["trigger"]
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
    import_contract(
        uow,
        registry=registry,
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
    )
