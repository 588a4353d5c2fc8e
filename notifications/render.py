"""Rendering without side effects: StrictUndefined, so a missing value fails loudly, and
autoescape for HTML."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

TEMPLATES = Path(__file__).resolve().parent / "templates"


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


@lru_cache(maxsize=1)
def _env() -> Environment:
    return Environment(
        loader=FileSystemLoader(TEMPLATES),
        undefined=StrictUndefined,
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
        keep_trailing_newline=True,
    )


def render(template: str, context: dict[str, Any], *, base_url: str) -> Rendered:
    """Render `<template>.subject.txt`, `.txt` and `.html` with the outbox row's context."""
    values = {**context, "base_url": base_url.rstrip("/")}
    env = _env()
    return Rendered(
        subject=env.get_template(f"{template}.subject.txt").render(values).strip(),
        text=env.get_template(f"{template}.txt").render(values),
        html=env.get_template(f"{template}.html").render(values),
    )
