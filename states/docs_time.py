"""What the checks of time require, in Swedish, for the generated rule documentation
(states.docs): bounded dates, the minimum tender period and the court's order."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import BaseModel

from upphandla.states.definition import Definition


def _field_title(d: Definition, kind: str, field: str) -> str:
    spec = d.evidence_kind[kind]
    title = next(f.title for f in spec.fields if f.name == field)
    return f"”{title}” i ”{spec.title}”"


def _date_bounded(d: Definition, params: Any) -> str:
    bounds = []
    if params.not_before_phase_entry:
        bounds.append("inte före den dag ärendet kom till fasen")
    if params.not_before is not None:
        bounds.append(f"inte före {params.not_before.title}")
    if params.not_after_today:
        bounds.append("inte efter dagens datum")
    return f"{_field_title(d, params.kind, params.field)} ligger " + ", ".join(bounds)


def _periods(periods: list[Any]) -> str:
    return "; ".join(
        f"{p.procedure or 'alla förfaranden'}: {p.days} dagar, {p.days_electronic} med "
        f"elektroniska anbud, från {p.effective_from.isoformat()} ({p.source})"
        for p in sorted(periods, key=lambda p: p.effective_from)
    )


def _tender_period_ended(d: Definition, params: Any) -> str:
    kind = d.evidence_kind[params.kind]
    return (
        f"den minsta anbudstiden har löpt ut, räknad från dagen efter att ”{kind.title}” "
        f"skickades, till närmaste vardag; när ärendets värde för steget ("
        + ", ".join(f"{v.title} (`{v.fact}`)" for v in params.values)
        + ") når EU:s "
        + f"tröskelvärde (serien `{params.series}` den dagen): {_periods(params.above_threshold)}; "
        + f"annars: {_periods(params.below_threshold)}"
    )


def _court_ordered(d: Definition, params: Any) -> str:
    kind = d.evidence_kind[params.kind]
    outcomes = ", ".join(f"”{o}”" for o in params.outcomes)
    return (
        f"det senaste ”{kind.title}” efter det senaste tilldelningsbeslutet har utfallet {outcomes}"
    )


TIME_DESCRIBERS: dict[str, Callable[[Definition, BaseModel], str]] = {
    "date_bounded": _date_bounded,
    "tender_period_ended": _tender_period_ended,
    "court_ordered": _court_ordered,
}
