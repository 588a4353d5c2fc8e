"""Signed checkpoints kept outside the database, the export verified without one, and inclusion
proofs, each checked by code written here apart from the engine's: the signed note and its
Ed25519 signature are taken apart by hand (C2SP signed-note), and the proof is followed with
RFC 9162's verification algorithm (2.1.3.2) as written in the RFC."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import random
import shutil
import stat
from pathlib import Path

import pytest
from alembic import command
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from fastapi.testclient import TestClient
from sqlalchemy import select, text
from typer.testing import CliRunner, Result

from helpers import User, drive, execute, record, scalar, start
from upphandla.cli.main import app
from upphandla.flows.handler import Handler
from upphandla.flows.jobs.checkpoint import write_checkpoint
from upphandla.flows.settings import Settings, get_settings
from upphandla.states.sanctions import match_key
from upphandla.store.db import Database
from upphandla.store.migrate import alembic_config, upgrade
from upphandla.store.models import CaseRow

CASES = CaseRow.__table__


def cli(db_url: str, *args: str) -> Result:
    get_settings.cache_clear()
    try:
        return CliRunner().invoke(app, list(args), env={"UPPHANDLA_DATABASE_URL": db_url})
    finally:
        get_settings.cache_clear()


def settings(db_url: str) -> Settings:
    return Settings(database_url=db_url)


@pytest.fixture
def log(db: Database, db_url: str, users: dict[str, User]) -> tuple[int, int]:
    """Two cases with some history, and a first checkpoint over them."""
    first = start(db, users["bestallare"], title="Ekonomisystem")
    drive(db, first, "ssa", users)
    second = start(db, users["bestallare"], title="Växel")
    record(db, second, "behovsanalys_done", users["bestallare"])
    done = cli(db_url, "audit", "verify")
    assert done.exit_code == 0, done.output
    return first, second


# -- an independent reading of a checkpoint and a proof ---------------------------------------


def open_note(note: str, vkey: str) -> list[str]:
    """The checkpoint's lines, if `note` carries a valid signature by `vkey` (C2SP signed-note:
    key id = SHA-256(name || 0x0A || 0x01 || key)[:4]; signature line "— name base64(id||sig)")."""
    name, key_id_hex, key_b64 = vkey.split("+", 2)
    key = base64.b64decode(key_b64)
    assert key[0] == 1 and len(key) == 33  # Ed25519
    key_id = hashlib.sha256(name.encode() + b"\n" + key).digest()[:4]
    assert key_id.hex() == key_id_hex
    text, signatures = note.split("\n\n", 1)
    text += "\n"
    for line in signatures.splitlines():
        dash, who, blob = line.split(" ")
        raw = base64.b64decode(blob)
        if dash == "\u2014" and who == name and raw[:4] == key_id:
            Ed25519PublicKey.from_public_bytes(key[1:]).verify(raw[4:], text.encode())
            return text.splitlines()
    raise AssertionError("no signature by the key")


def root_from_proof(index: int, size: int, leaf: bytes, proof: list[bytes]) -> bytes | None:
    """RFC 9162, 2.1.3.2, step by step; None where the RFC says to fail."""
    if index >= size:
        return None
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return None
        if fn & 1 or fn == sn:
            r = hashlib.sha256(b"\x01" + p + r).digest()
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = hashlib.sha256(b"\x01" + r + p).digest()
        fn >>= 1
        sn >>= 1
    return r if sn == 0 else None


def test_a_proof_holds_against_the_signed_checkpoint(
    db: Database, db_url: str, client: TestClient, users: dict[str, User], log: tuple[int, int]
) -> None:
    vkey_file = get_settings().resolved_checkpoint_dir() / "key.vkey"
    vkey = vkey_file.read_text().strip()
    size = scalar(db, "SELECT size FROM log_head")
    for index in sorted({0, 1, size // 2, size - 1}):
        got = client.get(f"/api/audit/events/{index}/proof", headers=users["controller"].headers)
        assert got.status_code == 200, got.text
        proof = got.json()
        origin, tree_size, root_b64 = open_note(proof["checkpoint"], vkey)
        assert (origin, int(tree_size)) == (get_settings().log_origin, size)
        assert proof["root_hash"] == root_b64
        # The entry names the event as the database holds it; the leaf is computed here.
        chain, case, seq, digest = proof["entry"].split(" ")
        assert (chain, seq, digest) == (proof["chain"], str(proof["seq"]), proof["hash"])
        leaf = hashlib.sha256(b"\x00" + proof["entry"].encode()).digest()
        assert base64.b64encode(leaf).decode() == proof["leaf_hash"]
        path = [base64.b64decode(p) for p in proof["proof"]]
        assert root_from_proof(index, size, leaf, path) == base64.b64decode(root_b64)
        # The same path does not prove another leaf, or this leaf at another place.
        other = hashlib.sha256(b"\x00" + b"case 1 1 " + b"0" * 64).digest()
        assert root_from_proof(index, size, other, path) != base64.b64decode(root_b64)
        if size > 2:
            moved = (index + 1) % size
            assert root_from_proof(moved, size, leaf, path) != base64.b64decode(root_b64)

    beyond = client.get(f"/api/audit/events/{size}/proof", headers=users["controller"].headers)
    assert beyond.status_code == 404, beyond.text
    refused = client.get("/api/audit/events/0/proof", headers=users["bestallare"].headers)
    assert refused.status_code == 403
    # A new event is in no checkpoint yet: said so, not faked.
    record(db, log[1], "behovsanalys_done", users["upphandlare"])
    pending = client.get(f"/api/audit/events/{size}/proof", headers=users["controller"].headers)
    assert pending.status_code == 409, pending.text


def test_the_key_is_made_owner_only_outside_the_database(
    db: Database, db_url: str, log: tuple[int, int]
) -> None:
    key_file = get_settings().resolved_audit_key_file()
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    pem = key_file.read_bytes()
    assert b"PRIVATE KEY" in pem
    if db.is_sqlite:
        stored = Path(db_url.removeprefix("sqlite:///")).read_bytes()
        body = b"".join(pem.splitlines()[1:-1])
        assert body not in stored
    os.chmod(key_file, 0o644)
    refused = cli(db_url, "audit", "verify")
    assert refused.exit_code == 1
    assert "0644" in refused.output and "0600" in refused.output


def test_a_mailed_checkpoint_finds_what_the_checkpoint_folder_no_longer_can(
    db: Database, db_url: str, log: tuple[int, int]
) -> None:
    """Someone with the database and the checkpoint folder (but not the copy the controllers
    were mailed) cuts the last event and moves every head back: only the copy shows it."""
    folder = get_settings().resolved_checkpoint_dir()
    kept = sorted(folder.glob("*.checkpoint"))[-1].read_text()
    saved = folder.parent / "mailed.checkpoint"
    saved.write_text(kept)
    if db.is_sqlite:
        execute(db, "DROP TRIGGER audit_events_no_delete")
    else:
        execute(db, "DROP TRIGGER audit_events_no_change ON audit_events")
    last = scalar(db, "SELECT max(log_index) FROM audit_events")
    assert scalar(db, "SELECT max(log_index) FROM system_events") < last  # a case's is newest
    case_id = scalar(db, "SELECT case_id FROM audit_events WHERE log_index = :n", n=last)
    seq = scalar(db, "SELECT seq FROM audit_events WHERE log_index = :n", n=last)
    before = scalar(db, "SELECT hash FROM audit_events WHERE case_id = :c AND seq = :s",
                    c=case_id, s=seq - 1)  # fmt: skip
    execute(db, "DELETE FROM audit_events WHERE log_index = :n", n=last)
    execute(db, "DELETE FROM evidence WHERE case_id = :c AND audit_seq = :s", c=case_id, s=seq)
    with db.writer.begin() as conn:
        gates_read = conn.execute(select(CASES.c.evidence_log).where(CASES.c.id == case_id))
        shorter = gates_read.scalar_one()[:-1]
        conn.execute(
            CASES.update()
            .where(CASES.c.id == case_id)
            .values(audit_seq=seq - 1, audit_head=before, evidence_log=shorter)
        )
    execute(db, "UPDATE log_head SET size = :n", n=last)
    shutil.rmtree(folder)
    blind = cli(db_url, "audit", "verify")
    assert blind.exit_code == 0, blind.output  # nothing left to compare with
    found = cli(db_url, "audit", "verify", "--checkpoint", str(saved))
    assert found.exit_code == 1, found.output
    assert "kortats" in found.output


def test_the_export_verifies_offline_and_one_changed_byte_fails_it(
    db: Database, db_url: str, tmp_path: Path, log: tuple[int, int]
) -> None:
    out = tmp_path / "export"
    done = cli(db_url, "audit", "export", str(out))
    assert done.exit_code == 0, done.output
    names = sorted(p.name for p in out.iterdir())
    assert "events.jsonl" in names and "key.vkey" in names
    assert any(n.endswith(".checkpoint") for n in names)
    get_settings.cache_clear()
    ok = CliRunner().invoke(app, ["audit", "verify", "--export", str(out)])
    assert ok.exit_code == 0, ok.output
    # Every event's hash is SHA-256 of its body, recomputed here without the engine.
    lines = (out / "events.jsonl").read_bytes().splitlines()
    assert len(lines) == scalar(db, "SELECT size FROM log_head")
    for line in lines:
        event = json.loads(line)
        assert hashlib.sha256(event["body"].encode()).hexdigest() == event["hash"]

    rng = random.Random(11)
    files = [out / n for n in names]
    tried = 0
    for path in files:
        original = path.read_bytes()
        positions = {
            0,
            len(original) - 1,
            *rng.sample(range(len(original)), min(40, len(original))),
        }
        for at in sorted(positions):
            changed = bytearray(original)
            changed[at] = (changed[at] + 1 + rng.randrange(254)) % 256
            path.write_bytes(bytes(changed))
            get_settings.cache_clear()
            result = CliRunner().invoke(app, ["audit", "verify", "--export", str(out)])
            assert result.exit_code == 1, (path.name, at, result.output)
            tried += 1
        path.write_bytes(original)
    assert tried > 40
    get_settings.cache_clear()
    assert CliRunner().invoke(app, ["audit", "verify", "--export", str(out)]).exit_code == 0


def test_the_scheduled_checkpoint_signs_and_tells_the_controllers(
    db: Database, db_url: str, users: dict[str, User], log: tuple[int, int]
) -> None:
    handler = Handler.on(db)
    first, second = log
    record(db, second, "behovsanalys_done", users["upphandlare"])
    done = write_checkpoint(handler, get_settings())
    assert done.ok and done.written is not None and done.mailed
    size = scalar(db, "SELECT size FROM log_head")
    assert done.log_size == size
    assert Path(done.written).name == f"{size:012d}.checkpoint"
    mail = scalar(db, "SELECT context FROM outbox WHERE template = 'checkpoint_written'")
    context = mail if isinstance(mail, dict) else json.loads(mail)
    assert context["checkpoint"] == Path(done.written).read_text()
    # Nothing new: nothing signed, nothing sent.
    again = write_checkpoint(handler, get_settings())
    assert again.ok and again.written is None and not again.mailed
    # Broken: nothing signed, the controllers are told what is wrong.
    execute(db, "UPDATE cases SET state = 'forvaltning' WHERE id = :c", c=first)
    record(db, second, "behovsanalys_done", users["bestallare"])
    broken = write_checkpoint(handler, get_settings())
    assert not broken.ok and broken.written is None and broken.mailed
    alarm = scalar(db, "SELECT context FROM outbox WHERE template = 'audit_broken'")
    lines = (alarm if isinstance(alarm, dict) else json.loads(alarm))["lines"]
    assert any(line.startswith(f"ÄRENDE {first}, händelse 5, fält state") for line in lines)
    assert scalar(db, "SELECT count(*) FROM outbox WHERE template = 'checkpoint_written'") == 1


def _first_form(db: Database) -> None:
    """Rewrite every case event as the engine wrote it before RFC 8785 (no `format`, Python's
    sorted compact JSON), re-chained, as a database from before it holds them."""
    from helpers import event_hash  # the first form's hash, computed apart from the engine

    guard = "audit_events_no_update" if db.is_sqlite else "audit_events_no_change"
    execute(db, f"DROP TRIGGER {guard}" + ("" if db.is_sqlite else " ON audit_events"))
    with db.writer.begin() as conn:
        rows = conn.execute(
            text("SELECT id, case_id, seq, body FROM audit_events ORDER BY case_id, seq")
        ).all()
        prev: dict[int, str] = {}
        for id_, case_id, _, body in rows:
            event = json.loads(body)
            event.pop("format")
            event["prev_hash"] = prev.get(case_id, "0" * 64)
            first = json.dumps(event, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
            digest = event_hash(event)
            assert hashlib.sha256(first.encode()).hexdigest() == digest
            conn.execute(
                text("UPDATE audit_events SET body = :b, prev_hash = :p, hash = :h WHERE id = :i"),
                {"b": first, "p": event["prev_hash"], "h": digest, "i": id_},
            )
            conn.execute(
                text("UPDATE cases SET audit_head = :h WHERE id = :c"), {"h": digest, "c": case_id}
            )
            prev[case_id] = digest
    if db.is_sqlite:
        execute(
            db,
            "CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events "
            "BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END",
        )
    else:
        execute(
            db,
            "CREATE TRIGGER audit_events_no_change BEFORE UPDATE OR DELETE ON audit_events "
            "FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()",
        )


def test_an_older_database_gets_its_log_and_still_verifies(
    db: Database, db_url: str, users: dict[str, User]
) -> None:
    """A database of schema 0008 (no global log) with events in the first form and a user and
    token that no event of the system chain names: after the upgrade every event has its place,
    the user and token are recorded in the system chain as found, and everything verifies."""
    case_id = start(db, users["bestallare"], title="Ekonomisystem")
    drive(db, case_id, "forstudie", users)
    cfg = alembic_config(db)
    with db.writer.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0008")
    _first_form(db)
    execute(
        db,
        "INSERT INTO users (id, name, email, role, organisation, active, created_at) VALUES "
        "(90, 'Olle', 'olle@example.se', 'upphandlare', 'socialforvaltningen', :a, "
        "'2025-05-01 00:00:00')",
        a=True,
    )
    execute(
        db,
        "INSERT INTO tokens (id, user_id, name, token_hash, created_at, expires_at) VALUES "
        "(90, 90, 'standard', :h, '2025-05-01 00:00:00', '2027-05-01 00:00:00')",
        h="f" * 64,
    )
    execute(
        db,
        "INSERT INTO sanctions_lists (id, list_date, checksum, source, entries, loaded_at) "
        "VALUES (90, '2025-05-01', :c, 'EU', 1, '2025-05-01 00:00:00')",
        c="a" * 64,
    )
    execute(
        db,
        "INSERT INTO sanctions_entries (list_id, name, match_key, identifier, country, reference)"
        " VALUES (90, 'Sanktionerad Handel AB', :k, '5560009999', 'RU', 'EU 2014/269')",
        k=match_key("Sanktionerad Handel AB"),
    )
    upgrade(db)
    places = scalar(db, "SELECT count(DISTINCT log_index) FROM audit_events")
    events = scalar(db, "SELECT count(*) FROM audit_events")
    assert places == events and scalar(db, "SELECT min(log_index) FROM audit_events") >= 0
    assert "format" not in scalar(db, "SELECT body FROM audit_events WHERE seq = 1")
    found = scalar(db, "SELECT body FROM system_events WHERE action = 'user.existing'")
    assert '"email":"olle@example.se"' in found
    listed = scalar(db, "SELECT body FROM system_events WHERE action = 'sanctions.existing'")
    assert '"list_id":90' in listed and '"entries_digest":' in listed
    done = cli(db_url, "audit", "verify")
    assert done.exit_code == 0, done.output
    # New events are written in the RFC 8785 form, after the old ones.
    record(db, case_id, "forstudie_done", users["upphandlare"])
    newest = scalar(db, "SELECT body FROM audit_events ORDER BY log_index DESC LIMIT 1")
    assert '"format":2' in newest
    assert cli(db_url, "audit", "verify").exit_code == 0
    # The list as found is what later verifications hold it to.
    execute(db, "DELETE FROM sanctions_entries WHERE list_id = 90")
    assert cli(db_url, "audit", "verify").exit_code == 1
