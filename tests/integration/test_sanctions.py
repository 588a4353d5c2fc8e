"""Sanctions lists (§ 10.11, EU 833/2014 art. 5k): reading the file, loading it, screening the
parties of a case against the current list, and `upphandla sanctions load/show`."""

from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path

import pytest
from freezegun import freeze_time
from sqlalchemy import func, select
from typer.testing import CliRunner, Result

from helpers import orm_session, run
from upphandla.cli.sanctions import sanctions_app
from upphandla.flows.commands.sanctions import (
    LoadResult,
    LoadSanctionsList,
    SanctionsFileError,
    decode_sanctions_file,
    parse_sanctions_csv,
)
from upphandla.flows.registry import Registry
from upphandla.flows.settings import get_settings
from upphandla.states.sanctions import POSSIBLE_PER_NAME, match_key
from upphandla.store.db import Database
from upphandla.store.models import SanctionsEntryRow, SanctionsListRow
from upphandla.store.sanctions import _INDEXES, Hit
from upphandla.store.uow import UnitOfWork

SAMPLE = Path(__file__).resolve().parents[2] / "seeds" / "sanctions" / "sample.csv"
SUBCONTRACTOR = "Fiktiv Underleverantör Rus OOO"


def sample_text() -> str:
    return SAMPLE.read_bytes().decode("utf-8")


def load(db: Database, text: str, list_date: date, source: str = "test.csv") -> LoadResult:
    return run(db, LoadSanctionsList(text=text, source=source, list_date=list_date))


def screened(
    db: Database,
    names: list[str],
    ids: list[str | None] | None = None,
    min_score: int | None = None,
) -> list[Hit]:
    with UnitOfWork(db, write=False) as uow:
        return uow.sanctions.screen(names, ids, min_score)


def count(db: Database, model: type[SanctionsListRow] | type[SanctionsEntryRow]) -> int:
    with orm_session(db, commit=False) as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def cli(db_url: str, *args: str) -> Result:
    get_settings.cache_clear()
    try:
        return CliRunner().invoke(sanctions_app, list(args), env={"UPPHANDLA_DATABASE_URL": db_url})
    finally:
        get_settings.cache_clear()


# -- match_key -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("OOO Romashka", "romashka"),
        ("Romashka LLC", "romashka"),
        ("ROMASHKA, Ltd.", "romashka"),
        ("  Severnaya   Zvezda-Trading  ", "severnaya zvezda trading"),
        (SUBCONTRACTOR, "fiktiv underleverantor rus"),
        ("Nordisk Drift Aktiebolag", "nordisk drift"),
        ("AB Nordisk Drift Oy", "nordisk drift"),
        ("ZAO Pridumka GmbH Ltd", "pridumka"),
        ("Straße GmbH", "strasse"),
        ("Åsa Öberg AB", "asa oberg"),  # "åsa" is a name, not the form ASA
        ("Sa Consulting Sa", "consulting"),
        ("AB", "ab"),
        ("Holding Ltd Romashka", "holding ltd romashka"),  # only at the start or the end
    ],
)
def test_match_key_normalises_names(name: str, key: str) -> None:
    assert match_key(name) == key


# -- parsing -------------------------------------------------------------------------------------


def test_parses_comma_separated_with_quoted_delimiter() -> None:
    entries = parse_sanctions_csv(
        'name,identifier,country,reference\n"Gruppa, JSC",RU-1,RU,R-1\nIvan Fiktivov,,RU,\n'
    )
    assert [(e.line, e.name, e.match_key) for e in entries] == [
        (2, "Gruppa, JSC", "gruppa"),
        (3, "Ivan Fiktivov", "ivan fiktivov"),
    ]
    assert (entries[0].identifier, entries[0].country, entries[0].reference) == (
        "RU-1",
        "RU",
        "R-1",
    )
    assert (entries[1].identifier, entries[1].reference) == (None, None)


def test_parses_semicolons_with_bom_extra_columns_and_blank_lines() -> None:
    text = "\ufeffReference;Name;Program\r\nR-1;OOO Romashka;x\r\n\r\nR-2;Ivan, Fiktivov;y\r\n"
    entries = parse_sanctions_csv(text)
    assert [(e.line, e.name, e.reference) for e in entries] == [
        (2, "OOO Romashka", "R-1"),
        (4, "Ivan, Fiktivov", "R-2"),
    ]
    assert entries[0].match_key == "romashka"
    assert entries[0].identifier is None


def test_the_shipped_sample_parses() -> None:
    entries = parse_sanctions_csv(sample_text())
    assert len(entries) == 10
    assert SUBCONTRACTOR in [e.name for e in entries]
    assert all(e.country == "RU" for e in entries)


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        ("identifier,country\n1,RU\n", 1, "'name'"),
        ("name,identifier\nOOO Romashka,1\n,2\n", 3, "namn saknas"),
        ("name;identifier\nOOO Romashka;1\n  ;2\n", 3, "namn saknas"),
        ("name,identifier\nA,1\nB,2\nC,3,x\n", 4, "3 fält"),
        ("name\n---\n", 2, "inga bokstäver"),
        ("name,name\nA,A\n", 1, "två gånger"),
        ("", 1, "tom"),
        ("name,identifier\n", 2, "saknar poster"),
        ('name\nA\n"B"x\n', 3, "felaktig CSV"),
        ("name,reference\nA," + "r" * 201 + "\n", 2, "200 tecken"),
    ],
)
def test_a_bad_file_is_refused_naming_the_line(text: str, line: int, fragment: str) -> None:
    with pytest.raises(SanctionsFileError) as caught:
        parse_sanctions_csv(text)
    assert caught.value.line == line
    assert str(caught.value).startswith(f"rad {line}: ")
    assert fragment in str(caught.value)


def test_a_file_that_is_not_utf8_is_refused_naming_the_line() -> None:
    with pytest.raises(SanctionsFileError, match="rad 2: .*UTF-8"):
        decode_sanctions_file("name\nÖresund AB\n".encode("latin-1"))


# -- loading and screening -----------------------------------------------------------------------


def test_nothing_is_screened_before_a_list_is_loaded(db: Database) -> None:
    assert screened(db, [SUBCONTRACTOR]) == []
    with UnitOfWork(db, write=False) as uow:
        assert uow.sanctions.current() is None


def test_load_stores_the_list_and_screening_finds_name_variants(db: Database) -> None:
    text = sample_text()
    result = load(db, text, date(2026, 11, 20), source="sample.csv")
    assert not result.already_loaded
    row = result.sanctions_list
    checksum = hashlib.sha256(SAMPLE.read_bytes()).hexdigest()
    assert (row.list_date, row.checksum, row.entries, row.source) == (
        date(2026, 11, 20),
        checksum,
        10,
        "sample.csv",
    )
    assert count(db, SanctionsEntryRow) == 10

    parties = [
        "Kommunens Lokala Leverantör AB",
        "FIKTIV UNDERLEVERANTOR RUS",
        "Fiktiv Underleverantör Rus, LLC",
        "Fiktiv Underleverantör",
        "ivan  fiktivov",
    ]
    hits = screened(db, parties)
    assert hits == [
        Hit(parties[1], SUBCONTRACTOR, "EXEMPEL-833-2014-004", date(2026, 11, 20), checksum),
        Hit(parties[2], SUBCONTRACTOR, "EXEMPEL-833-2014-004", date(2026, 11, 20), checksum),
        Hit(parties[4], "Ivan Fiktivov", "EXEMPEL-833-2014-002", date(2026, 11, 20), checksum),
    ]


def test_screening_with_a_threshold_also_finds_similar_names_and_says_how(db: Database) -> None:
    load(db, sample_text(), date(2026, 11, 20))
    parties = [
        "Leverantören AB",  # an ordinary supplier: nothing
        "Fiktiv Underleverantör",  # a word short of a listed name
        "Olga Primerowa",  # one letter transliterated otherwise
        "Zvezda Severnaya Trading AB",  # the words in another order
        "Helt Annat Namn AB",  # the identifier of a listed entity
        "Ivan Fiktivov",  # the same name
    ]
    hits = screened(db, parties, [None, None, None, None, "RU-FIKT-0000003", None], 85)
    assert [(h.party, h.listed_name, h.match, h.score) for h in hits] == [
        (parties[1], SUBCONTRACTOR, "possible", 91),
        (parties[2], "Olga Primerova", "possible", 92),
        (parties[3], "OOO Severnaya Zvezda Trading", "possible", 100),
        (parties[4], "AO Vymyshlennye Sistemy", "identifier", None),
        (parties[5], "Ivan Fiktivov", "exact", None),
    ]
    assert hits[1].reference == "EXEMPEL-833-2014-007"
    # Without a threshold only the identifier and the same name count.
    assert [
        h.party for h in screened(db, parties, [None, None, None, None, "RU-FIKT-0000003", None])
    ] == [
        parties[4],
        parties[5],
    ]
    # A stricter threshold drops the weaker ones.
    assert [h.party for h in screened(db, parties, None, 92)] == parties[2:4] + [parties[5]]


def test_screening_matches_on_identifier_when_both_sides_have_one(db: Database) -> None:
    load(db, sample_text(), date(2026, 11, 20))
    hits = screened(
        db,
        ["Helt Annat Namn AB", "Olga Primerova", "Ännu Ett Namn AB", "Tredje Namnet AB"],
        ["rufikt-0000003", None, "", "SE556000-0000"],
    )
    assert [(h.party, h.listed_name) for h in hits] == [
        ("Helt Annat Namn AB", "AO Vymyshlennye Sistemy"),
        ("Olga Primerova", "Olga Primerova"),  # by name; her entry has no identifier
    ]
    # a name and an identifier that both point at the same entry give one hit
    both = screened(db, [SUBCONTRACTOR], ["RU-FIKT-0000004"])
    assert [h.listed_name for h in both] == [SUBCONTRACTOR]
    with pytest.raises(ValueError):
        screened(db, ["A", "B"], ["1"])


def test_loading_the_same_file_again_changes_nothing(db: Database) -> None:
    first = load(db, sample_text(), date(2026, 11, 20))
    again = load(db, sample_text(), date(2026, 12, 1))
    assert again.already_loaded
    assert again.sanctions_list.id == first.sanctions_list.id
    assert again.sanctions_list.list_date == date(2026, 11, 20)
    assert (count(db, SanctionsListRow), count(db, SanctionsEntryRow)) == (1, 10)


def test_nothing_is_stored_unless_the_caller_commits(db: Database) -> None:
    with UnitOfWork(db) as uow:
        command = LoadSanctionsList(text=sample_text(), source="x", list_date=date(2026, 1, 1))
        command.handle(uow, Registry())
    assert (count(db, SanctionsListRow), count(db, SanctionsEntryRow)) == (0, 0)


def test_the_list_with_the_latest_date_is_screened_against(db: Database) -> None:
    old = "name,reference\nOOO Romashka,OLD-1\nIvan Fiktivov,OLD-2\n"
    new = "name;reference\nRomashka LLC;NEW-1\nOlga Primerova;NEW-2\n"
    older = "name,reference\nIvan Fiktivov,OLDER-1\n"
    load(db, old, date(2026, 1, 1))
    assert [h.reference for h in screened(db, ["Ivan Fiktivov"])] == ["OLD-2"]
    load(db, new, date(2026, 2, 1))
    hits = screened(db, ["Romashka", "Ivan Fiktivov", "Olga Primerova"])
    assert [(h.party, h.reference, h.list_date) for h in hits] == [
        ("Romashka", "NEW-1", date(2026, 2, 1)),
        ("Olga Primerova", "NEW-2", date(2026, 2, 1)),
    ]
    load(db, older, date(2025, 12, 1))  # loaded last, but dated earlier: not current
    assert [h.reference for h in screened(db, ["Ivan Fiktivov", "Olga Primerova"])] == ["NEW-2"]
    same_day = "name,reference\nIvan Fiktivov,SAME-1\n"
    load(db, same_day, date(2026, 2, 1))  # of equal dates, the one loaded last
    assert [h.reference for h in screened(db, ["Ivan Fiktivov", "Olga Primerova"])] == ["SAME-1"]
    # Similar names too are looked for in the current list only.
    assert [(h.reference, h.match) for h in screened(db, ["Iwan Fiktivov"], None, 85)] == [
        ("SAME-1", "possible")
    ]
    load(db, "name,reference\nOlga Primerova,LATER-1\n", date(2026, 3, 1))
    assert screened(db, ["Iwan Fiktivov"], None, 85) == []
    assert [h.reference for h in screened(db, ["Olga Primerowa"], None, 85)] == ["LATER-1"]


def test_a_list_of_100000_entries_loads(db: Database) -> None:
    lines = ["name,identifier,country,reference"]
    lines += [f"Fiktivt Bolag {i} OOO,RU-{i:07d},RU,REF-{i}" for i in range(100_000)]
    result = load(db, "\n".join(lines) + "\n", date(2026, 11, 20))
    assert result.sanctions_list.entries == 100_000
    assert count(db, SanctionsEntryRow) == 100_000
    hits = screened(
        db, ["Fiktivt Bolag 99999 LLC", "Annat", "Fiktivt Bolag"], [None, "RU-0050000", None]
    )
    assert [(h.party, h.listed_name) for h in hits] == [
        ("Fiktivt Bolag 99999 LLC", "Fiktivt Bolag 99999 OOO"),
        ("Annat", "Fiktivt Bolag 50000 OOO"),
    ]
    # Screening for similar names too: the list's names are read once and kept by checksum.
    parties = ["Fiktivt Bolag 99999 LLC", "Romashka AB", "Fiktivt Bolg 4242"]
    fuzzy = screened(db, parties, None, 85)
    assert result.sanctions_list.checksum in _INDEXES
    assert len(_INDEXES[result.sanctions_list.checksum].keys) == 100_000
    first = [h for h in fuzzy if h.party == parties[0]]
    assert (first[0].listed_name, first[0].match) == ("Fiktivt Bolag 99999 OOO", "exact")
    # Its neighbours ("fiktivt bolag 99998", ...) are possible matches, at most ten, best first.
    assert 1 <= len(first) - 1 <= POSSIBLE_PER_NAME
    assert all(h.match == "possible" and (h.score or 0) >= 85 for h in first[1:])
    assert [h.score for h in first[1:]] == sorted((h.score for h in first[1:]), reverse=True)
    assert [h.party for h in fuzzy if h.party != parties[0]][0] == parties[2]
    assert "Fiktivt Bolag 4242 OOO" in [h.listed_name for h in fuzzy if h.party == parties[2]]


# -- the command line ----------------------------------------------------------------------------


def test_cli_show_without_a_list(db_url: str) -> None:
    result = cli(db_url, "show")
    assert result.exit_code == 0, result.output
    assert "Ingen sanktionslista är inläst" in result.stdout


def test_cli_load_and_show(db: Database, db_url: str) -> None:
    checksum = hashlib.sha256(SAMPLE.read_bytes()).hexdigest()
    result = cli(db_url, "load", str(SAMPLE), "--date", "2026-11-20")
    assert result.exit_code == 0, result.output
    assert "Sanktionslistan är inläst" in result.stdout
    assert "datum 2026-11-20" in result.stdout
    assert "10 poster" in result.stdout
    assert checksum in result.stdout
    assert [h.listed_name for h in screened(db, [SUBCONTRACTOR])] == [SUBCONTRACTOR]

    shown = cli(db_url, "show")
    assert shown.exit_code == 0, shown.output
    assert f"datum 2026-11-20, 10 poster, kontrollsumma {checksum}" in shown.stdout
    assert str(SAMPLE) in shown.stdout

    again = cli(db_url, "load", str(SAMPLE), "--date", "2026-12-01")
    assert again.exit_code == 0, again.output
    assert "redan inläst" in again.stdout
    assert count(db, SanctionsListRow) == 1


def test_cli_load_of_an_older_list_says_the_newer_one_is_still_used(
    db: Database, db_url: str, tmp_path: Path
) -> None:
    assert cli(db_url, "load", str(SAMPLE), "--date", "2026-11-20").exit_code == 0
    older = tmp_path / "aldre.csv"
    older.write_text("name\nOOO Romashka\n", encoding="utf-8")
    result = cli(db_url, "load", str(older), "--date", "2026-01-15")
    assert result.exit_code == 0, result.output
    assert "datum 2026-01-15, 1 poster" in result.stdout
    assert "fortfarande den nyare listan daterad 2026-11-20" in result.stdout
    assert screened(db, ["Romashka"]) == []


def test_cli_load_dates_the_list_today_by_default(db: Database, db_url: str) -> None:
    with freeze_time("2026-03-09 23:30:00+00:00"):  # already 10 March in Stockholm
        result = cli(db_url, "load", str(SAMPLE))
    assert result.exit_code == 0, result.output
    assert "datum 2026-03-10" in result.stdout
    with UnitOfWork(db, write=False) as uow:
        row = uow.sanctions.current()
        assert row is not None and row.list_date == date(2026, 3, 10)


def test_cli_load_refuses_a_bad_file(db: Database, db_url: str, tmp_path: Path) -> None:
    bad = tmp_path / "lista.csv"
    bad.write_text("name;identifier\nOOO Romashka;1\n;2\n", encoding="utf-8")
    result = cli(db_url, "load", str(bad), "--date", "2026-11-20")
    assert result.exit_code != 0
    assert "rad 3" in result.output
    assert "inte inläst" in result.output
    assert count(db, SanctionsListRow) == 0

    missing = cli(db_url, "load", str(tmp_path / "saknas.csv"))
    assert missing.exit_code != 0
    assert "kan inte läsas" in missing.output

    bad_date = cli(db_url, "load", str(SAMPLE), "--date", "20/11/2026")
    assert bad_date.exit_code != 0
    assert "Ogiltigt datum" in bad_date.output
    assert count(db, SanctionsListRow) == 0
