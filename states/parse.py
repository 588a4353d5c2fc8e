"""Turning raw data (from YAML or the database) into a process definition that can be used."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from upphandla.states.definition import Definition, DefinitionError
from upphandla.states.definition_checks import consistency_problems
from upphandla.states.validation import Problem, problems_from


def parse_definition(data: Any) -> Definition:
    """Validate raw data into a Definition, or raise DefinitionError with every problem."""
    if not isinstance(data, dict):
        raise DefinitionError([Problem("(roten)", "en processdefinition ska vara ett objekt")])
    # Top-level keys starting with "x-" hold YAML anchors shared by several places; they are
    # not part of the definition itself.
    data = {k: v for k, v in data.items() if not str(k).startswith("x-")}
    try:
        definition = Definition.model_validate(data)
    except ValidationError as exc:
        raise DefinitionError(problems_from(exc)) from None
    problems = consistency_problems(definition)
    if problems:
        raise DefinitionError(problems)
    return definition
