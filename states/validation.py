"""Swedish wording of validation errors, with the exact path of each."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import AfterValidator, Field, ValidationError


@dataclass(frozen=True, slots=True)
class Problem:
    path: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"path": self.path, "message": self.message}


_MESSAGES: dict[str, str] = {
    "missing": "fältet saknas",
    "extra_forbidden": "okänt fält",
    "string_type": "ska vara en text",
    "string_too_short": "är för kort",
    "string_too_long": "är för lång",
    "string_pattern_mismatch": "har fel format",
    "int_type": "ska vara ett heltal",
    "int_parsing": "ska vara ett heltal",
    "int_from_float": "ska vara ett heltal",
    "bool_type": "ska vara true eller false",
    "bool_parsing": "ska vara true eller false",
    "list_type": "ska vara en lista",
    "dict_type": "ska vara ett objekt",
    "model_type": "ska vara ett objekt",
    "model_attributes_type": "ska vara ett objekt",
    "date_type": "ska vara ett datum (ÅÅÅÅ-MM-DD)",
    "date_parsing": "ska vara ett datum (ÅÅÅÅ-MM-DD)",
    "date_from_datetime_parsing": "ska vara ett datum (ÅÅÅÅ-MM-DD)",
    "greater_than_equal": "är för litet",
    "greater_than": "är för litet",
    "less_than_equal": "är för stort",
    "less_than": "är för stort",
    "too_short": "har för få element",
    "too_long": "har för många element",
    "json_invalid": "är inte giltig JSON",
    "json_type": "är inte giltig JSON",
}


def format_path(loc: Sequence[Any]) -> str:
    """('triggers', 3, 'gates', 0, 'check') -> 'triggers[3].gates[0].check'."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "(roten)"


def _message(error: Any) -> str:
    kind = error["type"]
    if kind == "literal_error":
        expected = str(error.get("ctx", {}).get("expected", ""))
        return f"ska vara ett av: {expected.replace(' or ', ' eller ')}"
    if kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
        bound = next(iter(error.get("ctx", {}).values()), "")
        words = {
            "greater_than_equal": "ska vara minst",
            "greater_than": "ska vara större än",
            "less_than_equal": "ska vara högst",
            "less_than": "ska vara mindre än",
        }
        return f"{words[kind]} {bound}"
    if kind == "value_error":
        return str(error.get("ctx", {}).get("error", error["msg"]))
    return _MESSAGES.get(kind, "har ett ogiltigt värde")


def problems_from(exc: ValidationError, prefix: Iterable[Any] = ()) -> list[Problem]:
    return problems_from_errors(exc.errors(include_url=False), prefix)


def problems_from_errors(errors: Iterable[Any], prefix: Iterable[Any] = ()) -> list[Problem]:
    """Pydantic-style error dicts (also FastAPI's) as Swedish problems with exact paths."""
    base = list(prefix)
    return [Problem(path=format_path(base + list(e["loc"])), message=_message(e)) for e in errors]


# The one policy for control characters in text a client sends (free-text fields, identifiers,
# query parameters, the path): NUL and the other C0 controls except TAB, LF and CR, DEL, the C1
# controls, and lone surrogates (not text at all; neither UTF-8 nor PostgreSQL can hold them) are
# refused. PostgreSQL refuses NUL in text; the others have no place in what people write.
_REFUSED_CLASS = r"\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\ud800-\udfff"
_REFUSED = re.compile(f"[{_REFUSED_CLASS}]")
# The same, as a pattern in the OpenAPI description (ECMA-262 and Python read it alike).
TEXT_PATTERN = f"^[^{_REFUSED_CLASS}]*$"
CONTROL_CHARACTERS = "innehåller otillåtna styrtecken"


def has_control_characters(value: str) -> bool:
    """Whether `value` holds a character the policy above refuses."""
    return _REFUSED.search(value) is not None


def no_control_characters(value: str) -> str:
    """Refuse NUL and other control characters (tab and line breaks are text)."""
    if has_control_characters(value):
        raise ValueError(CONTROL_CHARACTERS)
    return value


# Every free-text field of a request: `Annotated[FreeText, Field(max_length=…)]`.
FreeText = Annotated[
    str, AfterValidator(no_control_characters), Field(json_schema_extra={"pattern": TEXT_PATTERN})
]
