"""The process definition: the shipped v1 parses, and each kind of broken definition is refused
with a problem whose path names the exact field."""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from upphandla.seeds.loader import DEFINITIONS, read_yaml
from upphandla.states.definition import Definition, DefinitionError
from upphandla.states.parse import parse_definition
from upphandla.states.roles import ROLES, SYSTEM_ROLE

V1 = DEFINITIONS / "it-upphandling.v1.yaml"
SWEDISH_LETTERS = re.compile(r"[åäöÅÄÖ]")


@pytest.fixture(scope="module")
def raw_v1() -> dict[str, Any]:
    data = read_yaml(Path(V1))
    assert isinstance(data, dict)
    return data


def unshared(value: Any) -> Any:
    """A deep copy in which no two places are the same object. The YAML file shares gates through
    anchors (`*requirements_done` on several triggers), and a plain deep copy keeps that sharing:
    breaking one gate would break it on every trigger that uses the anchor."""
    if isinstance(value, dict):
        return {k: unshared(v) for k, v in value.items()}
    if isinstance(value, list):
        return [unshared(v) for v in value]
    return value


@pytest.fixture
def raw(raw_v1: dict[str, Any]) -> dict[str, Any]:
    """A fresh copy of the shipped definition to break, one place at a time."""
    return unshared(raw_v1)


def trigger_index(raw: dict[str, Any], trigger_id: str) -> int:
    return next(i for i, t in enumerate(raw["triggers"]) if t["id"] == trigger_id)


def kind_index(raw: dict[str, Any], kind_id: str) -> int:
    return next(i for i, k in enumerate(raw["evidence_kinds"]) if k["id"] == kind_id)


def gate_index(raw: dict[str, Any], trigger_id: str, gate_id: str) -> int:
    gates = raw["triggers"][trigger_index(raw, trigger_id)]["gates"]
    return next(i for i, g in enumerate(gates) if g["id"] == gate_id)


def problems_of(data: Any) -> dict[str, str]:
    with pytest.raises(DefinitionError) as exc:
        parse_definition(data)
    problems = exc.value.problems
    assert problems, "a DefinitionError must carry at least one problem"
    for p in problems:
        assert p.message.strip(), f"empty message for {p.path}"
    # The exception's text names every path, so a log line is enough to find the fault.
    for p in problems:
        assert p.path in str(exc.value)
    return {p.path: p.message for p in problems}


# -- the shipped definition ----------------------------------------------------------------------
def test_shipped_v1_parses(raw: dict[str, Any]) -> None:
    d = parse_definition(raw)
    assert isinstance(d, Definition)
    assert (d.key, d.version) == ("it-upphandling", 1)
    assert d.initial == "behovsanalys"
    assert {p.id for p in d.phases if p.final} == {"avslutad", "avbruten"}


def test_shipped_v1_has_the_lifecycle_of_the_rulebook(raw: dict[str, Any]) -> None:
    d = parse_definition(raw)
    order = [
        "behovsanalys",
        "forstudie",
        "ssa",
        "kravstallning",
        "annonsering",
        "utvardering",
        "tilldelning",
        "avtalsparr",
        "avtalstecknande",
        "acceptanstest",
        "inforande",
        "forvaltning",
        "avslut",
        "avslutad",
    ]
    # The ways off the main road, each to where it leads: the other routes go straight to
    # signing, the contract may be signed as soon as the standstill has ended, the court's order
    # after an överprövning sends the case back (LOU 20 kap. 6 §), and a failed acceptance test
    # ends the contract.
    side_roads = {
        ("kravstallning", "direct_award"): "avtalstecknande",
        ("kravstallning", "call_off"): "avtalstecknande",
        ("avtalsparr", "sign_contract"): "acceptanstest",
        ("avtalsparr", "correct_after_review"): "utvardering",
        ("avtalsparr", "redo_after_review"): "kravstallning",
        ("acceptanstest", "end_contract"): "avslut",
    }
    for (state, trigger), dest in side_roads.items():
        assert state in d.trigger[trigger].source, (state, trigger)
        assert d.trigger[trigger].dest == dest, (state, trigger)
    # Following the single other non-cancel trigger out of each phase walks the whole lifecycle.
    state, walked = d.initial, [d.initial]
    while not d.phase[state].final:
        nexts = [
            t
            for t in d.triggers_from(state)
            if t.id != "cancel" and (state, t.id) not in side_roads
        ]
        assert len(nexts) == 1, (state, [t.id for t in nexts])
        state = nexts[0].dest
        walked.append(state)
    assert walked == order


def test_shipped_v1_every_gate_cites_its_source(raw: dict[str, Any]) -> None:
    d = parse_definition(raw)
    owned = [(t.id, t.gates) for t in d.triggers] + [(k.id, k.gates) for k in d.evidence_kinds]
    assert any(k.gates for k in d.evidence_kinds)  # evidence kinds have gates of their own
    for owner, gates in owned:
        for g in gates:
            assert re.search(r"§|kap\.|lag \(", g.source), (owner, g.id, g.source)
            assert g.message.strip()


def test_shipped_v1_cancel_is_possible_before_signing_only(raw: dict[str, Any]) -> None:
    d = parse_definition(raw)
    cancel = d.trigger["cancel"]
    assert cancel.dest == "avbruten"
    assert cancel.requires_comment
    assert "avtalstecknande" in cancel.source
    assert not {"acceptanstest", "inforande", "forvaltning", "avslut"} & set(cancel.source)


def test_definition_checksum_is_stable_and_changes_with_content(raw: dict[str, Any]) -> None:
    a = parse_definition(raw)
    b = parse_definition(copy.deepcopy(raw))
    assert a.checksum() == b.checksum()
    assert re.fullmatch(r"[0-9a-f]{64}", a.checksum())
    raw["phases"][0]["deadline_days"] = 61
    assert parse_definition(raw).checksum() != a.checksum()


# -- consistency problems, each with its exact path ----------------------------------------------
def test_unknown_phase_in_trigger_dest(raw: dict[str, Any]) -> None:
    i = trigger_index(raw, "publish_tender")
    raw["triggers"][i]["dest"] = "annonserin"
    problems = problems_of(raw)
    assert list(problems) == [f"triggers[{i}].dest"]
    assert "okänd fas" in problems[f"triggers[{i}].dest"]
    assert "annonserin" in problems[f"triggers[{i}].dest"]


def test_unknown_phase_in_trigger_source(raw: dict[str, Any]) -> None:
    i = trigger_index(raw, "close_tender")
    raw["triggers"][i]["source"] = ["annonsering", "okand"]
    assert list(problems_of(raw)) == [f"triggers[{i}].source[1]"]


def test_unknown_check_function(raw: dict[str, Any]) -> None:
    i = trigger_index(raw, "publish_tender")
    raw["triggers"][i]["gates"][0]["check"] = "evidence_present"
    problems = problems_of(raw)
    path = f"triggers[{i}].gates[0].check"
    assert list(problems) == [path]
    assert "evidence_present" in problems[path]
    # The message lists the checks that exist.
    assert "evidence_recorded" in problems[path] and "standstill_ended" in problems[path]


def test_unknown_evidence_kind_in_gate_params(raw: dict[str, Any]) -> None:
    i = trigger_index(raw, "publish_tender")
    raw["triggers"][i]["gates"][0]["params"]["kind"] = "kravspec"
    problems = problems_of(raw)
    path = f"triggers[{i}].gates[0].params.kind"
    assert list(problems) == [path]
    assert "kravspec" in problems[path]


def test_unknown_evidence_kind_in_standstill_params(raw: dict[str, Any]) -> None:
    i = trigger_index(raw, "end_standstill")
    raw["triggers"][i]["gates"][0]["params"]["kind"] = "tilldelning_skickad"
    assert list(problems_of(raw)) == [f"triggers[{i}].gates[0].params.kind"]


def test_unknown_field_in_gate_where(raw: dict[str, Any]) -> None:
    i = trigger_index(raw, "publish_tender")
    j = gate_index(raw, "publish_tender", "crisis_review_for_critical")
    raw["triggers"][i]["gates"][j]["params"]["where"]["godkand"] = True
    problems = problems_of(raw)
    path = f"triggers[{i}].gates[{j}].params.where.godkand"
    assert list(problems) == [path]
    assert "crisis_review_done" in problems[path]


def test_unknown_gate_param(raw: dict[str, Any]) -> None:
    i = trigger_index(raw, "publish_tender")
    raw["triggers"][i]["gates"][0]["params"]["wher"] = {}
    problems = problems_of(raw)
    assert problems == {f"triggers[{i}].gates[0].params.wher": "okänt fält"}


def test_missing_gate_param(raw: dict[str, Any]) -> None:
    i = trigger_index(raw, "end_standstill")
    del raw["triggers"][i]["gates"][0]["params"]["days_other"]
    assert problems_of(raw) == {f"triggers[{i}].gates[0].params.days_other": "fältet saknas"}


def test_unknown_role_on_trigger(raw: dict[str, Any]) -> None:
    i = trigger_index(raw, "sign_contract")
    raw["triggers"][i]["roles"] = ["delegat", "rektor"]
    problems = problems_of(raw)
    assert list(problems) == [f"triggers[{i}].roles[1]"]
    assert "rektor" in problems[f"triggers[{i}].roles[1]"]


def test_unknown_role_on_evidence_kind(raw: dict[str, Any]) -> None:
    k = kind_index(raw, "ssa_approved")
    raw["evidence_kinds"][k]["roles"] = ["ciso"]
    assert list(problems_of(raw)) == [f"evidence_kinds[{k}].roles[0]"]


def test_trigger_without_roles(raw: dict[str, Any]) -> None:
    raw["triggers"][0]["roles"] = []
    assert list(problems_of(raw)) == ["triggers[0].roles"]


def test_system_role_is_a_known_actor(raw: dict[str, Any]) -> None:
    assert SYSTEM_ROLE not in ROLES
    i = trigger_index(raw, "end_standstill")
    assert SYSTEM_ROLE in raw["triggers"][i]["roles"]
    parse_definition(raw)


def test_duplicate_phase_id(raw: dict[str, Any]) -> None:
    raw["phases"].append({"id": "ssa", "title": "Systemsäkerhetsanalys igen"})
    n = len(raw["phases"]) - 1
    problems = problems_of(raw)
    assert list(problems) == [f"phases[{n}].id"]
    assert "ssa" in problems[f"phases[{n}].id"]


def test_duplicate_trigger_id(raw: dict[str, Any]) -> None:
    raw["triggers"].append(copy.deepcopy(raw["triggers"][0]))
    n = len(raw["triggers"]) - 1
    assert list(problems_of(raw)) == [f"triggers[{n}].id"]


def test_duplicate_gate_id_on_a_trigger(raw: dict[str, Any]) -> None:
    i = trigger_index(raw, "sign_contract")
    gates = raw["triggers"][i]["gates"]
    gates.append(copy.deepcopy(gates[0]))
    assert list(problems_of(raw)) == [f"triggers[{i}].gates[{len(gates) - 1}].id"]


def test_unknown_fact_in_applies_when(raw: dict[str, Any]) -> None:
    i = trigger_index(raw, "sign_contract")
    j = gate_index(raw, "sign_contract", "pub_avtal_when_personal_data")
    raw["triggers"][i]["gates"][j]["applies_when"] = {"fact": "personuppgifter", "eq": True}
    problems = problems_of(raw)
    path = f"triggers[{i}].gates[{j}].applies_when"
    assert list(problems) == [path]
    assert "personuppgifter" in problems[path]


def test_unknown_evidence_field_fact_in_available_when(raw: dict[str, Any]) -> None:
    i = trigger_index(raw, "publish_tender")
    raw["triggers"][i]["available_when"] = {"fact": "ssa_approved.nis", "eq": True}
    problems = problems_of(raw)
    assert list(problems) == [f"triggers[{i}].available_when"]
    assert "ssa_approved.nis" in problems[f"triggers[{i}].available_when"]


def test_known_evidence_field_fact_is_accepted(raw: dict[str, Any]) -> None:
    i = trigger_index(raw, "publish_tender")
    raw["triggers"][i]["gates"][0]["applies_when"] = {"fact": "ssa_approved.nis_scope", "eq": True}
    parse_definition(raw)


def test_malformed_condition_in_applies_when(raw: dict[str, Any]) -> None:
    i = trigger_index(raw, "sign_contract")
    j = gate_index(raw, "sign_contract", "pub_avtal_when_personal_data")
    raw["triggers"][i]["gates"][j]["applies_when"] = {"fact": "personal_data"}
    problems = problems_of(raw)
    path = f"triggers[{i}].gates[{j}].applies_when"
    assert list(problems) == [path]
    assert "exakt en jämförelse" in problems[path]


def test_missing_required_field(raw: dict[str, Any]) -> None:
    i = trigger_index(raw, "close_tender")
    del raw["triggers"][i]["title"]
    assert problems_of(raw) == {f"triggers[{i}].title": "fältet saknas"}


def test_missing_required_top_level_field(raw: dict[str, Any]) -> None:
    del raw["initial"]
    assert problems_of(raw) == {"initial": "fältet saknas"}


def test_wrong_type_for_a_bool(raw: dict[str, Any]) -> None:
    i = trigger_index(raw, "cancel")
    raw["triggers"][i]["requires_comment"] = "kanske"
    assert problems_of(raw) == {f"triggers[{i}].requires_comment": "ska vara true eller false"}


def test_wrong_type_for_an_int(raw: dict[str, Any]) -> None:
    raw["phases"][0]["deadline_days"] = "sextio"
    assert problems_of(raw) == {"phases[0].deadline_days": "ska vara ett heltal"}


def test_wrong_type_for_a_list(raw: dict[str, Any]) -> None:
    raw["triggers"][0]["source"] = "behovsanalys"
    assert problems_of(raw) == {"triggers[0].source": "ska vara en lista"}


def test_version_below_one(raw: dict[str, Any]) -> None:
    raw["version"] = 0
    assert problems_of(raw) == {"version": "ska vara minst 1"}


def test_identifier_with_wrong_format(raw: dict[str, Any]) -> None:
    raw["phases"][0]["id"] = "Behovsanalys"
    assert "phases[0].id" in problems_of(raw)


def test_extra_unknown_field_on_a_trigger(raw: dict[str, Any]) -> None:
    i = trigger_index(raw, "go_live")
    raw["triggers"][i]["colour"] = "green"
    assert problems_of(raw) == {f"triggers[{i}].colour": "okänt fält"}


def test_extra_unknown_field_at_the_top(raw: dict[str, Any]) -> None:
    raw["owner"] = "kategoriledare"
    assert problems_of(raw) == {"owner": "okänt fält"}


def test_trigger_leaving_a_final_phase(raw: dict[str, Any]) -> None:
    i = trigger_index(raw, "cancel")
    raw["triggers"][i]["source"].append("avslutad")
    j = len(raw["triggers"][i]["source"]) - 1
    problems = problems_of(raw)
    assert list(problems) == [f"triggers[{i}].source[{j}]"]
    assert "slutfas" in problems[f"triggers[{i}].source[{j}]"]


def test_trigger_with_no_source(raw: dict[str, Any]) -> None:
    raw["triggers"][0]["source"] = []
    assert list(problems_of(raw)) == ["triggers[0].source"]


def test_unknown_initial_phase(raw: dict[str, Any]) -> None:
    raw["initial"] = "start"
    assert list(problems_of(raw)) == ["initial"]


def test_unknown_phase_where_evidence_may_be_recorded(raw: dict[str, Any]) -> None:
    raw["evidence_kinds"][0]["phases"].append("behov")
    n = len(raw["evidence_kinds"][0]["phases"]) - 1
    assert list(problems_of(raw)) == [f"evidence_kinds[0].phases[{n}]"]


def test_choice_field_without_choices(raw: dict[str, Any]) -> None:
    k = kind_index(raw, "forstudie_done")
    del raw["evidence_kinds"][k]["fields"][0]["choices"]
    assert list(problems_of(raw)) == [f"evidence_kinds[{k}].fields[0].choices"]


def test_duplicate_field_name_in_an_evidence_kind(raw: dict[str, Any]) -> None:
    raw["evidence_kinds"][0]["fields"].append({"name": "need", "title": "Behov", "type": "text"})
    n = len(raw["evidence_kinds"][0]["fields"]) - 1
    assert list(problems_of(raw)) == [f"evidence_kinds[0].fields[{n}].name"]


def test_empty_gate_message_is_refused(raw: dict[str, Any]) -> None:
    raw["triggers"][0]["gates"][0]["message"] = ""
    assert list(problems_of(raw)) == ["triggers[0].gates[0].message"]


def test_every_consistency_problem_is_reported_at_once(raw: dict[str, Any]) -> None:
    i = trigger_index(raw, "publish_tender")
    j = trigger_index(raw, "sign_contract")
    raw["triggers"][i]["dest"] = "nowhere"
    raw["triggers"][i]["gates"][0]["check"] = "nothing"
    raw["triggers"][j]["roles"] = ["rektor"]
    raw["initial"] = "start"
    assert set(problems_of(raw)) == {
        f"triggers[{i}].dest",
        f"triggers[{i}].gates[0].check",
        f"triggers[{j}].roles[0]",
        "initial",
    }


def test_a_fault_in_a_shared_gate_is_reported_wherever_it_is_used(
    raw_v1: dict[str, Any],
) -> None:
    # As the file reads: the requirements gate is written once, as an anchor, and used by the
    # three triggers that leave kravställning.
    shared = copy.deepcopy(raw_v1)
    users = ("publish_tender", "call_off", "direct_award")
    gates = [shared["triggers"][trigger_index(shared, t)]["gates"] for t in users]
    assert all(
        g[gate_index(shared, t, "requirements_done")] is shared["x-requirements-done"]
        for t, g in zip(users, gates, strict=True)
    )
    shared["x-requirements-done"]["check"] = "nothing"
    assert set(problems_of(shared)) == {
        f"triggers[{trigger_index(shared, t)}].gates[{gate_index(shared, t, 'requirements_done')}]"
        ".check"
        for t in users
    }


def test_every_schema_problem_is_reported_at_once(raw: dict[str, Any]) -> None:
    raw["version"] = "ett"
    del raw["triggers"][0]["title"]
    raw["phases"][1]["colour"] = "blå"
    assert set(problems_of(raw)) == {"version", "triggers[0].title", "phases[1].colour"}


def test_definition_that_is_not_an_object() -> None:
    assert list(problems_of([1, 2])) == ["(roten)"]
    assert list(problems_of(None)) == ["(roten)"]


# -- every message is Swedish --------------------------------------------------------------------
BREAKERS: dict[str, Callable[[dict[str, Any]], None]] = {
    "dest": lambda r: r["triggers"][0].__setitem__("dest", "x"),
    "check": lambda r: r["triggers"][0]["gates"][0].__setitem__("check", "x"),
    "kind": lambda r: r["triggers"][0]["gates"][0]["params"].__setitem__("kind", "x"),
    "role": lambda r: r["triggers"][0].__setitem__("roles", ["x"]),
    "duplicate": lambda r: r["phases"].append({"id": "ssa", "title": "x"}),
    "fact": lambda r: r["triggers"][0]["gates"][0].__setitem__(
        "applies_when", {"fact": "x", "eq": True}
    ),
    "missing": lambda r: r["triggers"][0].pop("title"),
    "int": lambda r: r["phases"][0].__setitem__("deadline_days", "x"),
    "extra": lambda r: r["triggers"][0].__setitem__("x", 1),
    "final": lambda r: r["triggers"][trigger_index(r, "cancel")]["source"].append("avbruten"),
    "choice-value": lambda r: r["phases"][0].__setitem__("final", "x"),
}
ENGLISH = re.compile(r"\b(or|should|must|field|required|input|valid|unknown|missing)\b", re.I)


@pytest.mark.parametrize("name", sorted(BREAKERS))
def test_problem_messages_are_in_swedish(raw: dict[str, Any], name: str) -> None:
    BREAKERS[name](raw)
    for path, message in problems_of(raw).items():
        assert not ENGLISH.search(message), f"{path}: {message!r}"


def test_most_messages_use_swedish_words(raw: dict[str, Any]) -> None:
    messages: list[str] = []
    for breaker in BREAKERS.values():
        r = copy.deepcopy(raw)
        breaker(r)
        messages += problems_of(r).values()
    assert sum(bool(SWEDISH_LETTERS.search(m)) for m in messages) >= len(messages) // 2


def test_wrong_choice_in_a_field_type_is_explained_in_swedish(raw: dict[str, Any]) -> None:
    # The list of allowed values is joined with English "or" by the validation library.
    raw["evidence_kinds"][0]["fields"][0]["type"] = "string"
    message = problems_of(raw)["evidence_kinds[0].fields[0].type"]
    assert message.startswith("ska vara ett av")
    assert " or " not in message


# -- values that are checked against the fields they compare with --------------------------------
def test_where_value_of_the_wrong_type_is_refused(raw: dict[str, Any]) -> None:
    # `approved` is a bool field: a quoted "ja" can never match, so the gate could never pass.
    i = trigger_index(raw, "publish_tender")
    j = gate_index(raw, "publish_tender", "crisis_review_for_critical")
    raw["triggers"][i]["gates"][j]["params"]["where"]["approved"] = "ja"
    assert f"triggers[{i}].gates[{j}].params.where.approved" in problems_of(raw)


def test_applies_when_value_of_the_wrong_type_is_refused(raw: dict[str, Any]) -> None:
    # `personal_data` is a strict bool attribute: eq "true" never holds, so the PUB gate
    # (§ 5.2.1) would silently never apply.
    i = trigger_index(raw, "sign_contract")
    j = gate_index(raw, "sign_contract", "pub_avtal_when_personal_data")
    raw["triggers"][i]["gates"][j]["applies_when"] = {"fact": "personal_data", "eq": "true"}
    assert f"triggers[{i}].gates[{j}].applies_when" in problems_of(raw)


def test_standstill_days_must_be_positive(raw: dict[str, Any]) -> None:
    i = trigger_index(raw, "end_standstill")
    raw["triggers"][i]["gates"][0]["params"]["days_electronic"] = -10
    assert f"triggers[{i}].gates[0].params.days_electronic" in problems_of(raw)


@pytest.mark.parametrize(
    ("field", "value", "says"),
    [
        ("available_when", {"fact": "route", "eq": "dis"}, "kan inte ha ett villkor"),
        ("requires_comment", True, "kan inte kräva motivering"),
    ],
)
def test_a_timer_may_be_stopped_by_its_gates_only(
    raw: dict[str, Any], field: str, value: Any, says: str
) -> None:
    """The sweep fires a timer when its deadline has passed; a condition or a demand for a
    comment would refuse it for reasons no gate names, on every sweep, for ever."""
    i = trigger_index(raw, "end_standstill")
    assert raw["triggers"][i]["fires_after"] == "standstill_end"
    raw["triggers"][i][field] = value
    problems = problems_of(raw)
    assert list(problems) == [f"triggers[{i}].{field}"]
    assert says in problems[f"triggers[{i}].{field}"]
