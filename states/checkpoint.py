"""Signed tree heads: a C2SP tlog-checkpoint carried in a C2SP signed note, signed with Ed25519.

A checkpoint's text is the origin, the tree size and the base64 root hash, one a line, then any
extension lines. A signed note is that text, a blank line, and signature lines
"— <key name> <base64(4-byte key id || signature)>". A verifier key (vkey) is the string
"<key name>+<8 hex key id>+<base64(0x01 || 32-byte public key)>", and the key id is the first
four bytes of SHA-256(key name || "\\n" || 0x01 || public key).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

_ALG_ED25519 = b"\x01"
_SIG_PREFIX = "— "  # U+2014 EM DASH and a space
_MAX_SIGNATURES = 100
_HEX = frozenset("0123456789abcdef")


class NoteError(ValueError):
    """A signed note that is malformed or carries no valid signature of the expected key."""


def _b64decode(text: str) -> bytes | None:
    """Standard base64 with padding, in its one canonical spelling, or None."""
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None
    return raw if base64.b64encode(raw).decode("ascii") == text else None


def _has_control(text: str, allow_newline: bool = False) -> bool:
    return any(ch < " " and not (allow_newline and ch == "\n") for ch in text)


def _is_utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _valid_name(name: str) -> bool:
    """Non-empty, no Unicode space, no plus, no control character (signed-note key names)."""
    return (
        name != ""
        and _is_utf8(name)
        and "+" not in name
        and not any(ch.isspace() for ch in name)
        and not _has_control(name)
    )


def _key_id(name: str, public_key: bytes) -> bytes:
    return hashlib.sha256(name.encode("utf-8") + b"\n" + _ALG_ED25519 + public_key).digest()[:4]


def _public_bytes(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


# -- checkpoints ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root_hash: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.origin or _has_control(self.origin) or not _is_utf8(self.origin):
            raise ValueError("kontrollpunktens ursprung måste vara en icke-tom rad")
        if not 0 <= self.size < 2**64:
            raise ValueError("kontrollpunktens trädstorlek ligger utanför 0..2^64-1")
        if len(self.root_hash) != 32:
            raise ValueError("kontrollpunktens rothash ska vara 32 byte")
        for line in self.extensions:
            if not line or _has_control(line) or not _is_utf8(line):
                raise ValueError("kontrollpunktens tilläggsrader måste vara icke-tomma rader")

    def text(self) -> str:
        """The note text: origin, size, base64 root hash and extension lines, each + "\\n"."""
        root = base64.b64encode(self.root_hash).decode("ascii")
        lines = [self.origin, str(self.size), root, *self.extensions]
        return "".join(line + "\n" for line in lines)


def parse_checkpoint(text: str) -> Checkpoint:
    """The checkpoint in a note text, strictly as tlog-checkpoint writes it."""
    if not text.endswith("\n"):
        raise ValueError("kontrollpunkten slutar inte med en radbrytning")
    lines = text[:-1].split("\n")
    if len(lines) < 3:
        raise ValueError("kontrollpunkten har färre än tre rader")
    origin, size_text, root_text, *extensions = lines
    if not origin:
        raise ValueError("kontrollpunktens ursprung är tomt")
    digits = size_text.isascii() and size_text.isdigit() and len(size_text) <= 20
    if not digits or (size_text != "0" and size_text.startswith("0")):
        raise ValueError(f"kontrollpunktens trädstorlek {size_text!r} är inget tal i decimal form")
    root_hash = _b64decode(root_text)
    if root_hash is None or len(root_hash) != 32:
        raise ValueError("kontrollpunktens rothash är inte 32 byte i base64")
    return Checkpoint(origin, int(size_text), root_hash, tuple(extensions))


# -- signing and verifying notes -----------------------------------------------------------------
class NoteSigner:
    """Signs note texts with an Ed25519 key under a key name."""

    def __init__(self, name: str, key: Ed25519PrivateKey) -> None:
        if not _valid_name(name):
            raise ValueError(
                f"ogiltigt nyckelnamn {name!r}: det måste vara icke-tomt, utan "
                "mellanslag och plustecken"
            )
        self.name = name
        self._key = key
        self._public = _public_bytes(key.public_key())
        self.key_id = _key_id(name, self._public)

    def verifier_key(self) -> str:
        """The vkey string that verifies this signer's notes."""
        encoded = base64.b64encode(_ALG_ED25519 + self._public).decode("ascii")
        return f"{self.name}+{self.key_id.hex()}+{encoded}"

    def sign(self, text: str) -> str:
        """The whole signed note: the text, a blank line and this key's signature line."""
        if not text.endswith("\n") or _has_control(text, allow_newline=True) or not _is_utf8(text):
            raise NoteError(
                "texten kan inte signeras: den måste sluta med en radbrytning och "
                "får inte innehålla andra styrtecken"
            )
        signature = self._key.sign(text.encode("utf-8"))
        encoded = base64.b64encode(self.key_id + signature).decode("ascii")
        return f"{text}\n{_SIG_PREFIX}{self.name} {encoded}\n"


class NoteVerifier:
    """Verifies notes against one Ed25519 verifier key."""

    def __init__(self, name: str, key: Ed25519PublicKey) -> None:
        if not _valid_name(name):
            raise ValueError(f"ogiltigt nyckelnamn {name!r}")
        self.name = name
        self._key = key
        self.key_id = _key_id(name, _public_bytes(key))

    @classmethod
    def parse(cls, vkey: str) -> NoteVerifier:
        """The verifier for a vkey string "<name>+<hex key id>+<base64(0x01 || key)>"."""
        name, _, rest = vkey.partition("+")
        hex_id, _, encoded = rest.partition("+")
        raw = _b64decode(encoded)
        problem = None
        if not _valid_name(name):
            problem = "namnet är ogiltigt"
        elif len(hex_id) != 8 or not set(hex_id) <= _HEX:
            problem = "nyckel-id:t är inte åtta hexadecimala tecken"
        elif raw is None or len(raw) != 33 or raw[:1] != _ALG_ED25519:
            problem = "nyckeln är ingen Ed25519-nyckel i base64"
        elif _key_id(name, raw[1:]).hex() != hex_id:
            problem = "nyckel-id:t stämmer inte med namnet och nyckeln"
        if problem is not None or raw is None:
            raise ValueError(f"ogiltig verifieringsnyckel {vkey!r}: {problem}")
        try:
            key = Ed25519PublicKey.from_public_bytes(raw[1:])
        except ValueError:
            raise ValueError(
                f"ogiltig verifieringsnyckel {vkey!r}: nyckeln går inte att läsa"
            ) from None
        return cls(name, key)

    def open(self, note: str) -> str:
        """The text of a signed note that this key has validly signed, else NoteError.

        Signature lines of other keys are ignored; a line with this key's name and key id whose
        signature does not verify rejects the whole note.
        """
        text, signatures = _split_note(note)
        message = text.encode("utf-8")
        verified = False
        for name, key_id, signature in signatures:
            if name != self.name or key_id != self.key_id:
                continue
            try:
                self._key.verify(signature, message)
            except InvalidSignature:
                raise NoteError(
                    f"kontrollpunkten har en ogiltig signatur av nyckeln {self.name}"
                ) from None
            verified = True
        if not verified:
            raise NoteError(f"kontrollpunkten saknar en giltig signatur av nyckeln {self.name}")
        return text


def _split_note(note: str) -> tuple[str, list[tuple[str, bytes, bytes]]]:
    """The text and the (name, key id, signature) of each signature line of a signed note."""

    def malformed(why: str) -> NoteError:
        return NoteError(f"den signerade kontrollpunkten är felformad: {why}")

    if not _is_utf8(note) or _has_control(note, allow_newline=True):
        raise malformed("den innehåller styrtecken eller ogiltiga tecken")
    split = note.rfind("\n\n")
    if split < 0:
        raise malformed("tom rad före signaturerna saknas")
    text, block = note[: split + 1], note[split + 2 :]
    if not block.endswith("\n"):
        raise malformed("signaturraderna saknas eller slutar inte med en radbrytning")
    lines = block[:-1].split("\n")
    if len(lines) > _MAX_SIGNATURES:
        raise malformed(f"fler än {_MAX_SIGNATURES} signaturer")
    signatures = []
    for line in lines:
        if not line.startswith(_SIG_PREFIX):
            raise malformed("en signaturrad börjar inte med tankstreck och mellanslag")
        name, _, encoded = line[len(_SIG_PREFIX) :].partition(" ")
        raw = _b64decode(encoded)
        if not _valid_name(name) or raw is None or len(raw) < 5:
            raise malformed("en signaturrad har ogiltigt namn eller ogiltig signatur")
        signatures.append((name, raw[:4], raw[4:]))
    return text, signatures


# -- checkpoints signed and opened ---------------------------------------------------------------
def sign_checkpoint(checkpoint: Checkpoint, signer: NoteSigner) -> str:
    return signer.sign(checkpoint.text())


def open_checkpoint(note: str, verifier: NoteVerifier, origin: str | None = None) -> Checkpoint:
    """The checkpoint in a note signed by the verifier's key, from the given origin if one is
    given. Raises NoteError for a bad note or signature, ValueError for a bad checkpoint."""
    checkpoint = parse_checkpoint(verifier.open(note))
    if origin is not None and checkpoint.origin != origin:
        raise ValueError(f"kontrollpunkten kommer från {checkpoint.origin!r}, inte från {origin!r}")
    return checkpoint


# -- keys in files -------------------------------------------------------------------------------
def private_key_pem(key: Ed25519PrivateKey) -> bytes:
    """The key as unencrypted PKCS#8 PEM."""
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def load_private_key(pem: bytes) -> Ed25519PrivateKey:
    """An Ed25519 private key from unencrypted PEM, else ValueError."""
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise ValueError("filen innehåller ingen läsbar okrypterad privat nyckel") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError("nyckeln är ingen Ed25519-nyckel")
    return key
