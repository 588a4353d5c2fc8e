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
from upphandla.seeds.loader import LIFECYCLE, SEEDS, read_yaml
from upphandla.states.clock import today
from upphandla.states.definition import Definition
from upphandla.states.lifecycle_path import LifecyclePath, PathError, parse_path
from upphandla.states.planner import plan_steps
from upphandla.states.roles import Actor
from upphandla.states.validation import Problem
from upphandla.store.uow import UnitOfWork


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
        definition, _ = registry.latest(uow, self.definition_key)
        cases = _PlannedCases(
            uow, registry, definition, parse_path(read_yaml(LIFECYCLE), definition), actors, demo
        )
        plan = read_yaml(SEEDS / "plan.yaml")
        phases = demo["planned_phases"]
        key = self.definition_key
        for i, row in enumerate(plan["planned_2023"]):
            cases.add(row, phases[i % len(phases)])
        for row in plan["needs"]:
            if row["extension_possible_until"] is None:  # "Snarast": the need starts now
                cases.add(row, "behovsanalys")
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
                organisation=spec["organisation"],
                mandate=spec.get("mandate"),
            ).handle(uow, registry)
            user, token = added.user, added.token
        else:
            token = RotateToken(user.id).handle(uow, registry)
        users.append(DemoUser(user.name, user.role, user.email, token))
        actors.setdefault(user.role, actor_of(user))
    return users, actors


def _exists(uow: UnitOfWork, title: str, *, imported_into: str, contract: bool) -> bool:
    """Whether this row is loaded already (the plan names "Utskrift som tjänst" both as a 2023
    procurement and as a contract, so the kind of case counts too: an existing contract is in
    the phase the definition imports contracts into)."""
    if contract:
        return uow.cases.titled(title, in_state=imported_into, not_in_state=None)
    return uow.cases.titled(title, in_state=None, not_in_state=imported_into)


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


@dataclass(frozen=True)
class _PlannedCases:
    """Cases of the plan, started and taken along the lifecycle path (seeds/lifecycle.yaml) with
    the definition's examples as their evidence."""

    uow: UnitOfWork
    registry: Registry
    definition: Definition
    path: LifecyclePath
    actors: dict[str, Actor]
    demo: dict[str, Any]

    def add(self, row: dict[str, Any], target: str) -> None:
        """Start the row's case, unless it is there, and take it to the phase `target`."""
        attrs = _attributes(self.demo, row)
        rules = self.definition.contracts
        imported_into = rules.import_into if rules else ""
        if _exists(self.uow, attrs["title"], imported_into=imported_into, contract=False):
            return
        case_id = (
            StartCase(
                actor=self.actors["bestallare"],
                attributes=attrs,
                definition_key=self.definition.key,
            )
            .handle(self.uow, self.registry)
            .case_id
        )
        steps = plan_steps(
            self.path,
            self.definition,
            state=self.definition.initial,
            attributes=attrs,
            today=today(),
            until=target,
        )
        if steps and steps[-1].wait_days is not None:
            # The demo runs on the real clock: it cannot let the days pass that the law makes a
            # case wait (the tender period, the standstill).
            raise PathError(
                [
                    Problem(
                        f"planned_phases.{target}",
                        f"demon kan bara ta ärenden till faser före första väntan: "
                        f"”{steps[-1].trigger}” i fasen ”{steps[-1].phase}” får vänta upp till "
                        f"{steps[-1].wait_days} dagar",
                    )
                ]
            )
        for step in steps:
            actor = self.actors[step.role]
            if step.kind is not None:
                RecordEvidence(
                    actor=actor, case_id=case_id, kind=step.kind, data=dict(step.data)
                ).handle(self.uow, self.registry)
            else:
                assert step.trigger is not None
                Advance(actor=actor, case_id=case_id, trigger=step.trigger).handle(
                    self.uow, self.registry
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
    definition, _ = registry.latest(uow, definition_key)
    imported_into = definition.contracts.import_into if definition.contracts else ""
    if _exists(uow, attrs["title"], imported_into=imported_into, contract=True):
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
