"""Weak public keys end to end: refused on the command line, in a home, as a relay key, and
in a stored log; and a new key that another party already uses is a rule violation (exit 4).

The project of the ``project`` fixture: acme proposed (seq 1), burgerco and veggie joined
(seqs 2 and 3). The weak keys are the vectors of ``tests/unit/test_weak_keys.py``.
"""

from __future__ import annotations

import base64
import hashlib
import json
import sqlite3
import struct
import threading
from collections.abc import Iterator
from contextlib import closing
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from cli_helpers import FP, Accord, assert_refused
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from ledger import entry as entry_mod
from ledger.keys import Signer

S = "spring-campaign"
P = 2**255 - 19
FORGED = bytes([1]) + bytes(63)  # R = the identity point, S = 0
WEAK_HINT = (
    "use a key made by `accord key new` or `ssh-keygen -t ed25519`; a weak key would let "
    "anyone sign in its holder's name"
)
KEY_HINT = "each person signs with a key of their own: `accord key new NAME`"
SMALL = (
    "weak public key (a point of small order: signatures would verify by it for many "
    "messages, without any private key)"
)
IDENTITY = bytes([1]) + bytes(31)
WEAK = {
    "identity": (IDENTITY, SMALL),
    "order-8": (
        bytes.fromhex("c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa"),
        SMALL,
    ),
    "order-2-negative-zero": (
        (P - 1 | 1 << 255).to_bytes(32, "little"),
        "weak public key (not canonically encoded: x is zero but its sign bit is set)",
    ),
    "identity-above-p": (
        (P + 1).to_bytes(32, "little"),
        "weak public key (not canonically encoded: y is not below 2^255-19)",
    ),
}
CASES = [pytest.param(raw, reason, id=name) for name, (raw, reason) in WEAK.items()]
ENTRY_TOPIC = "accord:Project.EntryRecorded"


def ssh_line(raw: bytes) -> str:
    name = b"ssh-ed25519"
    blob = struct.pack(">I", len(name)) + name + struct.pack(">I", len(raw)) + raw
    return "ssh-ed25519 " + base64.b64encode(blob).decode("ascii")


def ssh_fingerprint(raw: bytes) -> str:
    blob = base64.b64decode(ssh_line(raw).split()[1])
    return "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")


# --- on the command line ---------------------------------------------------------------------


@pytest.mark.parametrize(("raw", "reason"), CASES)
def test_add_signer_with_a_weak_key_is_refused_and_the_ledger_is_unchanged(
    initialised: Accord, project: str, raw: bytes, reason: str
) -> None:
    with initialised.unchanged():
        assert_refused(
            initialised(
                "project",
                "add-signer",
                S,
                "--label",
                "ghost",
                "--public-key",
                ssh_line(raw),
                "--as",
                "acme",
            ),
            2,
            f"the signer's public key is not usable: {reason}",
            WEAK_HINT,
        )


def test_a_weak_key_in_a_home_cannot_be_shown_rotated_to_or_named_as_a_replacement(
    initialised: Accord, project: str, home: Path
) -> None:
    initialised.ok("key", "new", "ghost")
    pub = home / "keys" / "ghost.pub"
    assert pub.exists()
    pub.write_text(f"{ssh_line(IDENTITY)} ghost\n", encoding="ascii")
    error = f"public key file {pub} holds a {SMALL}"
    hint = "re-import the key under a new name"
    with initialised.unchanged():
        assert_refused(initialised("key", "show", "ghost"), 7, error, hint)
        assert_refused(
            initialised("project", "rotate-key", S, "--new-key", "ghost", "--as", "acme"),
            7,
            error,
            hint,
        )
        assert_refused(
            initialised(
                "project",
                "revoke-key",
                S,
                FP["acme"],
                "--reason",
                "leaked",
                "--new-key",
                "ghost",
                "--as",
                "acme",
            ),
            7,
            error,
            hint,
        )
    result = initialised("key", "list", "--format", "json")
    assert result.exit_code == 0
    assert result.stderr == f"Warning: key 'ghost' cannot be used: {error}\n"
    listed = {row["name"]: row for row in json.loads(result.stdout)}
    assert (listed["ghost"]["fingerprint"], listed["ghost"]["problem"]) == (None, error)


def test_rotating_to_another_partys_key_is_a_rule_violation_with_a_hint(
    initialised: Accord, project: str
) -> None:
    """ADR 0011: a key used before in the project, by any party, is refused (exit 4)."""
    with initialised.unchanged():
        assert_refused(
            initialised("project", "rotate-key", S, "--new-key", "veggie", "--as", "acme"),
            4,
            f"key {FP['veggie']} was used in this project before (by 'veggie'); a key serves "
            "one signer only (seq 4)",
            KEY_HINT,
        )
        assert_refused(
            initialised(
                "project",
                "revoke-key",
                S,
                FP["acme"],
                "--reason",
                "leaked",
                "--new-key",
                "burgerco",
                "--as",
                "acme",
            ),
            4,
            f"key {FP['burgerco']} was used in this project before (by 'burgerco'); a key "
            "serves one signer only (seq 4)",
            KEY_HINT,
        )
        assert_refused(
            initialised("project", "rotate-key", S, "--new-key", "acme", "--as", "acme"),
            4,
            f"key {FP['acme']} was used in this project before (by 'acme'); a key serves one "
            "signer only (seq 4)",
            KEY_HINT,
        )
    # A fresh key is still fine.
    initialised.ok("key", "new", "acme-2027")
    initialised.ok("project", "rotate-key", S, "--new-key", "acme-2027", "--as", "acme")


# --- the relay key ---------------------------------------------------------------------------


@pytest.mark.parametrize(("raw", "reason"), CASES)
def test_remote_add_refuses_a_weak_relay_key_given(
    initialised: Accord, raw: bytes, reason: str
) -> None:
    with initialised.unchanged():
        assert_refused(
            initialised("remote", "add", "hub", "http://127.0.0.1:9", "--relay-key", ssh_line(raw)),
            2,
            f"--relay-key is not usable: {reason}",
            "give the line `accord relay key` prints on the relay (ssh-ed25519 AAAA...)",
        )
    assert initialised.json("remote", "list") == []


class _WeakKeyRelay(BaseHTTPRequestHandler):
    """A hostile relay that offers a small-order key at /v1/relay/key."""

    def do_GET(self) -> None:
        body = json.dumps({"public_key": ssh_line(IDENTITY)}).encode()
        self.send_response(200 if self.path == "/v1/relay/key" else 404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        return


@pytest.fixture
def weak_relay() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _WeakKeyRelay)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_remote_add_refuses_a_weak_key_a_relay_offers(initialised: Accord, weak_relay: str) -> None:
    with initialised.unchanged():
        assert_refused(
            initialised("remote", "add", "hub", weak_relay),
            5,
            f"the relay at {weak_relay} sent an unusable key: {SMALL}",
            "do not use this relay; ask its operator for the key (`accord relay key`) and give "
            "it with --relay-key",
        )
    assert initialised.json("remote", "list") == []


# --- a stored log written behind accord's back -----------------------------------------------


def ghost_entries(
    ledger_file: Path, signers: dict[str, Signer]
) -> tuple[entry_mod.SignedEntry, entry_mod.SignedEntry]:
    """seq 4: acme adds signer "ghost" with the identity key; seq 5: "ghost" pledges.

    The pledge carries the forged signature, which cryptography verifies for the identity.
    """
    with closing(sqlite3.connect(ledger_file)) as conn:
        (state,) = conn.execute(
            "SELECT state FROM stored_events ORDER BY originator_version DESC LIMIT 1"
        ).fetchone()
    last = entry_mod.load(json.loads(state)["entry"], json.loads(state)["sig"])
    base = {"v": 1, "project": S, "by": "acme", "at": "2026-11-22T12:00:00Z"}
    added = entry_mod.sign(
        base | {
            "seq": 4, "prev": last.hash, "type": "signer.added", "key": signers["acme"].fingerprint,
            "body": {"label": "ghost", "public_key": ssh_line(IDENTITY)},
        },
        signers["acme"].private_key,
    )  # fmt: skip
    data = base | {
        "seq": 5, "prev": added.hash, "type": "pledge.made", "key": ssh_fingerprint(IDENTITY),
        "body": {
            "title": "Nothing", "weight": "1", "unit": "hours", "due": "2099-12-01",
            "beneficiaries": ["burgerco"],
        },
    }  # fmt: skip
    text = entry_mod.canonical_bytes(data).decode()
    pledge = entry_mod.load(text, base64.b64encode(FORGED).decode())
    Ed25519PublicKey.from_public_bytes(IDENTITY).verify(
        FORGED, entry_mod.signing_input(text.encode())
    )
    return added, pledge


def forge_rows(ledger_file: Path, entries: tuple[entry_mod.SignedEntry, ...]) -> None:
    """Insert ``entries`` as the next stored events, shaped like the last one."""
    with closing(sqlite3.connect(ledger_file)) as conn, conn:
        originator, version, state = conn.execute(
            "SELECT originator_id, originator_version, state FROM stored_events "
            "ORDER BY originator_version DESC LIMIT 1"
        ).fetchone()
        for item in entries:
            version += 1
            record = json.loads(state) | {
                "entry": item.text, "sig": item.sig, "hash": item.hash, "party": item.by,
            }  # fmt: skip
            conn.execute(
                "INSERT INTO stored_events (originator_id, originator_version, topic, state) "
                "VALUES (?, ?, ?, ?)",
                (originator, version, ENTRY_TOPIC, json.dumps(record).encode()),
            )


def test_a_stored_log_with_a_weak_signer_fails_verify_and_every_read_with_exit_5(
    initialised: Accord, project: str, signers: dict[str, Signer]
) -> None:
    entries = ghost_entries(initialised.ledger_file, signers)
    forge_rows(initialised.ledger_file, entries)
    weak = f"entry 4 carries a {SMALL}"
    result = initialised("verify", S, "--format", "json", "--workers", "1")
    assert result.exit_code == 5, result.output
    (report,) = json.loads(result.stdout)["projects"]
    identity = ssh_fingerprint(IDENTITY)
    assert [(p["seq"], p["kind"], p["cause"]) for p in report["problems"]] == [
        (4, "key", weak),
        (5, "key", f"entry names unknown key {identity}"),
        (5, "key", f"key {identity} is not a current key of 'acme'"),
    ]
    before = initialised.ledger_file.read_bytes()
    assert_refused(
        initialised("trail", S),
        5,
        f"{weak} (seq 4)",
        f"`accord verify {S}` lists every problem",
    )
    assert initialised.ledger_file.read_bytes() == before


def test_a_bundle_with_a_weak_signer_is_neither_verified_nor_imported(
    initialised: Accord, project: str, signers: dict[str, Signer], tmp_path: Path
) -> None:
    bundle = tmp_path / f"{S}.accord"
    initialised.ok("export", S, "-o", str(bundle))
    header, *lines = bundle.read_text(encoding="utf-8").splitlines()
    added, pledge = ghost_entries(initialised.ledger_file, signers)
    template = json.loads(lines[-1])
    for item in (added, pledge):
        lines.append(
            json.dumps(template | {"entry": item.text, "sig": item.sig, "hash": item.hash})
        )
    head = json.loads(header) | {"entries": 5, "head": pledge.hash}  # a careful forger
    bundle.write_text("\n".join([json.dumps(head), *lines]) + "\n", encoding="utf-8")
    result = initialised("verify", "--bundle", str(bundle), "--format", "json", "--workers", "1")
    assert result.exit_code == 5, result.output
    (report,) = json.loads(result.stdout)["projects"]
    assert (report["problems"][0]["seq"], report["problems"][0]["kind"]) == (4, "key")
    assert report["problems"][0]["cause"] == f"entry 4 carries a {SMALL}"
    other = tmp_path / "other.db"
    initialised.ok("--ledger", str(other), "init")
    result = initialised("--ledger", str(other), "import", str(bundle))
    assert (result.exit_code, result.stderr) == (
        5,
        f"Error: the bundle of {S!r} does not verify; nothing was imported\n"
        f"Hint: `accord verify --bundle {bundle}` lists the problems\n",
    )
    assert f"entry 4 carries a {SMALL}" in result.stdout
    assert initialised.json("--ledger", str(other), "project", "list") == []
