"""A 10,000-entry bundle imports into PostgreSQL (and SQLite) in bounded chunks.

One save of 10,000 events through one psycopg pipeline used to deadlock; imports now append
in chunks of ``IMPORT_CHUNK`` events after verifying the whole bundle once.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from commands.cli import cli
from ledger import entry, rules
from ledger.bundle import BundleHeader
from ledger.keys import Signer

SLUG = "big"
ENTRIES = 10_000


def _entry(seq: int, prev: str, kind: str, signer: Signer, body: dict) -> entry.SignedEntry:
    data = {
        "v": 1, "project": SLUG, "seq": seq, "prev": prev, "type": kind, "by": signer.handle,
        "key": signer.fingerprint, "at": "2026-11-22T10:00:00Z", "body": body,
    }  # fmt: skip
    return entry.sign(data, signer.private_key)


def write_bundle(path: Path, signers: dict[str, Signer], count: int) -> str:
    acme, burgerco = signers["acme"], signers["burgerco"]
    members = [{"handle": "acme", "key": acme.fingerprint}, {"handle": "burgerco", "key": None}]
    items = [
        _entry(1, entry.ZERO_HASH, "project.proposed", acme, {
            "title": "Big", "purpose": "", "members": members, "approval": "all",
            "close": "all", "public_key": acme.public_key_line,
        }),
    ]  # fmt: skip
    items.append(
        _entry(2, items[-1].hash, "member.joined", burgerco,
               {"terms": items[0].hash, "public_key": burgerco.public_key_line})
    )  # fmt: skip
    for seq in range(3, count + 1):
        signer = acme if seq % 2 else burgerco
        body = {"title": f"Statement {seq}", "text": f"We stand by entry {seq}."}
        items.append(_entry(seq, items[-1].hash, "statement.proposed", signer, body))
    state = rules.replay(SLUG, items)
    header = BundleHeader(project=SLUG, entries=count, head=state.head)
    with path.open("w", encoding="utf-8") as out:
        out.write(header.as_line() + "\n")
        for item in items:
            line = {"entry": item.text, "sig": item.sig, "hash": item.hash}
            out.write(json.dumps(line, separators=(",", ":")) + "\n")
    return state.head


def _import(runner: CliRunner, ledger: str, bundle: Path) -> str:
    init = runner.invoke(cli, ["init", "--ledger", ledger])
    assert init.exit_code == 0, init.output
    result = runner.invoke(cli, ["import", str(bundle), "--ledger", ledger])
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.postgres
@pytest.mark.slow
def test_a_ten_thousand_entry_bundle_imports_into_postgres(
    postgres_url: str, signers: dict[str, Signer], home: Path, tmp_path: Path, runner: CliRunner
) -> None:
    bundle = tmp_path / "big.accord"
    head = write_bundle(bundle, signers, ENTRIES)
    output = _import(runner, postgres_url, bundle)
    assert (
        output == f"imported {ENTRIES} new entries of big ({ENTRIES} in all, active, head {head})\n"
    )
    listed = runner.invoke(cli, ["project", "list", "--format", "json", "--ledger", postgres_url])
    assert listed.exit_code == 0, listed.output
    assert [(p["project"], p["entries"], p["head"]) for p in json.loads(listed.output)] == [
        (SLUG, ENTRIES, head)
    ]
    verified = runner.invoke(cli, ["verify", SLUG, "--ledger", postgres_url])
    assert verified.exit_code == 0, verified.output


@pytest.mark.slow
def test_a_ten_thousand_entry_bundle_imports_into_sqlite_and_extends_a_shorter_copy(
    signers: dict[str, Signer], home: Path, tmp_path: Path, runner: CliRunner
) -> None:
    short, full = tmp_path / "short.accord", tmp_path / "full.accord"
    write_bundle(short, signers, 2_500)
    head = write_bundle(full, signers, ENTRIES)
    ledger = str(tmp_path / "big.db")
    _import(runner, ledger, short)
    result = runner.invoke(cli, ["import", str(full), "--ledger", ledger])
    assert result.exit_code == 0, result.output
    assert result.output == (
        f"imported {ENTRIES - 2_500} new entries of big ({ENTRIES} in all, active, head {head})\n"
    )
    shown = runner.invoke(cli, ["project", "show", SLUG, "--format", "json", "--ledger", ledger])
    assert json.loads(shown.output)["head"] == head
