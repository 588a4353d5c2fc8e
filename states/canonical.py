"""Canonical JSON and SHA-256, the ways the engine turns data into text it hashes.

Audit events are written as JSON canonicalised by RFC 8785 (JCS), with `"format": 2` in the
event; events written before it (no `format`) are in the engine's first form, `canonical_json`
(sorted keys, no spaces, UTF-8 characters as they are). Either way an event's hash is SHA-256 of
its text exactly as stored, so it verifies without knowing how the text was made.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import rfc8785

EVENT_FORMAT = 2  # the `format` of events written now: RFC 8785


def canonical_json(obj: Any) -> str:
    """Sorted keys, no spaces, UTF-8 characters as they are (the first event format; also what
    definitions and request fingerprints are hashed as)."""
    return json.dumps(obj, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def event_json(obj: dict[str, Any]) -> str:
    """An audit event's text: `obj` with `"format": 2`, canonicalised by RFC 8785."""
    return rfc8785.dumps({**obj, "format": EVENT_FORMAT}).decode("utf-8")


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
