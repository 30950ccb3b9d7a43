"""The relay's receipts of entries written through it: checked, then kept as evidence.

A write through a relay (``relay/session.py``, ``RemoteSession.push``) posts each new entry
and verifies the relay's receipt (its signed checkpoint and the inclusion proof of exactly
that entry, :func:`check_receipt`) before the entry is appended locally; the receipt is kept
in the remotes file. A join through an invitation checks its receipt's shape the same way
(:func:`receipt_parts`, ``relay/invitee.py``).
"""

from __future__ import annotations

import base64
import json
from typing import TYPE_CHECKING, Any

from ledger.errors import VerificationError
from relay.merkle import ProofError, leaf_hash, verify_inclusion_after
from relay.note import origin_for
from relay.sync import check_kept, local_frontier, verified_note

if TYPE_CHECKING:
    from ledger import entry as entry_mod
    from ledger.application import Ledger
    from relay.remotes import Remote, RemoteStore


def check_receipt(
    ledger: Ledger,
    remote: Remote,
    store: RemoteStore,
    slug: str,
    entry: entry_mod.SignedEntry,
    answer: dict[str, Any],
) -> None:
    """Verify the relay's receipt of ``entry`` and keep it; the ledger is at ``entry.seq - 1``.

    The receipt must name exactly ``entry`` (project, seq, hash); its checkpoint must be
    signed by the pinned relay key under the project's origin, cover ``entry.seq`` and
    extend every checkpoint kept before; and its inclusion proof must put the entry's leaf at
    index ``seq - 1`` of that tree, right after this replica's verified entries (the proof's
    left siblings are this replica's Merkle frontier). Then the checkpoint is kept with the
    others and the receipt (note and proof) in the remotes file, as evidence.

    Raises:
        ForkError: the receipt's checkpoint contradicts a kept one (both kept).
        VerificationError: anything else does not verify (nothing is kept).
    """
    where = f"the relay at {remote.url} sent a receipt for seq {entry.seq} of {slug!r} that"
    hint = (
        "nothing was recorded here: the relay may not hold the entry; "
        f"`accord sync {slug}` shows what it holds (tell your partners if it misbehaves)"
    )
    body, proof_b64, proof = receipt_parts(answer, slug, entry, where=where, hint=hint)
    genesis = entry.hash if entry.seq == 1 else ledger.log_entry(slug, 1).hash
    try:
        note, checkpoint = verified_note(remote, body["checkpoint"], origin=origin_for(genesis))
    except VerificationError as exc:
        raise VerificationError(f"{where} does not verify: {exc.message}", hint=hint) from None
    if checkpoint.size < entry.seq:
        raise VerificationError(
            f"{where} holds a checkpoint of size {checkpoint.size}, which does not cover it",
            hint=hint,
        )
    check_kept(store, remote, slug, note, checkpoint)
    leaf = leaf_hash(bytes.fromhex(entry.hash))
    for kept in (store, None):  # a kept frontier that disagrees is computed again first
        frontier = local_frontier(ledger, slug, entry.seq - 1, kept)
        try:
            verify_inclusion_after(frontier, leaf, checkpoint.size, proof, checkpoint.root_hash)
            break
        except ProofError:
            store.forget_frontiers(slug)
    else:
        raise VerificationError(
            f"{where} does not prove it: its inclusion proof does not put this entry right "
            f"after this replica's {entry.seq - 1} entries in the signed tree of size "
            f"{checkpoint.size}",
            hint=hint,
        )
    text = note.encode().decode("utf-8")
    root = checkpoint.root_hash.hex()
    store.keep(remote.name, slug, size=checkpoint.size, root=root, note=text)
    store.keep_receipt(
        remote.name,
        slug,
        seq=entry.seq,
        digest=entry.hash,
        size=checkpoint.size,
        note=text,
        proof=json.dumps(proof_b64),
    )


def receipt_parts(
    answer: dict[str, Any],
    slug: str,
    entry: entry_mod.SignedEntry,
    *,
    where: str,
    hint: str | None,
) -> tuple[dict[str, Any], list[str], list[bytes]]:
    """The receipt of ``entry`` in a relay's answer: its body, its proof as sent and decoded.

    The one check of a receipt's shape, for a write and for a join alike: it must name
    exactly ``entry`` (project, seq, hash), hold a checkpoint note and one inclusion proof of
    at most 64 canonical base64 hashes for that seq. The signature and the proof itself are
    the caller's to verify.

    Raises:
        VerificationError: it is not such a receipt.
    """
    body = answer.get("receipt")
    if not isinstance(body, dict):
        raise VerificationError(f"{where} is not a receipt", hint=hint)
    inclusion = body.get("inclusion")
    item = inclusion[0] if isinstance(inclusion, list) and len(inclusion) == 1 else None
    proof_b64 = None
    if isinstance(item, dict) and type(item.get("seq")) is int and item["seq"] == entry.seq:
        proof_b64 = item.get("proof")
    if (
        body.get("project") != slug
        or body.get("seq") != [entry.seq, entry.seq]
        or body.get("hashes") != [entry.hash]
        or not isinstance(body.get("checkpoint"), str)
        or not isinstance(proof_b64, list)
        or len(proof_b64) > 64
        or not all(isinstance(h, str) for h in proof_b64)
    ):
        raise VerificationError(f"{where} does not name exactly the entry sent", hint=hint)
    try:
        proof = [_b64_hash(h) for h in proof_b64]
    except ValueError:
        raise VerificationError(f"{where} holds a malformed proof", hint=hint) from None
    return body, proof_b64, proof


def _b64_hash(text: str) -> bytes:
    raw = base64.b64decode(text, validate=True)
    if len(raw) != 32 or base64.b64encode(raw).decode("ascii") != text:
        raise ValueError("not the canonical base64 of a 32-byte hash")
    return raw
