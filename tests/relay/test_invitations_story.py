"""Onboarding through a real relay process: invite lines, invitations found, cancelled proposals.

acme proposes through an ``accord relay serve`` process to burgerco (pinned), veggie and ngo
(unpinned, each with an invite). Every party has its own ACCORD_HOME and SQLite replica;
veggie starts with nothing but a key and its invite line. A squatter (mallory, with its own
home) tries wrong, other seats' and used invites.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner, Result

from commands.cli import cli
from ledger import entry
from ledger.keys import Signer

PASSPHRASE = "correct horse battery"
S = "no-whopper-day"
NOT_FOUND_HINT = (
    "Hint: the invite is wrong, already used (the seat was taken or declined) or for another "
    "seat, or the proposal was cancelled: ask the proposer for a new invite line\n"
)

pytestmark = pytest.mark.slow


@dataclass
class Party:
    """One organisation: its home, its replica, and ``accord`` run as it."""

    handle: str
    home: Path
    ledger: Path

    def __call__(self, *args: str, input: str | None = None) -> Result:
        env = {
            "ACCORD_HOME": str(self.home),
            "ACCORD_PASSPHRASE": PASSPHRASE,
            "ACCORD_LEDGER": str(self.ledger),
            "ACCORD_PARTY": None,
            "ACCORD_REMOTE": None,
            "ACCORD_INVITE": None,
        }
        return CliRunner().invoke(cli, list(args), env=env, prog_name="accord", input=input)

    def ok(self, *args: str, **kwargs: Any) -> Result:
        result = self(*args, **kwargs)
        assert result.exit_code == 0, f"accord {' '.join(args)}: {result.output}"
        return result

    def json(self, *args: str) -> Any:
        return json.loads(self.ok(*args, "--format", "json").stdout)

    def snapshot(self) -> tuple[bytes | None, list[str]]:
        data = self.ledger.read_bytes() if self.ledger.exists() else None
        remotes = (
            sorted(p.name for p in (self.home / "remotes").glob("*")) if self.home.exists() else []
        )
        return data, remotes


@pytest.fixture
def world(tmp_path: Path, serve: Any) -> dict[str, Any]:
    relay = serve(str(tmp_path / "relay.db"), "--rate", "0")
    parties = {}
    for handle in ("acme", "burgerco", "veggie", "ngo", "mallory"):
        (tmp_path / handle).mkdir()
        parties[handle] = Party(handle, tmp_path / handle / "home", tmp_path / handle / "accord.db")
        parties[handle].ok("key", "new", handle)
    acme = parties["acme"]
    acme.ok("init")
    acme.ok("remote", "add", "hub", relay.url)
    return {"relay": relay, **parties}


def fingerprint(party: Party) -> str:
    return str(party.json("key", "show", party.handle)["fingerprint"])


def propose(world: dict[str, Any], slug: str = S) -> dict[str, str]:
    """acme proposes ``slug``; the invite lines by seat."""
    proposed = world["acme"].json(
        "project", "propose", slug, "--title", "No Whopper Day", "--purpose", "One day",
        "--member", f"burgerco={fingerprint(world['burgerco'])}",
        "--member", "veggie", "--member", "ngo", "--as", "acme",
    )  # fmt: skip
    lines = {item["handle"]: item["line"] for item in proposed["invite_lines"]}
    assert sorted(lines) == ["burgerco", "ngo", "veggie"]
    tokens = {item["handle"]: item["invite"] for item in proposed["invites"]}
    assert sorted(tokens) == ["ngo", "veggie"]
    relay_key = world["acme"].json("remote", "list")[0]["fingerprint"]
    for handle, line in lines.items():
        invite = f",invite={tokens[handle]}" if handle in tokens else ""
        assert line == (
            f"accord-join-v1,project={slug},seat={handle},terms={proposed['hash']},"
            f"relay={world['relay'].url},relay-key={relay_key}{invite}"
        )
    return lines


def with_token(line: str, token: str) -> str:
    return re.sub(r"invite=accord-invite-v1:[A-Za-z0-9_-]{43}", f"invite={token}", line)


def test_an_unpinned_invitee_is_onboarded_with_its_line_alone_and_squatters_are_refused(
    world: dict[str, Any],
) -> None:
    acme, burgerco, veggie, ngo, mallory = (
        world[h] for h in ("acme", "burgerco", "veggie", "ngo", "mallory")
    )
    lines = propose(world)

    # The table output of a proposal prints the lines too (a second project, same shape).
    table = acme.ok(
        "project", "propose", "other", "--title", "Other", "--member", "veggie", "--as", "acme"
    )
    assert re.search(
        r"^invite line for veggie: accord-join-v1,project=other,seat=veggie,.*,invite="
        r"accord-invite-v1:[A-Za-z0-9_-]{43}\n  send it to veggie by a channel you trust \(it "
        r"holds the invite, shown only this once\); veggie runs: accord join LINE\n\Z",
        table.stdout.split("project other is proposed\n")[1],
        re.M,
    )
    assert table.stderr == (
        "\nNote: an invite line holds its seat's invite: send it secretly to its member only; "
        "accord keeps no copy\n"
    )

    # burgerco, pinned, joins the usual way: seq 2.
    burgerco.ok("init")
    burgerco.ok("remote", "add", "hub", world["relay"].url)
    burgerco.ok("project", "join", S, "--as", "burgerco")

    # Squatters: a wrong token, another seat's token, a malformed line. Nothing is kept.
    wrong = with_token(lines["veggie"], entry.new_invite()[0])
    other_seat = lines["ngo"].replace("seat=ngo", "seat=veggie")
    before = mallory.snapshot()
    assert before == (None, [])
    # A wrong token; another seat's token (ngo's, for veggie's seat); veggie's line as ngo.
    for args in ([wrong], [other_seat], [lines["veggie"], "--as", "ngo"]):
        refused = mallory("join", *args)
        assert (refused.exit_code, refused.stdout) == (3, ""), refused.output
        assert refused.stderr == (
            f"Error: the relay at {world['relay'].url} answered 404: no such project\n"
            + NOT_FOUND_HINT
        )
        assert mallory.snapshot() == before  # no ledger, no remote: nothing kept

    # The invite key reads its invitation and nothing else.
    token = re.search(r"invite=(\S+)", lines["veggie"]).group(1)  # type: ignore[union-attr]
    invite_key = entry.parse_invite_token(token)
    signer = Signer(handle="veggie", key_name="invite", private_key=invite_key)
    from relay.client import RelayClient

    with RelayClient(world["relay"].url, signer) as client:
        answer = client.invitation(S, "veggie")
        assert answer["head"]["seq"] == 2
        with pytest.raises(Exception) as info:
            client.entries(S, after=0, upto=1)
        assert "answered 404: no such project" in str(info.value)
        with pytest.raises(Exception) as info:
            client.checkpoint(S)
        assert "answered 404: no such project" in str(info.value)

    # veggie: a key (made by the fixture) and its line; nothing else.
    assert not veggie.ledger.exists()
    joined = veggie.ok("join", lines["veggie"])
    relay_key = world["acme"].json("remote", "list")[0]["fingerprint"]
    terms = re.search(r"terms=([0-9a-f]{64})", lines["veggie"]).group(1)  # type: ignore[union-attr]
    assert re.fullmatch(
        r"invitation to no-whopper-day: 'No Whopper Day' from acme\n"
        r"  purpose: One day\n"
        r"  members: acme \(proposer\), burgerco \(pinned\), ngo \(invite\), veggie \(you, "
        r"invite\)\n"
        rf"  approval all, close all; proposed at \S+Z; terms {terms}\n"
        rf"Added remote relay {re.escape(world['relay'].url)}: relay key {re.escape(relay_key)} "
        r"\(the one the line names\)\n"
        r"recorded no-whopper-day seq 3 member.joined\n"
        r"hash [0-9a-f]{64}\n"
        r"project no-whopper-day is proposed\n"
        r"joined no-whopper-day: `accord todo` shows what waits for you\n",
        joined.stdout,
    ), joined.stdout
    assert joined.stderr == ""
    assert "accord-invite-v1" not in joined.output  # the secret is never printed back
    assert veggie.json("project", "show", S)["entries"] == 3
    status = veggie.json("status", S, "--as", "veggie")
    assert (status["local_head"], status["relay_head"]) == (3, 3)
    assert status["cosigned"]["veggie"] == 3  # veggie cosigned the tree holding its join
    assert veggie.json("remote", "list")[0]["name"] == "relay"

    # The used token: refused like any other, for anyone.
    used = mallory("join", lines["veggie"], "--as", "veggie", "--key", "mallory")
    assert used.exit_code == 3 and used.stderr.endswith(NOT_FOUND_HINT)
    again = veggie("join", lines["veggie"])
    assert again.exit_code == 3 and again.stderr.endswith(NOT_FOUND_HINT)

    # ngo declines with its line: seq 4; the project is active now.
    declined = ngo.ok("join", lines["ngo"], "--decline", "--reason", "No budget this year")
    assert declined.stdout.endswith(
        "recorded no-whopper-day seq 4 member.declined\nhash "
        + declined.stdout.split("hash ")[1].split("\n")[0]
        + "\nyou declined no-whopper-day; the relay holds it (its receipt verified)\n"
    )
    assert declined.stdout.startswith("invitation to no-whopper-day: 'No Whopper Day' from acme")
    assert not ngo.ledger.exists()  # a decliner reads nothing more: no replica

    # A write by acme is seen by veggie, and veggie's by acme.
    acme.ok(
        "pledge", "add", S, "Posters", "--weight", "10", "--unit", "hours", "--due", "2099-12-01",
        "--as", "acme",
    )  # fmt: skip
    veggie.ok("sync", S, "--as", "veggie")
    shown = veggie.json("project", "show", S)
    assert (shown["entries"], shown["status"]) == (5, "active")
    veggie.ok(
        "pledge", "add", S, "Posts", "--weight", "3", "--unit", "posts", "--due", "2099-12-01",
        "--as", "veggie",
    )  # fmt: skip
    acme.ok("sync", S, "--as", "acme")
    assert acme.json("project", "show", S)["entries"] == 6


def test_a_line_whose_relay_key_or_terms_differ_is_refused_before_anything_is_signed(
    world: dict[str, Any],
) -> None:
    veggie = world["veggie"]
    lines = propose(world)
    other_key = lines["veggie"].replace(
        re.search(r"relay-key=(\S+?),", lines["veggie"]).group(1),  # type: ignore[union-attr]
        "SHA256:" + "A" * 43,
    )
    refused = veggie("join", other_key)
    assert refused.exit_code == 5, refused.output
    assert re.fullmatch(
        rf"Error: the relay at {re.escape(world['relay'].url)} presents key SHA256:\S+, not "
        r"SHA256:A{43} as the invite line says\nHint: do not use this relay \(someone may stand "
        r"in for it\); ask the proposer\n",
        refused.stderr,
    )
    assert veggie.snapshot() == (None, [])
    terms = re.search(r"terms=([0-9a-f]{64})", lines["veggie"]).group(1)  # type: ignore[union-attr]
    other_terms = lines["veggie"].replace(terms, "0" * 64)
    refused = veggie("join", other_terms)
    assert refused.exit_code == 5, refused.output
    assert refused.stderr.startswith(
        f"Error: the relay at {world['relay'].url} sent an invitation to 'no-whopper-day' that "
        "is not the proposal the invite line names (terms 000000000000...)\n"
    )
    assert veggie.snapshot() == (None, [])


def test_a_pinned_invitee_finds_its_invitation_and_a_stranger_learns_nothing(
    world: dict[str, Any],
) -> None:
    burgerco, mallory = world["burgerco"], world["mallory"]
    propose(world)
    for party in (burgerco, mallory):
        party.ok("init")
        party.ok("remote", "add", "hub", world["relay"].url)
    found = burgerco.json("invitations", "--as", "burgerco")
    assert [(r["project"], r["seat"], r["from"], r["title"]) for r in found] == [
        (S, "burgerco", "acme", "No Whopper Day")
    ]
    assert found[0]["join"] == f"accord project join {S} --as burgerco"
    assert found[0]["decline"] == f"accord project decline {S} --reason R --as burgerco"
    table = burgerco.ok("invitations", "--as", "burgerco").stdout
    assert "accord project join no-whopper-day --as burgerco" in table
    assert mallory.ok("invitations", "--as", "mallory").stdout == "(no invitations)\n"
    refused = mallory("sync", S, "--as", "mallory")  # not a member: the relay says 404
    assert refused.exit_code == 3
    assert refused.stderr == (
        f"Error: the relay at {world['relay'].url} answered 404: no such project\n"
        "Hint: the relay serves a project only to its members and pinned invitees: check --as "
        "and the slug (an invitee with an invite line joins with `accord join LINE`)\n"
    )
    # sync --all names it too, on stderr.
    synced = burgerco.ok("sync", "--all", "--as", "burgerco")
    assert synced.stderr == (
        "Note: acme invites burgerco to no-whopper-day ('No Whopper Day'): "
        "`accord project join no-whopper-day --as burgerco` (or decline)\n"
    )
    burgerco.ok(*found[0]["join"].split()[1:])
    assert burgerco.json("invitations", "--as", "burgerco") == []
    # Straight to the relay: a signed request by a stranger's key gets an empty list.
    from relay.client import RelayClient

    stranger = Signer(
        handle="x", key_name="x", private_key=entry.parse_invite_token(entry.new_invite()[0])
    )
    with RelayClient(world["relay"].url, stranger) as client:
        assert client.invitations() == []
    unsigned = httpx.get(world["relay"].url + "/v1/invitations", timeout=10)
    assert (unsigned.status_code, unsigned.json()["error"]) == (404, "not_found")


def test_a_pinned_invitee_joins_with_its_line_too(world: dict[str, Any]) -> None:
    burgerco = world["burgerco"]
    lines = propose(world)
    joined = burgerco.ok("join", lines["burgerco"])
    assert "recorded no-whopper-day seq 2 member.joined\n" in joined.stdout
    assert (
        "  members: acme (proposer), burgerco (you, pinned), ngo (invite), veggie (invite)\n"
        in (joined.stdout)
    )
    assert burgerco.json("project", "show", S)["entries"] == 2


def test_the_proposer_cancels_and_the_invitation_is_gone(world: dict[str, Any]) -> None:
    acme, veggie, ngo = world["acme"], world["veggie"], world["ngo"]
    lines = propose(world)
    ngo.ok("join", lines["ngo"])  # seq 2: ngo is a member of the proposal
    cancelled = acme.ok("project", "cancel", S, "--reason", "Wrong partners", "--as", "acme")
    assert cancelled.stdout.startswith("recorded no-whopper-day seq 3 project.cancelled\nhash ")
    assert cancelled.stdout.endswith(
        'cancelled the proposal "No Whopper Day"; it no longer waits for burgerco, veggie\n'
        "project no-whopper-day is cancelled\n"
    )
    refused = veggie("join", lines["veggie"])
    assert refused.exit_code == 3 and refused.stderr.endswith(NOT_FOUND_HINT)
    # burgerco's pinned invitation is gone, at the relay and in its todo.
    burgerco = world["burgerco"]
    burgerco.ok("init")
    burgerco.ok("remote", "add", "hub", world["relay"].url)
    assert burgerco.json("invitations", "--as", "burgerco") == []
    refused = burgerco("join", lines["burgerco"])
    assert refused.exit_code == 4, refused.output
    assert refused.stderr.endswith(
        "Error: project 'no-whopper-day' was cancelled by its proposer (seq 3); nothing more "
        "can be added\nHint: ask the proposer for a new proposal\n"
    )
    # ngo, a member, syncs the cancellation: nothing waits, and no note about it.
    ngo.ok("sync", S, "--as", "ngo")
    for party in (ngo, burgerco, acme):
        todo = party("todo", "--as", party.handle)
        assert (todo.exit_code, todo.stdout, todo.stderr) == (
            0,
            f"(nothing waits for {party.handle})\n",
            "",
        ), todo.output
    again = acme("project", "cancel", S, "--reason", "again", "--as", "acme")
    assert again.exit_code == 4
    assert again.stderr == (
        "Error: project 'no-whopper-day' was cancelled by its proposer (seq 3); nothing more "
        "can be added\nHint: ask the proposer for a new proposal\n"
    )


def test_cancelling_after_everyone_answered_is_refused(world: dict[str, Any]) -> None:
    acme, burgerco, veggie, ngo = (world[h] for h in ("acme", "burgerco", "veggie", "ngo"))
    lines = propose(world)
    burgerco.ok("join", lines["burgerco"])
    veggie.ok("join", lines["veggie"])
    # Cancelling while ngo still waits is allowed, but here ngo answers first.
    ngo.ok("join", lines["ngo"])
    acme.ok("sync", S, "--as", "acme")
    before = (acme.json("project", "show", S), acme.ledger.read_bytes())
    assert before[0]["status"] == "active"
    refused = acme("project", "cancel", S, "--reason", "Too late", "--as", "acme")
    assert refused.exit_code == 4
    assert refused.stderr.endswith(  # a note on unconfirmed entries may come first
        "Error: project 'no-whopper-day' is active: only a proposal still waiting for its "
        "invitees can be cancelled (seq 5)\nHint: end an active project with `accord close "
        "no-whopper-day`\n"
    )
    assert (acme.json("project", "show", S), acme.ledger.read_bytes()) == before
    assert acme.json("status", S, "--as", "acme")["relay_head"] == 4


def test_the_line_from_standard_input_show_only_and_json_never_print_the_invite(
    world: dict[str, Any],
) -> None:
    veggie = world["veggie"]
    lines = propose(world)
    shown = veggie.ok("join", "-", "--show", input=lines["veggie"] + "\n")
    assert shown.stdout.startswith("invitation to no-whopper-day: 'No Whopper Day' from acme\n")
    assert "recorded" not in shown.stdout
    assert veggie.snapshot() == (None, [])  # --show signs and keeps nothing
    as_json = json.loads(
        veggie.ok("join", "-", "--show", "--format", "json", input=lines["veggie"]).stdout
    )
    assert as_json["invitation"]["terms"] in lines["veggie"]
    joined = veggie.ok("join", "-", "--format", "json", input=lines["veggie"])
    data = json.loads(joined.stdout)
    assert (data["seq"], data["type"], data["by"], data["project_status"]) == (
        2, "member.joined", "veggie", "proposed",
    )  # fmt: skip
    assert data["invitation"]["title"] == "No Whopper Day"
    assert "accord-invite-v1" not in joined.output


def test_an_answer_is_signed_again_after_the_relay_head_moved(world: dict[str, Any]) -> None:
    """The invitation read, then burgerco joins first: the relay answers 409, veggie re-reads."""
    from datetime import UTC, datetime

    from relay.invite_line import InviteLine
    from relay.invitee import fetch_invitation, post_answer
    from relay.remotes import Remote

    lines = propose(world)
    line = InviteLine.parse(lines["veggie"])
    relay_line = world["acme"].json("remote", "list")[0]["relay_key"]
    remote = Remote("hub", world["relay"].url, relay_line)
    stale = fetch_invitation(remote, line, "veggie")
    assert stale.head[0] == 1
    world["burgerco"].ok("join", lines["burgerco"])  # seq 2
    private = Signer(
        handle="veggie", key_name="k", private_key=entry.parse_invite_token(entry.new_invite()[0])
    )
    posted = post_answer(
        remote, stale, kind="member.joined", signer=private, clock=lambda: datetime.now(UTC)
    )
    assert (posted.attempts, posted.entry.seq, posted.checkpoint.size) == (2, 3, 3)


def test_a_pinned_join_refused_by_the_rules_leaves_nothing_behind(world: dict[str, Any]) -> None:
    """A pinned invitee with only its line: a refused join keeps no remote and no replica."""
    acme, burgerco = world["acme"], world["burgerco"]
    lines = propose(world)
    acme.ok("project", "cancel", S, "--reason", "Wrong partners", "--as", "acme")
    before = burgerco.snapshot()
    assert before == (None, [])
    refused = burgerco("join", lines["burgerco"])
    assert refused.exit_code == 4, refused.output
    assert refused.stderr.endswith(
        "Error: project 'no-whopper-day' was cancelled by its proposer (seq 2); nothing more "
        "can be added\nHint: ask the proposer for a new proposal\n"
    )
    assert burgerco.snapshot() == before
