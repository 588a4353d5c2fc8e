"""The rulebook's money rules, through the API: the direct-award threshold, what a direct award of
IT needs, registration and reporting of direct awards, sanctions screening, and the signatory's
mandate. (Similar contracts of the last twelve months: test_rulebook_time.py.) Cases are set up
through the use cases; every check is a request a user would make."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response

from helpers import (
    CHECKLIST_ITEMS,
    User,
    add_user,
    assert_problem,
    case_in,
    case_state,
    counts,
    drive,
    ensure_sanctions_list,
    evidence_data,
    execute,
    frozen,
    scalar,
    start,
)
from upphandla.states.clock import today
from upphandla.store.db import Database

DIRECT = "direktupphandling"
RUS = "Fiktiv Underleverantör Rus OOO"  # on the shipped sample list
LIST_DATE = "2026-02-27"
# What direct_award needs besides the value (the SSA is recorded on the way through ssa).
DIRECT_NEEDS = (
    ("objektledare_it", "objektledare_consulted"),
    ("upphandlare", "it_templates_used"),
    ("upphandlare", "requirements_done"),
    ("upphandlare", "sanctions_declaration"),
)


def kr(amount: int) -> str:
    """An amount as the reasons write it: thousands separated by a no-break space."""
    return f"{amount:,}".replace(",", "\u00a0") + " kr"


@dataclass
class Api:
    """Requests as the users make them; `by` is a role of the `users` fixture or a User."""

    client: TestClient
    db: Database
    users: dict[str, User]

    def post(self, case_id: int, kind: str, by: str | User, data: Any = None) -> Response:
        body = {"kind": kind, "data": evidence_data(kind) if data is None else data}
        headers = (self.users[by] if isinstance(by, str) else by).headers
        return self.client.post(f"/api/cases/{case_id}/evidence", json=body, headers=headers)

    def put(self, case_id: int, kind: str, by: str | User, data: Any = None) -> dict[str, Any]:
        response = self.post(case_id, kind, by, data)
        assert response.status_code == 201, response.text
        return dict(response.json())

    def fire(self, case_id: int, trigger: str, by: str) -> Response:
        url, headers = f"/api/cases/{case_id}/transitions", self.users[by].headers
        return self.client.post(url, json={"trigger": trigger}, headers=headers)

    def gates(self, case_id: int, trigger: str) -> dict[str, Any]:
        case = self.client.get(f"/api/cases/{case_id}", headers=self.users["delegat"].headers)
        step = next(s for s in case.json()["next_steps"] if s["trigger"] == trigger)
        return {g["gate"]: g for g in step["gates"]}

    def start(self, **attrs: Any) -> int:
        return start(self.db, self.users["bestallare"], **attrs)

    def ready_for_direct_award(self, case_id: int) -> None:
        drive(self.db, case_id, "kravstallning", self.users)
        for role, kind in DIRECT_NEEDS:
            self.put(case_id, kind, role)

    def awarded_directly(self, **attrs: Any) -> int:
        """A direct award in avtalstecknande, with nothing recorded but what direct_award needs."""
        case_id = self.start(route=DIRECT, **attrs)
        self.ready_for_direct_award(case_id)
        moved = self.fire(case_id, "direct_award", "upphandlare")
        assert moved.status_code == 200, moved.text
        return case_id


@pytest.fixture
def api(client: TestClient, db: Database, users: dict[str, User]) -> Api:
    return Api(client, db, users)


def refusal(response: Response, problem: str = "transition_refused") -> list[dict[str, str]]:
    body = assert_problem(response, 409)
    assert body["type"] == f"urn:upphandla:problem:{problem}"
    return list(body["reasons"])


def declaration(*others: tuple[str, int, bool]) -> dict[str, Any]:
    """The winning supplier (100 %, declared) and other parties as (name, share %, declared)."""
    parties = evidence_data("sanctions_declaration")["parties"]
    keys = ("name", "share_percent", "declaration")
    parties += [
        {**dict(zip(keys, other, strict=True)), "relation": "underleverantor"} for other in others
    ]
    return {"parties": parties}


def load_sample_list(db: Database) -> None:
    with frozen(f"{LIST_DATE} 12:00:00"):  # the list is dated the day it is loaded
        ensure_sanctions_list(db)


# -- A. direct awards ---------------------------------------------------------------------------


def test_direct_award_of_800_000_is_refused__10_7_4(api: Api) -> None:
    case_id = api.start(route=DIRECT, estimated_value_sek=800_000)
    api.ready_for_direct_award(case_id)
    before = case_state(api.db, case_id), counts(api.db)

    reasons = refusal(api.fire(case_id, "direct_award", "upphandlare"))

    # Every other prerequisite is recorded: the threshold alone stops it.
    assert [r["gate"] for r in reasons] == ["direct_award_below_threshold"]
    assert kr(700_000) in reasons[0]["message"] and kr(800_000) in reasons[0]["message"]
    assert "§ 10.7.4" in reasons[0]["source"] and "LOU 19 a kap." in reasons[0]["source"]
    assert (case_state(api.db, case_id), counts(api.db)) == before


@pytest.mark.parametrize(("value", "status"), [(700_000, 409), (699_999, 200)])
def test_direct_award_must_stay_below_700_000__10_7_4(api: Api, value: int, status: int) -> None:
    case_id = api.start(route=DIRECT, estimated_value_sek=value)
    api.ready_for_direct_award(case_id)
    response = api.fire(case_id, "direct_award", "upphandlare")
    assert response.status_code == status, response.text


def test_software_direct_award_needs_ssa_and_objektledare__10_7_4_9_2_7(api: Api) -> None:
    case_id = api.start(
        route=DIRECT, estimated_value_sek=600_000, subcategory="IT-programvara och licenser"
    )
    drive(api.db, case_id, "ssa", api.users)

    reasons = refusal(api.fire(case_id, "complete_ssa", "informationssakerhet"))
    assert [r["gate"] for r in reasons] == ["ssa_required_for_systems"]
    assert "§ 5.2.1" in reasons[0]["source"] and "§ 10.7.4" in reasons[0]["source"]
    assert case_state(api.db, case_id)[0] == "ssa"
    api.put(case_id, "ssa_approved", "informationssakerhet")
    assert api.fire(case_id, "complete_ssa", "informationssakerhet").status_code == 200

    for role, kind in DIRECT_NEEDS[1:]:
        api.put(case_id, kind, role)
    reasons = refusal(api.fire(case_id, "direct_award", "upphandlare"))
    assert [r["gate"] for r in reasons] == ["direct_award_objektledare_consulted"]
    assert "§ 9.2.7" in reasons[0]["source"]
    # Only objektledare IT can say that objektledare IT was consulted.
    assert_problem(api.post(case_id, "objektledare_consulted", "upphandlare"), 403)
    api.put(case_id, "objektledare_consulted", "objektledare_it")

    moved = api.fire(case_id, "direct_award", "upphandlare")
    assert moved.status_code == 200, moved.text
    assert moved.json()["to_state"] == "avtalstecknande"
    results = {g["gate"]: g for g in moved.json()["gates"]}
    for gate in ("direct_award_ssa", "direct_award_objektledare_consulted"):
        assert results[gate]["applies"] and results[gate]["ok"]


@pytest.mark.parametrize(("value", "applies"), [(60_000, True), (40_000, False)])
def test_direct_award_above_50_000_is_registered_and_reported__10_3(
    api: Api, value: int, applies: bool
) -> None:
    case_id = api.awarded_directly(estimated_value_sek=value)

    gates = api.gates(case_id, "sign_contract")
    for gate in ("contract_registered", "direct_award_reported"):
        assert gates[gate]["applies"] is applies, gate
        assert gates[gate]["ok"] is not applies, gate
        assert bool(gates[gate]["reasons"]) is applies, gate
        assert "§ 10.3" in gates[gate]["source"]
    if applies:
        api.put(case_id, "direct_award_reported", "bestallare")
        registered = evidence_data("contract_registered", {"estimated_value_sek": value})
        api.put(case_id, "contract_registered", "upphandlare", registered)
        gates = api.gates(case_id, "sign_contract")
        assert gates["contract_registered"]["ok"] and gates["direct_award_reported"]["ok"]


def test_direct_award_of_150_000_is_documented_before_registration__lou_19a_11(api: Api) -> None:
    attrs = {"estimated_value_sek": 150_000}
    case_id = api.awarded_directly(**attrs)
    registered = evidence_data("contract_registered", attrs)
    before = case_state(api.db, case_id), counts(api.db)

    refused = api.post(case_id, "contract_registered", "upphandlare", registered)

    reasons = refusal(refused, "evidence_refused")
    assert refused.json()["kind"] == "contract_registered"
    assert [r["gate"] for r in reasons] == ["direct_award_documented_before_registration"]
    assert "LOU 19 a kap. 11 §" in reasons[0]["source"]  # the duty to document
    assert (case_state(api.db, case_id), counts(api.db)) == before
    documented = evidence_data("direct_award_documentation", attrs)
    api.put(case_id, "direct_award_documentation", "upphandlare", documented)
    api.put(case_id, "contract_registered", "upphandlare", registered)


# -- C. sanctions -------------------------------------------------------------------------------


def at_award_decision(api: Api) -> int:
    load_sample_list(api.db)
    # Started two months ago: the tender period made it wait on the way.
    case_id = case_in(api.db, api.users, "tilldelning", before=today().isoformat())
    api.put(case_id, "award_decision_sent", "upphandlare")
    return case_id


def test_sanctioned_subcontractor_above_10_percent_blocks_the_award__10_11(api: Api) -> None:
    case_id = at_award_decision(api)
    api.put(case_id, "sanctions_declaration", "upphandlare", declaration((RUS, 12, True)))

    reasons = refusal(api.fire(case_id, "send_award_decision", "upphandlare"))

    assert [r["gate"] for r in reasons] == ["sanctions_check"]
    assert RUS in reasons[0]["message"] and LIST_DATE in reasons[0]["message"]
    assert "§ 10.11" in reasons[0]["source"] and "833/2014 art. 5k" in reasons[0]["source"]
    assert case_state(api.db, case_id)[0] == "tilldelning"
    api.put(case_id, "sanctions_declaration", "upphandlare", declaration((RUS, 8, True)))
    moved = api.fire(case_id, "send_award_decision", "upphandlare")
    assert moved.status_code == 200, moved.text


def test_case_view_screens_against_the_loaded_list_like_the_transition__10_11(api: Api) -> None:
    case_id = at_award_decision(api)
    api.put(case_id, "sanctions_declaration", "upphandlare", declaration((RUS, 8, True)))

    shown = api.gates(case_id, "send_award_decision")["sanctions_check"]

    assert (shown["ok"], shown["reasons"]) == (True, [])
    assert api.fire(case_id, "send_award_decision", "upphandlare").status_code == 200


def test_party_above_10_percent_without_declaration_blocks_the_award__10_11(api: Api) -> None:
    case_id, party = at_award_decision(api), "Underleverantören i Norden AB"
    api.put(case_id, "sanctions_declaration", "upphandlare", declaration((party, 12, False)))

    reasons = refusal(api.fire(case_id, "send_award_decision", "upphandlare"))

    assert [r["gate"] for r in reasons] == ["sanctions_check"]
    assert party in reasons[0]["message"]
    api.put(case_id, "sanctions_declaration", "upphandlare", declaration((party, 8, False)))
    assert api.fire(case_id, "send_award_decision", "upphandlare").status_code == 200


def test_without_a_sanctions_list_the_award_is_blocked__10_11(api: Api) -> None:
    case_id = at_award_decision(api)
    execute(api.db, "DELETE FROM sanctions_entries")
    execute(api.db, "DELETE FROM sanctions_lists")

    reasons = refusal(api.fire(case_id, "send_award_decision", "upphandlare"))

    assert [r["gate"] for r in reasons] == ["sanctions_check"]
    assert "Ingen sanktionslista är inläst" in reasons[0]["message"]


def test_call_off_is_screened_the_same_way__10_11(api: Api) -> None:
    load_sample_list(api.db)
    case_id = api.start(route="avrop")
    drive(api.db, case_id, "kravstallning", api.users)
    api.put(case_id, "requirements_done", "upphandlare")
    for item in CHECKLIST_ITEMS:
        included = {"item": item, "reference": f"Bilaga {item}"}
        api.put(case_id, "requirement_included", "upphandlare", included)
    api.put(case_id, "sanctions_declaration", "upphandlare", declaration((RUS, 12, True)))

    reasons = refusal(api.fire(case_id, "call_off", "upphandlare"))

    assert [r["gate"] for r in reasons] == ["sanctions_check"]
    assert RUS in reasons[0]["message"] and LIST_DATE in reasons[0]["message"]
    api.put(case_id, "sanctions_declaration", "upphandlare", declaration((RUS, 8, True)))
    moved = api.fire(case_id, "call_off", "upphandlare")
    assert moved.status_code == 200, moved.text


# -- D. delegation ------------------------------------------------------------------------------


def delegat_with(db: Database, mandate: str) -> User:
    return add_user(
        db, name=f"Delegat {mandate}", email=f"{mandate}@example.se", role="delegat",
        organisation="Testkommunen", mandate=mandate,
    )  # fmt: skip


def test_signatory_mandate_must_cover_the_contract_value__5_4_5(api: Api) -> None:
    # Started two months ago: the tender period and the standstill made it wait on the way.
    attrs = {"estimated_value_sek": 4_000_000}
    case_id = case_in(api.db, api.users, "avtalstecknande", before=today().isoformat(), **attrs)
    signed = evidence_data("contract_signed", attrs)
    enhetschef = delegat_with(api.db, "enhetschef")  # up to 700 000 kr
    before = case_state(api.db, case_id), counts(api.db)

    refused = api.post(case_id, "contract_signed", enhetschef, signed)

    reasons = refusal(refused, "evidence_refused")
    assert [r["gate"] for r in reasons] == ["signatory_mandate"]
    message = reasons[0]["message"]
    assert "Enhetschef" in message and kr(700_000) in message and kr(4_000_000) in message
    assert "§ 5.4.5" in reasons[0]["source"]
    assert (case_state(api.db, case_id), counts(api.db)) == before

    mandate = {"mandate_id": "kommundirektor", "mandate_title": "Kommundirektör"}
    expected = {**signed, **mandate, "mandate_max_sek": 50_000_000}
    assert api.put(case_id, "contract_signed", "delegat", signed)["data"] == expected
    sql = "SELECT data FROM evidence WHERE case_id = :c AND kind = 'contract_signed'"
    stored = scalar(api.db, sql, c=case_id)
    assert (json.loads(stored) if isinstance(stored, str) else stored) == expected
    audit = api.client.get(f"/api/cases/{case_id}/audit", headers=api.users["delegat"].headers)
    event = audit.json()["events"][-1]
    assert event["action"] == "evidence_recorded"
    assert event["evidence"] == {"kind": "contract_signed", "data": expected}
