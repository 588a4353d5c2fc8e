"""Example values in the definition: every evidence kind of v1 gets valid data from them, dates
follow the day they are used, fields without an example get a value of their type, and the
definition check refuses an example that is not valid, at its exact path."""

from __future__ import annotations

import copy
from datetime import date
from typing import Any

import pytest

from upphandla.seeds.loader import DEFINITIONS, read_yaml
from upphandla.states.definition import DefinitionError, EvidenceKind
from upphandla.states.evidence import validate_evidence_data
from upphandla.states.examples import DATE_EXAMPLE_MESSAGE, example_data, example_day
from upphandla.states.parse import parse_definition
from upphandla.states.validation import Problem

RAW = read_yaml(DEFINITIONS / "it-upphandling.v1.yaml")
V1 = parse_definition(copy.deepcopy(RAW))
DAY = date(2026, 3, 10)


@pytest.mark.parametrize("kind", V1.evidence_kinds, ids=lambda k: k.id)
def test_every_v1_kind_gets_valid_example_data(kind: EvidenceKind) -> None:
    data = example_data(kind, DAY)
    assert validate_evidence_data(kind, data) == data
    # Every field that has to be filled in has an example of its own in the definition.
    assert all(f.example is not None for f in kind.fields if f.required)


def test_example_dates_are_relative_to_the_day_they_are_used() -> None:
    sent = V1.evidence_kind["award_decision_sent"]
    assert example_data(sent, DAY)["sent_on"] == "2026-03-10"  # today
    assert example_data(sent, date(2027, 1, 5))["sent_on"] == "2027-01-05"
    registered = example_data(V1.evidence_kind["contract_registered"], DAY)
    assert (registered["start_on"], registered["end_on"]) == ("2026-03-10", "2029-03-09")


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("today", "2026-03-10"),
        ("today+1", "2026-03-11"),
        ("today-40", "2026-01-29"),
        ("today+1095", "2029-03-09"),
        (date(2025, 12, 24), "2025-12-24"),
        ("2025-12-24", "2025-12-24"),  # a fixed date stays
        ("igår", "igår"),  # not the notation: left for validation to refuse
        ("today + 1", "today + 1"),
        (5, 5),
    ],
)
def test_example_day_notation(written: Any, expected: Any) -> None:
    assert example_day(written, DAY) == expected


def test_a_required_field_without_example_gets_a_value_of_its_type() -> None:
    kind = EvidenceKind.model_validate(
        {
            "id": "made_up",
            "title": "Påhittat underlag",
            "roles": ["upphandlare"],
            "fields": [
                {"name": "note", "title": "Anteckning", "type": "text"},
                {"name": "done", "title": "Klart", "type": "bool"},
                {"name": "count", "title": "Antal", "type": "int"},
                {"name": "level", "title": "Nivå", "type": "choice", "choices": ["ska", "bor"]},
                {"name": "on", "title": "Datum", "type": "date"},
                {"name": "maybe", "title": "Frivilligt", "type": "text", "required": False},
                {
                    "name": "rows",
                    "title": "Rader",
                    "type": "list",
                    "items": [
                        {"name": "id", "title": "Nummer", "type": "text", "example": "R1"},
                        {"name": "due", "title": "Senast", "type": "date", "example": "today+7"},
                        {"name": "extra", "title": "Extra", "type": "int", "required": False},
                    ],
                },
            ],
        }
    )
    data = example_data(kind, DAY)
    assert data == {
        "note": "Anteckning",
        "done": True,
        "count": 0,
        "level": "ska",
        "on": "2026-03-10",
        "rows": [{"id": "R1", "due": "2026-03-17"}],
    }
    assert validate_evidence_data(kind, data) == data


# -- the definition check ---------------------------------------------------------------------------
def _kind_index(raw: dict[str, Any], kind: str) -> int:
    return next(i for i, k in enumerate(raw["evidence_kinds"]) if k["id"] == kind)


def _field(raw: dict[str, Any], kind: str, name: str) -> dict[str, Any]:
    fields = raw["evidence_kinds"][_kind_index(raw, kind)]["fields"]
    return next(f for f in fields if f["name"] == name)


def _problems(raw: dict[str, Any]) -> list[Problem]:
    with pytest.raises(DefinitionError) as exc:
        parse_definition(raw)
    return exc.value.problems


def test_an_invalid_date_example_is_refused_with_its_path() -> None:
    raw = copy.deepcopy(RAW)
    _field(raw, "award_decision_sent", "sent_on")["example"] = "igår"
    i = _kind_index(raw, "award_decision_sent")
    assert _problems(raw) == [
        Problem(f"evidence_kinds[{i}].fields[0].example", DATE_EXAMPLE_MESSAGE)
    ]


@pytest.mark.parametrize(
    ("kind", "field", "example", "where", "message"),
    [
        ("evaluation_done", "winner", 42, "fields[0].example", "ska vara en text"),
        ("exit_done", "data_returned", "ja", "fields[0].example", "ska vara true eller false"),
        (
            "ssa_approved",
            "information_class",
            "5",
            "fields[0].example",
            "ska vara ett av: '1', '2', '3' eller '4'",
        ),
        (
            "sanctions_declaration",
            "parties",
            [
                {
                    "name": "Leverantören AB",
                    "relation": "leverantor",
                    "share_percent": "hundra",
                    "declaration": True,
                }
            ],
            "fields[0].example[0].share_percent",
            "ska vara ett heltal",
        ),
        (
            "sanctions_declaration",
            "parties",
            [{"name": "Leverantören AB", "relation": "leverantor", "share_percent": 100}],
            "fields[0].example[0].declaration",
            "fältet saknas",
        ),
        ("acceptance_requirements", "requirements", [], "fields[0].example", "har för få element"),
    ],
)
def test_an_invalid_example_is_refused_with_its_path(
    kind: str, field: str, example: Any, where: str, message: str
) -> None:
    raw = copy.deepcopy(RAW)
    _field(raw, kind, field)["example"] = example
    i = _kind_index(raw, kind)
    assert _problems(raw) == [Problem(f"evidence_kinds[{i}].{where}", message)]


def test_an_invalid_example_of_an_item_field_is_refused_when_the_list_has_none() -> None:
    raw = copy.deepcopy(RAW)
    parties = _field(raw, "sanctions_declaration", "parties")
    del parties["example"]
    parties["items"][3]["example"] = "alla"  # share_percent
    parties["items"][4]["example"] = "idag"  # declaration
    i = _kind_index(raw, "sanctions_declaration")
    assert _problems(raw) == [
        Problem(f"evidence_kinds[{i}].fields[0].items[3].example", "ska vara ett heltal"),
        Problem(f"evidence_kinds[{i}].fields[0].items[4].example", "ska vara true eller false"),
    ]


def test_an_example_with_an_unknown_item_field_is_refused() -> None:
    raw = copy.deepcopy(RAW)
    _field(raw, "acceptance_round", "results")["example"] = [
        {"id": "K1", "result": "godkand", "grade": 5}
    ]
    i = _kind_index(raw, "acceptance_round")
    assert _problems(raw) == [
        Problem(f"evidence_kinds[{i}].fields[0].example[0].grade", "okänt fält")
    ]


def test_a_date_example_inside_a_list_item_uses_the_notation() -> None:
    raw = copy.deepcopy(RAW)
    _field(raw, "contract_registered", "extensions")["example"] = [
        {"until": "today+1825", "decide_by": "sista mars"}
    ]
    i = _kind_index(raw, "contract_registered")
    j = next(
        n for n, f in enumerate(raw["evidence_kinds"][i]["fields"]) if f["name"] == "extensions"
    )
    assert _problems(raw) == [
        Problem(f"evidence_kinds[{i}].fields[{j}].example[0].decide_by", DATE_EXAMPLE_MESSAGE)
    ]
    _field(raw, "contract_registered", "extensions")["example"][0]["decide_by"] = "today+1640"
    kind = parse_definition(raw).evidence_kind["contract_registered"]
    assert example_data(kind, DAY)["extensions"] == [
        {"until": "2031-03-09", "decide_by": "2030-09-05"}
    ]
