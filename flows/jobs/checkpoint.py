"""The scheduled checkpoint: verify the whole audit log and, when all holds, sign a checkpoint
into the checkpoint directory and mail it to the controllers, so that a copy lives outside the
database and outside the engine's machine. When the log does not verify, nothing is signed and
the controllers are told what is wrong instead."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from upphandla.flows.checkpoints import Witness
from upphandla.flows.commands.notify import enqueue_notice
from upphandla.flows.handler import Handler
from upphandla.flows.registry import Registry
from upphandla.flows.settings import Settings
from upphandla.flows.verify import Verification, describe, verify_log
from upphandla.states.clock import now
from upphandla.store.uow import UnitOfWork

TOLD_ROLES = ["controller"]
WRITTEN = "checkpoint_written"
BROKEN = "audit_broken"
MAX_LINES = 30


@dataclass(frozen=True)
class CheckpointReport:
    ok: bool
    log_size: int
    written: str | None  # the file written, if any
    breaks: int
    mailed: bool


@dataclass(frozen=True)
class _Tell:
    """Queue the message about a verification to the controllers (once per key)."""

    key: str
    template: str
    context: dict[str, object]
    at: datetime

    def handle(self, uow: UnitOfWork, registry: Registry) -> bool:
        return enqueue_notice(
            uow,
            dedupe_key=self.key,
            roles=TOLD_ROLES,
            template=self.template,
            context=self.context,
            at=self.at,
        )


def _message(result: Verification, witness: Witness, at: datetime) -> _Tell | None:
    if result.ok:
        if result.written is None:
            return None
        return _Tell(
            f"checkpoint:{result.log_size}",
            WRITTEN,
            {
                "size": result.log_size,
                "checkpoint": result.written.read_text(encoding="utf-8"),
                "key_id": witness.verifier.key_id.hex(),
                "file": str(result.written),
            },
            at,
        )
    lines = [describe(b) for b in result.breaks]
    return _Tell(
        f"audit-broken:{at.date().isoformat()}:{len(lines)}:{result.log_size}",
        BROKEN,
        {"count": len(lines), "lines": lines[:MAX_LINES], "more": max(0, len(lines) - MAX_LINES)},
        at,
    )


def write_checkpoint(handler: Handler, settings: Settings) -> CheckpointReport:
    """Verify; sign a checkpoint if all holds; tell the controllers (if `checkpoint_mail`)."""
    witness = Witness.of(settings)
    assert witness is not None  # made here if missing
    with handler.reader() as uow:
        result = verify_log(uow, witness, write=True)
    mailed = False
    tell = _message(result, witness, now())
    if tell is not None and (settings.checkpoint_mail or not result.ok):
        mailed = bool(handler.run(tell).result)
    return CheckpointReport(
        ok=result.ok,
        log_size=result.log_size,
        written=str(result.written) if result.written else None,
        breaks=len(result.breaks),
        mailed=mailed,
    )
