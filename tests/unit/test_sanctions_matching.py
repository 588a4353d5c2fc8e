"""How sanctions screening compares names (§ 10.11; EU reg. 833/2014 art. 5k), without a
database: the match key, the similarity score of transliteration variants, word order and
company forms, the threshold the definition sets, and that ordinary names are not flagged."""

from __future__ import annotations

from pathlib import Path

import pytest

from upphandla.flows.commands.sanctions import parse_sanctions_csv
from upphandla.seeds.loader import DEFINITIONS, SEEDS, read_yaml
from upphandla.states.checks_sanctions import ClearanceParams, SanctionsParams, SuppliersParams
from upphandla.states.examples import example_data
from upphandla.states.parse import parse_definition
from upphandla.states.sanctions import NameIndex, match_key, name_score, sorted_words

V1 = parse_definition(read_yaml(DEFINITIONS / "it-upphandling.v1.yaml"))
SAMPLE = Path(SEEDS / "sanctions" / "sample.csv")
LISTED = [e.name for e in parse_sanctions_csv(SAMPLE.read_text(encoding="utf-8"))]
MIN_SCORE = V1.trigger["sign_contract"].gates[-1].params_as(SanctionsParams).min_score


def score(a: str, b: str) -> int:
    return name_score(match_key(a), match_key(b))


def test_every_screening_in_the_definition_uses_one_threshold() -> None:
    """The award gates, the re-checks and the clearance compare names alike: a possible match
    that one of them finds is one the clearance can clear."""
    params = [
        g.params_as(SanctionsParams).min_score
        for t in V1.triggers
        for g in t.gates
        if g.check == "sanctions_clear"
    ]
    assert V1.reminders is not None
    for recheck in V1.reminders.rechecks:
        if recheck.check == "sanctions_clear":
            params.append(recheck.params_as(SanctionsParams).min_score)
        if recheck.check == "suppliers_not_sanctioned":
            params.append(recheck.params_as(SuppliersParams).min_score)
    [clearable] = V1.evidence_kind["sanctions_match_cleared"].gates
    params.append(clearable.params_as(ClearanceParams).min_score)
    assert len(params) == 7 and set(params) == {MIN_SCORE}
    assert 80 <= MIN_SCORE <= 95


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("OOO «Romashka»", "romashka"),
        ("Romashka, OOO", "romashka"),
        ("AO Romashka-Trading LLC", "romashka trading"),
        ("Romaška", "romaska"),  # a diacritic of a scholarly transliteration
        ("ROMASHKA Ltd.", "romashka"),
    ],
)
def test_match_key_drops_case_punctuation_accents_and_company_forms(name: str, key: str) -> None:
    assert match_key(name) == key


@pytest.mark.parametrize(
    ("party", "listed", "expected"),
    [
        # One letter more, less or changed, as transliteration systems differ (ISO 9, BGN/PCGN,
        # German, Polish): the example the rule was written for, and variants of the sample list.
        ("Romaschka AB", "OOO Romashka", 94),
        ("Romaska AB", "Romashka LLC", 93),
        ("Romaszka", "Romashka", 87),
        ("Severnaja Zvezda Trading", "OOO Severnaya Zvezda Trading", 95),
        ("Wymyschlennye Sistemy", "AO Vymyshlennye Sistemy", 92),
        ("Olga Primerowa", "Olga Primerova", 92),
        ("Sergej Ivanov", "Sergei Ivanov", 92),
        ("Aleksandr Petrov", "Alexander Petrov", 87),
        ("Gasprom", "Gazprom", 85),
        # The words in another order: the same words score 100.
        ("Fiktivov Ivan", "Ivan Fiktivov", 100),
        ("Zvezda Severnaya Trading AB", "OOO Severnaya Zvezda Trading", 100),
        # A first letter that moves the word elsewhere when the words are sorted.
        ("Centr Soft", "Tsentr Soft", 85),
    ],
)
def test_transliteration_variants_score_at_least_the_threshold(
    party: str, listed: str, expected: int
) -> None:
    assert score(party, listed) == expected
    assert score(listed, party) == expected  # the same both ways
    assert expected >= MIN_SCORE


@pytest.mark.parametrize(
    ("party", "listed"),
    [
        ("Dustin AB", "Destin Ltd"),  # two short names, one letter apart: other companies
        ("Olga Primerova", "Olga Petrova"),
        ("Ivan Petrov", "Ivan Ivanov"),
        ("Fiktiv Moln AB", "Fiktiv Moln Holding GmbH"),
        ("Nordic Data AB", "Nordic Data Trading LLC"),
        ("Underleverantören i Norden AB", "Fiktiv Underleverantör Rus OOO"),
        ("Lukojl", "Lukoil"),  # a changed letter in a six-letter name: below the threshold
    ],
)
def test_different_names_score_below_the_threshold(party: str, listed: str) -> None:
    assert score(party, listed) < MIN_SCORE


def test_a_one_letter_variant_and_the_reversed_words_of_every_sample_entry_are_found() -> None:
    index = NameIndex.of(match_key(n) for n in LISTED)
    swaps = [("sh", "sch"), ("ya", "ja"), ("y", "j"), ("v", "w")]
    for listed in LISTED:
        key = match_key(listed)
        old, new = next((a, b) for a, b in swaps if a in key)
        variant = key.replace(old, new, 1)
        reversed_words = " ".join(reversed(key.split()))
        for name in (variant, reversed_words):
            assert key in dict(index.similar(name, MIN_SCORE)), (name, listed)


def ordinary_names() -> list[str]:
    """Names of parties the definition's examples, the lifecycle path, the demo and the tests
    use for ordinary suppliers, and some other everyday company names."""
    names = {"Kommunens Lokala Leverantör AB", "Underleverantören i Norden AB", "Kapacitet AB"}
    names |= {"Helt Annat Namn AB", "Liten Konsult AB", "Driftpartner AB", "Nordisk Drift AB"}
    names |= {"Öresund AB", "Åsa Öberg AB", "Konsultbolaget i Mälardalen AB", "Nordic IT AB"}
    names |= {"Molntjänster Sverige AB", "Stadens Datacenter AB", "Systemhuset Norr AB"}
    for kind in V1.evidence_kinds:
        data = example_data(kind, V1.effective_from)
        for field in ("supplier", "winner"):
            if isinstance(data.get(field), str):
                names.add(data[field])
        names |= {p["name"] for p in data.get("parties", [])}
    return sorted(names)


def test_ordinary_supplier_names_are_not_flagged_against_the_sample_list() -> None:
    names = ordinary_names()
    assert {"Leverantören AB", "Nuvarande Leverantör AB"} <= set(names)
    index = NameIndex.of(match_key(n) for n in LISTED)
    flagged = {n: index.similar(match_key(n), MIN_SCORE) for n in names}
    assert {n: like for n, like in flagged.items() if like} == {}
    assert not {match_key(n) for n in names} & set(index.keys)  # nor exactly


def test_similar_finds_other_keys_best_first_and_at_most_the_limit() -> None:
    index = NameIndex.of(
        ["romashka", "romaschka", "romashko", "romashka trading", "severnaya zvezda", "romashka"]
    )
    assert index.keys == (
        "romaschka",
        "romashka",
        "romashka trading",
        "romashko",
        "severnaya zvezda",
    )
    # the key itself is an exact match, not a possible one
    assert index.similar("romashka", MIN_SCORE) == [("romaschka", 94), ("romashko", 87)]
    assert index.similar("romashka", MIN_SCORE, limit=1) == [("romaschka", 94)]
    assert index.similar("romashka", 95) == []
    assert index.similar("", MIN_SCORE) == []
    assert index.similar("zvezda severnaya", MIN_SCORE) == [("severnaya zvezda", 100)]


def test_sorted_words_and_empty_keys() -> None:
    assert sorted_words("zvezda severnaya trading") == "severnaya trading zvezda"
    assert name_score("", "romashka") == 0
    assert NameIndex.of(["", "a"]).keys == ("a",)
