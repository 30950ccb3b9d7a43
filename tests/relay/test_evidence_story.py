"""Evidence through a real relay process, across three homes (issue 16).

acme delivers two files; burgerco and veggie fetch and check them; a signer added later
reads only after `share`; strangers and removed signers get 404; a blob altered in the
relay's store is refused by every client; the standard `age` tool decrypts a blob with a
member's OpenSSH key.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from commands.cli import cli

PASSPHRASE = "correct horse battery"
S = "no-whopper-day"
PARTIES = ("acme", "burgerco", "veggie")

pytestmark = pytest.mark.slow


@dataclass
class Party:
    handle: str
    home: Path
    ledger: Path

    def __call__(self, *args: str) -> Result:
        env = {
            "ACCORD_HOME": str(self.home),
            "ACCORD_PASSPHRASE": PASSPHRASE,
            "ACCORD_LEDGER": str(self.ledger),
            "ACCORD_PARTY": None,
            "ACCORD_REMOTE": None,
        }
        return CliRunner().invoke(cli, list(args), env=env, prog_name="accord")

    def ok(self, *args: str) -> Result:
        result = self(*args)
        assert result.exit_code == 0, f"accord {' '.join(args)}: {result.output}"
        return result

    def json(self, *args: str) -> Any:
        return json.loads(self.ok(*args, "--format", "json").stdout)

    def act(self, *args: str) -> Result:
        return self.ok(*args, "--as", self.handle)

    @property
    def kept(self) -> Path:
        return self.ledger.parent / "accord-evidence" / S


@pytest.fixture
def world(tmp_path: Path, serve: Any) -> dict[str, Any]:
    """Three homes, one relay; acme delivers posters.pdf and notes.txt as seq 5."""
    db = tmp_path / "relay.db"
    relay = serve(str(db))
    found: dict[str, Any] = {"relay": relay, "db": db}
    for handle in PARTIES:
        (tmp_path / handle).mkdir()
        party = Party(handle, tmp_path / handle / "home", tmp_path / handle / "accord.db")
        party.ok("init")
        party.ok("key", "new", handle)
        party.ok("remote", "add", "hub", relay.url)
        found[handle] = party
    acme, burgerco, veggie = found["acme"], found["burgerco"], found["veggie"]
    acme.act(
        "project", "propose", S, "--title", "No Whopper Day",
        "--member", f"burgerco={fingerprint(burgerco)}",
        "--member", f"veggie={fingerprint(veggie)}",
    )  # fmt: skip
    for party in (burgerco, veggie):
        party.act("sync", S)
        party.act("project", "join", S)
    acme.act(
        "pledge", "add", S, "Posters", "--weight", "30", "--unit", "hours", "--due", "2099-12-15"
    )
    files = tmp_path / "work"
    files.mkdir()
    (files / "posters.pdf").write_bytes(os.urandom(600_000))
    (files / "notes.txt").write_text("three posters, two colours\n")
    delivered = acme.act(
        "deliver", S, "4", "--summary", "Posters",
        "--evidence", str(files / "posters.pdf"), "--evidence", str(files / "notes.txt"),
    )  # fmt: skip
    assert "Uploaded 2 evidence file(s) to the relay" in delivered.stderr
    found["files"] = files
    return found


def fingerprint(party: Party) -> str:
    return str(party.json("key", "show", party.handle)["fingerprint"])


def test_members_fetch_and_check_the_two_files_the_deliverer_uploaded(
    world: dict[str, Any],
) -> None:
    acme, files = world["acme"], world["files"]
    assert (acme.kept / "5" / "1-posters.pdf").read_bytes() == (files / "posters.pdf").read_bytes()
    for handle in ("burgerco", "veggie"):
        party = world[handle]
        listed = party.json("evidence", "list", S, "5", "--as", handle)
        assert [(r["index"], r["name"], r["where"]) for r in listed] == [
            (1, "posters.pdf", "relay"),
            (2, "notes.txt", "relay"),
        ]
        party.act("evidence", "get", S, "5")
        got = party.kept / "5"
        assert (got / "1-posters.pdf").read_bytes() == (files / "posters.pdf").read_bytes()
        assert (got / "2-notes.txt").read_bytes() == (files / "notes.txt").read_bytes()
        checked = party.ok("evidence", "check", S, "5", str(files / "notes.txt"))
        assert "is evidence file 2 of deliverable 5" in checked.stdout
        listed = party.json("evidence", "list", S, "5", "--offline")
        assert {r["where"] for r in listed} == {"local"}
    import hashlib

    notes = (files / "notes.txt").read_bytes()
    signed = {"name": "notes.txt", "size": len(notes), "sha256": hashlib.sha256(notes).hexdigest()}
    trail = world["veggie"].json("trail", S)
    assert [r["evidence"][1] for r in trail if r["type"] == "deliverable.submitted"] == [signed]
    reports = acme.home.parent / "reports"
    acme.ok("report", S, "-o", str(reports))
    html = (reports / "close-report.html").read_text()
    link = "../accord-evidence/no-whopper-day/5/1-posters.pdf"
    assert f'<a href="{link}">posters.pdf</a>' in html
    assert (reports / link).read_bytes() == (files / "posters.pdf").read_bytes()
    assert f"local copy {link}" in (reports / "close-report.md").read_text().replace("\\", "")
    todo = world["veggie"].json("todo", "--as", "veggie")
    assert any(
        f"2 evidence files (fetch: accord evidence get {S} 5 --as veggie)" in r["about"]
        for r in todo
    )


def test_a_file_that_is_not_the_signed_one_fails_the_check_with_exit_5(
    world: dict[str, Any], tmp_path: Path
) -> None:
    other = tmp_path / "notes.txt"
    other.write_text("three posters, one colour\n")
    result = world["burgerco"]("evidence", "check", S, "5", str(other))
    assert result.exit_code == 5, result.output
    assert "is not an evidence file of deliverable 5" in result.output
    assert "notes.txt (27 bytes, SHA-256" in result.output


def test_a_blob_altered_on_the_relay_is_refused_by_every_client_and_nothing_is_written(
    world: dict[str, Any],
) -> None:
    with sqlite3.connect(world["db"]) as db:
        (upload_id,) = db.execute(
            "SELECT upload_id FROM accord_evidence_blobs WHERE seq = 5 AND idx = 2"
        ).fetchone()
        (data,) = db.execute(
            "SELECT data FROM accord_evidence_chunks WHERE upload_id = ? AND n = 0", (upload_id,)
        ).fetchone()
        flipped = bytes(data[:-5]) + bytes([data[-5] ^ 1]) + bytes(data[-4:])
        db.execute(
            "UPDATE accord_evidence_chunks SET data = ? WHERE upload_id = ? AND n = 0",
            (flipped, upload_id),
        )
    for handle in PARTIES:
        party = world[handle]
        out = party.home.parent / "fetched"
        result = party("evidence", "get", S, "5", "-o", str(out), "--as", handle)
        assert result.exit_code == 5, result.output
        assert "Error:" in result.output
        assert not out.exists() or list(out.iterdir()) == []


def test_strangers_and_removed_signers_get_404_and_later_signers_read_after_share(
    world: dict[str, Any], tmp_path: Path
) -> None:
    burgerco = world["burgerco"]
    # a stranger: a key of its own, not in the project
    stranger = Party("intruder", tmp_path / "intruder-home", tmp_path / "intruder.db")
    stranger.ok("init")
    stranger.ok("key", "new", "intruder")
    stranger.ok("remote", "add", "hub", world["relay"].url)
    result = stranger("evidence", "get", S, "5", "--as", "intruder")
    assert result.exit_code == 3, result.output
    # burgerco adds a second signer (a new key): it cannot read until someone shares
    burgerco.ok("key", "new", "burgerco-anna")
    line = burgerco.json("key", "show", "burgerco-anna")["public_key"]
    burgerco.act("project", "add-signer", S, "--label", "anna", "--public-key", line)
    result = burgerco("evidence", "get", S, "5", "--as", "burgerco", "--key", "burgerco-anna")
    assert result.exit_code == 3, result.output
    assert "evidence share" in result.output
    world["veggie"].act("evidence", "share", S, "5")
    burgerco.ok("evidence", "get", S, "5", "--as", "burgerco", "--key", "burgerco-anna")
    # anna's signer removed: her key reads nothing any more
    burgerco.act("project", "remove-signer", S, "--label", "anna", "--reason", "left")
    out = tmp_path / "after-removal"
    result = burgerco(
        "evidence", "get", S, "5", "-o", str(out), "--as", "burgerco", "--key", "burgerco-anna"
    )
    assert result.exit_code == 3, result.output
    assert "answered 404" in result.output


def test_the_standard_age_tool_decrypts_a_blob_with_a_members_openssh_key(
    world: dict[str, Any], tmp_path: Path
) -> None:
    age = shutil.which("age")
    if age is None:
        if os.environ.get("ACCORD_TEST_AGE") or os.environ.get("ACCORD_TEST_BROWSER"):
            pytest.fail("the age tool is not installed (apt-get install age)")
        pytest.skip("the age tool is not installed")
    from cryptography.hazmat.primitives.serialization import (
        Encoding,
        NoEncryption,
        PrivateFormat,
    )

    from ledger.keys import load_signer

    with sqlite3.connect(world["db"]) as db:
        (upload_id,) = db.execute(
            "SELECT upload_id FROM accord_evidence_blobs WHERE seq = 5 AND idx = 1"
        ).fetchone()
        chunks = db.execute(
            "SELECT data FROM accord_evidence_chunks WHERE upload_id = ? ORDER BY n", (upload_id,)
        ).fetchall()
    sealed = tmp_path / "posters.pdf.age"
    sealed.write_bytes(b"".join(bytes(c) for (c,) in chunks))
    os.environ["ACCORD_HOME"], saved = str(world["veggie"].home), os.environ.get("ACCORD_HOME")
    try:
        signer = load_signer("veggie", "veggie", PASSPHRASE)
    finally:
        if saved is None:
            del os.environ["ACCORD_HOME"]
        else:
            os.environ["ACCORD_HOME"] = saved
    keyfile = tmp_path / "veggie_ed25519"
    keyfile.write_bytes(
        signer.private_key.private_bytes(Encoding.PEM, PrivateFormat.OpenSSH, NoEncryption())
    )
    keyfile.chmod(0o600)
    plain = subprocess.run(
        [age, "-d", "-i", str(keyfile), str(sealed)], capture_output=True, check=True
    ).stdout
    assert plain == (world["files"] / "posters.pdf").read_bytes()


def test_a_blob_a_member_sealed_from_other_bytes_is_refused_and_nothing_is_written(
    world: dict[str, Any], tmp_path: Path
) -> None:
    from ledger.keys import load_signer
    from ledger.sealing import recipients
    from ledger.storage import open_ledger
    from relay.evidence_client import EvidenceClient

    veggie = world["veggie"]
    ledger = open_ledger(str(veggie.ledger))
    try:
        lines = recipients(ledger.verified_state(S))
    finally:
        ledger.close()
    os.environ["ACCORD_HOME"], saved = str(veggie.home), os.environ.get("ACCORD_HOME")
    try:
        signer = load_signer("veggie", "veggie", PASSPHRASE)
    finally:
        if saved is None:
            del os.environ["ACCORD_HOME"]
        else:
            os.environ["ACCORD_HOME"] = saved
    import io

    from ledger.sealing import seal

    other = b"three posters, six colours\n"  # the signed file's size, other bytes
    assert len(other) == len((world["files"] / "notes.txt").read_bytes())
    sealed = tmp_path / "other.age"
    with sealed.open("wb") as out:
        seal(io.BytesIO(other), out, lines)  # type: ignore[arg-type]
    with EvidenceClient(world["relay"].url, signer) as client:
        client.put(S, 5, 2, sealed)
    out = tmp_path / "fetched"
    result = world["burgerco"]("evidence", "get", S, "5", "-o", str(out), "--as", "burgerco")
    assert result.exit_code == 5, result.output
    assert "evidence file 2 ('notes.txt') is not the signed one" in result.output
    assert list(out.iterdir()) == []


def test_an_audit_export_carries_the_evidence_and_verify_checks_it_beside_the_bundle(
    world: dict[str, Any], tmp_path: Path
) -> None:
    veggie, files = world["veggie"], world["files"]
    audit = tmp_path / "audit"
    exported = veggie.ok("export", S, "--with-evidence", "-o", str(audit), "--as", "veggie")
    assert "exported 2 evidence file(s)" in exported.stdout
    assert (audit / "evidence" / "5" / "2-notes.txt").read_bytes() == (
        files / "notes.txt"
    ).read_bytes()
    verified = veggie.ok("verify", "--bundle", str(audit / f"{S}.accord"))
    assert "sound" in verified.stdout
    assert verified.stderr == ""
    (audit / "evidence" / "5" / "1-posters.pdf").unlink()
    verified = veggie.ok("verify", "--bundle", str(audit / f"{S}.accord"))
    assert "1 evidence file(s) absent beside the bundle" in verified.stderr
    assert "deliverable 5 file 1 'posters.pdf'" in verified.stderr
    (audit / "evidence" / "5" / "2-notes.txt").write_text("three posters, six colours\n")
    failed = veggie("verify", "--bundle", str(audit / f"{S}.accord"))
    assert failed.exit_code == 5, failed.output
    assert "evidence" in failed.stdout and "not the signed one" in failed.stdout
    # without --as and without local copies, nothing can be exported: each file is named
    plain = tmp_path / "plain"
    exported = world["burgerco"].ok("export", S, "--with-evidence", "-o", str(plain))
    assert "exported 0 evidence file(s)" in exported.stdout
    assert exported.stderr.count("Note: not exported") == 2


def test_an_upload_cut_short_on_the_wire_stores_nothing_and_leaves_no_chunks(
    world: dict[str, Any], tmp_path: Path
) -> None:
    import base64
    import hashlib
    import socket
    import time
    from datetime import UTC, datetime
    from urllib.parse import urlparse

    import httpx
    from http_message_signatures import HTTPMessageSigner, algorithms

    from ledger.keys import load_signer
    from relay.client import _Resolver

    os.environ["ACCORD_HOME"], saved = str(world["veggie"].home), os.environ.get("ACCORD_HOME")
    try:
        signer = load_signer("veggie", "veggie", PASSPHRASE)
    finally:
        if saved is None:
            del os.environ["ACCORD_HOME"]
        else:
            os.environ["ACCORD_HOME"] = saved
    with sqlite3.connect(world["db"]) as db:
        (before,) = db.execute("SELECT COUNT(*) FROM accord_evidence_chunks").fetchone()
    body = b"age-encryption.org/v1\n" + os.urandom(600_500)  # fits posters.pdf's size
    url = f"{world['relay'].url}/v1/projects/{S}/evidence/5/1"
    digest = base64.b64encode(hashlib.sha256(body).digest()).decode()
    request = httpx.Request(
        "PUT",
        url,
        headers={
            "Content-Length": str(len(body)),
            "Content-Digest": f"sha-256=:{digest}:",
            "Accord-Public-Key": signer.public_key_line,
        },
    )
    HTTPMessageSigner(signature_algorithm=algorithms.ED25519, key_resolver=_Resolver(signer)).sign(
        request,
        key_id=signer.fingerprint,
        covered_component_ids=("@method", "@target-uri", "content-digest"),
        created=datetime.now(UTC),
        use_existing_digest=True,
    )
    where = urlparse(world["relay"].url)
    head = f"PUT {request.url.raw_path.decode()} HTTP/1.1\r\nHost: {where.netloc}\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in request.headers.items() if k.lower() != "host")
    with socket.create_connection((where.hostname, where.port), timeout=10) as sock:
        sock.sendall(head.encode("latin-1") + b"\r\n" + body[:400_000])  # > one chunk
        staged, deadline = before, time.monotonic() + 10
        while staged == before and time.monotonic() < deadline:
            time.sleep(0.05)
            with sqlite3.connect(world["db"]) as db:
                (staged,) = db.execute("SELECT COUNT(*) FROM accord_evidence_chunks").fetchone()
        assert staged > before  # a chunk of the upload was stored before the cut
    listing = world["acme"].json("evidence", "list", S, "5", "--as", "acme")
    assert [r["where"] for r in listing] == ["local", "local"]
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with sqlite3.connect(world["db"]) as db:
            (after,) = db.execute("SELECT COUNT(*) FROM accord_evidence_chunks").fetchone()
            (uploads,) = db.execute("SELECT COUNT(*) FROM accord_evidence_uploads").fetchone()
        if (after, uploads) == (before, 0):
            break
        time.sleep(0.1)
    assert (after, uploads) == (before, 0)
    # the blob stored before is intact: another member still gets the signed file
    out = tmp_path / "fetched"
    world["burgerco"].act("evidence", "get", S, "5", "-o", str(out))
    assert (out / "1-posters.pdf").read_bytes() == (world["files"] / "posters.pdf").read_bytes()
