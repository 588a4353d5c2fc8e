"""How sanctions screening compares names and identifiers (§ 10.11; EU reg. 833/2014 art. 5k)."""

from __future__ import annotations

import unicodedata

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
