"""Invitations at the command line: propose prints each invite once, join needs it, and a
squatter (anyone else with write access, joining under the invited handle) is refused."""

from __future__ import annotations

import json
from pathlib import Path

from cli_helpers import (
    FP,
    INVITE_NOTE,
    INVITE_RE,
    Accord,
    assert_matches,
    assert_refused,
    invite_lines,
    receipt,
)
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger import ed25519, entry

S = "spring-campaign"
HINT = "ask the proposer for your invite, then --invite TOKEN"
PROPOSE = (
    "project", "propose", S, "--title", "Spring campaign", "--member", "burgerco",
    "--member", f"veggie={FP['veggie']}", "--as", "acme",
)  # fmt: skip


def _propose(accord: Accord) -> str:
    result = accord.ok(*PROPOSE, stderr=INVITE_NOTE)
    assert_matches(
        result.stdout, receipt(S, 1, "project.proposed", "proposed") + invite_lines("burgerco")
    )
    [(handle, token)] = INVITE_RE.findall(result.stdout)
    assert handle == "burgerco"
    return token


def test_propose_prints_one_invite_per_unpinned_seat_and_records_only_its_fingerprint(
    initialised: Accord,
) -> None:
    token = _propose(initialised)
    shown = initialised.json("project", "show", S)
    assert token not in json.dumps(shown)
    trail = initialised("trail", S, "--format", "json")
    assert trail.exit_code == 0
    assert token.removeprefix("accord-invite-v1:") not in trail.stdout
    assert initialised.ledger_file.read_bytes().find(token.encode()) == -1


def test_propose_with_json_output_puts_the_invites_in_their_own_field(
    initialised: Accord,
) -> None:
    result = initialised.ok(*PROPOSE, "--format", "json")
    data = json.loads(result.stdout)
    [invite] = data["invites"]
    assert invite["handle"] == "burgerco"
    assert INVITE_RE.fullmatch(f"invite for burgerco: {invite['invite']}")
    assert data["seq"] == 1
    assert data["type"] == "project.proposed"


def test_a_fully_pinned_proposal_prints_no_invite_and_no_note(initialised: Accord) -> None:
    result = initialised.ok(
        "project", "propose", S, "--title", "Spring", "--member", f"burgerco={FP['burgerco']}",
        "--as", "acme",
    )  # fmt: skip
    assert "invite" not in result.stdout


def test_join_with_the_invite_by_option_or_environment(initialised: Accord) -> None:
    token = _propose(initialised)
    initialised.ok("project", "join", S, "--as", "burgerco", "--invite", token)
    initialised.ok("project", "join", S, "--as", "veggie", env={"ACCORD_INVITE": None})
    assert initialised.json("project", "show", S)["status"] == "active"


def test_join_with_the_invite_from_accord_invite(initialised: Accord) -> None:
    token = _propose(initialised)
    initialised.ok("project", "join", S, "--as", "burgerco", env={"ACCORD_INVITE": token})


def test_a_squatter_without_the_invite_is_refused_and_the_ledger_is_unchanged(
    initialised: Accord,
) -> None:
    token = _propose(initialised)
    forged, _ = entry.new_invite()
    no_invite = {"ACCORD_INVITE": None}
    with initialised.unchanged():
        for key in ("mallory", "burgerco"):
            assert_refused(
                initialised("project", "join", S, "--as", "burgerco", "--key", key, env=no_invite),
                2,
                f"the seat of 'burgerco' in {S!r} is protected by an invite",
                HINT,
            )
        assert_refused(
            initialised(
                "project", "join", S, "--as", "burgerco", "--key", "mallory", "--invite", forged
            ),
            4,
            f"this invite is not the one for the seat of 'burgerco' in {S!r} (the seat's "
            f"invite is {entry.invite_fingerprint(token)})",
            HINT,
        )
        assert_refused(
            initialised(
                "project",
                "decline",
                S,
                "--reason",
                "Not us",
                "--as",
                "burgerco",
                "--key",
                "mallory",
                env=no_invite,
            ),
            2,
            f"the seat of 'burgerco' in {S!r} is protected by an invite",
            HINT,
        )
        assert_refused(
            initialised("project", "join", S, "--as", "burgerco", "--invite", "let-me-in"),
            2,
            "the invite is malformed: an invite is accord-invite-v1: followed by 43 base64url "
            "characters",
            HINT,
        )
    # The member the invite was sent to still joins.
    initialised.ok("project", "join", S, "--as", "burgerco", "--invite", token)
    shown = initialised.json("project", "show", S)
    [burgerco] = [m for m in shown["members"] if m["handle"] == "burgerco"]
    assert burgerco["signers"] == [{"label": "burgerco", "key": FP["burgerco"], "since_seq": 2}]


def test_a_pinned_seat_refuses_an_invite(initialised: Accord) -> None:
    token = _propose(initialised)
    with initialised.unchanged():
        assert_refused(
            initialised("project", "join", S, "--as", "veggie", "--invite", token),
            2,
            f"the seat of 'veggie' in {S!r} has no invite",
            "leave out --invite (and ACCORD_INVITE)",
        )


def test_the_demo_still_runs_with_its_pinned_seats(accord: Accord) -> None:
    result = accord("demo", str(accord.tmp_path / "demo"))
    assert result.exit_code == 0, result.output
    assert "invite for" not in result.output


def _forged_bundle(accord: Accord, path: Path) -> Path:
    """The exported proposal followed by a join of burgerco signed by mallory's key, with no
    invite proof (a squat written straight into a log, past the command's checks)."""
    accord.ok("export", S, "-o", str(path))
    header_line, first_line = path.read_text(encoding="utf-8").splitlines()
    first = json.loads(first_line)
    squatter = Ed25519PrivateKey.from_private_bytes(bytes([4]) * 32)  # mallory's seed
    data = {
        "v": 1,
        "project": S,
        "seq": 2,
        "prev": first["hash"],
        "type": "member.joined",
        "by": "burgerco",
        "key": ed25519.fingerprint(squatter.public_key()),
        "at": "2026-11-22T12:00:00Z",
        "body": {
            "terms": first["hash"],
            "public_key": ed25519.public_key_line(squatter.public_key()),
        },
    }
    signed = entry.sign(data, squatter)
    header = {**json.loads(header_line), "entries": 2, "head": signed.hash}
    line = {"entry": signed.text, "sig": signed.sig, "hash": signed.hash}
    path.write_text(
        "\n".join(json.dumps(item, separators=(",", ":")) for item in (header, first, line)) + "\n",
        encoding="utf-8",
    )
    return path


def test_a_stored_squat_without_an_invite_proof_fails_verification_and_import(
    initialised: Accord, tmp_path: Path
) -> None:
    token = _propose(initialised)
    bundle = _forged_bundle(initialised, tmp_path / "squat.accord")
    result = initialised("verify", "--bundle", str(bundle), "--format", "json")
    assert result.exit_code == 5, result.output
    (report,) = json.loads(result.stdout)["projects"]
    causes = [(p["seq"], p["cause"]) for p in report["problems"]]
    assert (
        2,
        f"the seat of 'burgerco' is protected by an invite ({entry.invite_fingerprint(token)}); "
        "the entry carries no invite proof",
    ) in causes
    copy = tmp_path / "copy.db"
    assert initialised("import", str(bundle), "--ledger", str(copy)).exit_code == 5


def test_project_show_and_the_report_name_each_seat_by_its_pin_or_invite_key(
    initialised: Accord, tmp_path: Path
) -> None:
    token = _propose(initialised)
    invite_fp = entry.invite_fingerprint(token)

    shown = {m["handle"]: m for m in initialised.json("project", "show", S)["members"]}

    assert (shown["burgerco"]["pinned"], shown["burgerco"]["invite"]) == (None, invite_fp)
    assert (shown["veggie"]["pinned"], shown["veggie"]["invite"]) == (FP["veggie"], None)
    initialised.ok("report", S, "--output", str(tmp_path / "r"))
    report = json.loads((tmp_path / "r" / "close-report.json").read_text())
    parties = {p["handle"]: p for p in report["parties"]}
    assert (parties["burgerco"]["pinned"], parties["burgerco"]["invite"]) == (None, invite_fp)
    markdown = (tmp_path / "r" / "close-report.md").read_text()
    assert f"| invite {invite_fp} " in markdown
    assert f"| pinned to {FP['veggie']} " in markdown
