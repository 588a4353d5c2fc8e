"""How sanctions screening compares names and identifiers (§ 10.11; EU reg. 833/2014 art. 5k).

A party is screened against every entry of the current list in three ways, strongest first:

- `identifier`: the same organisation number (or other identifier), where both have one;
- `exact`: the same match key (`match_key`: case, accents, punctuation and company-form words at
  the ends do not count);
- `possible`: a match key at least `min_score` (0–100) alike (`name_score`): a transliteration
  variant ("Romashka" / "Romaschka"), the words in another order, a letter more or less.

An identifier or exact match is a listed party. A possible match may be another party with a
similar name; someone has to look at it and say so (states.checks_sanctions).
"""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from upphandla.states.canonical import canonical_json

IDENTIFIER = "identifier"
EXACT = "exact"
POSSIBLE = "possible"
# How many possible matches one name reports at most, best first: enough to see what it is
# like, not the whole list for a name such as "Trading".
POSSIBLE_PER_NAME = 10

COMPANY_FORMS = frozenset(
    (
        "ab aktiebolag hb kb "  # Swedish
        "ltd limited llc inc plc gmbh oy as asa sa bv nv "  # others in Europe and beyond
        "ao oao ooo zao pao jsc"  # Russian, transliterated
    ).split()
)


def match_key(name: str) -> str:
    """The normalised form of a party name that screening compares.

    Case and accents are ignored, punctuation counts as space, and company-form words (AB, LLC,
    OOO, ...) at the start or end are dropped: "OOO Romashka" and "Romashka LLC" both give
    "romashka". A word is a company form only as written without accents ("Åsa" is a name, "ASA"
    a form). A name made only of such words keeps its last one.
    """
    folded = unicodedata.normalize("NFKC", name.casefold())
    words = "".join(ch if ch.isalnum() else " " for ch in folded).split()
    while len(words) > 1 and words[-1] in COMPANY_FORMS:
        words.pop()
    while len(words) > 1 and words[0] in COMPANY_FORMS:
        words.pop(0)
    plain = (_without_accents(word) for word in words)
    return " ".join(word for word in plain if word)


def _without_accents(word: str) -> str:
    decomposed = unicodedata.normalize("NFKD", word)
    return "".join(ch for ch in decomposed if ch.isalnum() and not unicodedata.combining(ch))


def identifier_key(identifier: str | None) -> str | None:
    """An identifier as compared and stored: letters and digits only, upper case, so that
    "556677-8899" and "5566778899" are the same. None when nothing is left."""
    if identifier is None:
        return None
    key = "".join(ch for ch in identifier.upper() if ch.isalnum())
    return key or None


def sorted_words(key: str) -> str:
    """A match key with its words in alphabetical order: "zvezda severnaya" -> "severnaya zvezda"."""
    return " ".join(sorted(key.split()))


def name_score(a: str, b: str) -> int:
    """How alike two match keys are, 0–100 (rounded down): the better of their similarity as
    written and with their words sorted (rapidfuzz `fuzz.ratio` and `fuzz.token_sort_ratio`,
    both the normalised Indel similarity: 100 minus the share of letters inserted or deleted).

    Sorting the words catches another word order ("Fiktivov Ivan"); the similarity as written
    catches a variant whose first letter changes the order of the words ("Tsentr Soft" /
    "Centr Soft"). Both count a missing or extra letter once and a changed letter twice, so a
    one-letter variant of a long name scores high and two short different names score low.
    """
    if not a or not b:
        return 0
    return int(max(fuzz.ratio(a, b), fuzz.ratio(sorted_words(a), sorted_words(b))))


@dataclass(frozen=True)
class NameIndex:
    """The distinct match keys of a list, prepared for finding the ones like a given key."""

    keys: tuple[str, ...]
    sorted_keys: tuple[str, ...]

    @classmethod
    def of(cls, keys: Iterable[str]) -> NameIndex:
        distinct = tuple(sorted({k for k in keys if k}))
        return cls(distinct, tuple(sorted_words(k) for k in distinct))

    def similar(
        self, key: str, min_score: int, limit: int = POSSIBLE_PER_NAME
    ) -> list[tuple[str, int]]:
        """The listed keys other than `key` itself that score at least `min_score` against it
        (`name_score`), best first (of equal scores, alphabetical), at most `limit`."""
        if not key:
            return []
        best: dict[int, float] = {}
        for query, choices in ((key, self.keys), (sorted_words(key), self.sorted_keys)):
            for _, score, index in process.extract(
                query, choices, scorer=fuzz.ratio, score_cutoff=min_score, limit=None
            ):
                best[index] = max(score, best.get(index, 0.0))
        found = [(self.keys[i], int(score)) for i, score in best.items() if self.keys[i] != key]
        found.sort(key=lambda pair: (-pair[1], pair[0]))
        return found[:limit]


def entries_digest(entries: Iterable[tuple[str, str | None, str | None, str | None]]) -> str:
    """SHA-256 of a list's entries as stored (name, identifier key, country, reference), in
    the order loaded: what the system chain records of a list, so that verification can tell
    an entry changed, added or removed behind the engine's back."""
    digest = hashlib.sha256()
    for entry in entries:
        digest.update(canonical_json(list(entry)).encode("utf-8") + b"\n")
    return digest.hexdigest()
