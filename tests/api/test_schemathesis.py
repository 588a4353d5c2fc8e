"""Schemathesis over the whole OpenAPI description, on the app in process (ASGI) and a database
of each backend: every operation with data that fits its description and data that does not,
then sequences of calls along the description's links (a case started, then read, given
evidence, moved on, its audit trail and checklist). Every answer: no server error, a status the
operation documents, the documented content type and schema and headers, and every error
`application/problem+json`.

Bounded and deterministic for CI: derandomized Hypothesis, a fixed number of examples per
operation and of stateful scenarios, no example database."""

from __future__ import annotations

from typing import Any

import hypothesis
import schemathesis
from hypothesis import HealthCheck, given
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from helpers import User
from upphandla.api.app import create_app
from upphandla.flows.settings import Settings
from upphandla.store.db import Database

EXAMPLES = 25  # per operation and generation mode
SCENARIOS = 20  # stateful sequences
STEPS = 6  # calls per sequence at most
PROBLEM_JSON = "application/problem+json"


@schemathesis.serializer("text/csv")
def _csv(ctx: Any, value: Any) -> bytes:
    """A requirement list as CSV: a generated string as it is; anything else as its text."""
    if isinstance(value, bytes):
        return value
    return str(value).encode("utf-8", "surrogatepass")


def errors_are_problems(ctx: Any, response: Any, case: Any) -> bool | None:
    """Every 4xx and 5xx answer is an RFC 9457 problem."""
    if response.status_code < 400:
        return None
    content_type = response.headers.get("content-type", [""])
    content_type = content_type[0] if isinstance(content_type, list) else content_type
    assert content_type.startswith(PROBLEM_JSON), (
        f"{response.status_code} answered as {content_type!r}, not {PROBLEM_JSON}"
    )
    body = response.json()
    assert body["status"] == response.status_code and body["title"] and body["type"], body
    return True


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    errors_are_problems,
]
SETTINGS = hypothesis.settings(
    derandomize=True,
    database=None,
    deadline=None,
    max_examples=EXAMPLES,
    suppress_health_check=list(HealthCheck),
    phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],
    print_blob=False,
)


def _schema(db: Database, db_url: str, token: str) -> Any:
    app = create_app(Settings(database_url=db_url), db)
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    schema.config.update(headers={"Authorization": f"Bearer {token}"})
    schema.config.generation.update(database="none", deterministic=True, allow_x00=True)
    return schema


def _fuzz(strategy: Any) -> None:
    @SETTINGS
    @given(case=strategy)
    def run(case: Any) -> None:
        response = case.call()
        case.validate_response(response, checks=CHECKS)

    run()


def test_every_operation_answers_as_described(
    db: Database, db_url: str, users: dict[str, User]
) -> None:
    schema = _schema(db, db_url, users["upphandlare"].token)
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 12
    for operation in operations:
        for mode in (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE):
            try:
                _fuzz(operation.as_strategy(generation_mode=mode))
            except hypothesis.errors.Unsatisfiable:
                continue  # nothing to send that does not fit (an operation without input)
            except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001 - all reported below
                failures.append(f"{operation.label} [{mode.value}]: {exc}")
    assert not failures, "\n\n".join(failures)


def test_sequences_along_the_links_answer_as_described(
    db: Database, db_url: str, users: dict[str, User]
) -> None:
    schema = _schema(db, db_url, users["upphandlare"].token)
    # Sequences start from cases that could be started; the operations one by one (above) take
    # care of data that does not fit.
    schema.config.generation.update(modes=[schemathesis.GenerationMode.POSITIVE])

    class Machine(schema.as_state_machine()):  # type: ignore[misc]
        def validate_response(self, response: Any, case: Any, **kwargs: Any) -> None:
            case.validate_response(response, checks=CHECKS)

    Machine.run(
        settings=hypothesis.settings(SETTINGS, max_examples=SCENARIOS, stateful_step_count=STEPS)
    )
