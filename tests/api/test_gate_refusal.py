"""A transition stopped by gates answers 409 with every failing gate's reason and source, and
writes nothing: not the case, not the audit log, not the outbox."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from helpers import (
    User,
    assert_problem,
    attributes,
    case_in,
    case_state,
    counts,
    drive,
    evidence_data,
    frozen,
    start,
    v1_body,
    v1_gate,
)
from upphandla.store.db import Database

# The gates of sign_contract that block a case with personal data that faces citizens, when it
# has just reached avtalstecknande, in the order the definition lists them.
SIGN_GATES = (
    "contract_signed_with_mandate",
    "pub_avtal_when_personal_data",
    "accessibility_report_when_citizen_facing",
    "implementation_planned",
    "contract_registered",
)
# The evidence that lifts each of them, and who records it.
LIFTED_BY = {
    "implementation_planned": ("implementation_planned", "bestallare"),
    "pub_avtal_when_personal_data": ("pub_avtal_signed", "dso"),
    "accessibility_report_when_citizen_facing": ("accessibility_report_received", "upphandlare"),
    "contract_signed_with_mandate": ("contract_signed", "delegat"),
    "contract_registered": ("contract_registered", "upphandlare"),
}


def expected_reason(gate: str) -> dict[str, Any]:
    """The gate's message and source as written in v1, and what lifts it: the kind that lifts it
    recorded by one of the kind's roles, with the kind's fields as written."""
    spec = v1_gate("sign_contract", gate)
    kind_id, role = LIFTED_BY[gate]
    kind = next(k for k in v1_body()["evidence_kinds"] if k["id"] == kind_id)
    assert role in kind["roles"]

    def field(f: dict[str, Any]) -> dict[str, Any]:
        items = f.get("items")
        return {
            "name": f["name"],
            "title": f["title"],
            "type": f["type"],
            "required": f.get("required", True),
            "choices": f.get("choices"),
            "items": [field(i) for i in items] if items is not None else None,
        }

    fields = [field(f) for f in kind["fields"]]
    return {
        "gate": gate,
        "message": spec["message"].strip(),
        "source": spec["source"],
        "evidence": [
            {
                "kind": kind_id,
                "title": kind["title"],
                "roles": kind["roles"],
                "fields": fields,
                "values": {},
            }
        ],
    }


def without_hints(reasons: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The reasons with each evidence's `hint` (its plain-text summary) checked and left out."""
    out = []
    for r in reasons:
        for e in r["evidence"]:
            assert f"({e['kind']})" in e["hint"], e["hint"]
        out.append(
            {**r, "evidence": [{k: v for k, v in e.items() if k != "hint"} for e in r["evidence"]]}
        )
    return out


@pytest.fixture
def at_signing(db: Database, users: dict[str, User]) -> int:
    """A case that processes personal data and faces citizens, at avtalstecknande (driven there
    through the whole advertised route, on a fixed day)."""
    with frozen("2026-03-02 09:00:00"):
        case_id = start(db, users["bestallare"], personal_data=True, citizen_facing=True)
        drive(db, case_id, "avtalstecknande", users)
    return case_id


def sign(client: TestClient, case_id: int, by: User) -> Any:
    return client.post(
        f"/api/cases/{case_id}/transitions", json={"trigger": "sign_contract"}, headers=by.headers
    )


def record(client: TestClient, case_id: int, kind: str, by: User) -> None:
    response = client.post(
        f"/api/cases/{case_id}/evidence",
        json={"kind": kind, "data": evidence_data(kind)},
        headers=by.headers,
    )
    assert response.status_code == 201, response.text


def test_refusal_lists_every_failing_gate_and_writes_nothing(
    client: TestClient, users: dict[str, User], db: Database, at_signing: int
) -> None:
    before_case, before_counts = case_state(db, at_signing), counts(db)
    assert before_case[0] == "avtalstecknande"

    refused = sign(client, at_signing, users["delegat"])

    body = assert_problem(refused, 409)
    assert body["type"] == "urn:upphandla:problem:transition_refused"
    assert body["trigger"] == "sign_contract"
    assert without_hints(body["reasons"]) == [expected_reason(g) for g in SIGN_GATES]
    assert all(r["message"] and r["source"] for r in body["reasons"])
    assert case_state(db, at_signing) == before_case
    assert counts(db) == before_counts

    # The case view tells the same story before anyone tries.
    case = client.get(f"/api/cases/{at_signing}", headers=users["delegat"].headers).json()
    step = next(s for s in case["next_steps"] if s["trigger"] == "sign_contract")
    assert step["ready"] is False
    assert [r for g in step["gates"] for r in g["reasons"]] == body["reasons"]


def test_refusal_narrows_as_evidence_arrives_then_signing_goes_through(
    client: TestClient, users: dict[str, User], db: Database, at_signing: int
) -> None:
    remaining = list(SIGN_GATES)
    for gate in (
        "implementation_planned",
        "pub_avtal_when_personal_data",
        "accessibility_report_when_citizen_facing",
        "contract_signed_with_mandate",
    ):
        kind, role = LIFTED_BY[gate]
        record(client, at_signing, kind, users[role])
        remaining.remove(gate)
        refused = sign(client, at_signing, users["delegat"])
        assert [r["gate"] for r in assert_problem(refused, 409)["reasons"]] == remaining

    record(client, at_signing, "contract_registered", users["upphandlare"])
    state, version, seq = case_state(db, at_signing)
    before = counts(db)
    signed = sign(client, at_signing, users["delegat"])
    assert signed.status_code == 200, signed.text
    assert signed.json()["to_state"] == "acceptanstest"
    assert all(g["ok"] for g in signed.json()["gates"])
    assert {g["gate"] for g in signed.json()["gates"] if g["applies"]} >= set(SIGN_GATES)
    assert case_state(db, at_signing) == ("acceptanstest", version + 1, seq + 1)
    after = counts(db)
    assert after["audit_events"] == before["audit_events"] + 1
    assert after["outbox"] == before["outbox"] + 1  # the signing is announced; a refusal is not


def test_gates_that_do_not_apply_do_not_block(
    client: TestClient, users: dict[str, User], db: Database
) -> None:
    with frozen("2026-03-02 09:00:00"):
        case_id = start(
            db, users["bestallare"], route="direktupphandling", estimated_value_sek=400_000
        )
        drive(db, case_id, "avtalstecknande", users)
    refused = sign(client, case_id, users["delegat"])
    assert [r["gate"] for r in assert_problem(refused, 409)["reasons"]] == [
        "contract_signed_with_mandate",
        "pub_avtal_when_personal_data",  # the SSA found personal data, though the case did not say
        "implementation_planned",
        "contract_registered",
    ]
    case = client.get(f"/api/cases/{case_id}", headers=users["delegat"].headers).json()
    step = next(s for s in case["next_steps"] if s["trigger"] == "sign_contract")
    applies = {g["gate"]: g["applies"] for g in step["gates"]}
    # A direct award has no standstill; the case does not face citizens.
    assert applies["standstill_ended"] is False
    assert applies["accessibility_report_when_citizen_facing"] is False
    assert applies["direct_award_reported"] is True
    assert all(g["ok"] for g in step["gates"] if not g["applies"])


def test_refused_by_role_or_phase_writes_nothing_either(
    client: TestClient, users: dict[str, User], db: Database, at_signing: int
) -> None:
    before_case, before_counts = case_state(db, at_signing), counts(db)
    by_role = sign(client, at_signing, users["bestallare"])
    assert assert_problem(by_role, 403)["type"].endswith(":role_not_allowed")
    wrong_phase = client.post(
        f"/api/cases/{at_signing}/transitions",
        json={"trigger": "complete_forstudie"},
        headers=users["upphandlare"].headers,
    )
    assert assert_problem(wrong_phase, 409)["type"].endswith(":trigger_not_available")
    assert case_state(db, at_signing) == before_case
    assert counts(db) == before_counts


@pytest.mark.parametrize(("value", "allowed"), [(400_000, True), (3_000_000, False)])
def test_direct_award_only_below_the_threshold__10_7_4(
    value: int, allowed: bool, client: TestClient, users: dict[str, User], db: Database
) -> None:
    """A direct award is allowed only below the threshold (700 000 kr, LOU 19 a kap.); above it,
    it is refused with the threshold and the value counted."""
    attrs = attributes(route="direktupphandling", estimated_value_sek=value)
    created = client.post("/api/cases", json=attrs, headers=users["bestallare"].headers)
    assert created.status_code == 201, created.text
    case_id = created.json()["id"]
    drive(db, case_id, "kravstallning", users)
    for kind, role in (
        ("requirements_done", "upphandlare"),
        ("objektledare_consulted", "objektledare_it"),
        ("it_templates_used", "upphandlare"),
        ("sanctions_declaration", "upphandlare"),
    ):
        record(client, case_id, kind, users[role])
    before = case_state(db, case_id), counts(db)

    awarded = client.post(
        f"/api/cases/{case_id}/transitions",
        json={"trigger": "direct_award"},
        headers=users["upphandlare"].headers,
    )

    if allowed:
        assert awarded.status_code == 200, awarded.text
        assert awarded.json()["to_state"] == "avtalstecknande"
        return
    body = assert_problem(awarded, 409)
    assert [r["gate"] for r in body["reasons"]] == ["direct_award_below_threshold"]
    message = body["reasons"][0]["message"]
    assert "700\u00a0000 kr" in message and "3\u00a0000\u00a0000 kr" in message
    assert (case_state(db, case_id), counts(db)) == before


# -- a refusal says what to do ------------------------------------------------------------------


def test_the_ssa_refusal_names_ssa_approved_who_records_it_and_its_fields__5_2_1(
    client: TestClient, users: dict[str, User], db: Database
) -> None:
    """A new user at the SSA phase of a system: the refusal, and the case view before it, say
    that `ssa_approved` is wanted, that informationssäkerhet records it, and with which fields."""
    with frozen("2026-03-02 09:00:00"):
        case_id = start(db, users["bestallare"])
        drive(db, case_id, "ssa", users)
    ssa = next(k for k in v1_body()["evidence_kinds"] if k["id"] == "ssa_approved")
    refused = client.post(
        f"/api/cases/{case_id}/transitions",
        json={"trigger": "complete_ssa"},
        headers=users["upphandlare"].headers,
    )
    body = assert_problem(refused, 409)
    [reason] = body["reasons"]
    assert (reason["gate"], reason["source"]) == (
        "ssa_required_for_systems",
        v1_gate("complete_ssa", "ssa_required_for_systems")["source"],
    )
    [need] = reason["evidence"]
    assert (need["kind"], need["roles"]) == ("ssa_approved", ["informationssakerhet"])
    assert [
        (f["name"], f["title"], f["type"], f["required"], f["choices"]) for f in need["fields"]
    ] == [
        (f["name"], f["title"], f["type"], f.get("required", True), f.get("choices"))
        for f in ssa["fields"]
    ]
    assert "Informationssäkerhet" in need["hint"]

    case = client.get(f"/api/cases/{case_id}", headers=users["upphandlare"].headers).json()
    step = next(s for s in case["next_steps"] if s["trigger"] == "complete_ssa")
    assert step["roles"] == ["informationssakerhet", "upphandlare"]
    assert [r for g in step["gates"] for r in g["reasons"]] == body["reasons"]
    cancel = next(s for s in case["next_steps"] if s["trigger"] == "cancel")
    assert cancel["roles"] == ["bestallare", "upphandlare", "kategoriledare"]

    # Doing what it says lets the case through.
    recorded = client.post(
        f"/api/cases/{case_id}/evidence",
        json={"kind": need["kind"], "data": evidence_data("ssa_approved")},
        headers=users[need["roles"][0]].headers,
    )
    assert recorded.status_code == 201, recorded.text
    moved = client.post(
        f"/api/cases/{case_id}/transitions",
        json={"trigger": "complete_ssa"},
        headers=users["upphandlare"].headers,
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["to_state"] == "kravstallning"


def test_a_gate_only_time_lifts_offers_no_evidence__lou_20_kap(
    client: TestClient, users: dict[str, User], db: Database
) -> None:
    case_id = case_in(db, users, "tilldelning", before="2026-03-02")
    with frozen("2026-03-02 09:00:00"):
        sent = client.post(
            f"/api/cases/{case_id}/evidence",
            json={
                "kind": "award_decision_sent",
                "data": {"sent_on": "2026-03-02", "electronic": True, "value_sek": 4_000_000},
            },
            headers=users["upphandlare"].headers,
        )
        assert sent.status_code == 201, sent.text
        client.post(
            f"/api/cases/{case_id}/transitions",
            json={"trigger": "send_award_decision"},
            headers=users["upphandlare"].headers,
        )
    assert case_state(db, case_id)[0] == "avtalsparr"
    with frozen("2026-03-03 10:00:00"):
        refused = client.post(
            f"/api/cases/{case_id}/transitions",
            json={"trigger": "end_standstill"},
            headers=users["upphandlare"].headers,
        )
    [reason] = assert_problem(refused, 409)["reasons"]
    assert reason["gate"] == "standstill_ended"
    # Nothing to record makes it end sooner: the decision is sent, a review would extend it.
    assert reason["evidence"] == []
    assert "2026-03-12" in reason["message"]  # the last day: what to wait for


def test_an_unknown_evidence_kind_lists_the_kinds_of_the_phase(
    client: TestClient, users: dict[str, User], db: Database
) -> None:
    with frozen("2026-03-02 09:00:00"):
        case_id = start(db, users["bestallare"])
        drive(db, case_id, "ssa", users)
    before = counts(db)
    unknown = client.post(
        f"/api/cases/{case_id}/evidence",
        json={"kind": "ssa", "data": {}},
        headers=users["informationssakerhet"].headers,
    )
    body = assert_problem(unknown, 404)
    assert body["type"] == "urn:upphandla:problem:unknown_evidence_kind"
    in_phase = [
        k["id"] for k in v1_body()["evidence_kinds"] if "phases" not in k or "ssa" in k["phases"]
    ]
    assert [k["kind"] for k in body["kinds"]] == in_phase
    assert "ssa_approved" in in_phase and "forstudie_done" not in in_phase
    ssa = next(k for k in body["kinds"] if k["kind"] == "ssa_approved")
    assert ssa["roles"] == ["informationssakerhet"] and ssa["fields"]
    assert "ssa_approved" in body["detail"] and "Systemsäkerhetsanalys" in body["detail"]
    assert counts(db) == before
