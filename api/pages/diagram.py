"""The lifecycle diagram as SVG, made on the server from the definition: the phases top to
bottom in the definition's order, each step between them a numbered arrow (down the left when
it leads to the next phase, in a lane of its own on the right otherwise). The numbers refer to
the table of steps printed beside it, which says the same in text. Steps that lead to a final
phase from many phases (cancelling) are listed, not drawn."""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from upphandla.states.definition import Definition, Trigger

BOX_W, BOX_H, GAP, LEFT, TOP, LANE = 250, 40, 30, 60, 20, 22


@dataclass(frozen=True)
class Edge:
    number: int
    trigger: Trigger
    source: str
    dest: str


def edges(definition: Definition) -> tuple[list[Edge], list[Trigger]]:
    """The steps drawn, numbered, and those only listed (from more than three phases)."""
    drawn: list[Edge] = []
    listed: list[Trigger] = []
    for trigger in definition.triggers:
        if len(trigger.source) > 3:
            listed.append(trigger)
            continue
        for source in trigger.source:
            drawn.append(Edge(len(drawn) + 1, trigger, source, trigger.dest))
    return drawn, listed


def lifecycle_svg(definition: Definition) -> str:
    phases = [p for p in definition.phases if p.id in _shown(definition)]
    row = {p.id: i for i, p in enumerate(phases)}
    drawn, _ = edges(definition)
    lanes = [e for e in drawn if row[e.dest] != row[e.source] + 1]
    width = LEFT + BOX_W + 40 + LANE * (len(lanes) + 1)
    height = TOP * 2 + len(phases) * (BOX_H + GAP)

    def y(phase: str) -> int:
        return TOP + row[phase] * (BOX_H + GAP)

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-labelledby="diagram-titel" '
        f'class="diagram" font-family="sans-serif" font-size="14">',
        f'<title id="diagram-titel">Faserna i {escape(definition.title)}, version '
        f"{definition.version}, och stegen mellan dem (numren finns i tabellen)</title>",
        '<defs><marker id="pil" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" '
        'fill="#1b1b1b"/></marker></defs>',
    ]
    for p in phases:
        fill = "#e8eef5" if not p.final else "#f3f3f3"
        out.append(
            f'<rect x="{LEFT}" y="{y(p.id)}" width="{BOX_W}" height="{BOX_H}" rx="8" '
            f'fill="{fill}" stroke="#004b87" stroke-width="2"/>'
            f'<text x="{LEFT + BOX_W / 2}" y="{y(p.id) + BOX_H / 2 + 5}" text-anchor="middle" '
            f'fill="#1b1b1b">{escape(p.title)}</text>'
        )
    for e in drawn:
        if e in lanes:
            continue
        x = (
            LEFT
            + 30
            + 30
            * sum(
                1 for o in drawn if o not in lanes and o.source == e.source and o.number < e.number
            )
        )
        y1, y2 = y(e.source) + BOX_H, y(e.dest)
        out.append(_arrow(f"M{x},{y1} L{x},{y2}", e.number, x + 6, (y1 + y2) / 2 + 5))
    for lane, e in enumerate(lanes, start=1):
        x = LEFT + BOX_W + 20 + LANE * lane
        y1, y2 = y(e.source) + BOX_H // 2 - 6, y(e.dest) + BOX_H // 2 + 6
        path = f"M{LEFT + BOX_W},{y1} L{x},{y1} L{x},{y2} L{LEFT + BOX_W},{y2}"
        out.append(_arrow(path, e.number, x - 8, (y1 + y2) / 2, anchor="end"))
    out.append("</svg>")
    return "\n".join(out)


def _arrow(path: str, number: int, tx: float, ty: float, anchor: str = "start") -> str:
    return (
        f'<path d="{path}" fill="none" stroke="#1b1b1b" stroke-width="1.5" '
        f'marker-end="url(#pil)"/><text x="{tx}" y="{ty}" text-anchor="{anchor}" '
        f'font-size="12" fill="#1b1b1b">{number}</text>'
    )


def _shown(definition: Definition) -> set[str]:
    drawn, _ = edges(definition)
    used = {e.source for e in drawn} | {e.dest for e in drawn} | {definition.initial}
    return {p.id for p in definition.phases if p.id in used}
