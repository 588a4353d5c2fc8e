"""The condition DSL: evaluation, strict types, descriptions and the forms it refuses."""

from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Any

import pytest
from pydantic import ValidationError

from upphandla.states.case import CaseSnapshot, Evidence, EvidenceRecord
from upphandla.states.conditions import Condition


def cond(data: dict[str, Any]) -> Condition:
    return Condition.model_validate(data)


# -- operators -----------------------------------------------------------------------------------
def test_eq_holds_for_an_equal_string_only() -> None:
    c = cond({"fact": "route", "eq": "direktupphandling"})
    assert c.holds({"route": "direktupphandling"})
    assert not c.holds({"route": "annonserad"})


def test_eq_false_is_a_real_comparison_not_a_missing_operator() -> None:
    c = cond({"fact": "personal_data", "eq": False})
    assert c.holds({"personal_data": False})
    assert not c.holds({"personal_data": True})


def test_eq_zero_is_a_real_comparison() -> None:
    c = cond({"fact": "n", "eq": 0})
    assert c.holds({"n": 0})
    assert not c.holds({"n": 1})


def test_in_holds_for_a_listed_value_only() -> None:
    c = cond({"fact": "subcategory", "in": ["Verksamhetssystem", "IT som tjänst"]})
    assert c.holds({"subcategory": "IT som tjänst"})
    assert not c.holds({"subcategory": "IT-konsulter"})


@pytest.mark.parametrize(
    ("op", "bound", "true_for", "false_for"),
    [
        ("gte", 700_000, [700_000, 700_001], [699_999]),
        ("gt", 700_000, [700_001], [700_000, 699_999]),
        ("lte", 700_000, [700_000, 0], [700_001]),
        ("lt", 700_000, [699_999], [700_000, 700_001]),
    ],
)
def test_numeric_comparison_boundaries(
    op: str, bound: int, true_for: list[int], false_for: list[int]
) -> None:
    c = cond({"fact": "estimated_value_sek", op: bound})
    for v in true_for:
        assert c.holds({"estimated_value_sek": v}), v
    for v in false_for:
        assert not c.holds({"estimated_value_sek": v}), v


def test_numeric_comparison_does_not_hold_for_a_string_value() -> None:
    assert not cond({"fact": "v", "gte": 1}).holds({"v": "5"})


def test_numeric_comparison_does_not_treat_true_as_one() -> None:
    assert not cond({"fact": "v", "gte": 1}).holds({"v": True})
    assert not cond({"fact": "v", "lt": 1}).holds({"v": False})


# -- combinators ---------------------------------------------------------------------------------
def test_all_holds_only_when_every_part_holds() -> None:
    c = cond({"all": [{"fact": "a", "eq": True}, {"fact": "b", "eq": True}]})
    assert c.holds({"a": True, "b": True})
    assert not c.holds({"a": True, "b": False})
    assert not c.holds({"a": False, "b": True})


def test_any_holds_when_one_part_holds() -> None:
    c = cond({"any": [{"fact": "a", "eq": True}, {"fact": "b", "eq": True}]})
    assert c.holds({"a": False, "b": True})
    assert c.holds({"a": True, "b": False})
    assert not c.holds({"a": False, "b": False})


def test_not_negates() -> None:
    c = cond({"not": {"fact": "route", "eq": "direktupphandling"}})
    assert c.holds({"route": "annonserad"})
    assert not c.holds({"route": "direktupphandling"})


def test_nested_combinators() -> None:
    c = cond(
        {
            "any": [
                {
                    "all": [
                        {"fact": "personal_data", "eq": True},
                        {"fact": "cloud_service", "eq": True},
                    ]
                },
                {"not": {"fact": "estimated_value_sek", "lt": 700_000}},
            ]
        }
    )
    assert c.holds({"personal_data": True, "cloud_service": True, "estimated_value_sek": 1})
    assert c.holds({"personal_data": False, "cloud_service": True, "estimated_value_sek": 700_000})
    assert not c.holds({"personal_data": True, "cloud_service": False, "estimated_value_sek": 1})


# -- missing facts -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "data",
    [
        {"fact": "x", "eq": True},
        {"fact": "x", "eq": "a"},
        {"fact": "x", "in": ["a"]},
        {"fact": "x", "gte": 0},
        {"fact": "x", "lt": 10},
    ],
)
def test_a_missing_fact_never_satisfies_a_comparison(data: dict[str, Any]) -> None:
    assert not cond(data).holds({"y": True})
    assert not cond(data).holds({})


def test_a_missing_fact_is_not_none() -> None:
    # A fact present with value None is still not equal to anything.
    assert not cond({"fact": "x", "eq": "None"}).holds({"x": None})


def test_not_of_a_missing_fact_holds() -> None:
    # `not` negates the comparison: an unknown route is not a direct award.
    assert cond({"not": {"fact": "route", "eq": "direktupphandling"}}).holds({})


# -- bool versus int -----------------------------------------------------------------------------
def test_eq_true_does_not_match_one() -> None:
    c = cond({"fact": "x", "eq": True})
    assert c.eq is True
    assert not c.holds({"x": 1})
    assert c.holds({"x": True})


def test_eq_one_does_not_match_true() -> None:
    c = cond({"fact": "x", "eq": 1})
    assert c.eq == 1 and type(c.eq) is int
    assert not c.holds({"x": True})
    assert c.holds({"x": 1})


def test_eq_false_does_not_match_zero_and_zero_does_not_match_false() -> None:
    assert not cond({"fact": "x", "eq": False}).holds({"x": 0})
    assert not cond({"fact": "x", "eq": 0}).holds({"x": False})


def test_eq_string_one_does_not_match_int_one() -> None:
    c = cond({"fact": "x", "eq": "1"})
    assert c.eq == "1"
    assert not c.holds({"x": 1})


def test_in_true_does_not_match_one() -> None:
    assert not cond({"fact": "x", "in": [True]}).holds({"x": 1})


def test_in_one_does_not_match_true() -> None:
    assert not cond({"fact": "x", "in": [1, 2]}).holds({"x": True})


def test_in_keeps_strings_and_ints_apart() -> None:
    assert not cond({"fact": "x", "in": ["1", "2"]}).holds({"x": 1})


def test_a_numeric_bound_must_not_be_a_bool() -> None:
    # `gte: true` is a typo in a definition, not the number 1.
    accepted = []
    for op in ("gte", "gt", "lte", "lt"):
        try:
            c = cond({"fact": "estimated_value_sek", op: True})
        except ValidationError:
            continue
        accepted.append(f"{op}: true -> {op}={getattr(c, op)!r}")
    assert accepted == []


# -- facts from a case ---------------------------------------------------------------------------
def test_conditions_see_evidence_fields_and_case_attributes() -> None:
    record = EvidenceRecord(
        kind="ssa_approved",
        data={"nis_scope": True, "information_class": "3"},
        recorded_at=datetime(2026, 3, 1, 9, 0, tzinfo=timezone.utc),
        recorded_by="Ida",
        role="informationssakerhet",
    )
    case = CaseSnapshot(
        id=1,
        definition_key="it-upphandling",
        definition_version=1,
        state="kravstallning",
        attributes={"personal_data": True},
        phase_entered_on=date(2026, 3, 1),
    )
    facts = case.facts(Evidence.of([record]))
    c = cond(
        {
            "all": [
                {"fact": "ssa_approved.nis_scope", "eq": True},
                {"fact": "ssa_approved.information_class", "in": ["3", "4"]},
                {"fact": "personal_data", "eq": True},
            ]
        }
    )
    assert c.holds(facts)
    assert not c.holds(case.facts(Evidence()))


def test_latest_evidence_of_a_kind_decides_its_facts() -> None:
    def rec(nis: bool, hour: int) -> EvidenceRecord:
        return EvidenceRecord(
            "ssa_approved",
            {"nis_scope": nis},
            datetime(2026, 3, 1, hour, tzinfo=timezone.utc),
            "Ida",
            "informationssakerhet",
        )

    c = cond({"fact": "ssa_approved.nis_scope", "eq": True})
    assert not c.holds(Evidence.of([rec(True, 9), rec(False, 10)]).facts())
    assert c.holds(Evidence.of([rec(False, 9), rec(True, 10)]).facts())


# -- facts_used ----------------------------------------------------------------------------------
def test_facts_used_collects_every_fact_in_a_nested_condition() -> None:
    c = cond(
        {
            "all": [
                {"fact": "a", "eq": True},
                {"any": [{"fact": "b", "gte": 1}, {"not": {"fact": "c.d", "in": ["x"]}}]},
            ]
        }
    )
    assert c.facts_used() == {"a", "b", "c.d"}


# -- describe ------------------------------------------------------------------------------------
def test_describe_eq_shows_strings_quoted_and_bools_as_ja_nej() -> None:
    assert cond({"fact": "route", "eq": "avrop"}).describe() == "route = ”avrop”"
    assert cond({"fact": "personal_data", "eq": True}).describe() == "personal_data = ja"
    assert cond({"fact": "personal_data", "eq": False}).describe() == "personal_data = nej"
    assert cond({"fact": "n", "eq": 3}).describe() == "n = 3"


def test_describe_in_lists_the_values() -> None:
    c = cond({"fact": "subcategory", "in": ["Verksamhetssystem", "IT som tjänst"]})
    assert c.describe() == "subcategory är en av ”Verksamhetssystem”, ”IT som tjänst”"


@pytest.mark.parametrize(
    ("op", "word"), [("gte", "minst"), ("gt", "över"), ("lte", "högst"), ("lt", "under")]
)
def test_describe_comparisons_in_swedish_with_thousands_separated(op: str, word: str) -> None:
    c = cond({"fact": "estimated_value_sek", op: 700_000})
    assert c.describe() == f"estimated_value_sek {word} 700\u00a0000"


def test_describe_combinators_wraps_nested_groups() -> None:
    c = cond(
        {
            "any": [
                {"all": [{"fact": "a", "eq": True}, {"fact": "b", "in": ["x", "y"]}]},
                {"fact": "c", "lt": 5},
            ]
        }
    )
    assert c.describe() == "(a = ja och b är en av ”x”, ”y”) eller c under 5"


def test_describe_not() -> None:
    c = cond({"not": {"fact": "route", "eq": "direktupphandling"}})
    assert c.describe() == "inte (route = ”direktupphandling”)"


# -- invalid forms -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        ({"fact": "x", "eq": 1, "all": [{"fact": "y", "eq": 1}]}, "exakt en av all, any, not"),
        ({"all": [{"fact": "y", "eq": 1}], "any": [{"fact": "y", "eq": 1}]}, "exakt en av"),
        ({}, "exakt en av"),
        ({"fact": "x"}, "exakt en jämförelse"),
        ({"fact": "x", "eq": 1, "gte": 2}, "exakt en jämförelse"),
        ({"fact": "x", "in": [1], "lt": 2}, "exakt en jämförelse"),
        ({"all": [{"fact": "y", "eq": 1}], "eq": 1}, "bara till fact-villkor"),
    ],
    ids=[
        "fact-and-all",
        "all-and-any",
        "empty",
        "fact-without-operator",
        "two-operators",
        "in-and-lt",
        "operator-without-fact",
    ],
)
def test_invalid_forms_are_refused_with_a_swedish_message(
    data: dict[str, Any], fragment: str
) -> None:
    with pytest.raises(ValidationError) as exc:
        cond(data)
    assert fragment in str(exc.value)


@pytest.mark.parametrize(
    "data",
    [
        {"fact": "x", "equals": 1},
        {"fact": "x", "eq": 1.5},
        {"fact": "x", "eq": [1]},
        {"fact": "x", "in": "abc"},
        {"fact": "x", "gte": "many"},
        {"not": [{"fact": "x", "eq": 1}]},
        {"all": {"fact": "x", "eq": 1}},
    ],
    ids=[
        "unknown-key",
        "float",
        "list-for-eq",
        "string-for-in",
        "text-bound",
        "not-list",
        "all-dict",
    ],
)
def test_malformed_conditions_are_refused(data: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        cond(data)


def test_invalid_nested_condition_is_refused() -> None:
    with pytest.raises(ValidationError):
        cond({"all": [{"fact": "a", "eq": True}, {"fact": "b"}]})


def test_conditions_are_immutable() -> None:
    c = cond({"fact": "x", "eq": 1})
    with pytest.raises(ValidationError):
        c.eq = 2  # type: ignore[misc]
