"""GET /api/cases: filters on phase, subcategory and organisation; limit, offset and total."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from helpers import User, drive, start
from upphandla.store.db import Database

# (title, subcategory, organisation, phase to drive it to)
CASES = [
    ("Ekonomisystem", "Verksamhetssystem", "kommunstyrelsens_forvaltning", "behovsanalys"),
    ("Skoldatorer", "IT-hårdvara", "barn_och_utbildningsforvaltningen", "forstudie"),
    ("Trygghetslarm", "Välfärdsteknik", "socialforvaltningen", "forstudie"),
    ("Växel", "Telekommunikation", "kommunstyrelsens_forvaltning", "behovsanalys"),
    ("Verksamhetssystem för skolan", "Verksamhetssystem", "barn_och_utbildningsforvaltningen", "ssa"),
    ("Konsulter för integrationer", "IT-konsulter", "socialforvaltningen", "behovsanalys"),
]


@pytest.fixture
def ids(db: Database, users: dict[str, User]) -> dict[str, int]:
    made: dict[str, int] = {}
    for title, subcategory, organisation, phase in CASES:
        made[title] = start(
            db,
            users["upphandlare"],  # who may start cases for every organisation
            title=title,
            subcategory=subcategory,
            organisation=organisation,
        )
        # The cases belong to several organisations; the upphandlare may act on all of them.
        drive(db, made[title], phase, {**users, "bestallare": users["upphandlare"]})
    return made


def page(client: TestClient, user: User, **params: Any) -> dict[str, Any]:
    response = client.get("/api/cases", params=params, headers=user.headers)
    assert response.status_code == 200, response.text
    return response.json()


def titles(body: dict[str, Any]) -> list[str]:
    return [item["title"] for item in body["items"]]


def test_unfiltered_lists_all_in_id_order(
    client: TestClient, users: dict[str, User], ids: dict[str, int]
) -> None:
    body = page(client, users["controller"])
    assert body["total"] == len(CASES)
    assert (body["limit"], body["offset"]) == (50, 0)
    assert [i["id"] for i in body["items"]] == sorted(ids.values())
    first = body["items"][0]
    assert first["definition"] == {"key": "it-upphandling", "version": 1}
    assert {"id", "title", "organisation", "subcategory", "route", "state"} <= set(first)


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"state": "forstudie"}, ["Skoldatorer", "Trygghetslarm"]),
        ({"state": "ssa"}, ["Verksamhetssystem för skolan"]),
        ({"state": "avslutad"}, []),
        ({"subcategory": "Verksamhetssystem"}, ["Ekonomisystem", "Verksamhetssystem för skolan"]),
        ({"organisation": "socialforvaltningen"}, ["Trygghetslarm", "Konsulter för integrationer"]),
        (
            {"organisation": "barn_och_utbildningsforvaltningen", "state": "forstudie"},
            ["Skoldatorer"],
        ),
        ({"subcategory": "Verksamhetssystem", "state": "forstudie"}, []),
    ],
)
def test_filters(
    client: TestClient,
    users: dict[str, User],
    ids: dict[str, int],
    params: dict[str, Any],
    expected: list[str],
) -> None:
    body = page(client, users["controller"], **params)
    assert titles(body) == expected
    assert body["total"] == len(expected)
    for key, value in params.items():
        assert all(item[key] == value for item in body["items"])


def test_limit_and_offset_page_through_with_the_full_total(
    client: TestClient, users: dict[str, User], ids: dict[str, int]
) -> None:
    everything = [title for title, *_ in CASES]
    seen: list[str] = []
    for offset in range(0, len(CASES), 4):
        body = page(client, users["controller"], limit=4, offset=offset)
        assert body["total"] == len(CASES)
        assert (body["limit"], body["offset"]) == (4, offset)
        seen += titles(body)
    assert seen == everything

    middle = page(client, users["controller"], limit=2, offset=1)
    assert titles(middle) == everything[1:3]
    beyond = page(client, users["controller"], limit=2, offset=100)
    assert beyond["items"] == [] and beyond["total"] == len(CASES)
    filtered = page(client, users["controller"], state="behovsanalys", limit=1, offset=1)
    assert titles(filtered) == ["Växel"] and filtered["total"] == 3
