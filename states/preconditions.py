"""Conditional writes (RFC 9110 § 13.1.1): a case's entity tag is its row version, and an
If-Match header names the versions a change may be made on. Comparison is strong: a weak tag
never matches, and neither does anything that is not an entity tag (a malformed header)."""

from __future__ import annotations

import re
from dataclasses import dataclass

_TAG = re.compile(r'(W/)?"([\x21\x23-\x7e\x80-\xff]*)"')


def etag(version: int) -> str:
    """The strong entity tag of a case at this row version."""
    return f'"{version}"'


@dataclass(frozen=True)
class IfMatch:
    """What an If-Match header allows: any version (`*`), or the versions it names."""

    any_version: bool = False
    versions: frozenset[int] = frozenset()

    def holds(self, version: int) -> bool:
        return self.any_version or version in self.versions


def parse_if_match(value: str) -> IfMatch:
    """`*` or a comma-separated list of entity tags; anything else matches no version."""
    value = value.strip(" \t")
    if value == "*":
        return IfMatch(any_version=True)
    versions: set[int] = set()
    pos, end = 0, len(value)
    while True:
        while pos < end and value[pos] in " \t,":
            pos += 1
        if pos >= end:
            return IfMatch(versions=frozenset(versions))
        found = _TAG.match(value, pos)
        if found is None:
            return IfMatch()
        weak, opaque = found.groups()
        if not weak and opaque.isascii() and opaque.isdigit() and len(opaque) <= 18:
            versions.add(int(opaque))
        pos = found.end()
        while pos < end and value[pos] in " \t":
            pos += 1
        if pos < end and value[pos] != ",":
            return IfMatch()
