"""Demo data: users with fresh tokens and cases driven through the real use cases."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select

from flows import cases
from flows.registry import Registry
from flows.users import add_user, rotate_token
from seeds.loader import SEEDS, read_yaml
from states.roles import Actor
from store.models import CaseRow, UserRow
from store.uow import UnitOfWork


@dataclass(frozen=True)
class DemoUser:
    name: str
    role: str
    email: str
    token: str


def load_demo(
    uow: UnitOfWork, *, registry: Registry, definition_key: str, path: Path | None = None
) -> list[DemoUser]:
    """Create (or give new tokens to) the demo users and start the demo cases not yet there."""
    data = read_yaml(path or SEEDS / "demo.yaml")
    users: list[DemoUser] = []
    actors: dict[str, Actor] = {}
    for spec in data["users"]:
        row = uow.s.scalar(select(UserRow).where(UserRow.email == spec["email"]))
        if row is None:
            row, token = add_user(
                uow,
                **{k: spec[k] for k in ("name", "email", "role")},
                organisation=spec.get("organisation"),
            )
        else:
            token = rotate_token(uow, row)
        users.append(DemoUser(row.name, row.role, row.email, token))
        actors.setdefault(row.role, Actor(row.id, row.name, row.role, row.organisation))
    for spec in data["cases"]:
        _start_demo_case(uow, registry, definition_key, actors, spec)
    return users


def _start_demo_case(
    uow: UnitOfWork,
    registry: Registry,
    definition_key: str,
    actors: dict[str, Actor],
    spec: dict[str, Any],
) -> None:
    title = spec["attributes"]["title"]
    if uow.s.scalar(select(CaseRow.id).where(CaseRow.title == title)) is not None:
        return
    row = cases.start_case(
        uow,
        registry=registry,
        actor=actors["bestallare"],
        attributes=spec["attributes"],
        definition_key=definition_key,
    )
    for step in spec.get("steps", []):
        actor = actors[step["as"]]
        if "evidence" in step:
            cases.record_evidence(
                uow,
                registry=registry,
                actor=actor,
                case_id=row.id,
                kind=step["evidence"],
                data=step.get("data", {}),
            )
        else:
            cases.advance(
                uow,
                registry=registry,
                actor=actor,
                case_id=row.id,
                trigger=step["trigger"],
                comment=step.get("comment"),
            )
