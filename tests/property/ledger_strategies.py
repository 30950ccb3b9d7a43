"""Hypothesis strategies and helpers for driving a Ledger with random commands.

The parties sign with the same fixed-seed keys as ``tests/conftest.py`` (seed byte i + 1 for
the i-th party), so fingerprints are stable across runs; fresh keys for rotations use seeds
from 10 upwards.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import strategies as st

from ledger import rules
from ledger.application import Ledger, Receipt
from ledger.keys import Signer

SLUG = "prop"
PARTIES = ("acme", "burgerco", "veggie", "mallory")
MEMBERS = ("acme", "burgerco", "veggie")
DUE = "2026-12-01"


def signer_for(handle: str, seed: int | None = None) -> Signer:
    """The party's fixed-seed signer, or a fresh key for it when ``seed`` is given."""
    seed = PARTIES.index(handle) + 1 if seed is None else seed
    return Signer(
        handle=handle,
        key_name=f"{handle}-{seed}",
        private_key=Ed25519PrivateKey.from_private_bytes(bytes([seed]) * 32),
    )


def party_signers() -> dict[str, Signer]:
    return {handle: signer_for(handle) for handle in PARTIES}


class TickingClock:
    """Claims 2026-11-22T10:00:00Z plus one minute per call."""

    def __init__(self) -> None:
        self.now = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(minutes=1)
        return self.now


def memory_ledger() -> Ledger:
    return Ledger({"PERSISTENCE_MODULE": "eventsourcing.popo"}, clock=TickingClock())


def hashes(ledger: Ledger, slug: str = SLUG) -> list[str]:
    return [stored.entry.hash for stored in ledger.read_entries(slug)]


def check_stream(ledger: Ledger, slug: str = SLUG) -> rules.ProjectState:
    """Check seqs 1..n without gaps, every prev link, and replay == the ledger's state."""
    items = [stored.entry for stored in ledger.read_entries(slug)]
    assert [item.seq for item in items] == list(range(1, len(items) + 1))
    assert items[0].data["prev"] == "0" * 64
    assert [b.data["prev"] for b in items[1:]] == [a.hash for a in items[:-1]]
    replayed = rules.replay(slug, items)
    assert replayed == ledger.get_state(slug)
    return replayed


# --- valid values ----------------------------------------------------------------------------

positive_decimals: st.SearchStrategy[str] = st.one_of(
    st.integers(min_value=1, max_value=10_000).map(str),
    st.tuples(st.integers(0, 999), st.integers(1, 99)).map(lambda p: f"{p[0]}.{p[1]:02d}"),
)
"""Positive decimal quantities as a user would type them (canonical or not: "1.50")."""

units = st.sampled_from(["hours", "eur", "posts", "videos"])
approval_policies = st.sampled_from(["all", "any", "1", "2"])  # at most the 2 invitees
close_policies = st.sampled_from(["all", "1", "2", "3"])
texts = st.sampled_from(["We did it together.", "Shared credit.", "Nobody is a guest star."])


# --- random (mostly invalid) commands --------------------------------------------------------

junk_quantities = st.sampled_from(
    ["0", "-1", "abc", "", " ", "1", "2.5", "0.5", ".5", "1e3", " 3 ", "007", "0.0", "30", "1,5"]
)
junk_texts = st.sampled_from(["", "   ", "ok", "A reason"])
junk_dates = st.sampled_from([DUE, "2026-02-30", "tomorrow", "2026-1-1"])
junk_units = st.sampled_from(["hours", "Hours", "", "eur"])
junk_keys = st.one_of(
    st.sampled_from(PARTIES).map(lambda h: signer_for(h).public_key_line),
    st.integers(10, 12).map(lambda seed: signer_for("acme", seed).public_key_line),
    st.sampled_from(["ssh-ed25519 AAAA", "garbage", "ssh-rsa AAAAB3NzaC1yc2E"]),
)


@dataclass(frozen=True)
class Command:
    """One call on the Ledger with arguments that may or may not make sense."""

    kind: str
    party: str
    target: int
    quantity: str | None
    text: str
    date: str
    unit: str
    key: str


commands: st.SearchStrategy[Command] = st.builds(
    Command,
    kind=st.sampled_from(
        [
            "pledge",
            "deliver",
            "approve",
            "reject",
            "amend",
            "withdraw",
            "statement",
            "sign",
            "revise",
            "close",
            "join",
            "decline",
            "rotate",
            "revoke",
            "add_signer",
            "remove_signer",
            "dispute",
            "resolve",
            "close-short",
        ]
    ),
    party=st.sampled_from(PARTIES),
    target=st.integers(min_value=-1, max_value=16),
    quantity=st.none() | junk_quantities,
    text=junk_texts,
    date=junk_dates,
    unit=junk_units,
    key=junk_keys,
)


def run_command(ledger: Ledger, signers: dict[str, Signer], command: Command) -> Receipt:
    """Carry out ``command`` on the project ``SLUG``; whatever the Ledger raises propagates."""
    signer = signers[command.party]
    n, text, quantity = command.target, command.text, command.quantity
    if command.kind == "pledge":
        return ledger.add_pledge(
            SLUG,
            title=text,
            weight=quantity or "1",
            unit=command.unit,
            due=command.date,
            beneficiaries=None if n % 2 else [PARTIES[n % 4]],
            signer=signer,
        )
    if command.kind == "deliver":
        return ledger.deliver(SLUG, n, summary=text, quantity=quantity, evidence=[], signer=signer)
    if command.kind == "approve":
        return ledger.approve(SLUG, n, comment=text, signer=signer)
    if command.kind == "reject":
        return ledger.reject(SLUG, n, reason=text, signer=signer)
    if command.kind == "amend":
        return ledger.amend_pledge(
            SLUG, n, title=None, weight=quantity, due=command.date, reason=text, signer=signer
        )
    if command.kind == "withdraw":
        return ledger.withdraw_pledge(SLUG, n, reason=text, signer=signer)
    if command.kind == "statement":
        return ledger.propose_statement(SLUG, title="Statement", text=text, signer=signer)
    if command.kind == "sign":
        return ledger.sign_statement(SLUG, n, signer=signer)
    if command.kind == "revise":
        return ledger.revise_statement(SLUG, n, text=text, reason="changed", signer=signer)
    if command.kind == "close":  # the open-pledges guard is tested in test_rules_properties
        return ledger.sign_close(SLUG, signer=signer, accept_open=ledger.get_state(SLUG).pledges)
    if command.kind == "join":
        return ledger.join_project(SLUG, signer=signer)
    if command.kind == "decline":
        return ledger.decline_project(SLUG, reason=text, signer=signer)
    if command.kind == "rotate":
        return ledger.rotate_key(SLUG, new_public_key=command.key, signer=signer)
    if command.kind == "revoke":
        fingerprint = signers[PARTIES[n % 4]].fingerprint if n >= 0 else "SHA256:short"
        replacement = command.key if n % 3 == 0 else None
        return ledger.revoke_key(
            SLUG, fingerprint, reason=text, replacement=replacement, signer=signer
        )
    if command.kind == "add_signer":
        return ledger.add_signer(SLUG, label=text, public_key=command.key, signer=signer)
    if command.kind == "remove_signer":
        label = PARTIES[n % 4] if n >= 0 else text
        return ledger.remove_signer(SLUG, label=label, reason=text, signer=signer)
    if command.kind == "dispute":
        return ledger.open_dispute(SLUG, n, reason=text, signer=signer)
    if command.kind == "resolve":
        outcome = ("upheld", "dismissed", "withdrawn")[n % 3]
        return ledger.resolve_dispute(SLUG, n, outcome=outcome, reason=text, signer=signer)
    if command.kind == "close-short":
        return ledger.close_pledge_short(SLUG, n, reason=text, signer=signer)
    raise AssertionError(f"unknown command {command.kind}")


def build_story(ledger: Ledger, signers: dict[str, Signer]) -> None:
    """A project with something of every kind to aim at, seqs 1-10.

    1 proposed (acme; burgerco, veggie invited; approval all, close all), 2-3 joined,
    4 pledge by acme, 5 pledge by burgerco, 6 deliverable on 4, 7 approval of 6 by burgerco,
    8 statement by veggie, 9 signed by acme, 10 amendment of pledge 4.
    """
    acme, burgerco, veggie = signers["acme"], signers["burgerco"], signers["veggie"]
    ledger.propose_project(
        SLUG,
        title="Property",
        purpose="",
        members={"burgerco": None, "veggie": None},
        approval="all",
        close="all",
        signer=acme,
    )
    ledger.join_project(SLUG, signer=burgerco)
    ledger.join_project(SLUG, signer=veggie)
    for signer, unit in ((acme, "hours"), (burgerco, "eur")):
        ledger.add_pledge(
            SLUG, title="Work", weight="30", unit=unit, due=DUE, beneficiaries=None, signer=signer
        )
    ledger.deliver(SLUG, 4, summary="Part", quantity="10", evidence=[], signer=acme)
    ledger.approve(SLUG, 6, comment="", signer=burgerco)
    ledger.propose_statement(SLUG, title="S", text="Together.", signer=veggie)
    ledger.sign_statement(SLUG, 8, signer=acme)
    ledger.amend_pledge(
        SLUG, 4, title=None, weight="40", due=None, reason="more scope", signer=acme
    )
