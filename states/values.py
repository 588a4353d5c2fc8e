"""The values that count: the case's own recorded values, by step.

A check that needs "the case's value" names the value facts in a `values` list, latest step
first, each with a Swedish title: the contract value the upphandlare registered (options and
extensions included), the awarded value of the award decision, the documented value of a direct
award, the estimate given at the start. The value of the step is the first of them that the case
has recorded; a refusal says which one it was. After signing, amendments add up: the contract's
value is its value of the step as recorded before the first amendment plus the net sum of every
amendment since. Nothing here is a number typed by the person a check binds (a signatory's
mandate is compared with these, never with a value of the signatory's own)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from pydantic import ConfigDict
from pydantic.dataclasses import dataclass as model_dataclass

from upphandla.states.money import kronor
from upphandla.states.validation import Problem


class EvidenceRecord(Protocol):
    """What is read of a record of evidence (states.case.EvidenceRecord)."""

    @property
    def kind(self) -> str: ...

    @property
    def data(self) -> Mapping[str, Any]: ...


@model_dataclass(frozen=True, config=ConfigDict(extra="forbid"))
class ValueFact:
    """One value a case may record: a fact (`kind.field` or an attribute) and its title."""

    fact: str
    title: str


@dataclass(frozen=True, slots=True)
class CaseValue:
    """A value the case recorded, with the title of where it came from."""

    amount: int
    title: str
    detail: str = ""  # how it was worked out, when it is more than one record's value

    def describe(self) -> str:
        """E.g. "Avtalets värde 1 400 000 kr"."""
        text = f"{self.title} {kronor(self.amount)}"
        return f"{text} ({self.detail})" if self.detail else text


def recorded_values(values: Iterable[ValueFact], facts: Mapping[str, Any]) -> tuple[CaseValue, ...]:
    """Every value of the list the case has recorded, in the list's order (latest step first)."""
    return tuple(
        CaseValue(facts[v.fact], v.title)
        for v in values
        if isinstance(facts.get(v.fact), int) and not isinstance(facts.get(v.fact), bool)
    )


def value_of_step(values: Iterable[ValueFact], facts: Mapping[str, Any]) -> CaseValue | None:
    """The latest step's recorded value: the first of the list that the case has."""
    recorded = recorded_values(values, facts)
    return recorded[0] if recorded else None


def facts_of(records: Iterable[EvidenceRecord], attributes: Mapping[str, Any]) -> dict[str, Any]:
    """`kind.field` -> value of the latest of these records of each kind, and the attributes."""
    facts: dict[str, Any] = {}
    for r in records:
        facts.update((f"{r.kind}.{name}", value) for name, value in r.data.items())
    return {**facts, **attributes}


def value_before(
    values: Iterable[ValueFact],
    records: Sequence[EvidenceRecord],
    attributes: Mapping[str, Any],
    kind: str,
) -> CaseValue | None:
    """The value of the step as the case had recorded it before its first record of `kind` (the
    contract's original value, before the first amendment); with none of that kind, as now."""
    first = next((i for i, r in enumerate(records) if r.kind == kind), len(records))
    return value_of_step(values, facts_of(records[:first], attributes))


def changes_of(records: Iterable[EvidenceRecord], kind: str, field: str) -> tuple[int, ...]:
    """The value of every record of `kind` (each an amendment), oldest first."""
    return tuple(int(r.data[field]) for r in records if r.kind == kind and field in r.data)


def with_changes(
    values: Iterable[ValueFact],
    records: Sequence[EvidenceRecord],
    attributes: Mapping[str, Any],
    kind: str,
    field: str,
) -> CaseValue | None:
    """The contract's value with its amendments: its value before the first record of `kind`
    plus the net sum of every such record's `field`."""
    base = value_before(values, records, attributes, kind)
    changes = changes_of(records, kind, field)
    if base is None or not changes:
        return base
    total = sum(changes)
    counted = f"{len(changes)} ändring{'' if len(changes) == 1 else 'ar'}"
    return CaseValue(
        base.amount + total,
        f"{base.title} med ändringar",
        f"{base.describe()} före första ändringen och {counted} på netto {kronor(total)}",
    )


def value_problems(
    values: Sequence[ValueFact], path: str, facts: Mapping[str, type]
) -> list[Problem]:
    """Each value of a `values` list must be a known amount (an int fact)."""
    if not values:
        return [Problem(path, "minst ett värde behövs")]
    return [
        Problem(f"{path}[{i}].fact", f"”{v.fact}” är inte en beloppsuppgift")
        for i, v in enumerate(values)
        if facts.get(v.fact) is not int
    ]
