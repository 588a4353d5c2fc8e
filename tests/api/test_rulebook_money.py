"""The rulebook's money rules, through the API: the direct-award threshold on every value the case
records, what a direct award of IT needs, registration and reporting of direct awards, sanctions
screening, the signatory's mandate against the case's own value, corrected values, recurring
purchases counting those in progress, and amendments that add up. (Similar contracts signed in
the last twelve months: test_rulebook_time.py.) Cases are set up through the use cases; every
check is a request a user would make. Expected amounts are the law's and the plan's: 700 000 kr
(LOU 19 a kap.), 10 % and the EU threshold 2 389 585 kr (LOU 17 kap. 9 §), 50 % per change
(17 kap. 11–12 §§), 100 000 kr (19 a kap. 11 §), 50 000 kr (§ 10.3)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response

from helpers import (
    CHECKLIST_ITEMS,
    User,
    add_user,
    assert_problem,
    attributes,
    case_in,
    case_state,
    contract,
    counts,
    drive,
    ensure_sanctions_list,
    evidence_data,
    execute,
    frozen,
    imported,
    people_of,
    scalar,
    start,
)
from upphandla.states.clock import today
from upphandla.store.db import Database

DIRECT = "direktupphandling"
RUS = "Fiktiv Underleverantör Rus OOO"  # on the shipped sample list
LIST_DATE = "2026-02-27"
# What sign_contract needs besides the signature and the registered contract (the example SSA
# finds personal data: a PUB-avtal).
SIGNING_NEEDS = (("dso", "pub_avtal_signed"), ("bestallare", "implementation_planned"))
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
    # The people of a case of another organisation than the test users' (people_of).
    people: dict[int, dict[str, User]] = field(default_factory=dict)

    def post(self, case_id: int, kind: str, by: str | User, data: Any = None) -> Response:
        body = {"kind": kind, "data": evidence_data(kind) if data is None else data}
        users = self.people.get(case_id, self.users)
        headers = (users[by] if isinstance(by, str) else by).headers
        return self.client.post(f"/api/cases/{case_id}/evidence", json=body, headers=headers)

    def put(self, case_id: int, kind: str, by: str | User, data: Any = None) -> dict[str, Any]:
        response = self.post(case_id, kind, by, data)
        assert response.status_code == 201, response.text
        return dict(response.json())

    def fire(self, case_id: int, trigger: str, by: str) -> Response:
        url, headers = f"/api/cases/{case_id}/transitions", self.users[by].headers
        return self.client.post(url, json={"trigger": trigger}, headers=headers)

    def gates(self, case_id: int, trigger: str) -> dict[str, Any]:
        case = self.client.get(f"/api/cases/{case_id}", headers=self.users["upphandlare"].headers)
        step = next(s for s in case.json()["next_steps"] if s["trigger"] == trigger)
        return {g["gate"]: g for g in step["gates"]}

    def start(self, **attrs: Any) -> int:
        return start(self.db, self.users["bestallare"], **attrs)

    def ready_for_direct_award(self, case_id: int) -> None:
        drive(self.db, case_id, "kravstallning", self.people.get(case_id, self.users))
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
        organisation="socialforvaltningen", mandate=mandate,
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
    assert "Enhetschef" in message and kr(700_000) in message
    # The value is the one the case recorded: the award decision's, 4 000 000 kr.
    assert f"Tilldelat värde {kr(4_000_000)}" in message
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


def test_signature_is_held_to_the_registered_contract_value_not_to_a_typed_one__5_4_5(
    api: Api,
) -> None:
    """Estimated and awarded at 9 000 000 kr, registered by the upphandlare at 12 000 000 kr: a
    förvaltningschef (up to 10 000 000 kr) cannot sign, and cannot say the value is lower."""
    attrs = {"estimated_value_sek": 9_000_000}
    # Started two months ago: the tender period and the standstill made it wait on the way.
    case_id = case_in(api.db, api.users, "avtalstecknande", before=today().isoformat(), **attrs)
    registered = {**evidence_data("contract_registered", attrs), "value_sek": 12_000_000}
    api.put(case_id, "contract_registered", "upphandlare", registered)
    chef = delegat_with(api.db, "forvaltningschef")
    signed = evidence_data("contract_signed", attrs)

    typed = api.post(case_id, "contract_signed", chef, {**signed, "value_sek": 9_000_000})
    assert [e["path"] for e in assert_problem(typed, 422)["errors"]] == ["data.value_sek"]
    reasons = refusal(api.post(case_id, "contract_signed", chef, signed), "evidence_refused")

    assert [r["gate"] for r in reasons] == ["signatory_mandate"]
    assert reasons[0]["message"].endswith(
        f"har mandatet ”Förvaltningschef” som gäller upp till {kr(10_000_000)}; värdet som "
        f"räknas är Avtalets värde {kr(12_000_000)}."
    )
    assert "§ 5.4.5" in reasons[0]["source"]
    # A delegat whose mandate covers the contract value signs, and the case moves on.
    api.put(case_id, "contract_signed", "delegat", signed)
    for role, kind in SIGNING_NEEDS:
        api.put(case_id, kind, role)
    moved = api.fire(case_id, "sign_contract", "delegat")
    assert moved.status_code == 200, moved.text


# -- E. values by step: every value the case records counts -------------------------------------


def documented(value: int, **extra: Any) -> dict[str, Any]:
    return {**evidence_data("direct_award_documentation"), "value_sek": value, **extra}


def registered(value: int, **extra: Any) -> dict[str, Any]:
    attrs = {"route": DIRECT, "estimated_value_sek": 650_000}
    return {**evidence_data("contract_registered", attrs), "value_sek": value, **extra}


def test_direct_award_documented_or_registered_at_twice_the_threshold_is_refused__10_7_4(
    api: Api,
) -> None:
    """Started just below 700 000 kr; neither the documentation nor the contract register may
    then carry about twice that."""
    case_id = api.start(route=DIRECT, estimated_value_sek=650_000)
    api.ready_for_direct_award(case_id)
    before = case_state(api.db, case_id), counts(api.db)

    reasons = refusal(
        api.post(case_id, "direct_award_documentation", "upphandlare", documented(1_400_000)),
        "evidence_refused",
    )

    assert [r["gate"] for r in reasons] == ["direct_award_below_threshold"]
    message = reasons[0]["message"]
    assert f"Tröskelvärdet är {kr(700_000)} (gäller från 2022-02-01)." in message
    assert (
        f"Direktupphandlingens dokumenterade värde {kr(1_400_000)}, Uppskattat värde "
        f"{kr(650_000)}." in message
    )
    assert "§ 10.7.4" in reasons[0]["source"] and "LOU 19 a kap. 1 §" in reasons[0]["source"]
    assert (case_state(api.db, case_id), counts(api.db)) == before

    api.put(case_id, "direct_award_documentation", "upphandlare", documented(650_000))
    moved = api.fire(case_id, "direct_award", "upphandlare")
    assert moved.status_code == 200, moved.text
    reasons = refusal(
        api.post(case_id, "contract_registered", "upphandlare", registered(1_400_000)),
        "evidence_refused",
    )
    assert [r["gate"] for r in reasons] == ["direct_award_below_threshold"]
    assert f"Avtalets värde {kr(1_400_000)}" in reasons[0]["message"]
    assert "Avtalets värde når tröskelvärdet." in reasons[0]["message"]


def test_direct_award_below_the_threshold_at_every_step_is_signed__10_7_4(api: Api) -> None:
    case_id = api.start(route=DIRECT, estimated_value_sek=650_000)
    api.ready_for_direct_award(case_id)
    api.put(case_id, "direct_award_documentation", "upphandlare", documented(690_000))
    assert api.fire(case_id, "direct_award", "upphandlare").status_code == 200
    api.put(case_id, "contract_registered", "upphandlare", registered(699_999))
    api.put(case_id, "direct_award_reported", "upphandlare")
    for role, kind in SIGNING_NEEDS:
        api.put(case_id, kind, role)
    api.put(case_id, "contract_signed", "delegat")

    signed = api.fire(case_id, "sign_contract", "delegat")

    assert signed.status_code == 200, signed.text
    gates = {g["gate"]: g for g in signed.json()["gates"]}
    assert (
        gates["direct_award_below_threshold"]["applies"]
        and gates["direct_award_below_threshold"]["ok"]
    )


@pytest.mark.parametrize(("value", "applies"), [(60_000, True), (40_000, False)])
def test_documented_value_above_50_000_needs_reporting_though_estimated_below__10_3(
    api: Api, value: int, applies: bool
) -> None:
    """Estimated at 40 000 kr: whether the award must be registered and reported follows the
    value the case records, here the documented one."""
    case_id = api.start(route=DIRECT, estimated_value_sek=40_000)
    api.ready_for_direct_award(case_id)
    api.put(case_id, "direct_award_documentation", "upphandlare", documented(value))
    assert api.fire(case_id, "direct_award", "upphandlare").status_code == 200

    gates = api.gates(case_id, "sign_contract")

    for gate in ("contract_registered", "direct_award_reported"):
        assert gates[gate]["applies"] is applies, gate
        assert gates[gate]["ok"] is not applies, gate
        assert "§ 10.3" in gates[gate]["source"]


def test_contract_registered_at_150_000_needs_the_documentation_though_estimated_below__lou_19a_11(
    api: Api,
) -> None:
    """Estimated at 90 000 kr (no duty to document then), registered at 150 000 kr: the duty to
    document a direct award from 100 000 kr follows the registered value."""
    case_id = api.start(route=DIRECT, estimated_value_sek=90_000)
    api.ready_for_direct_award(case_id)
    assert api.fire(case_id, "direct_award", "upphandlare").status_code == 200
    before = counts(api.db)

    refused = api.post(case_id, "contract_registered", "upphandlare", registered(150_000))

    reasons = refusal(refused, "evidence_refused")
    assert [r["gate"] for r in reasons] == ["direct_award_documented_before_registration"]
    assert reasons[0]["source"] == "LOU 19 a kap. 11 §"
    assert counts(api.db) == before
    api.put(case_id, "direct_award_documentation", "upphandlare", documented(150_000))
    api.put(case_id, "contract_registered", "upphandlare", registered(150_000))


# -- F. a corrected value needs a reason ---------------------------------------------------------


def test_a_corrected_contract_value_needs_a_reason_and_keeps_it_in_the_audit__10_4_4(
    api: Api,
) -> None:
    case_id = api.start(route=DIRECT, estimated_value_sek=650_000)
    api.ready_for_direct_award(case_id)
    api.put(case_id, "direct_award_documentation", "upphandlare", documented(650_000))
    assert api.fire(case_id, "direct_award", "upphandlare").status_code == 200
    api.put(case_id, "contract_registered", "upphandlare", registered(600_000))
    before = counts(api.db)

    reasons = refusal(
        api.post(case_id, "contract_registered", "upphandlare", registered(640_000)),
        "evidence_refused",
    )

    assert [r["gate"] for r in reasons] == ["contract_value_correction_explained"]
    assert f"Registrerat värde {kr(600_000)}" in reasons[0]["message"]
    assert f"nytt värde {kr(640_000)}" in reasons[0]["message"]
    assert "§ 10.4.4" in reasons[0]["source"]
    assert counts(api.db) == before
    why = "Prisbilagan räknade inte med supporten år två"
    api.put(
        case_id, "contract_registered", "upphandlare", registered(640_000, correction_reason=why)
    )
    audit = api.client.get(f"/api/cases/{case_id}/audit", headers=api.users["delegat"].headers)
    last = audit.json()["events"][-1]
    assert last["evidence"]["data"]["correction_reason"] == why
    assert last["evidence"]["data"]["value_sek"] == 640_000


# -- G. recurring purchases: what is in progress counts ------------------------------------------


def recurring_purchase(api: Api, title: str, organisation: str) -> int:
    """A 400 000 kr recurring direct award of IT software licences, documented and ready for the
    direct_award trigger."""
    body = {
        **attributes(route=DIRECT, estimated_value_sek=400_000, title=title),
        "organisation": organisation,
        "recurring": True,
    }
    people = people_of(api.db, api.users, organisation)
    created = api.client.post("/api/cases", json=body, headers=people["bestallare"].headers)
    assert created.status_code == 201, created.text
    case_id = int(created.json()["id"])
    api.people[case_id] = people
    api.ready_for_direct_award(case_id)
    api.put(case_id, "direct_award_documentation", "upphandlare", documented(400_000))
    return case_id


def test_two_parallel_recurring_direct_awards_cannot_both_be_signed__10_3_lou_5_kap_11(
    api: Api,
) -> None:
    """Two organisations buy the same kind for 400 000 kr each at the same time: the second sees
    the first in progress, and the first cannot sign while the second is in progress. When one is
    cancelled, the other goes on."""
    first = recurring_purchase(
        api, "Licenser för bokning, kultur", "kultur_och_fritidsforvaltningen"
    )
    assert api.fire(first, "direct_award", "upphandlare").status_code == 200
    second = recurring_purchase(
        api, "Licenser för bokning, skola", "barn_och_utbildningsforvaltningen"
    )
    before = case_state(api.db, second), counts(api.db)

    reasons = refusal(api.fire(second, "direct_award", "upphandlare"))

    assert [r["gate"] for r in reasons] == ["direct_award_below_threshold"]
    message = reasons[0]["message"]
    assert f"värdet som räknas {kr(800_000)}" in message and kr(700_000) in message
    assert (
        # Another organisation's case counts (§ 10.3) and is named by its number and
        # organisation; what it is about is that organisation's.
        f"ärende {first} (Kultur- och fritidsförvaltningen, "
        f"Direktupphandlingens dokumenterade värde {kr(400_000)}, pågår, inte tecknat)" in message
    )
    assert "LOU 19 a kap. 1 §, 5 kap. 11 §" in reasons[0]["source"]
    assert (case_state(api.db, second), counts(api.db)) == before

    for role, kind in (*SIGNING_NEEDS, ("upphandlare", "direct_award_reported")):
        api.put(first, kind, role)
    api.put(first, "contract_registered", "upphandlare", registered(400_000))
    api.put(first, "contract_signed", "delegat")
    reasons = refusal(api.fire(first, "sign_contract", "delegat"))
    assert [r["gate"] for r in reasons] == ["direct_award_below_threshold"]
    assert f"ärende {second} (Barn- och utbildningsförvaltningen, " in reasons[0]["message"]
    assert "Licenser för bokning, skola" not in reasons[0]["message"]

    cancel = {"trigger": "cancel", "comment": "Köps samordnat i det första ärendet"}
    url = f"/api/cases/{second}/transitions"
    assert (
        api.client.post(url, json=cancel, headers=api.users["upphandlare"].headers).status_code
        == 200
    )
    signed = api.fire(first, "sign_contract", "delegat")
    assert signed.status_code == 200, signed.text


def test_a_recurring_purchase_alone_below_the_threshold_is_awarded__10_3_lou_5_kap_11(
    api: Api,
) -> None:
    case_id = recurring_purchase(api, "Licenser för bokning", "kultur_och_fritidsforvaltningen")
    moved = api.fire(case_id, "direct_award", "upphandlare")
    assert moved.status_code == 200, moved.text


# -- H. amendments add up -------------------------------------------------------------------------

EU_THRESHOLD = 2_389_585


def amendment(value: int, ground: str = "ingen", **extra: Any) -> dict[str, Any]:
    return {
        "description": "Ny integrationsmodul",
        "value_sek": value,
        "legal_ground": ground,
        **extra,
    }


def in_forvaltning(api: Api, value: int = 10_000_000) -> int:
    return imported(api.db, api.users["upphandlare"], contract(value_sek=value))


def test_successive_amendments_under_ten_percent_each_are_refused_when_they_add_up__lou_17_kap_9(
    api: Api,
) -> None:
    """Three changes of 400 000, 400 000 and 300 000 kr to a 10 000 000 kr contract: each under
    10 %, together 1 100 000 kr, 11 %."""
    case_id = in_forvaltning(api)
    api.put(case_id, "amendment", "upphandlare", amendment(400_000))
    api.put(case_id, "amendment", "upphandlare", amendment(400_000))
    before = counts(api.db)

    reasons = refusal(
        api.post(case_id, "amendment", "upphandlare", amendment(300_000)), "evidence_refused"
    )

    assert [r["gate"] for r in reasons] == ["amendment_not_substantial"]
    message = reasons[0]["message"]
    assert (
        f"netto {kr(1_100_000)} (3 ändringar: {kr(400_000)}, {kr(400_000)}, {kr(300_000)})"
        in message
    )
    assert f"minst 10 % av avtalets ursprungliga värde (Avtalets värde {kr(10_000_000)})" in message
    assert "LOU 17 kap. 9–14 §§" in reasons[0]["source"]
    assert counts(api.db) == before
    # What is left below 10 % in total may still be changed.
    api.put(case_id, "amendment", "upphandlare", amendment(199_999))


def test_another_ground_needs_its_justification_and_keeps_its_cap_per_change__lou_17_kap_12(
    api: Api,
) -> None:
    case_id = in_forvaltning(api)
    unexplained = api.post(case_id, "amendment", "upphandlare", amendment(1_200_000, "17_kap_12"))
    reasons = refusal(unexplained, "evidence_refused")
    assert [(r["gate"], r["source"]) for r in reasons] == [
        ("amendment_not_substantial", "§ 5.4.5 fotnot 2; LOU 17 kap. 9–14 §§")
    ]
    assert "stöds på LOU 17 kap. 12 § men saknar motivering" in reasons[0]["message"]

    why = {"legal_ground_reason": "Ny lag kräver loggning som inte kunde förutses"}
    over = api.post(case_id, "amendment", "upphandlare", amendment(5_000_001, "17_kap_12", **why))
    reasons = refusal(over, "evidence_refused")
    assert (
        f"Ändringen ({kr(5_000_001)}) är mer än 50 % av avtalets ursprungliga värde"
        in reasons[0]["message"]
    )
    assert "för varje ändring för sig" in reasons[0]["message"]

    # Justified and at most half of the original value: allowed, and each change by itself.
    api.put(case_id, "amendment", "upphandlare", amendment(5_000_000, "17_kap_12", **why))
    api.put(
        case_id,
        "amendment",
        "upphandlare",
        amendment(1_200_000, "17_kap_10", legal_ground_reason="Option i punkt 4"),
    )


def test_an_amendment_at_the_eu_threshold_says_the_amount_is_from_an_ended_period__lou_17_kap_9(
    api: Api,
) -> None:
    """In late 2026 the newest EU amount entered is the 2024–2025 one: the check decides on it
    and says so."""
    case_id = in_forvaltning(api, 45_000_000)
    with frozen("2026-11-24 10:00:00"):
        reasons = refusal(
            api.post(case_id, "amendment", "upphandlare", amendment(EU_THRESHOLD)),
            "evidence_refused",
        )
        assert (
            f"minst EU:s tröskelvärde {kr(EU_THRESHOLD)} (gäller 2024-01-01–2025-12-31)"
            in reasons[0]["message"]
        )
        assert "gällde till och med 2025-12-31" in reasons[0]["message"]
        api.put(case_id, "amendment", "upphandlare", amendment(EU_THRESHOLD - 1))


def test_an_amendment_is_decided_by_the_upphandlare_and_signed_within_the_contract_mandate__5_4_5(
    api: Api,
) -> None:
    """The upphandlingssektion decides the change; a delegat signs it for the contract as changed:
    an enhetschef (700 000 kr) may sign a 10 000 kr change of a 640 000 kr contract, not a further
    one that takes it to 700 001 kr."""
    case_id = in_forvaltning(api, 640_000)
    enhetschef = delegat_with(api.db, "enhetschef")
    assert_problem(api.post(case_id, "amendment", enhetschef, amendment(10_000)), 403)
    signature = {"signed_on": "2026-11-24"}
    reasons = refusal(
        api.post(case_id, "amendment_signed", enhetschef, signature), "evidence_refused"
    )
    assert [r["gate"] for r in reasons] == ["amendment_decided"]

    api.put(case_id, "amendment", "upphandlare", amendment(10_000))
    signed = api.put(case_id, "amendment_signed", enhetschef, signature)
    assert signed["data"]["mandate_id"] == "enhetschef"

    api.put(case_id, "amendment", "upphandlare", amendment(50_001))
    before = counts(api.db)
    reasons = refusal(
        api.post(case_id, "amendment_signed", enhetschef, signature), "evidence_refused"
    )
    assert [(r["gate"], r["source"]) for r in reasons] == [
        ("amendment_signatory_mandate", "§ 5.4.5 fotnot 2")
    ]
    assert (
        f"värdet som räknas är Avtalets värde med ändringar {kr(700_001)} (Avtalets värde "
        f"{kr(640_000)} före första ändringen och 2 ändringar på netto {kr(60_001)})"
        in reasons[0]["message"]
    )
    assert counts(api.db) == before
    api.put(case_id, "amendment_signed", "delegat", signature)
