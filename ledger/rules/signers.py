"""Signer rules: the keys and signers a party signs with.

A key rotated or revoked (with its replacement), a signer added or removed; a key serves
one signer only, in the whole project.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ledger import ed25519, normalise
from ledger import format as fmt
from ledger.errors import (
    KeyNotValidError,
    LedgerError,
    NotFoundError,
    UsageError,
)
from ledger.rules.checks import key_in_use, new_key, rule
from ledger.rules.state import (
    INVITED,
    ProjectState,
    SignerSeat,
)
from ledger.rules.types import Build, EntryType, declare

if TYPE_CHECKING:
    from ledger.entry import SignedEntry

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


def rotation_body(new_public_key: str) -> Build:
    """The body of ``key.rotated``.

    Raises:
        UsageError: the new key is not an OpenSSH Ed25519 line, or is a weak key.
    """
    body = {"public_key": normalise.check_public_key(new_public_key)}
    return lambda _state: body


def revocation_body(fingerprint: str, *, reason: str, replacement: str | None) -> Build:
    """The body of ``key.revoked``.

    Raises:
        UsageError: an empty reason, an unusable replacement or a malformed fingerprint.
    """
    reason = normalise.required_text(reason, "reason")
    if replacement is not None:
        normalise.check_public_key(replacement)
    if not fmt.FINGERPRINT_RE.match(fingerprint):
        raise UsageError(
            f"{fingerprint!r} is not an OpenSSH SHA256 fingerprint",
            hint="copy it from `accord project show SLUG`",
        )
    body = {"fingerprint": fingerprint, "reason": reason, "replacement": replacement}
    return lambda _state: body


def signer_added_body(label: str, public_key: str) -> Build:
    """The body of ``signer.added``.

    Raises:
        UsageError: a malformed label, or a public key that is not usable.
    """
    label = normalise.normalise_handle(label, "signer label")
    try:
        line = ed25519.public_key_line(ed25519.parse_public_key_line(public_key))
    except LedgerError as exc:
        raise UsageError(
            f"the signer's public key is not usable: {exc.message}",
            hint=exc.hint
            or "give the whole line `accord key show NAME` prints (ssh-ed25519 AAAA...)",
        ) from None
    body = {"label": label, "public_key": line}
    return lambda _state: body


def signer_removed_body(label: str, reason: str) -> Build:
    """The body of ``signer.removed``.

    Raises:
        UsageError: a malformed label or an empty reason.
    """
    body = {
        "label": normalise.normalise_handle(label, "signer label"),
        "reason": normalise.required_text(reason, "reason"),
    }
    return lambda _state: body


def _key_of(line: str) -> str:
    return ed25519.fingerprint(ed25519.parse_public_key_line(line))


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


declare(
    EntryType(
        "key.rotated",
        4,
        "a key rotation",
        {"public_key": fmt.is_public_key},
        _key_rotated,
        lambda data, state: f"rotated to key {_key_of(data['body']['public_key'])}",
        build=rotation_body,
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
        build=revocation_body,
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
        build=signer_added_body,
    ),
    EntryType(
        "signer.removed",
        7,
        "a removed signer",
        {"label": fmt.is_handle, "reason": fmt.is_text()},
        _signer_removed,
        lambda data, state: f"removed signer {data['body']['label']}: {data['body']['reason']}",
        subject=_signer_subject,
        build=signer_removed_body,
    ),
)
