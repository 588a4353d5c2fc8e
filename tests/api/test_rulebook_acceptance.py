"""The plan's rules for the acceptance test (§ 5.4.5, § 9.2.5, § 10.6.2) and for the requirement
checklist of phase 4, exercised through the API on cases driven there through the use cases."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response

from helpers import (
    User,
    assert_problem,
    case_state,
    counts,
    drive,
    evidence_data,
    frozen,
    start,
    v1_gate,
)
from upphandla.store.db import Database

CSV = (
    "id;text;level\nK1;Inloggning med tvåfaktor;ska\nK2;Export av all data;ska\nK3;Mörkt läge;bör\n"
)
REQUIREMENTS = [
    {"id": "K1", "text": "Inloggning med tvåfaktor", "level": "ska"},
    {"id": "K2", "text": "Export av all data", "level": "ska"},
    {"id": "K3", "text": "Mörkt läge", "level": "bor"},
]


def round_of(*results: str) -> dict[str, Any]:
    return {"results": [{"id": f"K{n}", "result": r} for n, r in enumerate(results, start=1)]}


K2_FAILED = round_of("godkand", "underkand", "godkand")


@dataclass
class Api:
    """One case, through the API, as the person of a role."""

    client: TestClient
    users: dict[str, User]
    case_id: int

    def evidence(self, kind: str, data: Any, role: str = "bestallare") -> Response:
        return self.client.post(
            f"/api/cases/{self.case_id}/evidence",
            json={"kind": kind, "data": data},
            headers=self.users[role].headers,
        )

    def record(self, kind: str, data: Any, role: str = "bestallare") -> dict[str, Any]:
        response = self.evidence(kind, data, role)
        assert response.status_code == 201, response.text
        return response.json()

    def fire(self, trigger: str, role: str = "bestallare", comment: str | None = None) -> Response:
        return self.client.post(
            f"/api/cases/{self.case_id}/transitions",
            json={"trigger": trigger, "comment": comment},
            headers=self.users[role].headers,
        )

    def requirements(self, csv: str | None = None, json: Any = None) -> Response:
        path = f"/api/cases/{self.case_id}/acceptance/requirements"
        headers = self.users["bestallare"].headers
        if csv is None:
            return self.client.post(path, json={"requirements": json}, headers=headers)
        return self.client.post(
            path,
            content=csv.encode(),
            headers={**headers, "Content-Type": "text/csv; charset=utf-8"},
        )

    def get(self, suffix: str = "") -> Any:
        got = self.client.get(
            f"/api/cases/{self.case_id}{suffix}", headers=self.users["controller"].headers
        )
        assert got.status_code == 200, got.text
        return got.json()

    def ready_with_failed_skakrav(self) -> None:
        """List imported, supplier ready, objektledare signed off, then a round where K2 failed
        (so that sign-off no longer counts either)."""
        assert self.requirements(CSV).status_code == 201
        self.record("supplier_ready", evidence_data("supplier_ready"), "upphandlare")
        self.record("acceptance_signoff_objektledare", {"comment": "OK"}, "objektledare_it")
        self.record("acceptance_round", K2_FAILED)


@pytest.fixture
def api(db: Database, users: dict[str, User], client: TestClient) -> Api:
    """A Verksamhetssystem case just signed, in acceptanstest. (It handles personal data: drive()
    records a PUB-avtal only then, and its SSA always finds personal data.)"""
    with frozen("2026-03-02 09:00:00"):
        case_id = start(db, users["bestallare"], personal_data=True)
        drive(db, case_id, "acceptanstest", users)
    return Api(client, users, case_id)


def test_requirement_list_imports_as_csv_and_json__5_4_5(api: Api) -> None:
    imported = api.requirements(CSV)
    assert imported.status_code == 201, imported.text
    assert imported.json()["kind"] == "acceptance_requirements"
    assert imported.json()["data"] == {"requirements": REQUIREMENTS}  # "bör" stored as "bor"
    as_json = api.requirements(json=REQUIREMENTS[:2])
    assert as_json.status_code == 201, as_json.text
    lists = [e["data"] for e in api.get()["evidence"] if e["kind"] == "acceptance_requirements"]
    assert lists == [{"requirements": REQUIREMENTS}, {"requirements": REQUIREMENTS[:2]}]


@pytest.mark.parametrize(
    ("body", "line"),
    [
        ("id;text\nK1;Inloggning;ska\n", "rad 1"),  # the level column is missing
        ("id;text;level\nK1;Inloggning;ska\nK2;Export;kanske\n", "rad 3"),  # no such level
        ("id;text;level\nK1;Inloggning;ska\nK2;;ska\nK3;Mörkt läge;bör\n", "rad 3"),
    ],
)
def test_malformed_csv_names_the_line_and_writes_nothing__5_4_5(
    api: Api, db: Database, body: str, line: str
) -> None:
    before, before_case = counts(db), case_state(db, api.case_id)
    problem = assert_problem(api.requirements(body), 422)
    assert problem["type"] == "urn:upphandla:problem:evidence_invalid"
    assert [e["path"] for e in problem["errors"]] == [line]
    assert (counts(db), case_state(db, api.case_id)) == (before, before_case)


def test_round_before_supplier_ready_is_refused__9_2_5(api: Api, db: Database) -> None:
    assert api.requirements(CSV).status_code == 201
    before = counts(db)
    body = assert_problem(api.evidence("acceptance_round", round_of(*["godkand"] * 3)), 409)
    assert body["type"] == "urn:upphandla:problem:evidence_refused"
    assert [(r["gate"], r["source"]) for r in body["reasons"]] == [
        ("supplier_ready_before_testing", "§ 9.2.5")
    ]
    assert counts(db) == before


@pytest.mark.parametrize(
    "data",
    [
        {**K2_FAILED, "waived": True},
        {
            "results": [
                {"id": "K1", "result": "godkand"},
                {"id": "K2", "result": "underkand", "waived": True},
            ]
        },
        round_of("godkand", "waived", "godkand"),
        round_of("godkand", "undantagen", "godkand"),
    ],
    ids=["waived-field", "waived-on-result", "result-waived", "result-undantagen"],
)
def test_a_round_cannot_waive_a_skakrav__9_2_5(api: Api, db: Database, data: Any) -> None:
    api.ready_with_failed_skakrav()
    before = counts(db)
    body = assert_problem(api.evidence("acceptance_round", data), 422)
    assert body["type"] == "urn:upphandla:problem:evidence_invalid"
    assert counts(db) == before
    assert_problem(api.fire("approve_acceptance"), 409)


def test_failed_skakrav_blocks_approval__9_2_5(api: Api, db: Database) -> None:
    api.ready_with_failed_skakrav()
    before = counts(db)
    for comment in (None, "Skakravet K2 efterges"):
        body = assert_problem(api.fire("approve_acceptance", comment=comment), 409)
        assert body["type"] == "urn:upphandla:problem:transition_refused"
        reason, signoff = body["reasons"]
        assert (reason["gate"], reason["source"]) == (
            "all_skakrav_passed",
            "§ 5.4.5, § 9.2.5, § 10.6.2",
        )
        assert "K2" in reason["message"] and "K1" not in reason["message"]
        # The sign-off was given before the round that failed K2.
        assert (signoff["gate"], signoff["source"]) == (
            "objektledare_signoff_for_systems",
            "§ 9.2.5",
        )
    # Only the beställare approves; no other way out of the phase but ending the contract.
    assert_problem(api.fire("approve_acceptance", "objektledare_it"), 403)
    for trigger, role in (
        ("go_live", "bestallare"),
        ("go_live", "objektledare_it"),
        ("start_exit", "upphandlare"),
        ("close_case", "upphandlare"),
    ):
        body = assert_problem(api.fire(trigger, role), 409)
        assert body["type"] == "urn:upphandla:problem:trigger_not_available"
    cancel = api.fire("cancel", "upphandlare", "Leveransen håller inte")
    assert assert_problem(cancel, 409)["type"] == "urn:upphandla:problem:trigger_not_available"
    assert counts(db) == before
    assert case_state(db, api.case_id)[0] == "acceptanstest"
    steps = {s["trigger"]: s["ready"] for s in api.get()["next_steps"]}
    assert steps == {"approve_acceptance": False, "end_contract": True}


@pytest.mark.parametrize(
    "later",
    [
        round_of("godkand", "ej_testad", "godkand"),
        {"results": [{"id": "K1", "result": "godkand"}, {"id": "K3", "result": "godkand"}]},
    ],
    ids=["not-tested", "left-out"],
)
def test_a_skakrav_not_passed_in_the_latest_round_still_blocks__10_6_2(
    api: Api, later: dict[str, Any]
) -> None:
    api.ready_with_failed_skakrav()
    api.record("acceptance_round", later, "objektledare_it")
    api.record("acceptance_signoff_objektledare", {"comment": "OK"}, "objektledare_it")
    body = assert_problem(api.fire("approve_acceptance"), 409)
    assert [r["gate"] for r in body["reasons"]] == ["all_skakrav_passed"]
    assert "K2" in body["reasons"][0]["message"]


@pytest.mark.parametrize(
    "new_list",
    [
        [REQUIREMENTS[0], {**REQUIREMENTS[1], "level": "bor"}, REQUIREMENTS[2]],
        [REQUIREMENTS[0], REQUIREMENTS[2]],
    ],
    ids=["downgraded", "dropped"],
)
def test_failed_skakrav_cannot_be_waived_by_rewriting_the_list__5_4_5(
    api: Api, db: Database, new_list: Any
) -> None:
    """Importing a new list after K2 failed, with K2 made a börkrav or left out, is a waiver by
    another name: the import is refused, saying what it would change, and K2 still has to pass
    before approval."""
    api.ready_with_failed_skakrav()
    before = counts(db)
    body = assert_problem(api.requirements(json=new_list), 409)
    assert body["type"] == "urn:upphandla:problem:evidence_refused"
    [reason] = body["reasons"]
    assert (reason["gate"], reason["source"]) == (
        "requirement_list_kept_while_testing",
        "§ 5.4.5, § 9.2.5, § 10.6.2",
    )
    assert "K2" in reason["message"]
    waived = {"removed": ["K2"]} if len(new_list) == 2 else {"lowered": ["K2"]}
    assert body["changes"] == {
        **{"added": [], "removed": [], "raised": [], "lowered": [], "reworded": []},
        **waived,
    }
    # The same list recorded as plain evidence is refused the same way.
    direct = assert_problem(
        api.evidence("acceptance_requirements", {"requirements": new_list}), 409
    )
    assert [r["gate"] for r in direct["reasons"]] == ["requirement_list_kept_while_testing"]
    assert counts(db) == before
    approved = api.fire("approve_acceptance")
    assert approved.status_code == 409, approved.text
    assert case_state(db, api.case_id)[0] == "acceptanstest"


def test_new_round_with_every_skakrav_passed_approves__9_2_5(api: Api, db: Database) -> None:
    assert api.requirements(CSV).status_code == 201
    api.record("supplier_ready", evidence_data("supplier_ready"), "upphandlare")
    second = round_of("godkand", "godkand", "underkand")  # only the börkrav fails
    api.record("acceptance_round", K2_FAILED)
    assert_problem(api.fire("approve_acceptance"), 409)
    api.record("acceptance_round", second, "objektledare_it")

    # A failed börkrav alone does not block; for a system the objektledare must still sign off.
    body = assert_problem(api.fire("approve_acceptance"), 409)
    assert [r["gate"] for r in body["reasons"]] == ["objektledare_signoff_for_systems"]
    api.record("acceptance_signoff_objektledare", {"comment": "Godkänt"}, "objektledare_it")
    approved = api.fire("approve_acceptance")
    assert approved.status_code == 200, approved.text
    assert approved.json()["to_state"] == "inforande"
    assert case_state(db, api.case_id)[0] == "inforande"

    audit = api.get("/audit")["events"]
    rounds = [
        e
        for e in audit
        if e["action"] == "evidence_recorded" and e["evidence"]["kind"] == "acceptance_round"
    ]
    assert [(e["evidence"]["data"], e["role"]) for e in rounds] == [
        (K2_FAILED, "bestallare"),
        (second, "objektledare_it"),
    ]
    last = audit[-1]
    assert (last["action"], last["trigger"], last["to_state"]) == (
        "transition",
        "approve_acceptance",
        "inforande",
    )
    assert rounds[0]["seq"] < rounds[1]["seq"] < last["seq"]
    assert {g["gate"]: g["ok"] for g in last["gates"]} == {
        "all_skakrav_passed": True,
        "objektledare_signoff_for_systems": True,
    }


def test_end_contract_needs_a_comment_and_leads_to_avslut__10_6_2(api: Api, db: Database) -> None:
    api.ready_with_failed_skakrav()
    problem = assert_problem(api.fire("end_contract", "upphandlare"), 422)
    assert problem["type"] == "urn:upphandla:problem:comment_required"
    assert_problem(api.fire("end_contract", "bestallare", "Hävs"), 403)
    assert case_state(db, api.case_id)[0] == "acceptanstest"

    ended = api.fire("end_contract", "upphandlare", "K2 underkänt; avtalet hävs")
    assert ended.status_code == 200, ended.text
    assert (ended.json()["from_state"], ended.json()["to_state"]) == ("acceptanstest", "avslut")
    assert case_state(db, api.case_id)[0] == "avslut"
    assert api.get("/audit")["events"][-1]["comment"] == "K2 underkänt; avtalet hävs"


# -- consistency of the acceptance data (§ 5.4.5, § 9.2.5) ---------------------------------------


def test_a_round_naming_requirements_not_in_the_list_is_refused__5_4_5(
    api: Api, db: Database
) -> None:
    assert api.requirements(CSV).status_code == 201
    api.record("supplier_ready", evidence_data("supplier_ready"), "upphandlare")
    before = counts(db)
    typo = {"results": [*K2_FAILED["results"], {"id": "K9", "result": "godkand"}]}
    body = assert_problem(api.evidence("acceptance_round", typo), 409)
    assert body["type"] == "urn:upphandla:problem:evidence_refused"
    [reason] = body["reasons"]
    assert (reason["gate"], reason["source"]) == ("round_names_known_requirements", "§ 5.4.5")
    assert "Kravnummer som inte finns i kravlistan: K9." in reason["message"]
    # What to do: correct the round, or import a list that has the requirement.
    assert [e["kind"] for e in reason["evidence"]] == [
        "acceptance_round",
        "acceptance_requirements",
    ]
    assert counts(db) == before

    recorded = api.evidence("acceptance_round", K2_FAILED)
    assert recorded.status_code == 201, recorded.text


def test_an_objektledare_signoff_before_a_failed_round_does_not_count__9_2_5(
    api: Api, db: Database
) -> None:
    with frozen("2026-03-09 10:00:00"):
        api.ready_with_failed_skakrav()  # signed off, then K2 failed in round 1
    api.record("acceptance_round", round_of("godkand", "godkand", "godkand"), "objektledare_it")
    body = assert_problem(api.fire("approve_acceptance"), 409)
    [reason] = body["reasons"]
    assert (reason["gate"], reason["source"]) == ("objektledare_signoff_for_systems", "§ 9.2.5")
    assert "Godkännandet registrerades 2026-03-09, före testomgång nr 1" in reason["message"]
    assert "(K2)" in reason["message"]
    [need] = reason["evidence"]
    assert (need["kind"], need["roles"]) == ("acceptance_signoff_objektledare", ["objektledare_it"])
    assert case_state(db, api.case_id)[0] == "acceptanstest"

    api.record(
        "acceptance_signoff_objektledare", {"comment": "Godkänt efter åtgärd"}, "objektledare_it"
    )
    approved = api.fire("approve_acceptance")
    assert approved.status_code == 200, approved.text
    assert case_state(db, api.case_id)[0] == "inforande"


def test_a_list_may_grow_while_testing_and_the_answer_says_what_changed__5_4_5(
    api: Api, db: Database
) -> None:
    api.ready_with_failed_skakrav()
    grown = [
        {**REQUIREMENTS[0], "text": "Inloggning med tvåfaktor (BankID)"},
        REQUIREMENTS[1],
        {**REQUIREMENTS[2], "level": "ska"},
        {"id": "K4", "text": "Loggning av alla ändringar", "level": "bor"},
    ]
    imported = api.requirements(json=grown)
    assert imported.status_code == 201, imported.text
    assert imported.json()["changes"] == {
        "added": ["K4"],
        "removed": [],
        "raised": ["K3"],
        "lowered": [],
        "reworded": ["K1"],
    }
    assert imported.json()["notes"] == [
        "Ändringar mot gällande kravlista: tillagda krav: K4; börkrav som blir skakrav: K3; "
        "ändrad kravtext: K1."
    ]
    # The grown list is the one tested against: K4 must be tested, K3 is now a skakrav.
    api.record("acceptance_round", round_of("godkand", "godkand", "underkand"), "objektledare_it")
    api.record("acceptance_signoff_objektledare", {"comment": "OK"}, "objektledare_it")
    body = assert_problem(api.fire("approve_acceptance"), 409)
    [reason] = [r for r in body["reasons"] if r["gate"] == "all_skakrav_passed"]
    assert "godkända i senaste testomgången (nr 2): K3." in reason["message"]
    assert "testade i senaste testomgången (nr 2): K4." in reason["message"]
    last = round_of("godkand", "godkand", "godkand", "godkand")
    api.record("acceptance_round", last, "objektledare_it")
    api.record("acceptance_signoff_objektledare", {"comment": "OK"}, "objektledare_it")
    assert api.fire("approve_acceptance").status_code == 200


def test_before_testing_a_new_list_replaces_the_old_and_says_what_changed__5_4_5(
    api: Api, db: Database
) -> None:
    assert api.requirements(CSV).status_code == 201
    corrected = api.requirements(json=REQUIREMENTS[:2])
    assert corrected.status_code == 201, corrected.text
    assert corrected.json()["changes"]["removed"] == ["K3"]
    api.record("supplier_ready", evidence_data("supplier_ready"), "upphandlare")
    api.record("acceptance_round", round_of("godkand", "godkand"))
    api.record("acceptance_signoff_objektledare", {"comment": "OK"}, "objektledare_it")
    approved = api.fire("approve_acceptance")  # K3 is no longer in the list
    assert approved.status_code == 200, approved.text


def test_the_first_list_has_no_changes_and_plain_evidence_gets_the_note__5_4_5(api: Api) -> None:
    first = api.requirements(CSV)
    assert (first.json()["changes"], first.json()["notes"]) == (None, [])
    again = api.record("acceptance_requirements", {"requirements": REQUIREMENTS})
    assert again["notes"] == ["Ändringar mot gällande kravlista: inga ändringar."]


# -- the requirement checklist (phase 4) --------------------------------------------------------

CHECKLIST = {
    i["id"]: i for i in v1_gate("publish_tender", "requirement_set_complete")["params"]["items"]
}
SYSTEM_ITEMS = [
    "wcag_2_1_aa",
    "security_level",
    "encryption_2fa_traceability",
    "pub_instruction",
    "confidentiality",
    "exit_strategy",
    "sla",
    "crisis_clauses",
    "circular_element",
    "usability",
    "testability",
]
CRITICAL = {"citizen_facing": True, "critical_service": True, "personal_data": True}


def at_kravstallning(db: Database, users: dict[str, User], client: TestClient, **attrs: Any) -> Api:
    with frozen("2026-03-02 09:00:00"):
        case_id = start(db, users["bestallare"], **attrs)
        drive(db, case_id, "kravstallning", users)
    return Api(client, users, case_id)


def checklist(api: Api) -> dict[str, dict[str, Any]]:
    body = api.get("/checklist")
    assert body["gate"] == "requirement_set_complete"
    return {i["id"]: i for i in body["items"]}


def test_checklist_for_a_citizen_facing_critical_system__9_2_4(
    client: TestClient, users: dict[str, User], db: Database
) -> None:
    items = checklist(at_kravstallning(db, users, client, **CRITICAL))
    assert list(items) == list(CHECKLIST)
    assert [i for i, e in items.items() if e["applies"]] == SYSTEM_ITEMS
    for item in ("wcag_2_1_aa", "crisis_clauses", "pub_instruction", "encryption_2fa_traceability"):
        assert (items[item]["why"], items[item]["source"]) == (
            CHECKLIST[item]["why"],
            CHECKLIST[item]["source"],
        )
        assert items[item]["included"] is False
    assert items["wcag_2_1_aa"]["source"] == "§ 5.1.5, § 9.2.13"
    assert not items["equality"]["applies"] and not items["onsite_consultant_share"]["applies"]


def test_checklist_for_consultants__5_3_5(
    client: TestClient, users: dict[str, User], db: Database
) -> None:
    api = at_kravstallning(db, users, client, subcategory="IT-konsulter", cloud_service=False)
    applies = {i: e["applies"] for i, e in checklist(api).items()}
    assert applies["equality"] and applies["onsite_consultant_share"]
    assert not (applies["wcag_2_1_aa"] or applies["exit_strategy"] or applies["crisis_clauses"])


def test_publish_refused_per_missing_item_until_each_is_included__9_2_4(
    client: TestClient, users: dict[str, User], db: Database
) -> None:
    api = at_kravstallning(db, users, client, **CRITICAL)
    api.record("requirements_done", evidence_data("requirements_done"), "upphandlare")
    api.record("crisis_review_done", {"approved": True}, "sakerhet")
    for done, missing in ((0, SYSTEM_ITEMS), (len(SYSTEM_ITEMS) - 1, SYSTEM_ITEMS[-1:])):
        for item in SYSTEM_ITEMS[:done]:
            api.record(
                "requirement_included", {"item": item, "reference": "Bilaga 2"}, "upphandlare"
            )
        body = assert_problem(api.fire("publish_tender", "upphandlare"), 409)
        assert [(r["gate"], r["source"]) for r in body["reasons"]] == [
            ("requirement_set_complete", CHECKLIST[i]["source"]) for i in missing
        ]
        for reason, item in zip(body["reasons"], missing, strict=True):
            assert CHECKLIST[item]["title"] in reason["message"]
        assert case_state(db, api.case_id)[0] == "kravstallning"

    api.record(
        "requirement_included", {"item": SYSTEM_ITEMS[-1], "reference": "Bilaga 2"}, "upphandlare"
    )
    published = api.fire("publish_tender", "upphandlare")
    assert published.status_code == 200, published.text
    assert published.json()["to_state"] == "annonsering"
    assert all(e["included"] for e in checklist(api).values() if e["applies"])
