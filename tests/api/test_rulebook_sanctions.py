"""Sanctions (§ 10.11; EU reg. 833/2014 art. 5k: no award to, and no performance of a contract
with, a Russian party or one of its more-than-10 % subcontractors), through the API: screened
again at signing; the winner recorded in the case must be the declared supplier; a similar name
on the list is a possible match that blocks until the kategoriledare clears it with a reason,
while the same name or identifier can never be cleared. (Screening at the award decision:
test_rulebook_money.py; a new list re-checks the cases waiting for signing: the sweep,
tests/integration/test_rechecks.py.) Cases are set up through the use cases; every check is a
request a user would make."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response

from helpers import (
    SEEDS,
    User,
    assert_problem,
    case_state,
    drive,
    ensure_sanctions_list,
    evidence_data,
    run,
    start,
)
from upphandla.flows.commands.sanctions import LoadSanctionsList
from upphandla.states.clock import today
from upphandla.store.db import Database

SOURCE = "§ 10.11; EU-förordning 833/2014 art. 5k"
SUPPLIER = "Leverantören AB"  # the definition's example winner and declared supplier


@dataclass
class Api:
    client: TestClient
    db: Database
    users: dict[str, User]

    def post(self, case_id: int, kind: str, by: str, data: Any = None) -> Response:
        body = {"kind": kind, "data": evidence_data(kind) if data is None else data}
        headers = self.users[by].headers
        return self.client.post(f"/api/cases/{case_id}/evidence", json=body, headers=headers)

    def put(self, case_id: int, kind: str, by: str, data: Any = None) -> dict[str, Any]:
        response = self.post(case_id, kind, by, data)
        assert response.status_code == 201, response.text
        return dict(response.json())

    def fire(self, case_id: int, trigger: str, by: str) -> Response:
        url, headers = f"/api/cases/{case_id}/transitions", self.users[by].headers
        return self.client.post(url, json={"trigger": trigger}, headers=headers)

    def moved(self, case_id: int, trigger: str, by: str) -> None:
        response = self.fire(case_id, trigger, by)
        assert response.status_code == 200, response.text

    def at(self, state: str) -> int:
        case_id = start(self.db, self.users["bestallare"])
        drive(self.db, case_id, state, self.users)
        return case_id

    def ready_to_sign(self) -> int:
        """A tendered case in avtalstecknande with everything sign_contract asks for."""
        case_id = self.at("avtalstecknande")
        self.put(case_id, "pub_avtal_signed", "dso")  # the SSA's example says personal data
        self.put(case_id, "implementation_planned", "bestallare")
        self.put(case_id, "contract_signed", "delegat")
        self.put(case_id, "contract_registered", "upphandlare")
        return case_id

    def list_also(self, *lines: str) -> None:
        """A new list, dated today and loaded last: the sample list and these entries
        (name,identifier,country,reference)."""
        ensure_sanctions_list(self.db)
        sample = (SEEDS / "sanctions" / "sample.csv").read_text(encoding="utf-8")
        text = sample.rstrip("\n") + "\n" + "\n".join(lines) + "\n"
        run(self.db, LoadSanctionsList(text=text, source="ny.csv", list_date=today()))


@pytest.fixture
def api(client: TestClient, db: Database, users: dict[str, User]) -> Api:
    return Api(client, db, users)


def refusal(response: Response, problem: str = "transition_refused") -> list[dict[str, str]]:
    body = assert_problem(response, 409)
    assert body["type"] == f"urn:upphandla:problem:{problem}"
    return list(body["reasons"])


def parties(*others: tuple[str, int], supplier: str = SUPPLIER, **extra: Any) -> dict[str, Any]:
    """A declaration: the supplier (100 %) and subcontractors (name, share %), all declared."""
    declared = [
        {"name": supplier, "relation": "leverantor", "share_percent": 100, "declaration": True}
        | extra
    ]
    declared += [
        {"name": name, "relation": "underleverantor", "share_percent": share, "declaration": True}
        for name, share in others
    ]
    return {"parties": declared}


# -- screened again at signing ------------------------------------------------------------------


def test_a_supplier_listed_after_the_award_decision_cannot_sign__10_11(api: Api) -> None:
    case_id = api.ready_to_sign()
    api.list_also("Leverantoren OOO,,RU,EXEMPEL-LISTAD-EFTER")

    reasons = refusal(api.fire(case_id, "sign_contract", "delegat"))

    # Everything else sign_contract asks for is there: the new screening alone stops it.
    assert [(r["gate"], r["source"]) for r in reasons] == [("sanctions_check", SOURCE)]
    assert (
        f"{SUPPLIER} (100 %) finns på sanktionslistan daterad {today().isoformat()} som "
        in (reasons[0]["message"])
    )
    assert "”Leverantoren OOO” (EXEMPEL-LISTAD-EFTER)" in reasons[0]["message"]
    assert case_state(api.db, case_id)[0] == "avtalstecknande"


def test_a_supplier_not_on_the_list_signs__10_11(api: Api) -> None:
    case_id = api.ready_to_sign()
    api.list_also("Leverantörerna i Kazan OOO,,RU,EXEMPEL-ANNAN")  # another name: no hit

    api.moved(case_id, "sign_contract", "delegat")

    assert case_state(api.db, case_id)[0] == "acceptanstest"


# -- the winner is the declared party -----------------------------------------------------------


def test_an_award_to_another_party_than_the_declared_one_is_refused__10_11(api: Api) -> None:
    case_id = api.at("tilldelning")  # evaluation_done names "Leverantören AB" the winner
    api.put(case_id, "sanctions_declaration", "upphandlare", parties(supplier="Annan Leverans AB"))
    api.put(case_id, "award_decision_sent", "upphandlare")

    reasons = refusal(api.fire(case_id, "send_award_decision", "upphandlare"))

    assert [(r["gate"], r["source"]) for r in reasons] == [("sanctions_check", SOURCE)]
    assert (
        f"evaluation_done.winner anger ”{SUPPLIER}”, men sanktionsförsäkran anger leverantören "
        "”Annan Leverans AB”"
    ) in reasons[0]["message"]
    # The declaration for the winner, written as it may be (case, accents, company form).
    api.put(case_id, "sanctions_declaration", "upphandlare", parties(supplier="LEVERANTOREN"))
    api.moved(case_id, "send_award_decision", "upphandlare")


def test_a_contract_with_another_supplier_than_the_declared_one_is_not_signed__10_11(
    api: Api,
) -> None:
    case_id = api.ready_to_sign()
    registered = evidence_data("contract_registered") | {"supplier": "Annan Leverans AB"}
    api.put(case_id, "contract_registered", "upphandlare", registered)

    reasons = refusal(api.fire(case_id, "sign_contract", "delegat"))

    assert [(r["gate"], r["source"]) for r in reasons] == [("sanctions_check", SOURCE)]
    assert "contract_registered.supplier anger ”Annan Leverans AB”" in reasons[0]["message"]
    api.put(case_id, "contract_registered", "upphandlare")  # the declared supplier again
    api.moved(case_id, "sign_contract", "delegat")


# -- possible matches and who clears them -------------------------------------------------------

ROMASHKA = "Romashka LLC,RU-ROM-1,RU,EXEMPEL-ROMASHKA"


def test_a_transliteration_variant_blocks_until_the_kategoriledare_clears_it__10_11(
    api: Api,
) -> None:
    case_id = api.at("tilldelning")
    api.list_also(ROMASHKA)
    api.put(case_id, "sanctions_declaration", "upphandlare", parties(("Romaschka AB", 20)))
    api.put(case_id, "award_decision_sent", "upphandlare")

    reasons = refusal(api.fire(case_id, "send_award_decision", "upphandlare"))

    assert [(r["gate"], r["source"]) for r in reasons] == [("sanctions_check", SOURCE)]
    message = reasons[0]["message"]
    assert "Romaschka AB (20 %) liknar ”Romashka LLC” (EXEMPEL-ROMASHKA)" in message
    assert "(likhet 94 av 100, gränsen är 85)" in message
    assert "ska granskas och klareras med skäl (underlaget sanctions_match_cleared)" in message

    # The upphandlare who declared the parties may not clear the match; the kategoriledare may.
    clearance = {
        "party": "Romaschka AB",
        "listed_name": "Romashka LLC",
        "reason": "Svenskt bolag, org.nr 556000-0002; ägarna kontrollerade hos Bolagsverket",
    }
    assert_problem(api.post(case_id, "sanctions_match_cleared", "upphandlare", clearance), 403)
    api.put(case_id, "sanctions_match_cleared", "kategoriledare", clearance)

    api.moved(case_id, "send_award_decision", "upphandlare")
    # The case's audit trail holds the clearance (who, when, why) and the transition whose
    # sanctions gate says which possible match was let through on whose word.
    audit = api.client.get(f"/api/cases/{case_id}/audit", headers=api.users["controller"].headers)
    events = audit.json()["events"]
    [recorded] = [
        e for e in events if e.get("evidence", {}).get("kind") == "sanctions_match_cleared"
    ]
    assert (recorded["role"], recorded["actor"]["name"]) == (
        "kategoriledare",
        "Testperson kategoriledare",
    )
    assert recorded["evidence"]["data"] == clearance
    [moved] = [e for e in events if e.get("trigger") == "send_award_decision"]
    [gate] = [g for g in moved["gates"] if g["gate"] == "sanctions_check"]
    assert gate["ok"] is True
    assert gate["notes"] == [
        "Möjlig sanktionsträff klarerad: Romaschka AB liknar ”Romashka LLC” (likhet 94 av "
        "100); klarerad av Testperson kategoriledare (kategoriledare) "
        f"{today().isoformat()} med skälet: {clearance['reason']}"
    ]


@pytest.mark.parametrize(
    ("party", "identifier", "how"),
    [
        ("OOO Romashka", None, "samma namn"),  # the same match key as "Romashka LLC"
        ("Helt Annat Namn AB", "RU-ROM-1", "samma organisationsnummer"),
    ],
)
def test_an_exact_or_identifier_match_cannot_be_cleared__10_11(
    api: Api, party: str, identifier: str | None, how: str
) -> None:
    case_id = api.at("tilldelning")
    api.list_also(ROMASHKA)
    subcontractor = {"name": party, "relation": "underleverantor", "share_percent": 20}
    subcontractor |= {"declaration": True} | ({"identifier": identifier} if identifier else {})
    declared = parties()
    declared["parties"].append(subcontractor)
    api.put(case_id, "sanctions_declaration", "upphandlare", declared)
    api.put(case_id, "award_decision_sent", "upphandlare")
    [blocked] = refusal(api.fire(case_id, "send_award_decision", "upphandlare"))
    assert "en sådan träff kan inte klareras" in blocked["message"]

    clearance = {"party": party, "listed_name": "Romashka LLC", "reason": "Vi tror inte det"}
    response = api.post(case_id, "sanctions_match_cleared", "kategoriledare", clearance)

    reasons = refusal(response, "evidence_refused")
    assert [(r["gate"], r["source"]) for r in reasons] == [("sanctions_match_clearable", SOURCE)]
    assert f"som ”Romashka LLC” ({how})" in reasons[0]["message"]
    assert "kan inte klareras" in reasons[0]["message"]
    assert refusal(api.fire(case_id, "send_award_decision", "upphandlare"))  # still stopped


def test_a_clearance_must_name_a_match_the_screening_found__10_11(api: Api) -> None:
    case_id = api.at("tilldelning")
    api.list_also(ROMASHKA)
    clearance = {"party": SUPPLIER, "listed_name": "Romashka LLC", "reason": "Förebyggande"}

    reasons = refusal(
        api.post(case_id, "sanctions_match_cleared", "kategoriledare", clearance),
        "evidence_refused",
    )

    assert [(r["gate"], r["source"]) for r in reasons] == [("sanctions_match_clearable", SOURCE)]
    assert f"{SUPPLIER} har ingen möjlig träff mot ”Romashka LLC”" in reasons[0]["message"]


def test_ordinary_names_pass_the_screening_with_similar_names__10_11(api: Api) -> None:
    """The sample list and a list with Romashka: the example parties of the definition and
    other everyday Swedish company names are no possible match."""
    case_id = api.at("tilldelning")
    api.list_also(ROMASHKA)
    others = [("Underleverantören i Norden AB", 30), ("Kapacitet AB", 15), ("Driftpartner AB", 12)]
    api.put(case_id, "sanctions_declaration", "upphandlare", parties(*others))
    api.put(case_id, "award_decision_sent", "upphandlare")

    api.moved(case_id, "send_award_decision", "upphandlare")
