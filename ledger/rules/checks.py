"""Checks the rule families share: refusals, lookups by seq, the project's status, keys, units.

Kept apart from ``engine.py`` (which imports every family through the registry) so that the
families can use them without an import circle.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from functools import lru_cache
from typing import TYPE_CHECKING

from ledger import ed25519
from ledger.errors import (
    KeyNotValidError,
    NotFoundError,
    RuleViolationError,
    UsageError,
    WeakKeyError,
)
from ledger.format import unit_key
from ledger.rules.state import ABANDONED, ACTIVE, CANCELLED, CLOSED, Pledge, ProjectState
from ledger.rules.types import entry_noun

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    from ledger.entry import SignedEntry


def rule(message: str, seq: int | None = None, hint: str | None = None) -> RuleViolationError:
    """A rule violation (the error every family raises for a broken rule)."""
    return RuleViolationError(message, seq=seq, hint=hint)


@contextlib.contextmanager
def refused_as_usage() -> Iterator[None]:
    """Turn a rule's refusal of what the user typed into a usage error (exit 2).

    A body builder runs the very check the rules run on the entry (never a copy of it), before
    anything is signed, and the user learns that the input was wrong rather than the log.

    Raises:
        UsageError: the check inside refused (same message and hint).
    """
    try:
        yield
    except RuleViolationError as exc:
        raise UsageError(exc.message, hint=exc.hint) from None


def require_open(state: ProjectState, seq: int | None = None) -> None:
    """Refuse anything more on a closed, abandoned or cancelled project.

    Raises:
        RuleViolationError: the project is closed, abandoned or cancelled.
    """
    if state.status == CLOSED:
        raise rule(
            f"project {state.slug!r} is closed (seq {state.closed_seq}); nothing more can be added",
            seq,
            hint="start a new project for further work",
        )
    if state.status == ABANDONED:
        raise rule(f"project {state.slug!r} was abandoned: every invitee declined", seq)
    if state.status == CANCELLED:
        raise rule(
            f"project {state.slug!r} was cancelled by its proposer (seq {state.cancelled_seq}); "
            "nothing more can be added",
            seq,
            hint="ask the proposer for a new proposal",
        )


def require_active(state: ProjectState, item: SignedEntry) -> None:
    """Refuse ``item`` while the project waits for invitees.

    Raises:
        RuleViolationError: the project is not active.
    """
    if state.status != ACTIVE:
        waiting = ", ".join(state.waiting_for())
        raise rule(
            f"project {state.slug!r} is not active yet: waiting for {waiting} to join",
            item.seq,
            hint="every invited member must join (or decline) first",
        )


def find(state: ProjectState, seq: int) -> str:
    """The type of the entry at ``seq``.

    Raises:
        NotFoundError: no entry at ``seq``.
    """
    kind = state.types.get(seq)
    if kind is None:
        raise NotFoundError(
            f"no entry at seq {seq} in project {state.slug!r}",
            hint=f"`accord trail {state.slug}` lists every seq",
        )
    return kind


def pledge_at(state: ProjectState, seq: int) -> Pledge:
    """The pledge made at ``seq``.

    Raises:
        NotFoundError: no entry at ``seq``.
        RuleViolationError: the entry at ``seq`` is not a pledge.
    """
    kind = find(state, seq)
    pledge = state.pledges.get(seq)
    if pledge is None:
        raise rule(
            f"seq {seq} is {entry_noun(kind)}, not a pledge",
            hint=f"`accord pledge list {state.slug}` lists pledges by seq",
        )
    return pledge


def check_unit_spelling(state: ProjectState, unit: str) -> None:
    """Refuse a unit spelled differently from the same unit earlier in the project.

    Raises:
        RuleViolationError: ``EUR`` after ``eur``: two spellings would split contributions.
    """
    first = state.units.get(unit_key(unit))
    if first is not None and first != unit:
        raise rule(
            f"unit {unit!r} is spelled {first!r} in project {state.slug!r}; two spellings would "
            "split its contributions",
            hint=f"write the unit as {first}",
        )


@lru_cache(maxsize=1024)
def parse_key(line: str) -> Ed25519PublicKey:
    """The public key of an OpenSSH line (cached: the same keys sign entry after entry)."""
    return ed25519.parse_public_key_line(line)


def new_key(line: str, seq: int) -> str:
    """The fingerprint of a public key an entry brings into the project; a weak one is refused.

    Raises:
        WeakKeyError: the key is of small order or not canonically encoded.
    """
    try:
        return ed25519.fingerprint(parse_key(line))
    except WeakKeyError as exc:
        raise WeakKeyError(f"entry {seq} carries a {exc.message}", seq=seq) from None


def check_fingerprint(line: str, key: str, seq: int) -> None:
    """Refuse an entry whose key fingerprint is not that of the public key it carries.

    Raises:
        KeyNotValidError: they differ.
        WeakKeyError: the key is weak.
    """
    if new_key(line, seq) != key:
        raise KeyNotValidError(f"entry names key {key} but carries a different public key", seq=seq)


def key_in_use(state: ProjectState, key: str) -> bool:
    """True when some member signed with ``key`` in this project."""
    return any(key in m.keys for m in state.members.values())
