"""The lifecycle diagram of the process page is made from the definition: well-formed SVG with
every phase a step leads to or from, and one numbered arrow per step drawn."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from helpers import v1
from upphandla.api.pages.diagram import edges, lifecycle_svg

SVG = "{http://www.w3.org/2000/svg}"


def test_the_diagram_shows_every_phase_and_step_of_the_definition() -> None:
    definition = v1()
    root = ET.fromstring(lifecycle_svg(definition))
    texts = [t.text for t in root.iter(f"{SVG}text")]
    drawn, listed = edges(definition)
    phases = {e.source for e in drawn} | {e.dest for e in drawn}
    for phase in phases:
        assert definition.phase[phase].title in texts
    assert sorted(int(t) for t in texts if t and t.isdigit()) == [e.number for e in drawn]
    assert len(root.findall(f"{SVG}path")) == len(drawn)
    # A step from many phases (cancelling) is listed beside the diagram, not drawn.
    assert [t.id for t in listed] == [t.id for t in definition.triggers if len(t.source) > 3]
    assert root.get("role") == "img" and root.find(f"{SVG}title") is not None
