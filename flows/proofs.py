"""Inclusion proofs: that one event of the global log is in the tree a signed checkpoint names
(RFC 9162, 2.1.3), for a controller to check without trusting the database."""

from __future__ import annotations

import base64
from dataclasses import dataclass

from upphandla.flows.access import scope_for
from upphandla.flows.checkpoints import Witness
from upphandla.flows.registry import Registry
from upphandla.states.auditlog import entry, leaf_of
from upphandla.states.errors import Conflict, Forbidden, NotFound
from upphandla.states.merkle import inclusion_proof, root
from upphandla.states.roles import Actor
from upphandla.store.uow import UnitOfWork


def require_whole_log(uow: UnitOfWork, registry: Registry, actor: Actor) -> None:
    """Only those who may read every case may verify the whole log or prove its events."""
    if not scope_for(uow, registry, actor).every_case:
        raise Forbidden("forbidden_role", role=actor.role, what="granska hela granskningsloggen")


@dataclass(frozen=True)
class Proof:
    index: int
    chain: str
    case_id: int | None
    seq: int
    hash: str
    entry: str
    leaf_hash: bytes
    tree_size: int
    root_hash: bytes
    checkpoint: str
    proof: list[bytes]


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _sealed_still(uow: UnitOfWork, registry: Registry, case_id: int) -> bool:
    """Whether the case's sealed evidence is still sealed (its own definition says by what)."""
    case = uow.cases.get(case_id)
    definition, _ = registry.get(uow, case.definition_key, case.definition_version)
    policy = definition.access
    recorded = {e.kind for e in uow.evidence.of_case(case_id)}
    return policy is not None and any(s.until not in recorded for s in policy.sealed)


def event_proof(uow: UnitOfWork, registry: Registry, witness: Witness | None, index: int) -> Proof:
    """The proof for the event at `index` against the newest checkpoint. A sealed event of a
    case whose bids are still sealed is reported as missing (OSL 19 kap. 3 §)."""
    if witness is None:
        raise Conflict("no_signing_key")
    stored, _ = witness.checkpoints()
    covering = [s for s in stored if s.checkpoint.size > index]
    if not covering:
        if index < (uow.live.log_size() or 0):
            raise Conflict("not_checkpointed", index=index)
        raise NotFound("log_event_not_found", index=index)
    cp = covering[-1].checkpoint
    leaves: list[bytes] = []
    target = None
    for row in uow.live.events(up_to=cp.size):
        text = entry(row.chain, row.case_id, row.seq, row.hash)
        if row.log_index == index:
            target = (row, text)
        leaves.append(leaf_of(text))
    if target is None:
        raise NotFound("log_event_not_found", index=index)
    if len(leaves) != cp.size or root(leaves) != cp.root_hash:
        raise Conflict("log_mismatch", size=cp.size)
    row, text = target
    if (
        row.case_id is not None
        and row.chain == "sealed"
        and _sealed_still(uow, registry, row.case_id)
    ):
        raise NotFound("log_event_not_found", index=index)
    return Proof(
        index=index,
        chain=row.chain,
        case_id=row.case_id,
        seq=row.seq,
        hash=row.hash,
        entry=text,
        leaf_hash=leaves[index],
        tree_size=cp.size,
        root_hash=cp.root_hash,
        checkpoint=covering[-1].path.read_text(encoding="utf-8"),
        proof=inclusion_proof(leaves, index, cp.size),
    )
