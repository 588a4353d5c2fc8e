"""The attributes a case is started with; the rules hang on them."""

from __future__ import annotations

from typing import Annotated, Literal, get_args

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StringConstraints,
)

from upphandla.states.validation import FreeText

# § 4.2, exactly as the plan writes them.
Subcategory = Literal[
    "IT-programvara och licenser",
    "Verksamhetssystem",
    "IT-hårdvara",
    "Välfärdsteknik",
    "IT som tjänst",
    "IT-konsulter",
    "Telekommunikation",
    "Övrigt IT",
]
SUBCATEGORIES: tuple[str, ...] = get_args(Subcategory)
ROUTES: dict[str, str] = {
    "annonserad": "Annonserad upphandling",
    "direktupphandling": "Direktupphandling",
    "avrop": "Avrop från ramavtal",
    "fornyad_konkurrensutsattning": "Förnyad konkurrensutsättning",
    "dis": "Dynamiskt inköpssystem (DIS)",
}
Route = Literal["annonserad", "direktupphandling", "avrop", "fornyad_konkurrensutsattning", "dis"]

# The constraints first, on the plain string (a title of spaces is stripped, then too short),
# then the control-character rule of every free-text field.
Text = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
    *FreeText.__metadata__,
]


class CaseAttributes(BaseModel):
    """What the beställare states when starting a case. Strict: no guessing of types."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    title: Text
    organisation: Text
    subcategory: Subcategory
    route: Route
    estimated_value_sek: Annotated[StrictInt, Field(ge=0, le=100_000_000_000)]
    personal_data: StrictBool
    citizen_facing: StrictBool
    critical_service: StrictBool
    uses_ai: StrictBool
    cloud_service: StrictBool
    consultants: StrictBool
    hardware: StrictBool
    # A purchase of a kind the municipality makes again and again: similar contracts of the last
    # twelve months count towards its value [LOU 5 kap. 11 §].
    recurring: StrictBool = False


# The type of each attribute's value, for conditions that compare them (checked below).
ATTRIBUTE_TYPES: dict[str, type] = {
    "title": str,
    "organisation": str,
    "subcategory": str,
    "route": str,
    "estimated_value_sek": int,
    **{
        name: bool
        for name in (
            "personal_data",
            "citizen_facing",
            "critical_service",
            "uses_ai",
            "recurring",
            "cloud_service",
            "consultants",
            "hardware",
        )
    },
}
assert set(ATTRIBUTE_TYPES) == set(CaseAttributes.model_fields)
