"""The permission matrix, generated from the process definition: every role × action (read the
case, record evidence, move it on) × relation to the case (the person started it, it is their
organisation's, their role is needed in its phase, none of these). What is allowed is read from
the definition's access table; the request must then pass (and succeed when the gates hold);
everything else is refused with 404 when the case may not even be read and 403 when it may be
read but not changed, and a refused request writes nothing."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient

from helpers import (
    User,
    add_user,
    assert_problem,
    attributes,
    case_attributes,
    case_state,
    counts,
    drive,
    evidence_data,
    execute,
    frozen,
    lifecycle,
    run,
    start,
    v1,
)
from upphandla.flows.commands.cases import Cancel, RecordEvidence
from upphandla.states.access_policy import RELATIONS
from upphandla.states.clock import today
from upphandla.states.definition import Definition
from upphandla.states.planner import plan_steps
from upphandla.states.roles import ROLES
from upphandla.store.db import Database

HOME = "socialforvaltningen"  # the organisation of the test users and their cases
AWAY = "kultur_och_fritidsforvaltningen"  # another organisation
SCENARIOS = ("own_case", "own_organisation", "participant", "unrelated")


@dataclass(frozen=True)
class Act:
    """What the role does in the matrix: a phase where it has something to do, the evidence it
    records there and the step it takes there (None: it may take none in any phase)."""

    phase: str
    kind: str
    trigger: str | None


def needed_in(d: Definition, role: str) -> set[str]:
    """The phases where the role has something to do, read from the definition's kinds and
    triggers: the oracle for the `participant` relation."""
    phases: set[str] = set()
    for k in d.evidence_kinds:
        if role in k.roles:
            phases |= set(k.phases or [p.id for p in d.phases])
    for t in d.triggers:
        if role in t.roles:
            phases |= set(t.source)
    return {p for p in phases if not d.phase[p].final}


def act_of(d: Definition, role: str) -> Act:
    """The first phase on the lifecycle path (in the definition's order) where the role takes
    the path's step (so that the gates hold once the path's evidence there is recorded) and may
    record evidence; for a role that takes no step on the path, the first phase where it may
    record evidence."""
    path = lifecycle().phases
    order = [p.id for p in d.phases if not p.final]

    def kinds_in(phase: str) -> list[str]:
        found = [
            k
            for k in d.evidence_kinds
            if role in k.roles and (k.phases is None or phase in k.phases)
        ]
        return [k.id for k in sorted(found, key=lambda k: bool(k.gates))]  # gate-less first

    for phase in order:
        steps = [
            s.trigger
            for s in path.get(phase, [])
            if s.trigger and role in d.trigger[s.trigger].roles
        ]
        if steps and kinds_in(phase):
            return Act(phase, kinds_in(phase)[0], steps[0])
    for phase in order:
        if kinds_in(phase):
            return Act(phase, kinds_in(phase)[0], None)
    # A role with nothing to record (controller, admin): the beställare's first act.
    return Act(d.initial, "behovsanalys_done", "complete_behovsanalys")


def relations(scenario: str, act: Act, role: str) -> frozenset[str]:
    found = {"every_case"}
    if scenario == "own_case":
        found.add("own_case")
    if scenario == "own_organisation":
        found.add("own_organisation")
    if scenario != "unrelated" and act.phase in needed_in(v1(), role):
        found.add("participant")
    return frozenset(found)


def prepared_case(db: Database, users: dict[str, User], act: Act) -> int:
    """A case of HOME in the act's phase, with everything recorded there that the path records
    (so that the step's gates hold)."""
    case_id = start(db, users["bestallare"], **ATTRIBUTES)
    drive(db, case_id, act.phase, users)
    steps = plan_steps(
        lifecycle(),
        v1(),
        state=act.phase,
        attributes=case_attributes(db, case_id),
        today=today(),
    )
    for step in steps:
        if step.phase != act.phase or step.kind is None:
            break
        command = RecordEvidence(
            actor=users[step.role].actor, case_id=case_id, kind=step.kind, data=dict(step.data)
        )
        run(db, command)
    return case_id


ATTRIBUTES: dict[str, Any] = {"personal_data": True}


def person(db: Database, role: str, organisation: str, n: int) -> User:
    return add_user(
        db,
        name=f"{role} {n}",
        email=f"{role}.{n}@example.se",
        role=role,
        organisation=organisation,
        mandate="kommundirektor" if role == "delegat" else None,
    )


def refused(response: Any, allowed_read: bool) -> None:
    assert_problem(response, 403 if allowed_read else 404)


@pytest.mark.parametrize("role", sorted(ROLES))
def test_every_action_and_relation_is_decided_by_the_access_table(
    client: TestClient, db: Database, users: dict[str, User], role: str
) -> None:
    d = v1()
    policy = d.access
    assert policy is not None and set(policy.roles) == set(ROLES)
    act = act_of(d, role)
    tried: set[tuple[str, str]] = set()
    with frozen("2026-03-02 09:00:00"):
        for n, scenario in enumerate(SCENARIOS):
            me = person(db, role, HOME if scenario == "own_organisation" else AWAY, n)
            if scenario == "unrelated":
                case_id = start(db, users["bestallare"], **ATTRIBUTES)
                run(db, Cancel(actor=users["upphandlare"].actor, case_id=case_id, reason="Test"))
            else:
                case_id = prepared_case(db, users, act)
            if scenario == "own_case":
                execute(
                    db,
                    "UPDATE cases SET created_by = :me WHERE id = :id",
                    me=me.actor.user_id,
                    id=case_id,
                )
            rel = relations(scenario, act, role)
            may_read = policy.allows(role, "read", rel)
            open_case = scenario != "unrelated"

            # read
            seen = client.get(f"/api/cases/{case_id}", headers=me.headers)
            if may_read:
                assert seen.status_code == 200, (scenario, seen.text)
            else:
                missing = client.get("/api/cases/999999", headers=me.headers)
                assert_problem(seen, 404)
                assert _without_request(seen.json()) == _without_request(missing.json()) | {
                    "detail": seen.json()["detail"],
                    "instance": seen.json()["instance"],
                }
            tried.add((scenario, "read"))

            # record evidence
            before = counts(db), case_state(db, case_id)
            body = {"kind": act.kind, "data": evidence_data(act.kind, attributes(**ATTRIBUTES))}
            recorded = client.post(f"/api/cases/{case_id}/evidence", json=body, headers=me.headers)
            if policy.allows(role, "record", rel) and may_read:
                if not open_case:
                    assert_problem(recorded, 409)  # past the access check: the case is closed
                elif role in d.evidence_kind[act.kind].roles:
                    assert recorded.status_code == 201, (scenario, recorded.text)
                else:
                    assert assert_problem(recorded, 403)["type"].endswith(":forbidden_role")
            else:
                refused(recorded, may_read)
                assert (counts(db), case_state(db, case_id)) == before
            tried.add((scenario, "record"))

            # move the case on
            before = counts(db), case_state(db, case_id)
            trigger = act.trigger or "complete_behovsanalys"
            step = {"trigger": trigger, "comment": "Enligt matrisen"}
            moved = client.post(f"/api/cases/{case_id}/transitions", json=step, headers=me.headers)
            if policy.allows(role, "advance", rel) and may_read:
                if not open_case or act.trigger is None:
                    # past the access check: a closed case, or a step the role may not take
                    assert_problem(moved, (403, 409))
                    assert (counts(db), case_state(db, case_id)) == before
                else:
                    assert moved.status_code == 200, (scenario, moved.text)
            else:
                refused(moved, may_read)
                assert (counts(db), case_state(db, case_id)) == before
            tried.add((scenario, "advance"))
    assert len(tried) == len(SCENARIOS) * 3
    assert set(RELATIONS) <= {r for s in SCENARIOS for r in relations(s, act, role)} | {
        "participant"
    }


def _without_request(problem: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in problem.items() if k != "request_id"}
