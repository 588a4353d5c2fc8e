"""Roles and the acting person."""

from __future__ import annotations

from dataclasses import dataclass

ROLE_NAMES: dict[str, str] = {
    "bestallare": "Beställare",
    "upphandlare": "Upphandlare",
    "kategoriledare": "Kategoriledare IT & Telekom",
    "objektledare_it": "Objektledare IT",
    "dso": "Dataskyddsombud",
    "sakerhet": "Trygghets- och säkerhetssektionen",
    "informationssakerhet": "Informationssäkerhet",
    "delegat": "Delegat",
    "controller": "Controller",
    "admin": "Administratör",
}
ROLES: frozenset[str] = frozenset(ROLE_NAMES)
SYSTEM_ROLE = "system"


@dataclass(frozen=True, slots=True)
class Actor:
    """Who acts: a user with one role, or the system itself (timers, sweeps)."""

    user_id: int | None
    name: str
    role: str
    organisation: str | None = None
    mandate: str | None = None  # id of the user's mandate in the delegation order, if any

    @classmethod
    def system(cls) -> Actor:
        return cls(user_id=None, name="Systemet", role=SYSTEM_ROLE)
