"""Conditions declared as data: when a gate applies, when a trigger is offered.

A condition is one of
  {fact: NAME, eq: VALUE} | {fact: NAME, in: [..]} | {fact: NAME, gte|gt|lte|lt: NUMBER}
  {all: [..]} | {any: [..]} | {not: CONDITION}
Facts are the case's attributes (`personal_data`) and fields of the latest evidence of a kind
(`ssa_approved.nis_scope`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr, model_validator

from upphandla.states.validation import Problem

Scalar = StrictBool | StrictInt | StrictStr

_OPERATORS = ("eq", "in_", "gte", "gt", "lte", "lt")
_COMPARE_WORDS = {"gte": "minst", "gt": "över", "lte": "högst", "lt": "under"}


class Condition(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    all_: list[Condition] | None = Field(default=None, alias="all", min_length=1)
    any_: list[Condition] | None = Field(default=None, alias="any", min_length=1)
    not_: Condition | None = Field(default=None, alias="not")
    fact: str | None = None
    eq: Scalar | None = None
    in_: list[Scalar] | None = Field(default=None, alias="in")
    gte: StrictInt | None = None
    gt: StrictInt | None = None
    lte: StrictInt | None = None
    lt: StrictInt | None = None

    @model_validator(mode="after")
    def _one_form(self) -> Condition:
        forms = [f for f in ("all_", "any_", "not_", "fact") if getattr(self, f) is not None]
        if len(forms) != 1:
            raise ValueError("ett villkor ska ha exakt en av all, any, not eller fact")
        ops = [op for op in _OPERATORS if getattr(self, op) is not None]
        if self.fact is not None and len(ops) != 1:
            raise ValueError(
                "ett fact-villkor ska ha exakt en jämförelse: eq, in, gte, gt, lte eller lt"
            )
        if self.fact is None and ops:
            raise ValueError("jämförelser hör bara till fact-villkor")
        return self

    # -- evaluation ---------------------------------------------------------------------------
    def holds(self, facts: Mapping[str, Any]) -> bool:
        if self.all_ is not None:
            return all(c.holds(facts) for c in self.all_)
        if self.any_ is not None:
            return any(c.holds(facts) for c in self.any_)
        if self.not_ is not None:
            return not self.not_.holds(facts)
        assert self.fact is not None
        if self.fact not in facts:
            return False
        value = facts[self.fact]
        if self.eq is not None:
            return _same(value, self.eq)
        if self.in_ is not None:
            return any(_same(value, v) for v in self.in_)
        if not isinstance(value, int) or isinstance(value, bool):
            return False
        if self.gte is not None:
            return value >= self.gte
        if self.gt is not None:
            return value > self.gt
        if self.lte is not None:
            return value <= self.lte
        assert self.lt is not None
        return value < self.lt

    def compared_values(self) -> list[tuple[str, str, Any]]:
        """(fact, operator, value) of every comparison, for type checks against the facts."""
        if self.fact is not None:
            return [
                (self.fact, op.rstrip("_"), getattr(self, op))
                for op in _OPERATORS
                if getattr(self, op) is not None
            ]
        children = self.all_ or self.any_ or ([self.not_] if self.not_ else [])
        return [v for c in children for v in c.compared_values()]

    def facts_used(self) -> set[str]:
        if self.fact is not None:
            return {self.fact}
        children = self.all_ or self.any_ or ([self.not_] if self.not_ else [])
        return set().union(*(c.facts_used() for c in children)) if children else set()

    # -- description (Swedish, for generated documentation and previews) ---------------------
    def describe(self) -> str:
        if self.all_ is not None:
            return " och ".join(_wrap(c) for c in self.all_)
        if self.any_ is not None:
            return " eller ".join(_wrap(c) for c in self.any_)
        if self.not_ is not None:
            return f"inte ({self.not_.describe()})"
        if self.eq is not None:
            return f"{self.fact} = {_show(self.eq)}"
        if self.in_ is not None:
            return f"{self.fact} är en av {', '.join(_show(v) for v in self.in_)}"
        for op, word in _COMPARE_WORDS.items():
            bound = getattr(self, op)
            if bound is not None:
                return f"{self.fact} {word} {bound:,}".replace(",", "\u00a0")
        return ""


def _same(value: Any, want: Scalar) -> bool:
    """Equal and of the same type: 1 is not True, "1" is not 1."""
    return type(value) is type(want) and value == want


def _wrap(c: Condition) -> str:
    text = c.describe()
    return f"({text})" if c.fact is None and c.not_ is None else text


def _show(value: Scalar) -> str:
    if isinstance(value, bool):
        return "ja" if value else "nej"
    return f"”{value}”" if isinstance(value, str) else str(value)


def condition_problems(cond: Condition, path: str, facts: Mapping[str, type]) -> list[Problem]:
    """A condition's unknown facts, and values compared with a fact of another type."""
    out = [Problem(path, f"okänt faktum ”{f}”") for f in sorted(cond.facts_used() - set(facts))]
    for fact, op, value in cond.compared_values():
        want = facts.get(fact)
        if want is None:
            continue
        values = value if op == "in" else [value]
        if op in ("gte", "gt", "lte", "lt") and want is not int:
            out.append(Problem(path, f"”{fact}” är inte ett tal och kan inte jämföras med {op}"))
        elif op in ("eq", "in") and any(type(v) is not want for v in values):
            out.append(Problem(path, f"”{fact}” jämförs med ett värde av fel typ"))
    return out
