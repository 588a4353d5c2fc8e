"""The delegation order: who may sign what, up to which value (§ 5.4.5)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from upphandla.states.definition import DefinitionError, Identifier, Label
from upphandla.states.validation import Problem, problems_from


class Mandate(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    id: Identifier
    title: Label
    max_value_sek: Annotated[int, Field(ge=0)]


class DelegationOrder(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    key: str
    decided: date
    mandates: list[Mandate] = Field(min_length=1)

    def get(self, mandate_id: str | None) -> Mandate | None:
        return next((m for m in self.mandates if m.id == mandate_id), None)


def parse_delegation(data: Any) -> DelegationOrder:
    try:
        order = DelegationOrder.model_validate(data)
    except ValidationError as exc:
        raise DefinitionError(problems_from(exc)) from None
    ids = [m.id for m in order.mandates]
    dupes = [
        Problem(f"mandates[{i}].id", f"”{m}” förekommer flera gånger")
        for i, m in enumerate(ids)
        if m in ids[:i]
    ]
    if dupes:
        raise DefinitionError(dupes)
    return order


def mandate_record(mandate: Mandate | None) -> dict[str, Any]:
    """What is stored with a record that a signatory makes: the mandate used, or none."""
    if mandate is None:
        return {"mandate_id": None, "mandate_title": None, "mandate_max_sek": 0}
    return {
        "mandate_id": mandate.id,
        "mandate_title": mandate.title,
        "mandate_max_sek": mandate.max_value_sek,
    }
