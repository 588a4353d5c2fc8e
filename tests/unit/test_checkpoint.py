"""Checkpoints in signed notes: the published vectors of the Go note package and of C2SP, round
trips, and strict refusal of anything malformed."""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from upphandla.states.checkpoint import (
    Checkpoint,
    NoteError,
    NoteSigner,
    NoteVerifier,
    load_private_key,
    open_checkpoint,
    parse_checkpoint,
    private_key_pem,
    sign_checkpoint,
)

# -- the Go note package's vectors ---------------------------------------------------------------
# From github.com/golang/mod, sumdb/note/note_test.go (TestNewVerifier, TestNewSigner, TestSign,
# TestOpen). The private key is in that package's "PRIVATE+KEY+<name>+<hex id>+<base64(0x01 ||
# seed)>" form, which only this test reads.
PETER_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
PETER_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
ENOCH_VKEY = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"
TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
PETER_SIG = (
    "— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb"
    "6KE6RyyBwJnAM=\n"
)
ENOCH_SIG = (
    "— EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33"
    "WWd1RvMc+QQ=\n"
)

# From github.com/C2SP/C2SP, signed-note.md ("Example") and tlog-checkpoint.md (its opening
# example, whose verifier key the specification does not give).
FOO_VKEY = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"
FOO_NOTE = (
    "This is an example message.\n"
    "\n"
    "— example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKu"
    "wHjG1Yu72IneyaQM=\n"
)
SOFA_TEXT = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
SOFA_NOTE = (
    SOFA_TEXT + "\n"
    "— example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2"
    "q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n"
)


def _peter_key() -> Ed25519PrivateKey:
    raw = base64.b64decode(PETER_SKEY.split("+", 4)[4])
    assert raw[0] == 1 and len(raw) == 33
    return Ed25519PrivateKey.from_private_bytes(raw[1:])


def test_signing_with_the_go_key_gives_the_go_signature() -> None:
    signer = NoteSigner("PeterNeumann", _peter_key())
    assert signer.key_id == bytes.fromhex("c74f20a3")
    assert signer.verifier_key() == PETER_VKEY
    assert signer.sign(TEXT) == TEXT + "\n" + PETER_SIG


@pytest.mark.parametrize(
    ("vkey", "name", "key_id"),
    [
        (PETER_VKEY, "PeterNeumann", "c74f20a3"),
        (ENOCH_VKEY, "EnochRoot", "af0cfe78"),
        (FOO_VKEY, "example.com/foo", "530d903a"),
    ],
)
def test_parsing_published_verifier_keys(vkey: str, name: str, key_id: str) -> None:
    verifier = NoteVerifier.parse(vkey)
    assert verifier.name == name
    assert verifier.key_id == bytes.fromhex(key_id)


def test_no_mangling_of_the_go_verifier_key_parses() -> None:
    raw = PETER_VKEY.encode("ascii")
    mangled = {raw[i:j] for i in range(len(raw) + 1) for j in range(i + 1, len(raw) + 1)}
    mangled.discard(raw)
    for i in range(len(raw)):
        mangled.add(raw[:i] + bytes([raw[i] + 1]) + raw[i + 1 :])
    mangled.add(b"PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==")
    mangled.add(b"PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW")
    for candidate in mangled:
        with pytest.raises(ValueError):
            NoteVerifier.parse(candidate.decode("ascii"))


def test_verifier_keys_are_read_strictly() -> None:
    for vkey in (
        PETER_VKEY.replace("c74f20a3", "C74F20A3"),  # the hex id is lowercase
        PETER_VKEY.replace("PeterNeumann", "Peter Neumann"),
        PETER_VKEY + "\n",
        "",
    ):
        with pytest.raises(ValueError):
            NoteVerifier.parse(vkey)


def test_opening_the_go_notes() -> None:
    peter, enoch = NoteVerifier.parse(PETER_VKEY), NoteVerifier.parse(ENOCH_VKEY)
    both = TEXT + "\n" + PETER_SIG + ENOCH_SIG
    assert peter.open(both) == TEXT  # Enoch's line is another key's and is ignored
    assert enoch.open(both) == TEXT
    assert peter.open(TEXT + "\n" + PETER_SIG + PETER_SIG + ENOCH_SIG + ENOCH_SIG) == TEXT
    bad_enoch = ENOCH_SIG[:60] + "ABCD" + ENOCH_SIG[60:]
    assert peter.open(TEXT + "\n" + PETER_SIG + ENOCH_SIG + bad_enoch) == TEXT
    with pytest.raises(NoteError, match="saknar en giltig signatur"):
        enoch.open(TEXT + "\n" + PETER_SIG)
    with pytest.raises(NoteError):
        NoteVerifier.parse(FOO_VKEY).open(both)


def test_the_c2sp_example_note_opens() -> None:
    assert NoteVerifier.parse(FOO_VKEY).open(FOO_NOTE) == "This is an example message.\n"


@pytest.mark.parametrize(
    "note",
    [
        TEXT + "\n" + PETER_SIG.replace("x08go", "y08go"),  # another key id: not Peter's line
        TEXT + "\n" + PETER_SIG.replace("PeterNeumann", "CarmenSandiego"),
        TEXT + "\n" + PETER_SIG[:60] + "ABCD" + PETER_SIG[60:],  # Peter's line, bad signature
        TEXT + "\n" + PETER_SIG.replace("ZJku", "ZKku"),  # one character of the signature
        TEXT.replace("answer", "Answer") + "\n" + PETER_SIG,  # one byte of the text changed
        TEXT + "\n" + PETER_SIG * 101,  # too many signatures
        # The malformed notes of TestOpen:
        TEXT,
        TEXT + "\n",
        TEXT + "\n" + PETER_SIG[:-1],
        "\x01" + TEXT + "\n" + PETER_SIG,
        "\udcff" + TEXT + "\n" + PETER_SIG,  # the Go test's invalid UTF-8 byte, as Python has it
        TEXT + "\n" + "— Bad Name " + PETER_SIG.split(" ")[2],
        TEXT + "\n" + PETER_SIG + "Unexpected line.\n",
    ],
)
def test_the_go_key_refuses_altered_and_malformed_notes(note: str) -> None:
    with pytest.raises(NoteError):
        NoteVerifier.parse(PETER_VKEY).open(note)


def test_the_c2sp_example_checkpoint() -> None:
    checkpoint = parse_checkpoint(SOFA_TEXT)
    root = base64.b64decode("CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=")
    assert checkpoint == Checkpoint("example.com/behind-the-sofa", 20852163, root)
    assert checkpoint.text() == SOFA_TEXT
    # Well formed, but signed by a key not given here.
    with pytest.raises(NoteError, match="saknar en giltig signatur"):
        open_checkpoint(SOFA_NOTE, NoteVerifier.parse(PETER_VKEY))


# -- checkpoints ---------------------------------------------------------------------------------
ROOT = bytes(range(32))
ROOT_B64 = base64.b64encode(ROOT).decode()


def test_checkpoint_text_and_back() -> None:
    checkpoint = Checkpoint("example.com/log", 0, ROOT, ("ext one", "ext — två"))
    text = f"example.com/log\n0\n{ROOT_B64}\next one\next — två\n"
    assert checkpoint.text() == text
    assert parse_checkpoint(text) == checkpoint


@pytest.mark.parametrize(
    "text",
    [
        f"example.com/log\n12\n{ROOT_B64}",  # no final newline
        f"\n12\n{ROOT_B64}\n",  # empty origin
        f"example.com/log\n012\n{ROOT_B64}\n",  # leading zero
        f"example.com/log\n00\n{ROOT_B64}\n",
        f"example.com/log\n+12\n{ROOT_B64}\n",
        f"example.com/log\n-1\n{ROOT_B64}\n",
        f"example.com/log\n 12\n{ROOT_B64}\n",
        f"example.com/log\n1_2\n{ROOT_B64}\n",
        f"example.com/log\n١٢\n{ROOT_B64}\n",  # digits, but not ASCII ones
        f"example.com/log\n\n{ROOT_B64}\n",
        f"example.com/log\n{2**64}\n{ROOT_B64}\n",
        "example.com/log\n12\n" + "9" * 4400 + "\n",
        f"example.com/log\n12\n{ROOT_B64.rstrip('=')}\n",  # base64 without its padding
        f"example.com/log\n12\n{ROOT_B64[:-2]}9=\n",  # non-canonical trailing bits
        f"example.com/log\n12\n {ROOT_B64}\n",
        "example.com/log\n12\n" + base64.b64encode(bytes(31)).decode() + "\n",
        "example.com/log\n12\n" + base64.b64encode(bytes(33)).decode() + "\n",
        "example.com/log\n12\n",  # fewer than three lines
        f"example.com/log\n12\n{ROOT_B64}\n\n",  # an empty extension line
        f"example.com/log\n12\n{ROOT_B64}\next\n\n",
    ],
)
def test_parse_checkpoint_is_strict(text: str) -> None:
    with pytest.raises(ValueError):
        parse_checkpoint(text)


def test_a_checkpoint_cannot_be_made_that_has_no_text() -> None:
    for bad in (
        lambda: Checkpoint("", 1, ROOT),
        lambda: Checkpoint("a\nb", 1, ROOT),
        lambda: Checkpoint("log", -1, ROOT),
        lambda: Checkpoint("log", 1, ROOT[:31]),
        lambda: Checkpoint("log", 1, ROOT, ("",)),
        lambda: Checkpoint("log", 1, ROOT, ("x\ny",)),
    ):
        with pytest.raises(ValueError):
            bad()


# -- round trips with fresh keys -----------------------------------------------------------------
def test_a_signed_checkpoint_opens_with_its_key_only() -> None:
    signer = NoteSigner("example.com/upphandla", Ed25519PrivateKey.generate())
    verifier = NoteVerifier.parse(signer.verifier_key())
    assert (verifier.name, verifier.key_id) == (signer.name, signer.key_id)
    checkpoint = Checkpoint("example.com/upphandla", 1234, ROOT, ("ett tillägg",))
    note = sign_checkpoint(checkpoint, signer)
    assert note.startswith(checkpoint.text() + "\n— example.com/upphandla ")
    assert open_checkpoint(note, verifier) == checkpoint
    assert open_checkpoint(note, verifier, origin="example.com/upphandla") == checkpoint
    with pytest.raises(ValueError, match="kommer från"):
        open_checkpoint(note, verifier, origin="example.com/annan")

    # Another key, even under the same name, does not open it.
    impostor = NoteSigner("example.com/upphandla", Ed25519PrivateKey.generate())
    with pytest.raises(NoteError):
        open_checkpoint(note, NoteVerifier.parse(impostor.verifier_key()))


def test_signature_lines_of_other_keys_are_ignored() -> None:
    text = Checkpoint("example.com/upphandla", 7, ROOT).text()
    ours = NoteSigner("example.com/upphandla", Ed25519PrivateKey.generate())
    witness = NoteSigner("example.com/witness", Ed25519PrivateKey.generate())
    same_name = NoteSigner("example.com/upphandla", Ed25519PrivateKey.generate())
    lines = [s.sign(text)[len(text) + 1 :] for s in (witness, same_name, ours)]
    note = text + "\n" + "".join(lines)
    for signer in (ours, witness, same_name):
        assert NoteVerifier.parse(signer.verifier_key()).open(note) == text
    # A line with our name and key id that does not verify rejects the note, the rest aside.
    encoded = base64.b64encode(ours.key_id + bytes(64)).decode()
    forged_line = f"— example.com/upphandla {encoded}\n"
    with pytest.raises(NoteError, match="ogiltig signatur"):
        NoteVerifier.parse(ours.verifier_key()).open(note + forged_line)


_SIGNER = NoteSigner(
    "example.com/upphandla", Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
)


@pytest.fixture(scope="module")
def signer() -> NoteSigner:
    return _SIGNER


def test_malformed_notes_raise_note_error(signer: NoteSigner) -> None:
    verifier = NoteVerifier.parse(signer.verifier_key())
    text = Checkpoint("example.com/upphandla", 7, ROOT).text()
    note = signer.sign(text)
    line = note[len(text) + 1 :]
    name_and_sig = line[2:]
    for bad in (
        text + line,  # no blank line
        text + "\n",  # no signatures
        text + "\n" + line[:-1],  # no final newline
        text + "\n" + "- " + name_and_sig,  # hyphen for the em dash
        text + "\n" + "—" + name_and_sig,
        text + "\n" + line.replace(" ", "  ", 2),
        text + "\n" + line[:-2] + "!\n",  # not base64
        text + "\n" + line[:-4] + "\n",  # base64 cut short
        text + "\n" + line.replace("example.com/upphandla", "example.com/upp+handla"),
        text + "\n" + "— example.com/upphandla AAAA\n",  # too short for a key id and signature
        note.replace("\n", "\r\n"),
        note.replace("\n", "\t", 1),
        note + "\n",
    ):
        with pytest.raises(NoteError, match="felformad"):
            verifier.open(bad)
    with pytest.raises(NoteError):
        signer.sign(text[:-1])
    with pytest.raises(NoteError):
        signer.sign(text + "\x07\n")


def test_key_names_follow_the_note_rules() -> None:
    key = Ed25519PrivateKey.generate()
    for name in ("", "a b", "a+b", "a\u00a0b", "a\u2003b", "a\nb", "a\x00b"):
        with pytest.raises(ValueError):
            NoteSigner(name, key)
    assert NoteSigner("kommun.example/diarium", key).name == "kommun.example/diarium"


_PIECES = st.one_of(
    st.sampled_from(["— ", "\n", "\n\n", " ", "+", "=", "example.com/upphandla", "\x00", "\r"]),
    st.binary(max_size=80).map(lambda raw: base64.b64encode(raw).decode()),
    # Lines that name this key, with a signature that is not one.
    st.binary(max_size=70).map(
        lambda raw: f"— {_SIGNER.name} {base64.b64encode(_SIGNER.key_id + raw).decode()}\n"
    ),
    st.text(max_size=5),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_PIECES, max_size=30).map("".join))
def test_random_text_is_refused_only_by_note_error(signer: NoteSigner, text: str) -> None:
    verifier = NoteVerifier.parse(signer.verifier_key())
    with pytest.raises(NoteError):
        verifier.open(text)


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_any_change_to_a_signed_note_is_refused(signer: NoteSigner, data: st.DataObject) -> None:
    text = Checkpoint("example.com/upphandla", 7, ROOT).text()
    note = signer.sign(text)
    at = data.draw(st.integers(min_value=0, max_value=len(note) - 1))
    char = data.draw(st.characters(codec="utf-8") | st.sampled_from(list("\n —+/=Aa")))
    how = data.draw(st.sampled_from(["replace", "insert", "delete"]))
    if how == "replace":
        changed = note[:at] + char + note[at + 1 :]
    elif how == "insert":
        changed = note[:at] + char + note[at:]
    else:
        changed = note[:at] + note[at + 1 :]
    verifier = NoteVerifier.parse(signer.verifier_key())
    if changed == note:
        assert verifier.open(changed) == text
    else:
        with pytest.raises(NoteError):
            verifier.open(changed)


# -- keys in files -------------------------------------------------------------------------------
def test_private_keys_round_trip_through_pem() -> None:
    key = Ed25519PrivateKey.generate()
    pem = private_key_pem(key)
    assert pem.startswith(b"-----BEGIN PRIVATE KEY-----\n")
    loaded = load_private_key(pem)
    assert NoteSigner("a", loaded).verifier_key() == NoteSigner("a", key).verifier_key()


def test_load_private_key_refuses_anything_but_an_ed25519_key() -> None:
    ec_key = ec.generate_private_key(ec.SECP256R1())
    ec_pem = ec_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    encrypted = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"hemligt"),
    )
    with pytest.raises(ValueError, match="ingen Ed25519-nyckel"):
        load_private_key(ec_pem)
    for bad in (
        encrypted,
        b"",
        b"inte en nyckel",
        private_key_pem(Ed25519PrivateKey.generate())[:60],
    ):
        with pytest.raises(ValueError, match="ingen läsbar"):
            load_private_key(bad)
