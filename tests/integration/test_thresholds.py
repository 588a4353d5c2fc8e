"""Threshold amounts in the store: the shipped amounts, entering a new period (`upphandla threshold
add`), and the weekly notice to the kategoriledare and administrators while the newest amount's
period has ended and the announced amount for the new period is not entered."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import text
from typer.testing import CliRunner, Result

from helpers import User, frozen, run
from upphandla.cli.thresholds import threshold_app
from upphandla.flows.commands.thresholds import EnterThreshold, LoadSeedThresholds
from upphandla.flows.handler import Handler
from upphandla.flows.jobs.sweep import run_sweep
from upphandla.flows.settings import get_settings
from upphandla.notifications.render import render
from upphandla.states.errors import Conflict, Invalid
from upphandla.store.db import Database
from upphandla.store.uow import UnitOfWork

# Announced for 2024–2025: 221 000 euro = 2 389 585 kr for a municipality's supplies and services.
EU_2024_SEK = 2_389_585


def notices(db: Database) -> list[dict[str, Any]]:
    with db.reader.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT recipients, context, dedupe_key FROM outbox "
                "WHERE template = 'threshold_stale' ORDER BY id"
            )
        ).all()
    return [
        {
            "to": json.loads(r[0]) if isinstance(r[0], str) else r[0],
            "ctx": json.loads(r[1]) if isinstance(r[1], str) else r[1],
            "key": r[2],
        }
        for r in rows
    ]


def new_period(**overrides: Any) -> dict[str, Any]:
    return {
        "series": "eu_goods_services",
        "from": "2026-01-01",
        "until": "2027-12-31",
        "amount_sek": 2_300_000,
        "source": "Tillkännagivande om tröskelvärden 2026–2027",
        **overrides,
    }


def test_the_shipped_amounts_are_in_the_store_once(db: Database, users: dict[str, User]) -> None:
    assert run(db, LoadSeedThresholds()) == []  # loaded with the definitions already
    with UnitOfWork(db, write=False) as uow:
        eu = uow.thresholds.series("eu_goods_services")
        direct = uow.thresholds.series("direct_award")
    assert [(e.amount_sek, str(e.effective_from), str(e.until)) for e in eu] == [
        (EU_2024_SEK, "2024-01-01", "2025-12-31")
    ]
    assert [(e.amount_sek, str(e.effective_from), e.until) for e in direct] == [
        (700_000, "2022-02-01", None)
    ]


def test_an_entered_amount_is_never_changed_and_a_period_is_entered_once(
    db: Database, users: dict[str, User]
) -> None:
    first = run(db, EnterThreshold(data=new_period(), entered_by="admin"))
    assert first.added
    again = run(db, EnterThreshold(data=new_period(), entered_by="admin"))
    assert not again.added
    with pytest.raises(Conflict) as changed:
        run(db, EnterThreshold(data=new_period(amount_sek=2_400_000), entered_by="admin"))
    assert changed.value.key == "threshold_overlaps"
    with pytest.raises(Conflict):
        run(db, EnterThreshold(data=new_period(**{"from": "2025-07-01"}), entered_by="admin"))
    with pytest.raises(Invalid):
        run(db, EnterThreshold(data=new_period(amount_sek="många"), entered_by="admin"))
    with UnitOfWork(db, write=False) as uow:
        amounts = [e.amount_sek for e in uow.thresholds.series("eu_goods_services")]
    assert amounts == [EU_2024_SEK, 2_300_000]


def test_while_no_amount_is_entered_for_the_new_period_the_category_lead_and_admin_hear_weekly(
    db: Database, users: dict[str, User]
) -> None:
    with frozen("2025-12-31 10:00:00"):  # the last day of the 2024–2025 period: nothing to say
        run_sweep(Handler.on(db))
    assert notices(db) == []
    with frozen("2026-01-01 10:00:00"):
        report = run_sweep(Handler.on(db))
    assert report.threshold_notices == 1
    [notice] = notices(db)
    assert notice["to"] == [
        "admin@example.se",
        "kategoriledare@example.se",
    ]  # tests/helpers.make_users
    assert notice["ctx"]["series"] == "eu_goods_services"
    assert "2025-12-31" in notice["ctx"]["note"]
    with frozen("2026-01-02 10:00:00"):  # the same week: not again
        assert run_sweep(Handler.on(db)).threshold_notices == 0
    with frozen("2026-01-08 10:00:00"):  # the next week: again
        assert run_sweep(Handler.on(db)).threshold_notices == 1
    run(db, EnterThreshold(data=new_period(), entered_by="admin"))
    with frozen("2026-01-15 10:00:00"):  # entered: silence
        assert run_sweep(Handler.on(db)).threshold_notices == 0
    assert len(notices(db)) == 2

    mail = render("threshold_stale", notices(db)[0]["ctx"], base_url="https://upphandla.example.se")
    assert mail.subject == "Tröskelvärde att lägga in: eu_goods_services"
    assert "upphandla threshold add eu_goods_services" in mail.text
    assert "Räkna aldrig om ett belopp i euro" in mail.text


def cli(db_url: str, *args: str) -> Result:
    get_settings.cache_clear()
    try:
        return CliRunner().invoke(threshold_app, list(args), env={"UPPHANDLA_DATABASE_URL": db_url})
    finally:
        get_settings.cache_clear()


def test_the_command_line_enters_and_lists_amounts(
    db: Database, db_url: str, users: dict[str, User]
) -> None:
    with frozen("2026-11-29 10:00:00"):
        listed = cli(db_url, "list")
    assert listed.exit_code == 0, listed.output
    assert "2024-01-01–2025-12-31  2\u00a0389\u00a0585 kr" in listed.output
    assert "Obs: Det senast inlagda beloppet" in listed.output
    added = cli(
        db_url,
        "add",
        "eu_goods_services",
        "--amount",
        "2300000",
        "--from",
        "2026-01-01",
        "--until",
        "2027-12-31",
        "--source",
        "Tillkännagivande",
    )
    assert added.exit_code == 0, added.output
    assert (
        "Inlagt: eu_goods_services 2\u00a0300\u00a0000 kr för 2026-01-01–2027-12-31."
        in added.output
    )
    overlapping = cli(
        db_url,
        "add",
        "eu_goods_services",
        "--amount",
        "1",
        "--from",
        "2027-01-01",
        "--source",
        "x",
    )
    assert overlapping.exit_code == 2
    assert "Perioden är redan inlagd" in overlapping.output
    with frozen("2026-11-29 10:00:00"):
        relisted = cli(db_url, "list")
    assert "Obs:" not in relisted.output
