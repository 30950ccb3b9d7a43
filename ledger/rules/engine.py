"""The fold: ``apply`` checks one signed entry and advances the state; ``replay`` folds many.

Also which key an entry must be signed with.

``apply`` checks the format, the bounds, the chain and the signature, then hands the entry to
its type's handler (one module per family, found through the registry). A handler checks
first and returns a commit closure that only assigns, so a refused entry leaves the state
untouched and a caller may keep using the state it had.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from ledger import entry as entry_mod
from ledger.errors import AlreadyDecidedError, KeyNotValidError, LedgerError, VerificationError
from ledger.format import text_size
from ledger.rules import schema
from ledger.rules.checks import check_fingerprint, key_in_use, parse_key, require_open, rule
from ledger.rules.membership import check_invite
from ledger.rules.registry import TYPES
from ledger.rules.state import INVITED, JOINED, ProjectState, new_state

if TYPE_CHECKING:
    from ledger.entry import SignedEntry


def replay(slug: str, entries: Iterable[SignedEntry]) -> ProjectState:
    """Fold ``apply`` over ``entries`` from the empty state.

    Raises:
        LedgerError: the first entry that breaks a rule, with its seq.
    """
    state = new_state(slug)
    for item in entries:
        apply(state, item)
    return state


def apply(
    state: ProjectState,
    item: SignedEntry,
    *,
    unsafe_skip_signature: bool = False,
    unsafe_skip_format: bool = False,
) -> ProjectState:
    """Check ``item`` against the rules and, if it passes, advance ``state`` to include it.

    Args:
        state: the project after the entries before ``item``; it is changed in place only
            when every check passes.
        item: the next signed entry.
        unsafe_skip_signature: skip the Ed25519 check (only for callers that verified the
            signature already, such as the parallel verifier).
        unsafe_skip_format: skip the format v1 check of envelope and body (only for callers
            that ran :func:`ledger.rules.schema.check_entry` on this entry already).

    Returns:
        The advanced state (the same object).

    Raises:
        VerificationError: malformed or out-of-chain entry.
        SignatureInvalidError: the signature does not verify.
        KeyNotValidError: the key is unknown, revoked, superseded or not the pinned one.
        WeakKeyError: the entry brings in a weak public key (small order, non-canonical).
        NotFoundError: the entry refers to a seq or party that does not exist.
        RuleViolationError: the entry breaks a rule of the collaboration, or is beyond the
            bounds of the format (its size, the length of a list: ``schema.check_bounds``; a
            number: :func:`ledger.rules.schema.check_numbers`).
    """
    commit = _check(
        state,
        item,
        unsafe_skip_signature=unsafe_skip_signature,
        unsafe_skip_format=unsafe_skip_format,
    )
    seq = item.seq
    # Every check has passed: from here on, only assignments.
    commit()
    state.types[seq] = item.type
    state.seq = seq
    state.head = item.hash
    if item.type != "close.signed":
        state.final_head, state.final_head_seq = item.hash, seq
        state.close_signatures = {}
    return state


def check_unsigned(state: ProjectState, data: dict[str, Any]) -> None:
    """Run every check ``apply`` would run on ``data`` once signed, and change nothing.

    For a confirmation step: an entry that would be refused is refused before it is signed.
    Only the signature itself is not checked (there is none yet).

    Raises:
        LedgerError: what ``apply`` would raise for the signed entry.
    """
    canonical = entry_mod.canonical_bytes(data)
    unsigned = entry_mod.SignedEntry(
        text=canonical.decode("utf-8"), sig="", hash="", data=json.loads(canonical)
    )
    _check(state, unsigned, unsafe_skip_signature=True, unsafe_skip_format=False)


def _check(
    state: ProjectState,
    item: SignedEntry,
    *,
    unsafe_skip_signature: bool,
    unsafe_skip_format: bool,
) -> Callable[[], None]:
    """Every check of :func:`apply`; returns the handler's commit (assignments only)."""
    data = item.data
    if not unsafe_skip_format:
        try:
            schema.check_entry(data)
        except VerificationError as exc:
            raise VerificationError(exc.message, seq=data.get("seq")) from None
    schema.check_bounds(data, text_size(item.text))  # not skipped with the format: verify's workers
    # check the format of each row, never its bounds
    seq = item.seq
    if data["project"] != state.slug:
        raise VerificationError(
            f"entry belongs to project {data['project']!r}, not {state.slug!r}", seq=seq
        )
    if seq != state.seq + 1:
        raise VerificationError(f"expected seq {state.seq + 1}, found seq {seq}", seq=seq)
    if data["prev"] != state.head:
        raise VerificationError(
            f"prev of seq {seq} does not match the hash of seq {state.seq}", seq=seq
        )
    require_open(state, seq)
    public_key = _signing_key(state, item)
    if not unsafe_skip_signature:
        entry_mod.verify(item, parse_key(public_key))
    handler = TYPES[item.type].handler
    try:
        schema.check_numbers(item.type, item.body)  # the bound the arithmetic below relies on
        return handler(state, item)
    except LedgerError as exc:
        if exc.seq is None:
            exc.seq = seq
        raise


def _signing_key(state: ProjectState, item: SignedEntry) -> str:
    """Return the public key line ``item`` must be signed with, or raise why it cannot be."""
    seq, by, kind, key = item.seq, item.by, item.type, item.key
    if seq == 1 or kind == "project.proposed":
        if seq != 1 or kind != "project.proposed":
            raise VerificationError("a stream starts with project.proposed, and only once", seq=seq)
        line = str(item.body["public_key"])
        check_fingerprint(line, key, seq)
        return line
    if kind in ("member.joined", "member.declined"):
        member = state.members.get(by)
        if member is None:
            raise rule(
                f"{by!r} was not invited to project {state.slug!r}",
                seq,
                hint="only the members named in the proposal can join or decline",
            )
        if member.status == JOINED and member.joined_seq is not None:
            raise AlreadyDecidedError(
                f"{by!r} has already joined project {state.slug!r}",
                decided_seq=member.joined_seq,
                seq=seq,
            )
        if member.status != INVITED:
            raise rule(f"{by!r} has already {member.status} project {state.slug!r}", seq)
        line = str(item.body["public_key"])
        check_fingerprint(line, key, seq)
        if member.pinned is not None and member.pinned != key:
            raise KeyNotValidError(
                f"key {key} of {by!r} does not match the fingerprint pinned in the proposal "
                f"({member.pinned})",
                seq=seq,
                hint="join with the key the proposer pinned, or ask for a new proposal",
            )
        check_invite(state, item, member)
        if key_in_use(state, key):
            raise KeyNotValidError(f"key {key} is already used in this project", seq=seq)
        return line
    member = state.members.get(by)
    if member is None or member.status != JOINED:
        status = "invited but has not joined" if member and member.status == INVITED else None
        raise rule(
            f"{by!r} is not a member of project {state.slug!r}"
            + (f" ({status})" if status else ""),
            seq,
            hint="`accord project show SLUG` lists the members",
        )
    signer = member.signer_for(key)
    if signer is None:
        label = state.labels.get(key) if key in member.keys else None
        if key in state.revoked:
            reason = f"was revoked at seq {state.revoked[key]}"
        elif key in state.removed:
            reason = f"belongs to signer {label!r}, removed from {by!r} at seq {state.removed[key]}"
        elif key in member.keys:
            reason = "was replaced by a newer key"
        else:
            reason = f"is not a current key of {by!r}"
        raise KeyNotValidError(
            f"key {key} {reason}",
            seq=seq,
            hint="`accord project show SLUG` lists each member's current signers and keys",
        )
    return signer.public_key
