"""Contracts: registering an existing contract (signed before the engine knew it) straight into
förvaltning, so its deadlines run from the first day."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from upphandla.flows.commands.cases import (
    CaseRef,
    RecordEvidence,
    create_case,
    record_evidence,
)
from upphandla.flows.registry import Registry
from upphandla.states.errors import Conflict, Forbidden
from upphandla.states.roles import Actor
from upphandla.store.uow import UnitOfWork

IMPORT_ROLES = frozenset({"upphandlare", "kategoriledare"})


@dataclass(frozen=True, kw_only=True)
class ImportContract:
    """A case in the definition's import phase (förvaltning) holding the registered contract.
    Its audit trail starts with `contract_imported`, then the registration itself."""

    actor: Actor
    attributes: Any
    contract: Any
    definition_key: str
    request_id: str | None = None

    def handle(self, uow: UnitOfWork, registry: Registry) -> CaseRef:
        definition, _ = registry.latest(uow, self.definition_key)
        rules = definition.contracts
        if rules is None:
            raise Conflict("no_definition", key=f"{self.definition_key} (avtalsregler)")
        if self.actor.role not in IMPORT_ROLES:
            raise Forbidden(
                "forbidden_role", role=self.actor.role, what="registrera ett befintligt avtal"
            )
        case = create_case(
            uow,
            definition=definition,
            actor=self.actor,
            attributes=self.attributes,
            state=rules.import_into,
            imported=True,
            request_id=self.request_id,
        )
        record = RecordEvidence(
            actor=self.actor,
            case_id=case.id,
            kind=rules.kind,
            data=self.contract,
            request_id=self.request_id,
        )
        record_evidence(uow, record, registry)
        return CaseRef(case.id)
