"""The generated rule documentation and lifecycle diagram: the committed files in docs/ are what the
shipped definitions generate, every rule appears in them, and the format holds."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from upphandla.cli.docs import docs_app, generate, load_definitions, stale_files
from upphandla.states.definition import Definition, GateSpec
from upphandla.states.docs import lifecycle_mermaid, rules_markdown

DOCS = Path(__file__).resolve().parents[2] / "docs"
EDGE = re.compile(r"^    (\w+|\[\*\]) --> (\w+|\[\*\])(?: : (.+))?$")


@pytest.fixture(scope="module")
def definitions() -> list[Definition]:
    found = load_definitions()
    assert found, "no shipped process definition"
    return found


def edges(mermaid: str) -> list[tuple[str, str, str | None]]:
    out = []
    for line in mermaid.splitlines():
        match = EDGE.match(line)
        if match:
            out.append((match[1], match[2], match[3]))
    return out


def label(text: str) -> str:
    """A title as the diagram writes it: one line, with Mermaid's entity codes for # " ;."""
    flat = re.sub(r"[ \t\r\n]+", " ", text).strip(" ")
    return flat.replace("#", "#35;").replace('"', "#quot;").replace(";", "#59;")


def node(phase_id: str) -> str:
    reserved = {"state", "note", "end", "direction", "class", "classdef", "style"}
    return f"{phase_id}_fas" if phase_id in reserved else phase_id


def escaped(text: str) -> str:
    return re.sub(r"[ \t\r\n]+", " ", text).strip(" ").replace("|", "\\|")


# -- (a) the committed docs are up to date -------------------------------------------------------


def test_committed_docs_are_up_to_date() -> None:
    expected = generate(DOCS)
    stale = stale_files(expected, DOCS)
    assert not stale, (
        "docs/ is out of date with the process definitions: "
        f"{', '.join(p.name for p in stale)}. Run `upphandla definition docs`."
    )


def test_generated_text_is_deterministic_and_ends_with_one_newline() -> None:
    first, second = generate(DOCS), generate(DOCS)
    assert first == second
    for path, text in first.items():
        assert text.endswith("\n") and not text.endswith("\n\n"), path
        assert "\r" not in text, path


def test_the_command_writes_checks_and_removes_leftovers(tmp_path: Path) -> None:
    out = tmp_path / "docs"
    result = CliRunner().invoke(docs_app, ["--out-dir", str(out), "--check"])
    assert result.exit_code == 1
    assert not out.exists(), "--check must not write"
    for path in generate(out):
        assert str(path) in result.output
    leftover = out / "rules-gammal-v9.md"
    out.mkdir()
    leftover.write_text("gammal\n", encoding="utf-8")
    result = CliRunner().invoke(docs_app, ["--out-dir", str(out)])
    assert result.exit_code == 0, result.output
    assert not leftover.exists()
    assert {p: p.read_text(encoding="utf-8") for p in out.iterdir()} == generate(out)
    result = CliRunner().invoke(docs_app, ["--out-dir", str(out), "--check"])
    assert (result.exit_code, result.output) == (0, "")


# -- (b) every gate, with its source ---------------------------------------------------------------


def _gate_row_texts(gate: GateSpec) -> list[str]:
    return [f"{escaped(gate.title)} (`{gate.id}`)", escaped(gate.source), escaped(gate.message)]


def test_every_gate_appears_with_its_source(definitions: list[Definition]) -> None:
    for d in definitions:
        rows = rules_markdown(d).splitlines()
        owners: list[tuple[str, GateSpec]] = [(t.id, g) for t in d.triggers for g in t.gates]
        owners += [(k.id, g) for k in d.evidence_kinds for g in k.gates]
        for owner, gate in owners:
            wanted = _gate_row_texts(gate)
            hits = [r for r in rows if r.startswith("|") and all(w in r for w in wanted)]
            assert hits, f"{d.key} v{d.version}: gate {owner}.{gate.id} missing with its source"


def test_every_trigger_and_evidence_kind_has_its_place(definitions: list[Definition]) -> None:
    for d in definitions:
        text = rules_markdown(d)
        for t in d.triggers:
            assert f"{escaped(t.title)} (`{t.id}`)" in text, t.id
        for k in d.evidence_kinds:
            assert f"### {k.title} (`{k.id}`)" in text, k.id
        for n, p in enumerate(d.phases, start=1):
            assert f"### {n}. {p.title} (`{p.id}`)" in text, p.id


# -- (c) and (d) the diagram ------------------------------------------------------------------------


def test_every_phase_and_trigger_appears_in_the_diagram(definitions: list[Definition]) -> None:
    for d in definitions:
        mermaid = lifecycle_mermaid(d)
        assert mermaid.startswith("stateDiagram-v2\n")
        for p in d.phases:
            assert f'    state "{label(p.title)}" as {node(p.id)}\n' in mermaid, p.id
        labels = {label for _, _, label in edges(mermaid)}
        for t in d.triggers:
            assert label(t.title) in labels, t.id
        assert f"```mermaid\n{mermaid}```\n" in rules_markdown(d)


def test_one_edge_per_source_and_trigger(definitions: list[Definition]) -> None:
    for d in definitions:
        found = Counter(e for e in edges(lifecycle_mermaid(d)) if "[*]" not in e[:2])
        wanted = Counter(
            (node(s), node(t.dest), label(t.title)) for t in d.triggers for s in t.source
        )
        assert found == wanted
        ends = [e for e in edges(lifecycle_mermaid(d)) if "[*]" in e[:2]]
        assert ends == [("[*]", node(d.initial), None)] + [
            (node(p.id), "[*]", None) for p in d.phases if p.final
        ]


# -- (e) a small hand-made definition renders exactly ----------------------------------------------

SMALL: dict[str, Any] = {
    "key": "liten-process",
    "version": 3,
    "title": "Liten process",
    "effective_from": "2026-02-01",
    "initial": "start",
    "phases": [
        {"id": "start", "title": "Start", "description": "Allt  börjar\nhär.", "deadline_days": 10},
        {"id": "klar", "title": "Klar", "final": True},
    ],
    "evidence_kinds": [
        {
            "id": "godkannande",
            "title": "Godkännande",
            "roles": ["bestallare", "delegat"],
            "phases": ["start"],
            "records_mandate": True,
            "fields": [
                {"name": "ok", "title": "Godkänt", "type": "bool"},
                {
                    "name": "niva",
                    "title": "Nivå",
                    "type": "choice",
                    "choices": ["a", "b"],
                    "required": False,
                },
                {
                    "name": "rader",
                    "title": "Rader",
                    "type": "list",
                    "max_items": 5,
                    "items": [{"name": "text", "title": "Text", "type": "text"}],
                },
            ],
            "gates": [
                {
                    "id": "vardegrans",
                    "title": "Värdegräns",
                    "check": "value_below_threshold",
                    "params": {
                        "series": "direct_award",
                        "values": [{"fact": "estimated_value_sek", "title": "Uppskattat värde"}],
                    },
                    "message": "För | stort.",
                    "source": "Delegationsordningen",
                },
            ],
        }
    ],
    "triggers": [
        {
            "id": "bli_klar",
            "title": "Bli klar",
            "source": ["start"],
            "dest": "klar",
            "roles": ["bestallare", "system"],
            "available_when": {"fact": "estimated_value_sek", "gte": 5000},
            "requires_comment": True,
            "gates": [
                {
                    "id": "godkant",
                    "title": "Godkänt",
                    "check": "evidence_recorded",
                    "params": {"kind": "godkannande", "where": {"ok": True}},
                    "applies_when": {"fact": "personal_data", "eq": True},
                    "message": "Det ska vara godkänt.",
                    "source": "§ 1 | § 2",
                },
            ],
        }
    ],
}


@pytest.fixture
def small() -> Definition:
    # Only the structure is validated: rendering must not depend on the consistency checks.
    return Definition.model_validate(SMALL)


def test_small_definition_renders_known_lines(small: Definition) -> None:
    lines = rules_markdown(small).splitlines()
    expected = [
        "# Liten process (`liten-process` version 3, gäller från 2026-02-01)",
        "> Genereras från processdefinitionen `liten-process` version 3: ändra inte för hand; "
        "kör `upphandla definition docs`.",
        "Ett ärende börjar i fasen Start (`start`) och startas av: Beställare, Upphandlare, "
        "Kategoriledare IT & Telekom.",
        "### 1. Start (`start`)",
        "Allt börjar här.",
        "- Startfas: ett nytt ärende börjar här.",
        "- Tidsfrist: 10 dagar, räknat från dagen efter att ärendet kom in i fasen; är sista "
        "dagen inte en arbetsdag gäller nästa arbetsdag.",
        "| Bli klar (`bli_klar`); kräver motivering | Klar (`klar`) | Beställare, Systemet "
        "| estimated_value_sek minst 5\u00a0000 | Godkänt (`godkant`) | personal_data = ja "
        "| `evidence_recorded`: underlaget ”Godkännande” är registrerat och det senast "
        "registrerade har ”Godkänt” = ja | Det ska vara godkänt. | § 1 \\| § 2 |",
        "### 2. Klar (`klar`)",
        "- Slutfas: ärendet lämnar aldrig fasen.",
        "Inga övergångar leder ut ur fasen.",
        "### Godkännande (`godkannande`)",
        "- Registreras av: Beställare, Delegat.",
        "- Kan registreras i: Start (`start`).",
        "- Registrerarens mandat enligt delegationsordningen sparas med underlaget.",
        "| `ok` | Godkänt | ja/nej | ja | — |",
        "| `niva` | Nivå | val | nej | `a`, `b` |",
        "| `rader` | Rader | lista | ja | högst 5 poster med: `text` Text (text) |",
        "| Värdegräns (`vardegrans`) | alltid | `value_below_threshold`: varje värde ärendet "
        "registrerat av Uppskattat värde (`estimated_value_sek`) understiger beloppet i "
        "tröskelvärdesserien `direct_award` som gäller den dag kontrollen görs "
        "| För \\| stort. | Delegationsordningen |",
    ]
    missing = [line for line in expected if line not in lines]
    assert not missing, "\n".join(missing)


def test_small_definition_diagram_is_exact(small: Definition) -> None:
    assert lifecycle_mermaid(small) == (
        "stateDiagram-v2\n"
        "    %% Genereras från processdefinitionen liten-process version 3: ändra inte för hand; "
        "kör upphandla definition docs\n"
        '    state "Start" as start\n'
        '    state "Klar" as klar\n'
        "    [*] --> start\n"
        "    start --> klar : Bli klar\n"
        "    klar --> [*]\n"
    )


def test_an_unknown_check_is_described_by_its_parameters() -> None:
    body = {
        **SMALL,
        "evidence_kinds": [],
        "triggers": [
            {
                **SMALL["triggers"][0],
                "gates": [
                    {
                        "id": "framtida",
                        "title": "Framtida",
                        "check": "future_check",
                        "params": {"kind": "x", "days": 3, "where": {"a": True}},
                        "message": "M.",
                        "source": "K",
                    },
                ],
            }
        ],
    }
    text = rules_markdown(Definition.model_validate(body))
    assert '`future_check`: kontrollen med parametrarna kind=x, days=3, where={"a": true}' in text
    assert "Definitionen har inga underlag." in text
