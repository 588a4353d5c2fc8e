"""Contracts: registering an existing contract (signed before the engine knew it) straight into
förvaltning, so its deadlines run from the first day."""

from __future__ import annotations

from typing import Any

from upphandla.flows.commands.cases import create_case, record_evidence
from upphandla.flows.registry import Registry
from upphandla.states.errors import Conflict, Forbidden
from upphandla.states.roles import Actor
from upphandla.store.models import CaseRow
from upphandla.store.uow import UnitOfWork

IMPORT_ROLES = frozenset({"upphandlare", "kategoriledare"})


def import_contract(
    uow: UnitOfWork,
    *,
    registry: Registry,
    actor: Actor,
    attributes: Any,
    contract: Any,
    definition_key: str,
    request_id: str | None = None,
) -> CaseRow:
    """A case in the definition's import phase (förvaltning) holding the registered contract.
    Its audit trail starts with `contract_imported`, then the registration itself."""
    definition, _ = registry.latest(uow, definition_key)
    rules = definition.contracts
    if rules is None:
        raise Conflict("no_definition", key=f"{definition_key} (avtalsregler)")
    if actor.role not in IMPORT_ROLES:
        raise Forbidden("forbidden_role", role=actor.role, what="registrera ett befintligt avtal")
    row = create_case(
        uow,
        definition=definition,
        actor=actor,
        attributes=attributes,
        state=rules.import_into,
        action="contract_imported",
        request_id=request_id,
    )
    record_evidence(
        uow,
        registry=registry,
        actor=actor,
        case_id=row.id,
        kind=rules.kind,
        data=contract,
        request_id=request_id,
    )
    return row
