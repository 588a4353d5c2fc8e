"""The rulebook's rules of time, through the API, on a frozen clock: the avtalsspärr after an award
decision (10 days sent electronically, 15 otherwise, to the next working day under lag 1930:173),
its extension by an överprövning, its absence for a direct award, and the twelve months in which
similar contracts count towards a recurring direct award. Cases are set up through the use cases;
every check is a request a user would make."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response

from helpers import (
    SUPPLIER,
    User,
    assert_problem,
    attributes,
    case_state,
    counts,
    drive,
    evidence_data,
    frozen,
    start,
)
from upphandla.store.db import Database

DIRECT = "direktupphandling"
# What sign_contract needs besides the standstill and the signature (the SSA found personal
# data: a PUB-avtal).
PREPARATIONS = (
    ("dso", "pub_avtal_signed"),
    ("bestallare", "implementation_planned"),
    ("upphandlare", "contract_registered"),
)
BY = {"sign_contract": "delegat"}  # the other triggers here are the upphandlare's
DEST = {"sign_contract": "acceptanstest", "end_standstill": "avtalstecknande"}


def kr(amount: int) -> str:
    """An amount as the reasons write it: thousands separated by a no-break space."""
    return f"{amount:,}".replace(",", "\u00a0") + " kr"


@dataclass
class Api:
    """Requests as the users make them, each by a role of the `users` fixture."""

    client: TestClient
    db: Database
    users: dict[str, User]

    def post(self, case_id: int, kind: str, by: str, data: Any = None) -> Response:
        body = {"kind": kind, "data": evidence_data(kind) if data is None else data}
        url, headers = f"/api/cases/{case_id}/evidence", self.users[by].headers
        return self.client.post(url, json=body, headers=headers)

    def put(self, case_id: int, kind: str, by: str, data: Any = None) -> None:
        response = self.post(case_id, kind, by, data)
        assert response.status_code == 201, response.text

    def fire(self, case_id: int, trigger: str) -> Response:
        url = f"/api/cases/{case_id}/transitions"
        headers = self.users[BY.get(trigger, "upphandlare")].headers
        return self.client.post(url, json={"trigger": trigger}, headers=headers)

    def start(self, **attrs: Any) -> int:
        return start(self.db, self.users["bestallare"], **attrs)

    def prepare_signing(self, case_id: int, attrs: dict[str, Any] | None = None) -> None:
        for role, kind in PREPARATIONS:
            self.put(case_id, kind, role, evidence_data(kind, attrs))

    def sign(self, case_id: int, attrs: dict[str, Any] | None = None) -> Response:
        """The delegat records the signature, then fires sign_contract."""
        self.put(case_id, "contract_signed", "delegat", evidence_data("contract_signed", attrs))
        return self.fire(case_id, "sign_contract")


@pytest.fixture
def api(client: TestClient, db: Database, users: dict[str, User]) -> Api:
    return Api(client, db, users)


def refusal(response: Response, problem: str = "transition_refused") -> list[dict[str, str]]:
    body = assert_problem(response, 409)
    assert body["type"] == f"urn:upphandla:problem:{problem}"
    return list(body["reasons"])


def standstill_reason(response: Response, problem: str = "transition_refused") -> str:
    """The message of the standstill's reason in a refusal; the only other reason allowed is that
    the contract is not signed yet (a signature cannot be recorded during the standstill)."""
    by_gate = {r["gate"]: r for r in refusal(response, problem)}
    assert set(by_gate) - {"contract_signed_with_mandate"} == {"standstill_ended"}
    source = by_gate["standstill_ended"]["source"]
    assert "LOU 20 kap." in source and "1930:173" in source
    return by_gate["standstill_ended"]["message"]


def in_standstill(api: Api, sent_on: str, electronic: bool) -> int:
    """An advertised case whose award decision was sent on `sent_on`, now in avtalsspärr."""
    with frozen(f"{sent_on} 09:00:00"):
        case_id = api.start()
        drive(api.db, case_id, "tilldelning", api.users)
        sent = {"sent_on": sent_on, "electronic": electronic, "value_sek": 4_000_000}
        api.put(case_id, "award_decision_sent", "upphandlare", sent)
        moved = api.fire(case_id, "send_award_decision")
        assert moved.status_code == 200, moved.text
        assert moved.json()["to_state"] == "avtalsparr"
    return case_id


# -- B. the legal calendar and the standstill ----------------------------------------------------


@pytest.mark.parametrize("trigger", ["sign_contract", "end_standstill"])
@pytest.mark.parametrize(
    ("sent_on", "electronic", "last_day", "day_after"),
    [
        # 10 days end on nyårsafton; nyårsdagen and a weekend follow.
        pytest.param("2026-12-21", True, "2027-01-04", "2027-01-05", id="electronic"),
        # 15 days end on midsommardagen; a Sunday follows.
        pytest.param("2026-06-05", False, "2026-06-22", "2026-06-23", id="post"),
    ],
)
def test_standstill_runs_to_the_next_working_day__lou_20_kap_1930_173(
    api: Api, trigger: str, sent_on: str, electronic: bool, last_day: str, day_after: str
) -> None:
    case_id = in_standstill(api, sent_on, electronic)
    # Late evening of the last day in Stockholm (21:30 UTC) is still the last day.
    with frozen(f"{last_day} 21:30:00"):
        api.prepare_signing(case_id)
        before = case_state(api.db, case_id), counts(api.db)
        signature = api.post(case_id, "contract_signed", "delegat")
        assert last_day in standstill_reason(signature, "evidence_refused")
        assert last_day in standstill_reason(api.fire(case_id, trigger))
        assert (case_state(api.db, case_id), counts(api.db)) == before
    with frozen(f"{day_after} 07:00:00"):
        moved = api.sign(case_id) if trigger == "sign_contract" else api.fire(case_id, trigger)
        assert moved.status_code == 200, moved.text
        assert moved.json()["to_state"] == DEST[trigger]


def test_review_keeps_signing_refused_until_10_days_after_the_court__10_8_8_1(api: Api) -> None:
    case_id = in_standstill(api, "2026-12-21", True)  # would end after 2027-01-04
    with frozen("2026-12-30 10:00:00"):
        review = {"filed_on": "2026-12-30", "court": "Förvaltningsrätten i Stockholm, mål 1-27"}
        api.put(case_id, "review_filed", "upphandlare", review)
    with frozen("2027-01-05 10:00:00"):
        api.prepare_signing(case_id)
        signature = api.post(case_id, "contract_signed", "delegat")
        assert "2026-12-30" in standstill_reason(signature, "evidence_refused")
        assert "2026-12-30" in standstill_reason(api.fire(case_id, "sign_contract"))
        interim = {"supplier": SUPPLIER, "until": "2027-06-30"}
        api.put(case_id, "interim_agreement", "delegat", interim)
        standstill_reason(api.fire(case_id, "end_standstill"))
    with frozen("2027-03-18 10:00:00"):  # months later, still no decision
        standstill_reason(api.fire(case_id, "sign_contract"))
    with frozen("2027-03-19 10:00:00"):
        decided = {"decided_on": "2027-03-19", "outcome": "Ansökan avslås"}
        api.put(case_id, "court_decided", "upphandlare", decided)
        # 10 days end on annandag påsk: the last day is the Tuesday after.
        assert "2027-03-30" in standstill_reason(api.fire(case_id, "end_standstill"))
    with frozen("2027-03-30 10:00:00"):
        signature = api.post(case_id, "contract_signed", "delegat")
        assert "2027-03-30" in standstill_reason(signature, "evidence_refused")
        assert "2027-03-30" in standstill_reason(api.fire(case_id, "sign_contract"))
    with frozen("2027-03-31 10:00:00"):
        signed = api.sign(case_id)
        assert signed.status_code == 200, signed.text
        assert case_state(api.db, case_id)[0] == "acceptanstest"


@pytest.mark.parametrize(("filed_on", "extends"), [("2027-01-04", True), ("2027-01-05", False)])
def test_review_extends_only_if_filed_within_the_standstill__10_8_8_1(
    api: Api, filed_on: str, extends: bool
) -> None:
    case_id = in_standstill(api, "2026-12-21", True)  # last day 2027-01-04
    with frozen(f"{filed_on} 10:00:00"):
        review = {"filed_on": filed_on, "court": "Förvaltningsrätten i Stockholm, mål 2-27"}
        api.put(case_id, "review_filed", "upphandlare", review)
    with frozen("2027-01-05 10:00:00"):
        api.prepare_signing(case_id)
        if extends:
            assert filed_on in standstill_reason(api.fire(case_id, "end_standstill"))
            signature = api.post(case_id, "contract_signed", "delegat")
            assert filed_on in standstill_reason(signature, "evidence_refused")
        else:
            signed = api.sign(case_id)
            assert signed.status_code == 200, signed.text


def test_direct_award_has_no_standstill__lou_20_kap(api: Api) -> None:
    attrs = {"estimated_value_sek": 400_000}
    with frozen("2026-03-02 09:00:00"):
        case_id = api.start(route=DIRECT, **attrs)
        drive(api.db, case_id, "avtalstecknande", api.users)
        case = api.client.get(f"/api/cases/{case_id}", headers=api.users["delegat"].headers)
        step = next(s for s in case.json()["next_steps"] if s["trigger"] == "sign_contract")
        standstill = next(g for g in step["gates"] if g["gate"] == "standstill_ended")
        assert (standstill["applies"], standstill["ok"], standstill["reasons"]) == (False, True, [])

        api.prepare_signing(case_id, attrs)
        signed = api.sign(case_id, attrs)  # no award decision was ever sent
        assert signed.status_code == 200, signed.text
        gates = {g["gate"]: g for g in signed.json()["gates"]}
        assert gates["standstill_ended"]["applies"] is False
    case = api.client.get(f"/api/cases/{case_id}", headers=api.users["delegat"].headers)
    assert "award_decision_sent" not in {e["kind"] for e in case.json()["evidence"]}


# -- A.4 the twelve months of similar contracts ------------------------------------------------

EARLIER_TITLE = "Licenser för bibliotekens utlåningssystem"


def earlier_direct_award(api: Api, signed_on: str) -> int:
    """A 400 000 kr direct award by another organisation, signed on `signed_on`."""
    attrs = {"estimated_value_sek": 400_000}
    case_id = api.start(
        route=DIRECT, title=EARLIER_TITLE, organisation="Kulturförvaltningen", **attrs
    )
    drive(api.db, case_id, "avtalstecknande", api.users)
    for role, kind in PREPARATIONS:
        api.put(case_id, kind, role, evidence_data(kind, attrs))
    signed = {**evidence_data("contract_signed", attrs), "signed_on": signed_on}
    api.put(case_id, "contract_signed", "delegat", signed)
    assert api.fire(case_id, "sign_contract").status_code == 200
    return case_id


def new_purchase(api: Api, *, recurring: bool) -> int:
    """A 400 000 kr direct award of the same subcategory, started through the API and ready for
    the direct_award trigger but for the threshold."""
    body = {**attributes(route=DIRECT, estimated_value_sek=400_000), "recurring": recurring}
    created = api.client.post("/api/cases", json=body, headers=api.users["bestallare"].headers)
    assert created.status_code == 201, created.text
    assert created.json()["attributes"]["recurring"] is recurring
    case_id = int(created.json()["id"])
    drive(api.db, case_id, "kravstallning", api.users)
    api.put(case_id, "objektledare_consulted", "objektledare_it")
    for kind in ("it_templates_used", "requirements_done", "sanctions_declaration"):
        api.put(case_id, kind, "upphandlare")
    return case_id


def test_recurring_purchase_counts_similar_contract_of_four_months_ago__10_7_4(api: Api) -> None:
    with frozen("2026-11-24 09:00:00"):
        earlier = earlier_direct_award(api, "2026-07-24")
        case_id = new_purchase(api, recurring=True)
        before = case_state(api.db, case_id), counts(api.db)

        reasons = refusal(api.fire(case_id, "direct_award"))

        assert [r["gate"] for r in reasons] == ["direct_award_below_threshold"]
        message = reasons[0]["message"]
        assert f"ärende {earlier}" in message and EARLIER_TITLE in message
        assert kr(800_000) in message and kr(700_000) in message
        assert (case_state(api.db, case_id), counts(api.db)) == before

        # A purchase that is not recurring counts only its own value.
        other = new_purchase(api, recurring=False)
        moved = api.fire(other, "direct_award")
        assert moved.status_code == 200, moved.text


def test_similar_contract_of_thirteen_months_ago_is_not_counted__10_7_4(api: Api) -> None:
    with frozen("2026-11-24 09:00:00"):
        earlier_direct_award(api, "2025-10-24")
        case_id = new_purchase(api, recurring=True)
        moved = api.fire(case_id, "direct_award")
        assert moved.status_code == 200, moved.text


def test_case_view_counts_similar_contracts_like_the_transition__10_7_4(api: Api) -> None:
    with frozen("2026-11-24 09:00:00"):
        earlier_direct_award(api, "2026-07-24")
        case_id = new_purchase(api, recurring=True)
        reasons = refusal(api.fire(case_id, "direct_award"))

        case = api.client.get(f"/api/cases/{case_id}", headers=api.users["upphandlare"].headers)
        step = next(s for s in case.json()["next_steps"] if s["trigger"] == "direct_award")

        assert step["ready"] is False
        assert [r for g in step["gates"] for r in g["reasons"]] == reasons
