"""Fixtures for the integration tests: seeded definitions, one user per role, and a client."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from helpers import User, load_seeds, make_client, make_users
from store.db import Database


@pytest.fixture
def users(db: Database) -> dict[str, User]:
    """The shipped definitions loaded, and one user (with a token) for every role."""
    load_seeds(db)
    return make_users(db)


@pytest.fixture
def client(db: Database, db_url: str, users: dict[str, User]) -> Iterator[TestClient]:
    with make_client(db, db_url) as c:
        yield c
