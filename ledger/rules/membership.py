"""Membership rules: proposals, joins, declines, invites, and the keys and signers of a party.

A proposal and its cancellation, joins and declines (with their invite checks), key
rotations and revocations, and the signers a party adds and removes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ledger import entry as entry_mod
from ledger import format as fmt
from ledger.errors import (
    KeyNotValidError,
    NotFoundError,
    SignatureInvalidError,
    VerificationError,
    WeakKeyError,
)
from ledger.rules.checks import key_in_use, new_key, parse_key, rule
from ledger.rules.state import (
    ABANDONED,
    ACTIVE,
    CANCELLED,
    DECLINED,
    INVITED,
    JOINED,
    PROPOSED,
    Member,
    ProjectState,
    SignerSeat,
)
from ledger.rules.types import EntryType, ListBound, declare, names

if TYPE_CHECKING:
    from ledger.entry import SignedEntry

INVITE_HINT = "ask the proposer for your invite, then --invite TOKEN"


def check_invite(state: ProjectState, item: SignedEntry, member: Member) -> None:
    """Check the invite proof of a join or decline against the seat's invite fingerprint.

    Raises:
        KeyNotValidError: the seat has an invite and the entry carries no valid proof of it,
            or the entry carries a proof the seat has no invite for.
    """
    seq, by = item.seq, item.by
    proof = item.body.get("invite_proof")
    if member.invite is None:
        if proof is not None:
            raise KeyNotValidError(
                f"the seat of {by!r} has no invite, but the entry carries an invite proof",
                seq=seq,
            )
        return
    if proof is None:
        raise KeyNotValidError(
            f"the seat of {by!r} is protected by an invite ({member.invite}); the entry "
            "carries no invite proof",
            seq=seq,
            hint=INVITE_HINT,
        )
    try:
        signer = entry_mod.fingerprint(parse_key(str(proof["public_key"])))
    except WeakKeyError as exc:
        raise WeakKeyError(f"the invite proof of {by!r} carries a {exc.message}", seq=seq) from None
    except (VerificationError, KeyError, TypeError):
        signer = "(none: the proof is malformed)"
    if signer != member.invite:
        raise KeyNotValidError(
            f"the invite proof of {by!r} is signed by invite key {signer}, not by the seat's "
            f"invite {member.invite}",
            seq=seq,
            hint=INVITE_HINT,
        )
    try:
        entry_mod.verify_invite_proof(
            proof, project=state.slug, terms=state.terms, handle=by, key=item.key
        )
    except (VerificationError, SignatureInvalidError):
        raise KeyNotValidError(
            f"the invite proof of {by!r} does not verify for project {state.slug!r}, "
            f"its terms, handle {by!r} and key {item.key}",
            seq=seq,
            hint=INVITE_HINT,
        ) from None


KEY_HINT = "each person signs with a key of their own: `accord key new NAME`"


def _check_key_unused(state: ProjectState, key: str, handle: str) -> None:
    """Refuse a new key that was used in the project before or is pinned to another's seat.

    Raises:
        RuleViolationError: the key was used before (by any party) or is pinned elsewhere.
    """
    if key_in_use(state, key) or key in state.revoked:
        owner = next((m.handle for m in state.members.values() if key in m.keys), None)
        whose = f" (by {owner!r})" if owner is not None else ""
        raise rule(
            f"key {key} was used in this project before{whose}; a key serves one signer only",
            hint=KEY_HINT,
        )
    seat = _pinned_elsewhere(state, key, handle)
    if seat is not None:
        raise rule(
            f"key {key} is pinned to the seat of {seat!r}, who has not joined yet", hint=KEY_HINT
        )


def _pinned_elsewhere(state: ProjectState, key: str, handle: str) -> str | None:
    """The invitee (not yet joined) whose seat is pinned to ``key``, other than ``handle``."""
    return next(
        (
            m.handle
            for m in state.members.values()
            if m.pinned == key and m.handle != handle and m.status == INVITED
        ),
        None,
    )


def _member_key(state: ProjectState, item: SignedEntry, line: str) -> Callable[[], None]:
    """Check a new key for the signer of ``item``; the commit puts it in that signer's seat."""
    key = new_key(line, item.seq)
    _check_key_unused(state, key, item.by)
    member = state.members[item.by]
    old = member.signer_for(item.key)
    if old is None:  # pragma: no cover - _signing_key admitted only a current signer's key
        raise KeyNotValidError(f"key {item.key} is not a current key of {item.by!r}")
    label = old.label

    def commit() -> None:
        member.signers[label] = SignerSeat(label, key, line, item.seq)
        member.keys.append(key)
        state.labels[key] = label

    return commit


def _first_signer(state: ProjectState, member: Member, key: str, line: str, seq: int) -> None:
    """Give ``member`` its first signer (labelled with its handle), at a join or proposal."""
    member.signers = {member.handle: SignerSeat(member.handle, key, line, seq)}
    member.keys.append(key)
    state.labels[key] = member.handle


def _project_proposed(state: ProjectState, item: SignedEntry) -> Callable[[], None]:
    body = item.body
    members = {m["handle"]: m["key"] for m in body["members"]}
    invites = {m["handle"]: m.get("invite") for m in body["members"]}
    if members.get(item.by) != item.key:
        raise rule("the proposer must be listed as a member with its own key")
    if invites.get(item.by) is not None:
        raise rule("the proposer's own seat has no invite")
    if len(members) < 2:
        raise rule("a collaboration needs at least two members", hint="invite a partner")
    if body["close"] != "all" and int(body["close"]) > len(members):
        raise rule(f"close policy {body['close']} is more than the {len(members)} members")

    def commit() -> None:
        state.title, state.purpose = body["title"], body["purpose"]
        state.proposer, state.terms = item.by, item.hash
        state.approval, state.close_policy = body["approval"], body["close"]
        for handle, pinned in members.items():
            state.members[handle] = Member(handle=handle, pinned=pinned, invite=invites[handle])
        proposer = state.members[item.by]
        proposer.status, proposer.joined_seq = JOINED, 1
        _first_signer(state, proposer, item.key, body["public_key"], 1)

    return commit


def _project_cancelled(state: ProjectState, item: SignedEntry) -> Callable[[], None]:
    if item.by != state.proposer:
        raise rule(
            f"only the proposer ({state.proposer!r}) can cancel project {state.slug!r}",
            hint=f"ask {state.proposer} to cancel it, or decline the invitation",
        )
    if state.status != PROPOSED:
        raise rule(
            f"project {state.slug!r} is {state.status}: only a proposal still waiting for "
            "its invitees can be cancelled",
            hint=f"end an active project with `accord close {state.slug}`",
        )

    def commit() -> None:
        state.status, state.cancelled_seq = CANCELLED, item.seq

    return commit


def _update_status(state: ProjectState) -> None:
    if state.status == PROPOSED and not state.waiting_for():
        state.status = ACTIVE if len(state.joined()) >= 2 else ABANDONED


def _member_joined(state: ProjectState, item: SignedEntry) -> Callable[[], None]:
    if item.body["terms"] != state.terms:
        raise rule("the joining member accepted different terms (terms hash mismatch)")
    member = state.members[item.by]

    def commit() -> None:
        member.status, member.joined_seq = JOINED, item.seq
        _first_signer(state, member, item.key, item.body["public_key"], item.seq)
        _update_status(state)

    return commit


def _member_declined(state: ProjectState, item: SignedEntry) -> Callable[[], None]:
    if item.body["terms"] != state.terms:
        raise rule("the declining member saw different terms (terms hash mismatch)")
    member = state.members[item.by]

    def commit() -> None:
        member.status = DECLINED
        _update_status(state)

    return commit


def _key_rotated(state: ProjectState, item: SignedEntry) -> Callable[[], None]:
    return _member_key(state, item, item.body["public_key"])


def _key_revoked(state: ProjectState, item: SignedEntry) -> Callable[[], None]:
    body = item.body
    if body["fingerprint"] != item.key:
        raise rule(
            f"{item.by!r} can only revoke the key it signs with ({item.key})",
            hint="sign the revocation with the key being revoked",
        )
    replace = (
        _member_key(state, item, body["replacement"]) if body["replacement"] is not None else None
    )
    member = state.members[item.by]
    signer = member.signer_for(item.key)

    def commit() -> None:
        state.revoked[item.key] = item.seq
        if signer is not None:
            del member.signers[signer.label]
        if replace is not None:
            replace()

    return commit


def _signer_added(state: ProjectState, item: SignedEntry) -> Callable[[], None]:
    body = item.body
    label, line = body["label"], body["public_key"]
    member = state.members[item.by]
    taken = member.signers.get(label)
    if taken is not None:
        raise rule(
            f"{item.by!r} already has a signer labelled {label!r} (key {taken.key})",
            hint="choose another label, or remove that signer first",
        )
    if len(member.signers) >= fmt.MAX_SIGNERS:
        raise rule(
            f"{item.by!r} has {len(member.signers)} signers already, the most a party may have",
            hint="remove a signer first (`accord project remove-signer`)",
        )
    key = new_key(line, item.seq)
    _check_key_unused(state, key, item.by)

    def commit() -> None:
        member.signers[label] = SignerSeat(label, key, line, item.seq)
        member.keys.append(key)
        state.labels[key] = label

    return commit


def _signer_removed(state: ProjectState, item: SignedEntry) -> Callable[[], None]:
    label = item.body["label"]
    member = state.members[item.by]
    signer = member.signers.get(label)
    if signer is None:
        current = ", ".join(sorted(member.signers)) or "none"
        raise NotFoundError(
            f"{item.by!r} has no current signer labelled {label!r} in project {state.slug!r}",
            hint=f"its current signers are: {current}",
        )
    if len(member.signers) == 1:
        raise rule(
            f"{label!r} is the last signer of {item.by!r}; a party cannot remove its last signer",
            hint="add another signer first (`accord project add-signer`)",
        )

    def commit() -> None:
        del member.signers[label]
        state.removed[signer.key] = item.seq

    return commit


# --- summaries and subjects -------------------------------------------------------------------


def _key_of(line: str) -> str:
    return entry_mod.fingerprint(entry_mod.parse_public_key_line(line))


def _proposed_summary(data: dict[str, Any], state: ProjectState | None) -> str:
    body = data["body"]
    others = [m["handle"] for m in body["members"] if m["handle"] != data["by"]]
    return (
        f'proposed "{body["title"]}" to {names(others)} '
        f"(approval {body['approval']}, close {body['close']})"
    )


def _revoked_summary(data: dict[str, Any], state: ProjectState | None) -> str:
    body = data["body"]
    text = f"revoked key {body['fingerprint']}: {body['reason']}"
    if body["replacement"]:
        text += f"; now signs with {_key_of(body['replacement'])}"
    return text


def _signer_subject(state: ProjectState, item: SignedEntry) -> dict[str, Any]:
    body = item.body
    member = state.members[item.by]
    if item.type == "signer.added":
        key = member.signers[body["label"]].key
    else:
        key = next(k for k, seq in state.removed.items() if seq == item.seq)
    return {"party": item.by, "label": body["label"], "key": key, "signers": sorted(member.signers)}


def _cancelled_subject(state: ProjectState, item: SignedEntry) -> dict[str, Any]:
    return {"project_title": state.title, "waiting": state.waiting_for()}


declare(
    EntryType(
        "project.proposed",
        1,
        "the project proposal",
        {
            "title": fmt.is_text(),
            "purpose": fmt.is_text(required=False),
            "members": fmt.is_members,
            "approval": fmt.is_policy(allow_any=True),
            "close": fmt.is_policy(allow_any=False),
            "public_key": fmt.is_public_key,
        },
        _project_proposed,
        _proposed_summary,
        list_bound=ListBound("members", fmt.MAX_MEMBERS, "members", fmt.MEMBERS_HINT),
    ),
    EntryType(
        "member.joined",
        2,
        "a join",
        {"terms": fmt.is_hash, "public_key": fmt.is_public_key},
        _member_joined,
        lambda data, state: "joined, accepting the terms",
        optional={"invite_proof": fmt.is_invite_proof},
    ),
    EntryType(
        "member.declined",
        3,
        "a declined invitation",
        {"terms": fmt.is_hash, "public_key": fmt.is_public_key, "reason": fmt.is_text()},
        _member_declined,
        lambda data, state: f"declined: {data['body']['reason']}",
        optional={"invite_proof": fmt.is_invite_proof},
    ),
    EntryType(
        "key.rotated",
        4,
        "a key rotation",
        {"public_key": fmt.is_public_key},
        _key_rotated,
        lambda data, state: f"rotated to key {_key_of(data['body']['public_key'])}",
    ),
    EntryType(
        "key.revoked",
        5,
        "a key revocation",
        {
            "fingerprint": fmt.is_fingerprint,
            "reason": fmt.is_text(),
            "replacement": fmt.is_public_key_or_null,
        },
        _key_revoked,
        _revoked_summary,
    ),
    EntryType(
        "signer.added",
        6,
        "an added signer",
        {"label": fmt.is_handle, "public_key": fmt.is_public_key},
        _signer_added,
        lambda data, state: (
            f"added signer {data['body']['label']} (key {_key_of(data['body']['public_key'])})"
        ),
        subject=_signer_subject,
    ),
    EntryType(
        "signer.removed",
        7,
        "a removed signer",
        {"label": fmt.is_handle, "reason": fmt.is_text()},
        _signer_removed,
        lambda data, state: f"removed signer {data['body']['label']}: {data['body']['reason']}",
        subject=_signer_subject,
    ),
    EntryType(
        "project.cancelled",
        22,
        "a cancellation",
        {"reason": fmt.is_text()},
        _project_cancelled,
        lambda data, state: f"cancelled the proposal: {data['body']['reason']}",
        subject=_cancelled_subject,
    ),
)
