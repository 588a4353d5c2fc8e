"""The rulebook's rules of time, through the API, on a frozen clock: the avtalsspärr after an award
decision (10 days sent electronically, 15 otherwise, to the next working day under lag 1930:173),
its extension by an överprövning, its absence for a direct award, and the twelve months in which
similar contracts count towards a recurring direct award. Cases are set up through the use cases;
every check is a request a user would make."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
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
    people_of,
    start,
)
from upphandla.states.clock import today
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
    # The people of a case of another organisation than the test users' (people_of).
    people: dict[int, dict[str, User]] = field(default_factory=dict)

    def post(self, case_id: int, kind: str, by: str, data: Any = None) -> Response:
        body = {"kind": kind, "data": evidence_data(kind) if data is None else data}
        users = self.people.get(case_id, self.users)
        url, headers = f"/api/cases/{case_id}/evidence", users[by].headers
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


def in_tilldelning(api: Api, by: str) -> int:
    """An advertised case that reached tilldelning before the day `by`: started 60 days earlier,
    it waited out the tender period on the way (about a month)."""
    with frozen(date.fromisoformat(by) - timedelta(days=60)):
        case_id = api.start()
        drive(api.db, case_id, "tilldelning", api.users)
        assert today() < date.fromisoformat(by)
    return case_id


def in_standstill(api: Api, sent_on: str, electronic: bool) -> int:
    """An advertised case whose award decision was sent on `sent_on`, now in avtalsspärr."""
    case_id = in_tilldelning(api, sent_on)
    with frozen(f"{sent_on} 09:00:00"):
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
        decided = {"decided_on": "2027-03-19", "outcome": "avslag"}
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
    """A 400 000 kr direct award by another organisation, signed on `signed_on` (on that day: a
    signature cannot be dated before the case came to sign it)."""
    attrs = {"estimated_value_sek": 400_000}
    people = people_of(api.db, api.users, "kultur_och_fritidsforvaltningen")
    with frozen(f"{signed_on} 09:00:00"):
        case_id = start(
            api.db,
            people["bestallare"],
            route=DIRECT,
            title=EARLIER_TITLE,
            organisation="kultur_och_fritidsforvaltningen",
            **attrs,
        )
        api.people[case_id] = people
        drive(api.db, case_id, "avtalstecknande", people)
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
    earlier = earlier_direct_award(api, "2026-07-24")
    with frozen("2026-11-24 09:00:00"):
        case_id = new_purchase(api, recurring=True)
        before = case_state(api.db, case_id), counts(api.db)

        reasons = refusal(api.fire(case_id, "direct_award"))

        assert [r["gate"] for r in reasons] == ["direct_award_below_threshold"]
        message = reasons[0]["message"]
        # Another organisation's case: named by number and organisation, not by what it is.
        assert f"ärende {earlier} (Kultur- och fritidsförvaltningen, " in message
        assert EARLIER_TITLE not in message
        assert kr(800_000) in message and kr(700_000) in message
        assert (case_state(api.db, case_id), counts(api.db)) == before

        # A purchase that is not recurring counts only its own value.
        other = new_purchase(api, recurring=False)
        moved = api.fire(other, "direct_award")
        assert moved.status_code == 200, moved.text


def test_similar_contract_of_thirteen_months_ago_is_not_counted__10_7_4(api: Api) -> None:
    earlier_direct_award(api, "2025-10-24")
    with frozen("2026-11-24 09:00:00"):
        case_id = new_purchase(api, recurring=True)
        moved = api.fire(case_id, "direct_award")
        assert moved.status_code == 200, moved.text


def test_case_view_counts_similar_contracts_like_the_transition__10_7_4(api: Api) -> None:
    earlier_direct_award(api, "2026-07-24")
    with frozen("2026-11-24 09:00:00"):
        case_id = new_purchase(api, recurring=True)
        reasons = refusal(api.fire(case_id, "direct_award"))

        case = api.client.get(f"/api/cases/{case_id}", headers=api.users["upphandlare"].headers)
        step = next(s for s in case.json()["next_steps"] if s["trigger"] == "direct_award")

        assert step["ready"] is False
        assert [r for g in step["gates"] for r in g["reasons"]] == reasons


# -- C. dates that start legal periods are bounded -------------------------------------------------
# Started Monday 2 February 2026, the case waits out the tender period (30 days from the notice,
# to Wednesday 4 March) and reaches tilldelning on Thursday 5 March.
ENTERED_TILLDELNING = "2026-03-05"


def test_a_backdated_or_future_award_decision_is_refused_naming_the_bound__lou_20_kap(
    api: Api,
) -> None:
    with frozen("2026-02-02 09:00:00"):
        case_id = api.start()
        drive(api.db, case_id, "tilldelning", api.users)
        assert today().isoformat() == ENTERED_TILLDELNING
    with frozen("2026-03-24 09:00:00"):
        before = case_state(api.db, case_id), counts(api.db)
        for sent_on, bound in (
            ("2026-03-04", f"ligger före den dag ärendet kom till fasen ({ENTERED_TILLDELNING})"),
            ("2026-03-25", "ligger efter dagens datum (2026-03-24)"),
        ):
            answer = api.post(
                case_id,
                "award_decision_sent",
                "upphandlare",
                {"sent_on": sent_on, "electronic": True, "value_sek": 4_000_000},
            )
            [reason] = refusal(answer, "evidence_refused")
            assert reason["gate"] == "award_decision_sent_on_bounded"
            assert f"{sent_on} {bound}" in reason["message"]
            assert reason["source"] == "LOU 20 kap. 1–2 §§"
        assert (case_state(api.db, case_id), counts(api.db)) == before


def test_a_correct_award_decision_over_easter_ends_the_standstill_on_tuesday__lou_20_kap(
    api: Api,
) -> None:
    # Sent Tuesday 24 March 2026: day 10 is Långfredagen, Easter follows; the last day is
    # Tuesday 7 April and the contract may be signed on Wednesday 8 April.
    case_id = in_standstill(api, "2026-03-24", True)
    with frozen("2026-04-07 20:00:00"):  # 22:00 in Stockholm, still the last day
        api.prepare_signing(case_id)
        assert "2026-04-07" in standstill_reason(api.fire(case_id, "sign_contract"))
    with frozen("2026-04-08 07:00:00"):
        signed = api.sign(case_id)
        assert signed.status_code == 200, signed.text
        assert case_state(api.db, case_id)[0] == "acceptanstest"


# -- D. the minimum tender period --------------------------------------------------------------------
TENDER_SOURCE = "LOU 11 kap. 2 § och 6 §, 12 kap. 10 §, 19 kap. 11 §"


def in_annonsering(api: Api, **attrs: Any) -> int:
    with frozen("2026-03-04 08:00:00"):
        case_id = api.start(**attrs)
        drive(api.db, case_id, "annonsering", api.users)
        notice = {"sent_on": "2026-03-04", "procedure": "oppet", "electronic": True}
        api.put(case_id, "tender_published", "upphandlare", notice)
    return case_id


def test_a_tender_closed_before_the_minimum_period_is_refused_with_the_day__lou_11_kap(
    api: Api,
) -> None:
    # 4 000 000 kr reaches the EU threshold: open procedure with electronic tenders, at least 30
    # days from the day after the notice was sent (4 March); day 30 is Långfredagen, so the
    # period runs to Tuesday 7 April.
    case_id = in_annonsering(api)
    for at in ("2026-03-04 09:00:00", "2026-04-07 20:00:00"):
        with frozen(at):
            before = case_state(api.db, case_id), counts(api.db)
            [reason] = refusal(api.fire(case_id, "close_tender"))
            assert reason["gate"] == "tender_period_ended"
            assert reason["source"] == TENDER_SOURCE
            assert "minst 30 dagar (LOU 11 kap. 2 § och 6 §)" in reason["message"]
            assert kr(2_389_585) in reason["message"]  # the threshold it decided on
            assert "Anbudstiden kan stängas tidigast 2026-04-08." in reason["message"]
            assert (case_state(api.db, case_id), counts(api.db)) == before


def test_a_tender_closes_once_the_period_has_run_and_says_the_threshold_is_old(api: Api) -> None:
    case_id = in_annonsering(api)
    with frozen("2026-04-08 07:00:00"):
        moved = api.fire(case_id, "close_tender")
        assert moved.status_code == 200, moved.text
        assert moved.json()["to_state"] == "utvardering"
        [gate] = moved.json()["gates"]
        # The 2024–2025 amount still decides in 2026 until the new one is entered, and says so.
        assert gate["ok"] is True and "gällde till och med 2025-12-31" in gate["notes"][0]


def test_a_notice_dated_before_the_tender_phase_is_refused(api: Api) -> None:
    with frozen("2026-03-04 08:00:00"):
        case_id = api.start()
        drive(api.db, case_id, "annonsering", api.users)
        notice = {"sent_on": "2026-02-01", "procedure": "oppet", "electronic": True}
        [reason] = refusal(
            api.post(case_id, "tender_published", "upphandlare", notice), "evidence_refused"
        )
        assert reason["gate"] == "tender_published_on_bounded"
        assert (
            "2026-02-01 ligger före den dag ärendet kom till fasen (2026-03-04)"
            in (reason["message"])
        )


# -- E. the court's outcome decides ------------------------------------------------------------------
COURT = "Förvaltningsrätten i Stockholm, mål 3-26"


def under_review(api: Api) -> int:
    """Award decision sent Tuesday 24 March 2026 (standstill to 7 April); a review filed on
    30 March."""
    case_id = in_standstill(api, "2026-03-24", True)
    with frozen("2026-03-30 09:00:00"):
        api.put(case_id, "review_filed", "upphandlare", {"filed_on": "2026-03-30", "court": COURT})
    return case_id


def deadlines(api: Api, case_id: int) -> dict[str, str]:
    case = api.client.get(f"/api/cases/{case_id}", headers=api.users["upphandlare"].headers)
    assert case.status_code == 200, case.text
    return {d["kind"]: d["due_on"] for d in case.json()["deadlines"]}


def test_an_order_to_redo_sends_the_case_back_and_a_new_award_starts_a_new_standstill__20_kap_6(
    api: Api,
) -> None:
    case_id = under_review(api)
    with frozen("2026-04-01 09:00:00"):
        # While the court has not decided, the case shows when to look (14 days after filing).
        assert deadlines(api, case_id).get("court_decision") == "2026-04-13"
    with frozen("2026-04-20 09:00:00"):
        decided = {"decided_on": "2026-04-20", "outcome": "gora_om"}
        api.put(case_id, "court_decided", "upphandlare", decided)
    with frozen("2026-05-20 09:00:00"):  # long after ten days: the old award stays unsignable
        api.prepare_signing(case_id)
        message = standstill_reason(
            api.post(case_id, "contract_signed", "delegat"), "evidence_refused"
        )
        assert "beslutade 2026-04-20 att upphandlingen ska göras om" in message
        assert "ska göras om" in standstill_reason(api.fire(case_id, "sign_contract"))
        assert "court_decision" not in deadlines(api, case_id)
        # The court did not order a correction: that way back is not offered.
        offered = assert_problem(api.fire(case_id, "correct_after_review"), 409)
        assert offered["type"] == "urn:upphandla:problem:trigger_not_offered"
        moved = api.fire(case_id, "redo_after_review")
        assert moved.status_code == 200, moved.text
        assert moved.json()["to_state"] == "kravstallning"
    with frozen("2026-05-20 10:00:00"):
        # Advertised again: a new notice, a new tender period, a new award decision.
        drive(api.db, case_id, "avtalsparr", api.users)
        sent_on = today()
        ends = deadlines(api, case_id)["standstill_end"]
        assert date.fromisoformat(ends) >= sent_on + timedelta(days=10)
        standstill_reason(api.fire(case_id, "end_standstill"))
    with frozen(f"{date.fromisoformat(ends) + timedelta(days=1)} 07:00:00"):
        api.prepare_signing(case_id)
        signed = api.sign(case_id)
        assert signed.status_code == 200, signed.text


def test_a_rejected_review_lets_the_case_sign_ten_days_after_the_court__20_kap(api: Api) -> None:
    case_id = under_review(api)
    with frozen("2026-04-20 09:00:00"):
        api.put(
            case_id,
            "court_decided",
            "upphandlare",
            {"decided_on": "2026-04-20", "outcome": "avslag"},
        )
        # Ten days from the day after 20 April: the last day is Thursday 30 April.
        assert deadlines(api, case_id)["standstill_end"] == "2026-04-30"
    with frozen("2026-04-30 09:00:00"):
        api.prepare_signing(case_id)
        assert "2026-04-30" in standstill_reason(api.fire(case_id, "sign_contract"))
    with frozen("2026-05-01 09:00:00"):
        signed = api.sign(case_id)
        assert signed.status_code == 200, signed.text


def test_an_order_to_correct_sends_the_case_back_to_the_evaluation__20_kap_6(api: Api) -> None:
    case_id = under_review(api)
    with frozen("2026-04-20 09:00:00"):
        api.put(
            case_id,
            "court_decided",
            "upphandlare",
            {"decided_on": "2026-04-20", "outcome": "rattelse"},
        )
        assert "rättelse" in standstill_reason(api.fire(case_id, "end_standstill"))
        moved = api.fire(case_id, "correct_after_review")
        assert moved.status_code == 200, moved.text
        assert moved.json()["to_state"] == "utvardering"
