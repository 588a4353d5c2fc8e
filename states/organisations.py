"""The municipality's organisations (förvaltningar): every user belongs to one, every case too."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from upphandla.states.definition import DefinitionError, Identifier, Label
from upphandla.states.validation import Problem, problems_from


class Organisation(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    id: Identifier
    name: Label
    source: Label


class Organisations(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    key: str
    organisations: list[Organisation] = Field(min_length=1)

    def get(self, organisation_id: str | None) -> Organisation | None:
        return next((o for o in self.organisations if o.id == organisation_id), None)

    def ids(self) -> list[str]:
        return [o.id for o in self.organisations]

    def unknown(self, field: str) -> Problem:
        """The problem of naming an organisation that is not in the list."""
        return Problem(field, f"okänd organisation; kända: {', '.join(self.ids())}")


def parse_organisations(data: Any) -> Organisations:
    try:
        found = Organisations.model_validate(data)
    except ValidationError as exc:
        raise DefinitionError(problems_from(exc)) from None
    ids = found.ids()
    dupes = [
        Problem(f"organisations[{i}].id", f"”{o}” förekommer flera gånger")
        for i, o in enumerate(ids)
        if o in ids[:i]
    ]
    if dupes:
        raise DefinitionError(dupes)
    return found
