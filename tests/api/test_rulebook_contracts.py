"""The plan's rules for contracts in förvaltning (§ 9.1, § 5.4.5, § 10.3; LOU 17 kap. 9 §) and the
plan's own procurement plan (§ 9.1.1–9.1.4) loaded as demo data, checked through the API."""

from __future__ import annotations

from calendar import monthrange
from collections import Counter
from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from helpers import (
    DEFINITION_KEY,
    User,
    add_user,
    assert_problem,
    attributes,
    case_state,
    contract,
    counts,
    drive,
    frozen,
    imported,
    make_client,
    run,
    start,
)
from upphandla.cli.startup import prepare
from upphandla.flows.commands.contracts import ImportContract
from upphandla.flows.settings import Settings
from upphandla.seeds.loader import SEEDS, read_yaml
from upphandla.states.errors import EvidenceRefused
from upphandla.store.db import Database

EU_THRESHOLD = 2_389_585


def post_evidence(client: TestClient, case_id: int, kind: str, data: Any, by: User) -> Any:
    return client.post(
        f"/api/cases/{case_id}/evidence", json={"kind": kind, "data": data}, headers=by.headers
    )


def amendment(value: int, ground: str = "ingen", **extra: Any) -> dict[str, Any]:
    return {
        "description": "Ny integrationsmodul",
        "value_sek": value,
        "legal_ground": ground,
        **extra,
    }


@pytest.mark.parametrize(
    ("attrs", "due"),
    [
        ({"subcategory": "Verksamhetssystem"}, "2029-08-31"),  # 24 months
        ({"subcategory": "IT-hårdvara"}, "2030-02-28"),  # 18 months; February has 28 days
        ({"subcategory": "IT-konsulter"}, "2030-02-28"),
        ({"subcategory": "Övrigt IT", "consultants": True}, "2030-02-28"),
        ({"subcategory": "Telekommunikation"}, "2030-02-28"),  # the default, 18 months
        ({"subcategory": "IT som tjänst"}, "2030-02-28"),
    ],
)
def test_contract_deadlines_from_last_possible_end__9_1(
    client: TestClient, users: dict[str, User], db: Database, attrs: dict[str, Any], due: str
) -> None:
    case_id = imported(db, users["upphandlare"], contract(), **attrs)
    with frozen("2026-03-02 10:00:00"):
        case = client.get(f"/api/cases/{case_id}", headers=users["controller"].headers).json()
    assert case["state"] == "forvaltning"
    assert [(d["kind"], d["due_on"], d["overdue"]) for d in case["deadlines"]] == [
        ("new_procurement_start", due, False),
        ("extension_decision", "2029-02-28", False),
    ]
    assert "2031-08-31" in case["deadlines"][0]["title"]


@pytest.mark.parametrize(
    ("overrides", "detail"),
    [
        (
            {"start_on": "2026-04-01", "end_on": "2026-03-31"},
            "Avtalet slutar 2026-03-31, före sin start 2026-04-01.",
        ),
        (
            {"end_on": "2029-08-31", "extensions": [{"until": "2029-06-30"}]},
            "Förlängningsoptionen till 2029-06-30 förlänger inte avtalet",
        ),
    ],
    ids=["end-before-start", "option-before-the-end"],
)
def test_contract_dates_out_of_order_are_refused__9_1(
    client: TestClient,
    users: dict[str, User],
    db: Database,
    overrides: dict[str, Any],
    detail: str,
) -> None:
    """Registered on a signed case or imported as an existing contract: the dates every contract
    deadline is computed from must hang together."""
    with frozen("2026-03-02 09:00:00"):
        case_id = start(db, users["bestallare"], personal_data=True)
        drive(db, case_id, "avtalstecknande", users)
    up, before = users["upphandlare"], counts(db)
    body = assert_problem(
        post_evidence(client, case_id, "contract_registered", contract(**overrides), up), 409
    )
    assert body["type"] == "urn:upphandla:problem:evidence_refused"
    [reason] = body["reasons"]
    assert (reason["gate"], reason["source"]) == ("contract_dates_in_order", "§ 9.1, § 9.1.2–9.1.4")
    assert detail in reason["message"]
    [need] = reason["evidence"]  # what to do: register the contract again, correctly
    assert (need["kind"], need["roles"]) == ("contract_registered", ["upphandlare"])
    assert {"start_on", "end_on", "extensions"} <= {f["name"] for f in need["fields"]}
    with pytest.raises(EvidenceRefused) as refused:  # nor as an imported contract
        run(
            db,
            ImportContract(
                actor=up.actor,
                attributes=attributes(),
                contract=contract(**overrides),
                definition_key=DEFINITION_KEY,
            ),
        )
    assert [r.gate for r in refused.value.reasons] == ["contract_dates_in_order"]
    assert counts(db) == before

    fixed = post_evidence(client, case_id, "contract_registered", contract(), up)
    assert fixed.status_code == 201, fixed.text


def test_an_option_without_a_decision_date_gets_the_default_lead_time__9_1_2(
    client: TestClient, users: dict[str, User], db: Database
) -> None:
    """Six months (the definition's default) before the term the option extends ends."""
    case_id = imported(
        db,
        users["upphandlare"],
        contract(extensions=[{"until": "2030-08-31"}, {"until": "2031-08-31"}]),
    )
    with frozen("2026-03-02 10:00:00"):
        case = client.get(f"/api/cases/{case_id}", headers=users["controller"].headers).json()
    decisions = [d for d in case["deadlines"] if d["kind"] == "extension_decision"]
    assert [(d["due_on"], d["title"]) for d in decisions] == [
        ("2029-02-28", "Beslut om förlängning till 2030-08-31"),  # the contract ends 2029-08-31
        ("2030-02-28", "Beslut om förlängning till 2031-08-31"),
    ]
    assert decisions[0]["source"].startswith("§ 9.1.2–9.1.4")


def test_amendment_below_ten_percent_is_decided_then_signed_with_the_mandate__5_4_5(
    client: TestClient, users: dict[str, User], db: Database
) -> None:
    case_id = imported(db, users["upphandlare"], contract())
    recorded = post_evidence(client, case_id, "amendment", amendment(500_000), users["upphandlare"])
    assert recorded.status_code == 201, recorded.text
    assert recorded.json()["data"] == amendment(500_000)
    # Upphandlingssektionen decides the change; a delegat signs it (§ 5.4.5).
    assert_problem(
        post_evidence(client, case_id, "amendment", amendment(500_000), users["delegat"]), 403
    )
    signature = {"signed_on": "2026-11-24"}
    assert_problem(
        post_evidence(client, case_id, "amendment_signed", signature, users["upphandlare"]), 403
    )
    signed = post_evidence(client, case_id, "amendment_signed", signature, users["delegat"])
    assert signed.status_code == 201, signed.text
    assert signed.json()["data"] == {
        **signature,
        "mandate_id": "kommundirektor",
        "mandate_title": "Kommundirektör",
        "mandate_max_sek": 50_000_000,
    }
    audit = client.get(f"/api/cases/{case_id}/audit", headers=users["delegat"].headers).json()
    assert audit["events"][-1]["evidence"]["data"]["mandate_id"] == "kommundirektor"


@pytest.mark.parametrize("value", [1_200_000, 1_000_000], ids=["12-percent", "10-percent"])
def test_substantial_amendment_without_legal_ground_is_refused__lou_17_9(
    client: TestClient, users: dict[str, User], db: Database, value: int
) -> None:
    case_id = imported(db, users["upphandlare"], contract())
    up = users["upphandlare"]
    before = counts(db)
    body = assert_problem(post_evidence(client, case_id, "amendment", amendment(value), up), 409)
    assert body["type"] == "urn:upphandla:problem:evidence_refused"
    [reason] = body["reasons"]
    assert reason["gate"] == "amendment_not_substantial"
    assert "LOU 17 kap. 9–14 §§" in reason["source"]
    assert "10 %" in reason["message"]
    assert counts(db) == before

    just_below = post_evidence(client, case_id, "amendment", amendment(999_999), up)
    assert just_below.status_code == 201, just_below.text
    other_ground = amendment(1_200_000, "17_kap_10", legal_ground_reason="Förutsedd i avtalet")
    grounded = post_evidence(client, case_id, "amendment", other_ground, up)
    assert grounded.status_code == 201, grounded.text
    assert grounded.json()["data"]["legal_ground"] == "17_kap_10"


def test_amendment_at_eu_threshold_is_refused_even_below_ten_percent__lou_17_9(
    client: TestClient, users: dict[str, User], db: Database
) -> None:
    case_id = imported(db, users["upphandlare"], contract(value_sek=45_000_000))
    up = users["upphandlare"]
    before = counts(db)
    refused = post_evidence(client, case_id, "amendment", amendment(EU_THRESHOLD), up)
    [reason] = assert_problem(refused, 409)["reasons"]
    assert reason["gate"] == "amendment_not_substantial"
    assert "tröskelvärde" in reason["message"]
    assert counts(db) == before
    below = post_evidence(client, case_id, "amendment", amendment(EU_THRESHOLD - 1), up)
    assert below.status_code == 201, below.text


def test_amendment_beyond_the_delegats_mandate_is_refused__5_4_5(
    client: TestClient, users: dict[str, User], db: Database
) -> None:
    """The mandate must cover the contract as changed: 650 000 kr and a change of 50 001 kr is
    more than an enhetschef's 700 000 kr; a change of 50 000 kr is not."""
    small = add_user(
        db,
        name="Enhetschefen",
        email="enhetschef@example.se",
        role="delegat",
        organisation="socialforvaltningen",
        mandate="enhetschef",
    )
    signature = {"signed_on": "2026-11-24"}
    up = users["upphandlare"]
    over = imported(db, up, contract(value_sek=650_000))
    assert post_evidence(client, over, "amendment", amendment(50_001), up).status_code == 201
    before = counts(db)
    body = assert_problem(post_evidence(client, over, "amendment_signed", signature, small), 409)
    assert [(r["gate"], r["source"]) for r in body["reasons"]] == [
        ("amendment_signatory_mandate", "§ 5.4.5 fotnot 2")
    ]
    assert counts(db) == before
    within = imported(db, up, contract(value_sek=650_000, register_reference="AVT-8"))
    assert post_evidence(client, within, "amendment", amendment(50_000), up).status_code == 201
    covered = post_evidence(client, within, "amendment_signed", signature, small)
    assert covered.status_code == 201, covered.text
    assert covered.json()["data"]["mandate_id"] == "enhetschef"


FRAMEWORK = {"framework": True, "start_on": "2026-04-01", "end_on": "2028-03-31"}


def test_framework_over_four_years_needs_a_reason__10_3(
    client: TestClient, users: dict[str, User], db: Database
) -> None:
    with frozen("2026-03-02 09:00:00"):
        case_id = start(db, users["bestallare"], personal_data=True)
        drive(db, case_id, "avtalstecknande", users)
    up, before = users["upphandlare"], counts(db)
    five_years = contract(**FRAMEWORK, extensions=[{"until": "2031-03-31"}])
    body = assert_problem(
        post_evidence(client, case_id, "contract_registered", five_years, up), 409
    )
    assert body["type"] == "urn:upphandla:problem:evidence_refused"
    assert [(r["gate"], r["source"]) for r in body["reasons"]] == [
        ("framework_at_most_four_years", "§ 10.3 fotnot 4; LOU 7 kap. 2 §")
    ]
    assert counts(db) == before
    with pytest.raises(EvidenceRefused):  # nor as an imported contract
        run(
            db,
            ImportContract(
                actor=up.actor,
                attributes=attributes(),
                contract=five_years,
                definition_key=DEFINITION_KEY,
            ),
        )
    assert counts(db) == before

    four_years = contract(**FRAMEWORK, extensions=[{"until": "2030-03-31"}])
    assert post_evidence(client, case_id, "contract_registered", four_years, up).status_code == 201
    reasoned = {**five_years, "term_reason": "Investering som kräver längre löptid"}
    accepted = post_evidence(client, case_id, "contract_registered", reasoned, up)
    assert accepted.status_code == 201, accepted.text
    assert case_state(db, case_id)[0] == "avtalstecknande"


# -- the plan's own data as demo ------------------------------------------------------------------


def months_before(day: date, months: int) -> date:
    year, month = divmod(day.year * 12 + day.month - 1 - months, 12)
    return date(year, month + 1, min(day.day, monthrange(year, month + 1)[1]))


def stored_cases(db: Database) -> list[tuple[str, str]]:
    with db.reader.connect() as conn:
        return [(r[0], r[1]) for r in conn.execute(text("SELECT title, state FROM cases"))]


def test_demo_loads_every_row_of_the_plan_once__9_1(db: Database, db_url: str) -> None:
    plan = read_yaml(SEEDS / "plan.yaml")
    dated = [r for r in plan["needs"] if r["extension_possible_until"] is not None]
    soon = [r for r in plan["needs"] if r["extension_possible_until"] is None]
    settings = Settings(database_url=db_url)
    with frozen("2026-11-24 09:00:00"):
        prepare(db, settings, demo=True)
        loaded, first = stored_cases(db), counts(db)
        tokens = {u.role: u.token for u in prepare(db, settings, demo=True)}
    assert counts(db) == first  # the second run adds nothing

    early = {"behovsanalys", "forstudie", "ssa"}  # the 2023 rows in turn, 14 rows each
    assert len(loaded) == len(plan["planned_2023"]) + len(plan["needs"]) == 60
    assert Counter(state for _, state in loaded) == {
        "forvaltning": len(dated),
        "behovsanalys": 14 + len(soon),
        "forstudie": 14,
        "ssa": 14,
    }
    for row in plan["planned_2023"]:
        assert any(t == row["need"] and s in early for t, s in loaded), row["need"]
    for row in dated:
        assert (row["need"], "forvaltning") in loaded
    for row in soon:
        assert (row["need"][:200], "behovsanalys") in loaded

    late = {
        r["need"]
        for r in dated
        if months_before(
            r["extension_possible_until"], 24 if r["subcategory"] == "Verksamhetssystem" else 18
        )
        < date(2026, 11, 24)
    }
    assert "Kommunikation som tjänst" in late and "Kostdatasystem" not in late
    headers = {"Authorization": f"Bearer {tokens['controller']}"}
    with frozen("2026-11-24 09:00:00"), make_client(db, db_url) as client:
        listed = client.get("/api/cases", params={"overdue": "true", "limit": 200}, headers=headers)
        assert listed.status_code == 200, listed.text
        assert {i["title"] for i in listed.json()["items"]} == late
        [kst] = [i for i in listed.json()["items"] if i["title"] == "Kommunikation som tjänst"]
        case = client.get(f"/api/cases/{kst['id']}", headers=headers).json()
    assert (case["state"], case["subcategory"]) == ("forvaltning", "Telekommunikation")
    assert [(d["kind"], d["due_on"], d["overdue"]) for d in case["deadlines"]] == [
        ("new_procurement_start", "2025-05-15", True)
    ]
    assert "2026-11-15" in case["deadlines"][0]["title"]
