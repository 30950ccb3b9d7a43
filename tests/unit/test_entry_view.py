"""``projections/entry_view.py``: one entry in full, in words, for every entry type.

Two projects on the in-memory store with fixed-seed keys and a fixed clock (seq N is claimed
at 10:0N): ``fair`` takes every entry type of format v1 to a decided end, ``open`` leaves
decisions pending (a deliverable, an amendment, a value, a dispute whose parties disagree).
The expected texts are written out by hand.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.application import Ledger
from ledger.errors import NotFoundError
from ledger.evidence import Evidence
from ledger.keys import Signer
from ledger.rules.schema import ENTRY_TYPES
from projections.entry_view import VIEWS, EntryView, entry_view
from projections.replay import AsOf, Replay
from projections.todo import todo
from tests.conftest import FixedClock, make_signer

TODAY = date(2026, 12, 1)
T = "2026-11-22T10:"
FP = {
    "acme": "SHA256:fe85JkIjo8VPe+XqXJGH5Mau1EMFdK1OdKvJUFicyA8",
    "alice": "SHA256:ACp7het+5at0PuMIyNhhqe8OXAJ9oehORSHEyzwQYcg",
    "burgerco": "SHA256:4A9jyZBOhnKZvcGQ6TRFbf5Gymb41AfYvYaVmWHD+G4",
    "burgerco2": "SHA256:MyywqLAP8mf5V+lqguH2tv47kye1HNP18mAXTVRwdr4",
    "veggie": "SHA256:zbv/nU7iZdO0fB0DalMI70dP6/yFD8sctXvvW4+OokY",
    "veggie2": "SHA256:TtN+xQUokBQ7SdQ6aK2GKyLfFXuH2ACZaCgLx3WuZ+4",
}
SHA = "ab" * 32


def person(handle: str, seed: int) -> Signer:
    """Another key signing for ``handle`` (seeds 1-4 are the fixture's parties)."""
    private = Ed25519PrivateKey.from_private_bytes(bytes([seed]) * 32)
    return Signer(handle=handle, key_name=f"{handle}-{seed}", private_key=private)


def fair(ledger: Ledger) -> None:
    """Every entry type, each decided (see the seq comments)."""
    acme, burgerco = make_signer("acme"), make_signer("burgerco")
    veggie, mallory = make_signer("veggie"), make_signer("mallory")
    alice, burgerco2, veggie2 = person("acme", 11), person("burgerco", 12), person("veggie", 13)
    s = "fair"
    ledger.propose_project(
        s, title="Summer fair", purpose="", approval="all", close="all", signer=acme,
        members={"burgerco": None, "veggie": veggie.fingerprint, "mallory": None},
    )  # fmt: skip  # 1
    ledger.join_project(s, signer=burgerco)  # 2
    ledger.decline_project(s, reason="Too busy", signer=mallory)  # 3
    ledger.join_project(s, signer=veggie)  # 4
    ledger.add_signer(s, label="alice", public_key=alice.public_key_line, signer=acme)  # 5
    ledger.rotate_key(s, new_public_key=burgerco2.public_key_line, signer=burgerco)  # 6
    ledger.add_pledge(
        s, title="Posters", weight="30", unit="hours", due="2026-12-15",
        beneficiaries=["burgerco"], signer=alice,
    )  # fmt: skip  # 7
    ledger.add_pledge(
        s, title="Stand", weight="10", unit="hours", due="2026-11-01", beneficiaries=None,
        signer=burgerco2,
    )  # fmt: skip  # 8
    ledger.deliver(
        s, 7, summary="Drafts", quantity="10", evidence=[Evidence("drafts.pdf", SHA, 1234)],
        signer=acme,
    )  # fmt: skip  # 9
    ledger.approve(s, 9, comment="Good", signer=burgerco2)  # 10
    ledger.deliver(s, 7, summary="Rest", quantity="20", evidence=[], signer=acme)  # 11
    ledger.reject(s, 11, reason="Old logo", signer=burgerco2)  # 12
    ledger.amend_pledge(
        s, 7, title=None, weight="40", due="2026-12-31", reason="Bigger", signer=acme
    )  # 13
    ledger.approve(s, 13, comment="", signer=burgerco2)  # 14
    ledger.open_dispute(s, 12, reason="The logo is new", signer=acme)  # 15
    ledger.resolve_dispute(s, 15, outcome="dismissed", reason="It is old", signer=burgerco2)  # 16
    ledger.resolve_dispute(s, 15, outcome="dismissed", reason="Agreed", signer=acme)  # 17
    ledger.propose_value(
        s, unit="hours", worth="80", reference="EUR", reason="Day rate", signer=veggie
    )  # 18
    ledger.approve(s, 18, comment="", signer=acme)  # 19
    ledger.approve(s, 18, comment="", signer=burgerco2)  # 20
    ledger.propose_statement(s, title="Joint", text="Line one\nLine two", signer=acme)  # 21
    ledger.sign_statement(s, 21, signer=burgerco2)  # 22
    ledger.revise_statement(s, 21, text="Better", reason="Typo", signer=acme)  # 23
    ledger.sign_statement(s, 21, signer=veggie)  # 24
    ledger.close_pledge_short(s, 7, reason="Print run cut", signer=acme)  # 25
    ledger.approve(s, 25, comment="", signer=burgerco2)  # 26
    ledger.withdraw_pledge(s, 8, reason="Cancelled", signer=burgerco2)  # 27
    ledger.remove_signer(s, label="alice", reason="Left", signer=acme)  # 28
    ledger.revoke_key(
        s, veggie.fingerprint, reason="Laptop lost", replacement=veggie2.public_key_line,
        signer=veggie,
    )  # fmt: skip  # 29
    ledger.sign_close(s, signer=acme)  # 30
    ledger.sign_close(s, signer=burgerco2)  # 31


def open_(ledger: Ledger) -> None:
    """Decisions still pending, and a dispute whose parties disagree."""
    acme, burgerco, veggie = (make_signer(h) for h in ("acme", "burgerco", "veggie"))
    s = "open"
    ledger.propose_project(
        s, title="Open", purpose="Try\nit", members={"burgerco": None, "veggie": None},
        approval="any", close="2", signer=acme,
    )  # fmt: skip  # 1
    ledger.join_project(s, signer=burgerco)  # 2
    ledger.join_project(s, signer=veggie)  # 3
    ledger.add_pledge(
        s, title="Posters", weight="30", unit="hours", due="2026-11-20", beneficiaries=None,
        signer=acme,
    )  # fmt: skip  # 4
    ledger.deliver(s, 4, summary="All", quantity=None, evidence=[], signer=acme)  # 5
    ledger.add_pledge(
        s, title="Stand", weight="8", unit="days", due="2026-12-20", beneficiaries=["acme"],
        signer=burgerco,
    )  # fmt: skip  # 6
    ledger.amend_pledge(
        s, 6, title="Big stand", weight=None, due=None, reason="Sponsor", signer=burgerco
    )  # 7
    ledger.propose_value(
        s, unit="hours", worth="80", reference="EUR", reason="Day rate", signer=veggie
    )  # 8
    ledger.approve(s, 8, comment="ok", signer=acme)  # 9
    ledger.add_pledge(
        s, title="Flyers", weight="5", unit="days", due="2026-12-20", beneficiaries=["acme"],
        signer=veggie,
    )  # fmt: skip  # 10
    ledger.deliver(s, 10, summary="Flyers", quantity="5", evidence=[], signer=veggie)  # 11
    ledger.approve(s, 11, comment="", signer=acme)  # 12
    ledger.open_dispute(s, 11, reason="Wrong size", signer=acme)  # 13
    ledger.resolve_dispute(s, 13, outcome="upheld", reason="Yes", signer=acme)  # 14
    ledger.resolve_dispute(s, 13, outcome="dismissed", reason="No", signer=veggie)  # 15


@pytest.fixture(scope="module")
def projects() -> dict[str, Ledger]:
    ledgers = {}
    for slug, build in (("fair", fair), ("open", open_)):
        ledger = Ledger({"PERSISTENCE_MODULE": "eventsourcing.popo"}, clock=FixedClock())
        build(ledger)
        ledgers[slug] = ledger
    return ledgers


def words(view: EntryView) -> list[str]:
    """The view as lines: each fact, the status, who it waits for, who decided."""
    standing = view.standing
    return [
        f"{view.type} by {view.signed_by} at {view.at}",
        *(f"{fact.name}: {line}" for fact in view.facts for line in fact.words),
        f"status {standing.status}: {standing.words}",
        *(f"waiting for {w.party} to {w.to}" for w in standing.waiting),
        *(f"decided {d.words}" for d in standing.decisions),
    ]


def shown(projects: dict[str, Ledger], slug: str, seq: int) -> list[str]:
    return words(entry_view(Replay.build(projects[slug], slug), seq, TODAY))


def test_every_entry_type_of_format_v1_has_exactly_one_view() -> None:
    assert sorted(VIEWS) == sorted(ENTRY_TYPES)


FAIR: dict[int, list[str]] = {
    1: [
        f"project.proposed by acme at {T}01:00Z",
        "title: Summer fair",
        "purpose: (none)",
        f"members: acme (proposer, key {FP['acme']})",
        "members: burgerco (unpinned)",
        "members: mallory (unpinned)",
        f"members: veggie (pinned to key {FP['veggie']})",
        "approval: every beneficiary of a pledge approves",
        "close: every member signs the close",
        "status active: active: every invitee joined or declined",
        f"decided burgerco joined (seq 2, by burgerco at {T}02:00Z)",
        f"decided mallory declined (seq 3, by mallory at {T}03:00Z): Too busy",
        f"decided veggie joined (seq 4, by veggie at {T}04:00Z)",
    ],
    2: [
        f"member.joined by burgerco at {T}02:00Z",
        f"key: {FP['burgerco']}",
        "terms: accepted the terms of the proposal (seq 1), hash <terms>",
        "invite: none (the seat needs none)",
        "status joined: joined; its key is replaced by a newer key",
    ],
    3: [
        f"member.declined by mallory at {T}03:00Z",
        "reason: Too busy",
        "status declined: declined the invitation",
    ],
    4: [
        f"member.joined by veggie at {T}04:00Z",
        f"key: {FP['veggie']}",
        "terms: accepted the terms of the proposal (seq 1), hash <terms>",
        "invite: none (the seat needs none)",
        "status joined: joined; its key is revoked at seq 29",
    ],
    5: [
        f"signer.added by acme at {T}05:00Z",
        "label: alice",
        f"signer_key: {FP['alice']}",
        "status removed: its signer was removed at seq 28",
    ],
    6: [
        f"key.rotated by burgerco at {T}06:00Z",
        f"old_key: {FP['burgerco']}",
        f"new_key: {FP['burgerco2']}",
        "status current: current: burgerco signs with it",
    ],
    7: [
        f"pledge.made by acme (alice) at {T}07:00Z",
        "title: Posters",
        "weight: 30 hours",
        "unit: hours",
        "due: 2026-12-15",
        "beneficiaries: burgerco",
        "now: 'Posters', 40 hours, due 2026-12-31 (amended: seq 13)",
        "deliverables: seq 9: 10 hours, accepted",
        "deliverables: seq 11: 20 hours, rejected",
        "status closed-short: closed-short: 10 of 40 hours delivered, 10 approved",
    ],
    8: [
        f"pledge.made by burgerco at {T}08:00Z",
        "title: Stand",
        "weight: 10 hours",
        "unit: hours",
        "due: 2026-11-01",
        "beneficiaries: acme, veggie",
        "deliverables: none yet",
        "status withdrawn: withdrawn: 0 of 10 hours delivered, 0 approved",
    ],
    9: [
        f"deliverable.submitted by acme at {T}09:00Z",
        "pledge: 7 'Posters' by acme to burgerco",
        "quantity: 10 hours",
        "summary: Drafts",
        f"evidence: drafts.pdf (1234 bytes, SHA-256 {SHA})",
        "status accepted: accepted at seq 10",
        f"decided burgerco approved (seq 10, by burgerco at {T}10:00Z): Good",
    ],
    10: [
        f"approval.given by burgerco at {T}10:00Z",
        "target: deliverable seq 9 by acme: 10 hours on pledge 7 'Posters'",
        "comment: Good",
        "status accepted: accepted at seq 10",
        f"decided burgerco approved (seq 10, by burgerco at {T}10:00Z): Good",
    ],
    11: [
        f"deliverable.submitted by acme at {T}11:00Z",
        "pledge: 7 'Posters' by acme to burgerco",
        "quantity: 20 hours",
        "summary: Rest",
        "evidence: none",
        "disputes: seq 15 (dismissed)",
        "status rejected: rejected at seq 12 by burgerco",
        f"decided burgerco rejected (seq 12, by burgerco at {T}12:00Z): Old logo",
    ],
    12: [
        f"approval.refused by burgerco at {T}12:00Z",
        "target: deliverable seq 11 by acme: 20 hours on pledge 7 'Posters'",
        "reason: Old logo",
        "status rejected: rejected at seq 12 by burgerco",
        f"decided burgerco rejected (seq 12, by burgerco at {T}12:00Z): Old logo",
    ],
    13: [
        f"pledge.amended by acme at {T}13:00Z",
        "pledge: 7 'Posters' by acme to burgerco",
        "changes: weight 30 → 40 hours",
        "changes: due 2026-12-15 → 2026-12-31",
        "reason: Bigger",
        "status accepted: accepted at seq 14",
        f"decided burgerco approved (seq 14, by burgerco at {T}14:00Z)",
    ],
    14: [
        f"approval.given by burgerco at {T}14:00Z",
        "target: amendment seq 13 by acme of pledge 7 'Posters': weight 30 → 40 hours, "
        "due 2026-12-15 → 2026-12-31",
        "comment: (none)",
        "status accepted: accepted at seq 14",
        f"decided burgerco approved (seq 14, by burgerco at {T}14:00Z)",
    ],
    15: [
        f"dispute.opened by acme at {T}15:00Z",
        "target: seq 12: a rejection by burgerco",
        "deliverable: 11 by acme: 20 hours on pledge 7 'Posters'",
        "about: its refusal",
        "reason: The logo is new",
        "parties: acme, burgerco",
        "status dismissed: dismissed at seq 17: deliverable 11 is rejected",
        f"decided burgerco signed dismissed (seq 16, by burgerco at {T}16:00Z): It is old",
        f"decided acme signed dismissed (seq 17, by acme at {T}17:00Z): Agreed",
    ],
    16: [
        f"resolution.signed by burgerco at {T}16:00Z",
        "dispute: 15 by acme of the refusal of deliverable 11",
        "outcome: dismissed",
        "reason: It is old",
        "status dismissed: dismissed at seq 17: deliverable 11 is rejected",
        f"decided burgerco signed dismissed (seq 16, by burgerco at {T}16:00Z): It is old",
        f"decided acme signed dismissed (seq 17, by acme at {T}17:00Z): Agreed",
    ],
    18: [
        f"value.proposed by veggie at {T}18:00Z",
        "unit: hours",
        "worth: 1 hour = 80 EUR",
        "in: EUR",
        "reason: Day rate",
        "status agreed: agreed at seq 20: in force",
        f"decided acme approved (seq 19, by acme at {T}19:00Z)",
        f"decided burgerco approved (seq 20, by burgerco at {T}20:00Z)",
    ],
    19: [
        f"approval.given by acme at {T}19:00Z",
        "target: value proposal seq 18 by veggie: 1 hour = 80 EUR",
        "comment: (none)",
        "status agreed: agreed at seq 20: in force",
        f"decided acme approved (seq 19, by acme at {T}19:00Z)",
        f"decided burgerco approved (seq 20, by burgerco at {T}20:00Z)",
    ],
    21: [
        f"statement.proposed by acme at {T}21:00Z",
        "title: Joint",
        "version: 1 (now version 2)",
        "text: Line one",
        "text: Line two",
        "status pending: pending: 1 of 3 signatures on version 2 (this text, version 1, was "
        "revised at seq 23)",
        "waiting for acme to sign version 2",
        "waiting for burgerco to sign version 2",
        f"decided veggie signed version 2 (seq 24, by veggie at {T}24:00Z)",
    ],
    22: [
        f"statement.signed by burgerco at {T}22:00Z",
        "statement: 21 'Joint'",
        "version: 1 (now version 2)",
        "text_hash: SHA-256 <v1>",
        "status void: void: the text was revised at seq 23; the statement is pending: 1 of 3 "
        "signatures on version 2",
        "waiting for acme to sign version 2",
        "waiting for burgerco to sign version 2",
        f"decided veggie signed version 2 (seq 24, by veggie at {T}24:00Z)",
    ],
    23: [
        f"statement.revised by acme at {T}23:00Z",
        "statement: 21 'Joint'",
        "version: 2",
        "text: Better",
        "reason: Typo",
        "status pending: pending: 1 of 3 signatures on version 2",
        "waiting for acme to sign version 2",
        "waiting for burgerco to sign version 2",
        f"decided veggie signed version 2 (seq 24, by veggie at {T}24:00Z)",
    ],
    24: [
        f"statement.signed by veggie at {T}24:00Z",
        "statement: 21 'Joint'",
        "version: 2",
        "text_hash: SHA-256 <v2>",
        "status pending: pending: 1 of 3 signatures on version 2",
        "waiting for acme to sign version 2",
        "waiting for burgerco to sign version 2",
        f"decided veggie signed version 2 (seq 24, by veggie at {T}24:00Z)",
    ],
    25: [
        f"pledge.closed-short by acme at {T}25:00Z",
        "pledge: 7 'Posters' by acme to burgerco",
        "approved: 10 of 40 hours approved",
        "reason: Print run cut",
        "status accepted: accepted at seq 26",
        f"decided burgerco approved (seq 26, by burgerco at {T}26:00Z)",
    ],
    26: [
        f"approval.given by burgerco at {T}26:00Z",
        "target: close-short seq 25 by acme of pledge 7 'Posters'",
        "comment: (none)",
        "status accepted: accepted at seq 26",
        f"decided burgerco approved (seq 26, by burgerco at {T}26:00Z)",
    ],
    27: [
        f"pledge.withdrawn by burgerco at {T}27:00Z",
        "pledge: 8 'Stand' by burgerco to acme, veggie",
        "reason: Cancelled",
        "status withdrawn: pledge 8 is withdrawn",
    ],
    28: [
        f"signer.removed by acme at {T}28:00Z",
        "label: alice",
        f"signer_key: {FP['alice']}",
        "reason: Left",
        "status removed: signer alice no longer signs for acme",
    ],
    29: [
        f"key.revoked by veggie at {T}29:00Z",
        f"revoked_key: {FP['veggie']}",
        "reason: Laptop lost",
        f"replacement: {FP['veggie2']}",
        "status revoked: revoked at seq 29: nothing signed with it after that seq counts",
    ],
    30: [
        f"close.signed by acme at {T}30:00Z",
        "head_seq: seq 29, hash <29>",
        "status pending: pending: 2 of 3 close signatures",
        "waiting for veggie to sign the close",
        f"decided acme signed the close (seq 30, by acme at {T}30:00Z)",
        f"decided burgerco signed the close (seq 31, by burgerco at {T}31:00Z)",
    ],
}


def _hashes(ledger: Ledger, slug: str) -> dict[str, str]:
    state = ledger.get_state(slug)
    texts = state.statements[21].texts if 21 in state.statements else []
    from ledger.rules import text_hash

    found = {"<terms>": state.terms, "<29>": ledger.log_entry(slug, 29).hash}
    if texts:
        found |= {"<v1>": text_hash(texts[0]), "<v2>": text_hash(texts[1])}
    return found


@pytest.mark.parametrize("seq", sorted(FAIR))
def test_each_entry_of_a_decided_project_in_words(projects: dict[str, Ledger], seq: int) -> None:
    expected = FAIR[seq]
    for token, value in _hashes(projects["fair"], "fair").items():
        expected = [line.replace(token, value) for line in expected]
    assert shown(projects, "fair", seq) == expected


OPEN: dict[int, list[str]] = {
    1: [
        f"project.proposed by acme at {T}01:00Z",
        "title: Open",
        "purpose: Try\nit",
        f"members: acme (proposer, key {FP['acme']})",
        "members: burgerco (unpinned)",
        "members: veggie (unpinned)",
        "approval: any one beneficiary approves",
        "close: 2 members sign",
        "status active: active: every invitee joined or declined",
        f"decided burgerco joined (seq 2, by burgerco at {T}02:00Z)",
        f"decided veggie joined (seq 3, by veggie at {T}03:00Z)",
    ],
    4: [
        f"pledge.made by acme at {T}04:00Z",
        "title: Posters",
        "weight: 30 hours",
        "unit: hours",
        "due: 2026-11-20",
        "beneficiaries: burgerco, veggie",
        "deliverables: seq 5: 30 hours, pending",
        # delivered in full, past due: it waits for the beneficiaries, not for acme
        "status submitted: submitted: 30 of 30 hours delivered, 0 approved",
        "waiting for burgerco to approve or reject seq 5",
        "waiting for veggie to approve or reject seq 5",
    ],
    5: [
        f"deliverable.submitted by acme at {T}05:00Z",
        "pledge: 4 'Posters' by acme to burgerco, veggie",
        "quantity: 30 hours",
        "summary: All",
        "evidence: none",
        "status pending: pending: 0 of 1 approvals",
        "waiting for burgerco to approve or reject",
        "waiting for veggie to approve or reject",
    ],
    6: [
        f"pledge.made by burgerco at {T}06:00Z",
        "title: Stand",
        "weight: 8 days",
        "unit: days",
        "due: 2026-12-20",
        "beneficiaries: acme",
        "deliverables: none yet",
        "status amended-pending: amended-pending: 0 of 8 days delivered, 0 approved",
        "waiting for burgerco to deliver (due 2026-12-20)",
        "waiting for acme to approve or reject seq 7",
    ],
    7: [
        f"pledge.amended by burgerco at {T}07:00Z",
        "pledge: 6 'Stand' by burgerco to acme",
        "changes: title 'Stand' → 'Big stand'",
        "reason: Sponsor",
        "status pending: pending: 0 of 1 approvals",
        "waiting for acme to approve or reject",
    ],
    8: [
        f"value.proposed by veggie at {T}08:00Z",
        "unit: hours",
        "worth: 1 hour = 80 EUR",
        "in: EUR",
        "reason: Day rate",
        "status pending: pending: 1 of 2 approvals",
        "waiting for burgerco to approve or reject",
        f"decided acme approved (seq 9, by acme at {T}09:00Z): ok",
    ],
    11: [
        f"deliverable.submitted by veggie at {T}11:00Z",
        "pledge: 10 'Flyers' by veggie to acme",
        "quantity: 5 days",
        "summary: Flyers",
        "evidence: none",
        "disputes: seq 13 (open)",
        "status accepted: accepted at seq 12; disputed: dispute seq 13 is open",
        f"decided acme approved (seq 12, by acme at {T}12:00Z)",
    ],
    13: [
        f"dispute.opened by acme at {T}13:00Z",
        "target: seq 11: a deliverable by veggie",
        "deliverable: 11 by veggie: 5 days on pledge 10 'Flyers'",
        "about: its acceptance",
        "reason: Wrong size",
        "parties: acme, veggie",
        "status open: open: settled when acme and veggie sign one outcome",
        "waiting for acme to agree on one outcome",
        "waiting for veggie to agree on one outcome",
        f"decided acme signed upheld (seq 14, by acme at {T}14:00Z): Yes",
        f"decided veggie signed dismissed (seq 15, by veggie at {T}15:00Z): No",
    ],
    15: [
        f"resolution.signed by veggie at {T}15:00Z",
        "dispute: 13 by acme of the acceptance of deliverable 11",
        "outcome: dismissed",
        "reason: No",
        "status open: open: settled when acme and veggie sign one outcome",
        "waiting for acme to agree on one outcome",
        "waiting for veggie to agree on one outcome",
        f"decided acme signed upheld (seq 14, by acme at {T}14:00Z): Yes",
        f"decided veggie signed dismissed (seq 15, by veggie at {T}15:00Z): No",
    ],
}


@pytest.mark.parametrize("seq", sorted(OPEN))
def test_each_entry_of_a_project_with_pending_decisions_in_words(
    projects: dict[str, Ledger], seq: int
) -> None:
    assert shown(projects, "open", seq) == OPEN[seq]


def test_a_view_in_the_past_shows_where_the_entry_stood_then(
    projects: dict[str, Ledger],
) -> None:
    ledger = projects["fair"]
    then = Replay.build(ledger, "fair", AsOf(seq=9))
    assert words(entry_view(then, 9, TODAY))[-2:] == [
        "status pending: pending: 0 of 1 approvals",
        "waiting for burgerco to approve or reject",
    ]
    pending = Replay.build(ledger, "fair", AsOf(seq=13))
    assert words(entry_view(pending, 13, TODAY))[2:4] == [
        "changes: weight 30 → 40 hours",
        "changes: due 2026-12-15 → 2026-12-31",
    ]  # the same old values before and after it took effect
    with pytest.raises(NotFoundError) as info:
        entry_view(then, 10, TODAY)
    assert (info.value.message, info.value.hint) == (
        "project 'fair' has no entry at seq 10 (it has 9)",
        "`accord trail fair` lists every seq",
    )


def test_an_unknown_seq_is_not_found(projects: dict[str, Ledger]) -> None:
    replay = Replay.build(projects["open"], "open")
    for seq in (0, 16, 2**60):
        with pytest.raises(NotFoundError, match=r"has no entry at seq \d+ \(it has 15\)"):
            entry_view(replay, seq, TODAY)


def test_a_replay_built_in_memory_gives_the_same_views(projects: dict[str, Ledger]) -> None:
    for slug in ("fair", "open"):
        ledger = projects[slug]
        memory = Replay.empty(slug)
        memory.extend(ledger.read_entries(slug))
        stored = Replay.build(ledger, slug)
        for seq in range(1, stored.position + 1):
            assert entry_view(memory, seq, TODAY) == entry_view(stored, seq, TODAY), seq


def test_the_json_of_a_deliverable_has_the_documented_keys(projects: dict[str, Ledger]) -> None:
    ledger = projects["fair"]
    view = entry_view(Replay.build(ledger, "fair"), 9, TODAY).as_dict()
    assert view == {
        "project": "fair",
        "seq": 9,
        "type": "deliverable.submitted",
        "noun": "a deliverable",
        "by": "acme",
        "signer": "acme",
        "signed_by": "acme",
        "key": FP["acme"],
        "at": f"{T}09:00Z",
        "hash": ledger.log_entry("fair", 9).hash,
        "prev": ledger.log_entry("fair", 8).hash,
        "summary": 'delivered 10 hours on pledge 7: "Drafts", 1 evidence file',
        "body": {
            "pledge": 7,
            "summary": "Drafts",
            "quantity": "10",
            "evidence": [{"name": "drafts.pdf", "sha256": SHA, "size": 1234}],
        },
        "details": {
            "pledge": 7,
            "quantity": "10",
            "unit": "hours",
            "summary": "Drafts",
            "evidence": [{"name": "drafts.pdf", "size": 1234, "sha256": SHA}],
        },
        "status": "accepted",
        "status_text": "accepted at seq 10",
        "waiting_for": [],
        "decisions": [
            {
                "party": "burgerco",
                "decision": "approved",
                "seq": 10,
                "signer": "burgerco",
                "signed_by": "burgerco",
                "at": f"{T}10:00Z",
                "note": "Good",
            }
        ],
    }
    amendment = entry_view(Replay.build(ledger, "fair"), 13, TODAY).as_dict()["details"]
    assert amendment["changes"] == {
        "weight": {"old": "30", "new": "40"},
        "due": {"old": "2026-12-15", "new": "2026-12-31"},
    }
    pledge = entry_view(Replay.build(ledger, "fair"), 7, TODAY).as_dict()
    assert (pledge["signer"], pledge["signed_by"]) == ("alice", "acme (alice)")


def _todo(projects: dict[str, Ledger], slug: str, handle: str) -> list[dict[str, Any]]:
    return [r.as_row() for r in todo(Replay.build(projects[slug], slug), handle, TODAY, 30)]


def test_todo_rows_carry_the_essentials_of_each_decision(projects: dict[str, Ledger]) -> None:
    def about(handle: str) -> list[str]:
        return [r["about"] for r in _todo(projects, "open", handle)]

    assert about("burgerco") == [
        "deliverable by acme on pledge 4 'Posters': 30 hours, 'All', no evidence",
        "value by veggie: 1 hour = 80 EUR; reason 'Day rate'",
        "pledge 'Stand': 0 of 8 days approved (amended-pending)",
    ]
    assert about("acme") == [
        "amendment by burgerco of pledge 6 'Stand': title 'Stand' → 'Big stand'; reason 'Sponsor'",
        "dispute by acme of the acceptance of deliverable 11 on pledge 10 'Flyers'; reason "
        "'Wrong size' (signed: acme upheld, veggie dismissed)",
    ]  # acme's own pledge 4 is submitted in full: it waits for burgerco and veggie only


def test_a_cancelled_proposal_and_its_cancellation_in_words(memory_ledger: Ledger) -> None:
    acme, burgerco, veggie = make_signer("acme"), make_signer("burgerco"), make_signer("veggie")
    memory_ledger.propose_project(
        "gone", title="Gone fair", purpose="", approval="all", close="all", signer=acme,
        members={"burgerco": burgerco.fingerprint, "veggie": veggie.fingerprint},
    )  # fmt: skip
    memory_ledger.join_project("gone", signer=burgerco)  # 2
    memory_ledger.cancel_project("gone", reason="Wrong partners", signer=acme)  # 3
    replay = Replay.build(memory_ledger, "gone")
    first = words(entry_view(replay, 1, TODAY))
    assert first[-2:] == [
        "status cancelled: cancelled by its proposer at seq 3",
        f"decided burgerco joined (seq 2, by burgerco at {T}02:00Z)",
    ]  # nobody is waited for any more
    assert words(entry_view(replay, 3, TODAY)) == [
        f"project.cancelled by acme at {T}03:00Z",
        "reason: Wrong partners",
        "unanswered: never answered: veggie",
        "status cancelled: cancelled: the proposal takes nothing more, and no invitee can join",
    ]
