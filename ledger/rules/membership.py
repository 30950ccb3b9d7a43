"""Membership rules: proposals, joins, declines, invites, and the keys and signers of a party.

A proposal and its cancellation, joins and declines (with their invite checks), key
rotations and revocations, and the signers a party adds and removes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ledger import ed25519, normalise
from ledger import entry as entry_mod
from ledger import format as fmt
from ledger.errors import (
    KeyNotValidError,
    SignatureInvalidError,
    UsageError,
    VerificationError,
    WeakKeyError,
)
from ledger.rules.checks import parse_key, refused_as_usage, rule
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
from ledger.rules.types import Build, EntryType, ListBound, declare, names

if TYPE_CHECKING:
    from ledger.entry import SignedEntry
    from ledger.keys import Signer

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
        signer = ed25519.fingerprint(parse_key(str(proof["public_key"])))
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
    check_close_policy(body["close"], len(members))

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


# --- body builders: what the commands sign (user input is refused as a usage error) ---------


def proposal_body(
    *,
    title: str,
    purpose: str,
    members: dict[str, str | None],
    approval: str,
    close: str,
    signer: Signer,
    invites: dict[str, str] | None,
) -> Build:
    """The body of ``project.proposed`` (see :meth:`ledger.application.Ledger.propose_project`).

    Raises:
        UsageError: a handle, policy, pinned fingerprint, invite or text is malformed, a
            policy asks for more members than are invited, or an invite is for a seat that
            is pinned, the proposer's or not invited.
    """
    invited = dict(members)
    for handle, pinned in invited.items():
        normalise.normalise_handle(handle, "member")
        if pinned is not None and not fmt.FINGERPRINT_RE.match(pinned):
            raise UsageError(
                f"pinned fingerprint {pinned!r} of {handle!r} is not an OpenSSH SHA256 fingerprint",
                hint="copy it from `accord key show NAME` or `ssh-keygen -lf KEY.pub`",
            )
    if invited.get(signer.handle) not in (None, signer.fingerprint):
        raise UsageError(f"the pinned fingerprint of {signer.handle!r} is not its own key")
    invited[signer.handle] = signer.fingerprint
    normalise.check_member_count(len(invited))
    normalise.check_policy(approval, "approval", allow_any=True)
    normalise.check_policy(close, "close", allow_any=False)
    _check_policy_sizes(approval, close, members=len(invited))
    seats: dict[str, str] = {}
    for handle, token in (invites or {}).items():
        if invited.get(handle, "") is not None or handle == signer.handle:
            raise UsageError(f"an invite is only for an unpinned seat, not for {handle!r}")
        seats[handle] = _invite_key(token)
    body = {
        "title": normalise.required_text(title, "title"),
        "purpose": normalise.optional_text(purpose, "purpose"),
        "members": [_seat(h, invited[h], seats) for h in sorted(invited)],
        "approval": approval,
        "close": close,
        "public_key": signer.public_key_line,
    }
    return lambda _state: body


def check_close_policy(close: str, members: int) -> None:
    """Refuse a numeric close policy above the number of members (a rule of proposals).

    Raises:
        RuleViolationError: it asks for more close signatures than there are members.
    """
    if close != "all" and int(close) > members:
        raise rule(
            f"close policy {close} is more than the {members} members",
            hint=f"use all or a number up to {members}",
        )


def _check_policy_sizes(approval: str, close: str, *, members: int) -> None:
    """Refuse numeric policies that ask for more members than the proposal invites.

    The approval policy is a guard (the rules cap it for pledges with fewer beneficiaries);
    the close policy is the rule itself, refused here as a usage error.

    Raises:
        UsageError: approval N above the invited members other than the proposer, or close
            N above all the members.
    """
    others = members - 1
    if others < 1:
        return  # the rules say why: a collaboration needs at least two members
    if approval not in ("all", "any") and int(approval) > others:
        raise UsageError(
            f"approval policy {approval} is more than the {others} invited member"
            f"{'s' if others != 1 else ''} other than the proposer",
            hint=f"use all, any or a number up to {others}",
        )
    with refused_as_usage():
        check_close_policy(close, members)


def _seat(handle: str, pinned: str | None, seats: dict[str, str]) -> dict[str, Any]:
    """A ``members`` item; ``invite`` appears (null or not) when the proposal has invites."""
    if not seats:
        return {"handle": handle, "key": pinned}  # the shape of proposals before invites
    return {"handle": handle, "key": pinned, "invite": seats.get(handle)}


def new_invites(members: dict[str, str | None], proposer: str) -> dict[str, str]:
    """A fresh invite token for every unpinned seat other than the proposer's.

    Raises:
        UsageError: more members than a project may have (no token is made).
    """
    normalise.check_member_count(len({*members, proposer}))
    return {
        handle: entry_mod.new_invite()[0]
        for handle, pinned in sorted(members.items())
        if pinned is None and handle != proposer
    }


def _invite_key(token: str) -> str:
    try:
        return entry_mod.invite_fingerprint(token)
    except VerificationError as exc:
        raise UsageError(f"the invite is malformed: {exc.message}", hint=INVITE_HINT) from None


def seat_answer_body(
    kind: str, *, signer: Signer, invite: str | None, reason: str | None = None
) -> Build:
    """The body of a join (``reason`` None) or decline of ``signer``'s seat, with its proof.

    Raises:
        UsageError: the reason of a decline is empty; the seat needs an invite and none was
            given (or one was given for a seat without one), or the token is malformed.
        RuleViolationError: the invite is not the one of this seat.
    """
    if kind == "member.declined":
        reason = normalise.required_text(reason or "", "reason")

    def build(state: ProjectState) -> dict[str, Any]:
        body: dict[str, Any] = {"terms": state.terms, "public_key": signer.public_key_line}
        if kind == "member.declined":
            body["reason"] = reason
        return with_invite_proof(state, body, signer, invite)

    return build


def with_invite_proof(
    state: ProjectState, body: dict[str, Any], signer: Signer, invite: str | None
) -> dict[str, Any]:
    """Add the invite proof a join or decline of ``signer``'s seat needs (checked first).

    The user's side of :func:`check_invite`: it says what to give (``--invite``) where the
    rule says what the entry lacks.

    Raises:
        UsageError: an invite is missing, given for a seat without one, or malformed.
        RuleViolationError: the invite is not the one of this seat.
    """
    member = state.members.get(signer.handle)
    if member is None or member.status != INVITED:
        return body  # the rules say why it is refused
    handle, slug = signer.handle, state.slug
    if member.invite is None:
        if invite is not None:
            raise UsageError(
                f"the seat of {handle!r} in {slug!r} has no invite",
                hint="leave out --invite (and ACCORD_INVITE)",
            )
        return body
    if invite is None:
        raise UsageError(
            f"the seat of {handle!r} in {slug!r} is protected by an invite", hint=INVITE_HINT
        )
    if _invite_key(invite) != member.invite:
        raise rule(
            f"this invite is not the one for the seat of {handle!r} in {slug!r} "
            f"(the seat's invite is {member.invite})",
            hint=INVITE_HINT,
        )
    proof = entry_mod.invite_proof(
        invite, project=slug, terms=state.terms, handle=handle, key=signer.fingerprint
    )
    return {**body, "invite_proof": proof}


def cancellation_body(reason: str) -> Build:
    """The body of ``project.cancelled``.

    Raises:
        UsageError: the reason is empty or too long.
    """
    body = {"reason": normalise.required_text(reason, "reason")}
    return lambda _state: body


# --- summaries and subjects -------------------------------------------------------------------


def _proposed_summary(data: dict[str, Any], state: ProjectState | None) -> str:
    body = data["body"]
    others = [m["handle"] for m in body["members"] if m["handle"] != data["by"]]
    return (
        f'proposed "{body["title"]}" to {names(others)} '
        f"(approval {body['approval']}, close {body['close']})"
    )


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
        build=proposal_body,
    ),
    EntryType(
        "member.joined",
        2,
        "a join",
        {"terms": fmt.is_hash, "public_key": fmt.is_public_key},
        _member_joined,
        lambda data, state: "joined, accepting the terms",
        optional={"invite_proof": fmt.is_invite_proof},
        build=seat_answer_body,
    ),
    EntryType(
        "member.declined",
        3,
        "a declined invitation",
        {"terms": fmt.is_hash, "public_key": fmt.is_public_key, "reason": fmt.is_text()},
        _member_declined,
        lambda data, state: f"declined: {data['body']['reason']}",
        optional={"invite_proof": fmt.is_invite_proof},
        build=seat_answer_body,
    ),
    EntryType(
        "project.cancelled",
        22,
        "a cancellation",
        {"reason": fmt.is_text()},
        _project_cancelled,
        lambda data, state: f"cancelled the proposal: {data['body']['reason']}",
        subject=_cancelled_subject,
        build=cancellation_body,
    ),
)
