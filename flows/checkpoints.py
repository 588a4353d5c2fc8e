"""Signed checkpoints of the global log, kept outside the database.

The checkpoint directory (setting `checkpoint_dir`) holds, for each checkpoint, a file
`<size>.checkpoint`: a C2SP tlog-checkpoint (origin, tree size, root hash) in a signed note,
signed with Ed25519 by the key in `audit_key_file`; `entries.log`, a copy of the log's entries
(one line per place, states.auditlog.entry) up to the newest checkpoint, so that a difference
can be traced to the event; and `key.vkey`, the note verifier key. The key file is made on first
use, readable by its owner only, and never goes into the database.

Whoever can write to the database but not to this directory or the key cannot change, remove or
add a checkpointed event unseen. Whoever holds the key and the directory as well can; keep them
elsewhere (see the README).
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from upphandla.flows.settings import Settings
from upphandla.states.auditlog import Break
from upphandla.states.checkpoint import (
    Checkpoint,
    NoteError,
    NoteSigner,
    NoteVerifier,
    load_private_key,
    open_checkpoint,
    private_key_pem,
    sign_checkpoint,
)

SUFFIX = ".checkpoint"
ENTRIES = "entries.log"
VKEY = "key.vkey"


class KeyFileError(Exception):
    """The signing key cannot be used (message in Swedish)."""


def signing_key(path: Path, *, create: bool) -> Ed25519PrivateKey | None:
    """The key in `path`; made (mode 0600, folder 0700) if missing and `create`; None if missing
    and not `create`. A key file others may read or write is refused."""
    if not path.exists():
        if not create:
            return None
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        key = Ed25519PrivateKey.generate()
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # made at the same moment by another process: use theirs
            return signing_key(path, create=False)
        with os.fdopen(fd, "wb") as f:
            f.write(private_key_pem(key))
            f.flush()
            os.fsync(f.fileno())
        return key
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise KeyFileError(
            f"signeringsnyckeln {path} kan läsas eller ändras av andra än ägaren "
            f"(behörighet {mode:04o}); ändra till 0600"
        )
    try:
        return load_private_key(path.read_bytes())
    except ValueError as exc:
        raise KeyFileError(f"signeringsnyckeln {path} går inte att läsa: {exc}") from None


@dataclass(frozen=True)
class Stored:
    """A checkpoint file that verified."""

    path: Path
    checkpoint: Checkpoint


class Witness:
    """The checkpoint directory: what it holds, checked with the verifier key; and, with a
    signer, new checkpoints."""

    def __init__(
        self, directory: Path, origin: str, verifier: NoteVerifier, signer: NoteSigner | None
    ) -> None:
        self.directory = directory
        self.origin = origin
        self.verifier = verifier
        self.signer = signer

    @classmethod
    def of(cls, settings: Settings, *, create_key: bool = True) -> Witness | None:
        """The witness the settings name; None if there is no key yet and none may be made."""
        key = signing_key(settings.resolved_audit_key_file(), create=create_key)
        if key is None:
            return None
        signer = NoteSigner(settings.log_origin, key)
        verifier = NoteVerifier.parse(signer.verifier_key())
        return cls(settings.resolved_checkpoint_dir(), settings.log_origin, verifier, signer)

    def checkpoints(self) -> tuple[list[Stored], list[Break]]:
        """The checkpoints that verify, smallest first, and a break for each that does not."""
        found: list[Stored] = []
        breaks: list[Break] = []
        if not self.directory.is_dir():
            return found, breaks
        for path in sorted(self.directory.glob(f"*{SUFFIX}")):
            try:
                text = path.read_text(encoding="utf-8")
                cp = open_checkpoint(text, self.verifier, origin=self.origin)
            except (NoteError, ValueError, UnicodeDecodeError) as exc:
                breaks.append(Break("checkpoint", f"kontrollpunkten {path.name}: {exc}"))
                continue
            if path.name != _name(cp.size):
                breaks.append(
                    Break(
                        "checkpoint",
                        f"kontrollpunkten {path.name} anger storleken {cp.size} (fel filnamn)",
                    )
                )
                continue
            found.append(Stored(path, cp))
        found.sort(key=lambda s: s.checkpoint.size)
        return found, breaks

    def entries(self) -> Iterator[str]:
        """The copy of the log's entries, line by line (none if there is no copy)."""
        path = self.directory / ENTRIES
        if not path.exists():
            return
        with open(path, encoding="ascii", errors="replace") as f:
            for line in f:
                yield line.rstrip("\n")

    def write(self, checkpoint: Checkpoint, new_entries: list[str], *, kept: int) -> Path:
        """Keep the first `kept` lines of the copy of the entries and add `new_entries` after
        them, then write the checkpoint (last, so that a checkpoint never names entries the
        copy lacks)."""
        assert self.signer is not None, "no signing key"
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        copy = self.directory / ENTRIES
        with open(copy, "a+b") as f:
            f.seek(0)
            offset = sum(len(line) for _, line in zip(range(kept), f, strict=False))
            f.truncate(offset)
            f.seek(offset)
            f.write("".join(e + "\n" for e in new_entries).encode("ascii"))
            f.flush()
            os.fsync(f.fileno())
        target = self.directory / _name(checkpoint.size)
        _write_atomically(target, sign_checkpoint(checkpoint, self.signer))
        vkey = self.directory / VKEY
        if not vkey.exists():
            _write_atomically(vkey, self.signer.verifier_key() + "\n")
        return target


def _name(size: int) -> str:
    return f"{size:012d}{SUFFIX}"


def _write_atomically(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
