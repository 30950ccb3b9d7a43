"""Members' cosignatures of the relay's checkpoints: check, hold, serve.

A member posts the checkpoint note as served (the relay's signature, perhaps cosignatures of
others) plus one ``cosignature/v1`` line of its own, named with its handle and made with its
current Ed25519 key. The relay holds each member's latest cosignature (``RelayCosigner``, one
stream per project and member, its version a compare-and-swap) and serves, with the latest
checkpoint, every cosignature over exactly that checkpoint.
"""

from __future__ import annotations

import contextlib
import time as clock
from typing import TYPE_CHECKING, Any

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError, PersistenceError

from ledger import ed25519, rules
from ledger.errors import ConflictError, KeyNotValidError, SignatureInvalidError
from ledger.rows import unavailable
from relay.aggregates import SNAPSHOT_INTERVAL, RelayCosigner, relay_stream_id
from relay.errors import MalformedRequestError, UnsignedCheckpointError
from relay.note import (
    COSIGNATURE_V1,
    MalformedNoteError,
    Note,
    NoteError,
    Signature,
    VerifierKey,
    add_signatures,
    parse_checkpoint,
    parse_note,
    verify_cosignatures,
    verify_note,
)

if TYPE_CHECKING:
    from relay.store import RelayStore

ATTEMPTS = 8
MAX_FUTURE = 300  # seconds a cosignature's time may be ahead of the relay's clock


class StaleCosignatureError(ConflictError):
    """The cosignature is older than the member's latest one held (409)."""


def load(store: RelayStore, slug: str, handle: str) -> RelayCosigner | None:
    """The member's latest cosignature of ``slug``, if any.

    Raises:
        StoreDamagedError: a stored record of it is not one accord wrote (503).
        StorageUnavailableError: the store cannot be read.
    """
    try:
        return store.ledger.loader.get(
            relay_stream_id(slug, handle),
            RelayCosigner,
            label=f"the cosignatures of {handle!r} in {slug!r}",
        )
    except AggregateNotFoundError:
        return None


def cosigner_keys(
    state: rules.ProjectState, handle: str | None = None
) -> dict[str, dict[int, tuple[str, VerifierKey]]]:
    """Each joined member's signers as (fingerprint, cosignature/v1 verifier key), by handle.

    Any current signer of a party may cosign for it (the key name is the party's handle);
    the relay holds one cosignature per party, the latest. With ``handle``, only that
    member's keys are parsed (a cosignature names its party: at most ``MAX_SIGNERS`` keys).
    """
    keys: dict[str, dict[int, tuple[str, VerifierKey]]] = {}
    members = state.members.items() if handle is None else _one(state, handle)
    for name, member in members:
        if member.status != rules.JOINED:
            continue
        for fingerprint, line in member.current_keys().items():
            public = ed25519.parse_public_key_line(line)
            vkey = VerifierKey.from_public_key(name, public, type=COSIGNATURE_V1)
            keys.setdefault(name, {})[vkey.key_id] = (fingerprint, vkey)
    return keys


def _one(state: rules.ProjectState, handle: str) -> list[tuple[str, rules.Member]]:
    member = state.members.get(handle)
    return [(handle, member)] if member is not None else []


def cosign(store: RelayStore, slug: str, body: bytes) -> None:
    """Hold the member's cosignature in ``body`` (the served note plus one line).

    A resend of a cosignature already held is accepted as it is.

    Raises:
        MalformedRequestError: not a note, not a checkpoint, no or several new cosignatures,
            or a time in the future.
        UnsignedCheckpointError: a checkpoint this relay did not sign for the project.
        KeyNotValidError: the line is not by a joined member's current key.
        SignatureInvalidError: the cosignature does not verify.
        StaleCosignatureError: older than the member's latest cosignature.
    """
    state = store.state(slug)
    try:
        note = parse_note(body)
        checkpoint = parse_checkpoint(note.text)
    except MalformedNoteError as exc:
        raise MalformedRequestError(f"not a checkpoint note: {exc}") from None
    log = store.latest(slug)
    ours = [s for s in note.signatures if s.name == log.origin]
    relay_key = store.signer.verifier_key(log.origin)
    # The line held is the one that verified with this relay's key: another line under the
    # origin's name (another key ID, or garbage) would make the held note prove nothing.
    signed = [s for s in ours if s.key_id == relay_key.key_id]
    try:
        if checkpoint.origin != log.origin or checkpoint.size > log.size or not signed:
            raise NoteError("another log")
        verify_note(Note(note.text, tuple(signed)), [relay_key])
    except NoteError:
        raise UnsignedCheckpointError(
            f"this relay did not sign that checkpoint of {slug!r}",
            hint="cosign the checkpoint as served by GET .../checkpoint",
        ) from None
    members = set(state.joined())  # only they cosign
    records: dict[str, RelayCosigner | None] = {}  # one load per member, however many lines
    new: list[Signature] = []
    for line in note.signatures:
        if line.name == log.origin:
            continue
        if line.name in members and line.name not in records:
            records[line.name] = load(store, slug, line.name)
        held = records.get(line.name)
        if held is not None and _holds(held, note.text, line):
            continue
        new.append(line)
    if len(new) != 1:
        if not new and len(note.signatures) > len(ours):
            return  # every cosignature in it is held already: a resend
        raise MalformedRequestError("post the served note plus exactly one new cosignature line")
    _hold(store, slug, note, signed[0], new[0], cosigner_keys(state, new[0].name))


def _hold(
    store: RelayStore,
    slug: str,
    note: Note,
    relay_line: Signature,
    line: Signature,
    keys: dict[str, dict[int, tuple[str, VerifierKey]]],
) -> None:
    if line.name not in keys:
        raise KeyNotValidError(f"{line.name!r} is not a joined member of {slug!r}")
    if line.key_id not in keys[line.name]:
        raise KeyNotValidError(f"the cosignature is not by a current key of {line.name!r}")
    fingerprint, vkey = keys[line.name][line.key_id]
    try:
        verified = verify_cosignatures(Note(note.text, (line,)), [vkey], quorum=1)
    except NoteError:
        raise SignatureInvalidError(f"the cosignature of {line.name!r} does not verify") from None
    stamp = verified[0].timestamp or 0
    if stamp > clock.time() + MAX_FUTURE:
        raise MalformedRequestError("the cosignature's time is in the future")
    size = parse_checkpoint(note.text).size
    whole = Note(note.text, (relay_line, line)).encode().decode("utf-8")
    for _ in range(ATTEMPTS):
        record = load(store, slug, line.name)
        before = record.version if record is not None else 0
        if record is None:
            record = RelayCosigner(slug=slug, handle=line.name)
        if not record.is_newer(size, stamp):
            if (record.size, record.time, record.note) == (size, stamp, whole):
                return
            if record.size == size and _same_checkpoint(record, note.text):
                # The party cosigned this very checkpoint already, at a later time (another
                # of its signers, whose clock may be ahead of this one's): held as it is.
                return
            raise StaleCosignatureError(
                f"{line.name!r} cosigned a later checkpoint already (size {record.size}, "
                f"time {record.time})",
                hint="cosign the latest checkpoint",
            )
        record.cosign(key=fingerprint, size=size, time=stamp, note=whole)
        try:
            store.ledger.save(record)
        except IntegrityError:
            continue  # the member cosigned elsewhere meanwhile: compare again
        except PersistenceError as exc:
            raise unavailable(exc) from None
        if record.version // SNAPSHOT_INTERVAL > before // SNAPSHOT_INTERVAL:
            snapshots = store.ledger.snapshots
            if snapshots is not None:
                with contextlib.suppress(PersistenceError, IntegrityError):  # saves time only
                    snapshots.put([RelayCosigner.Snapshot.take(record)])
        return
    raise StaleCosignatureError(f"{line.name!r} kept cosigning elsewhere; try again")


def _same_checkpoint(record: RelayCosigner, text: str) -> bool:
    try:
        return parse_note(record.note).text == text
    except NoteError:
        return False


def _holds(record: RelayCosigner, text: str, line: Signature) -> bool:
    try:
        held = parse_note(record.note)
    except NoteError:
        return False
    return held.text == text and line in held.signatures


def listing(store: RelayStore, slug: str) -> list[dict[str, Any]]:
    """Every member's latest cosignature: party, key, size, time, and the whole note."""
    state = store.state(slug)
    found = []
    for handle in state.joined():  # only they cosign: at most MAX_MEMBERS loads
        record = load(store, slug, handle)
        if record is not None and record.size >= 0:
            found.append(
                {
                    "party": handle,
                    "key": record.key,
                    "size": record.size,
                    "time": record.time,
                    "note": record.note,
                }
            )
    return found


def served_note(store: RelayStore, slug: str) -> str:
    """The latest checkpoint with every held cosignature over exactly it."""
    state = store.state(slug)
    log = store.latest(slug)
    note = parse_note(log.note)
    lines: list[Signature] = []
    for handle in state.joined():  # only they cosign: at most MAX_MEMBERS loads
        record = load(store, slug, handle)
        if record is not None and record.size == log.size:
            try:
                held = parse_note(record.note)
            except NoteError:
                continue
            if held.text == note.text:
                lines.extend(s for s in held.signatures if s.name == handle)
    return add_signatures(note, lines).encode().decode("utf-8")
