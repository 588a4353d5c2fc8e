"""The access policy as a process definition states it: for each role and action, the relations
to a case that allow it; who may start cases for other organisations; the evidence that names a
case's upphandlare; and the sealed evidence kinds (bids) with what unseals them. See
states.access for what the policy means for one person."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, StringConstraints

Relation = Literal["own_case", "own_organisation", "participant", "every_case"]
RELATIONS: tuple[Relation, ...] = ("own_case", "own_organisation", "participant", "every_case")
Action = Literal["read", "record", "advance"]
ACTIONS: tuple[Action, ...] = ("read", "record", "advance")
ACTION_TITLES: dict[str, str] = {
    "read": "se ärendet",
    "record": "registrera underlag",
    "advance": "föra ärendet vidare",
}
RELATION_TITLES: dict[str, str] = {
    "own_case": "egna ärenden",
    "own_organisation": "den egna organisationens ärenden",
    "participant": "ärenden där rollen behövs eller personen deltar",
    "every_case": "alla ärenden",
}
_Name = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,63}$")]
_Label = Annotated[str, StringConstraints(min_length=1, max_length=300)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RoleAccess(_Strict):
    read: list[Relation] = []
    record: list[Relation] = []
    advance: list[Relation] = []

    def relations(self, action: Action) -> list[Relation]:
        return list(getattr(self, action))


class Assignment(_Strict):
    """The evidence kind that names the case's upphandlare, and its field with the e-mail."""

    kind: _Name
    field: _Name
    role: _Name  # the role the named person must hold


class Sealed(_Strict):
    """Evidence hidden until another kind of evidence is recorded."""

    kind: _Name
    until: _Name  # the kind whose record unseals it
    source: _Label


class AccessPolicy(_Strict):
    source: _Label
    roles: dict[_Name, RoleAccess]
    start_for_others: list[_Name] = []  # roles that may start a case for another organisation
    assignment: Assignment | None = None
    sealed: list[Sealed] = []

    def allows(self, role: str, action: Action, relations: frozenset[str]) -> bool:
        granted = self.roles.get(role)
        return granted is not None and any(r in relations for r in granted.relations(action))


def unsealed(policy: AccessPolicy | None, kind: str, recorded_kinds: set[str]) -> bool:
    """Whether evidence of `kind` may be seen under the normal policy: it is not sealed, or the
    evidence that unseals it has been recorded."""
    if policy is None:
        return True
    return all(s.until in recorded_kinds for s in policy.sealed if s.kind == kind)


def sealed_kinds(policy: AccessPolicy | None) -> frozenset[str]:
    return frozenset(s.kind for s in policy.sealed) if policy is not None else frozenset()
