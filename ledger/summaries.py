"""One-line summaries of entries, for the trail, the report and the verified log index.

A summary is a deterministic function of the entry and the project state after it (the only
state it reads, a pledge's unit, never changes), so it is computed once, when the entry is
verified, and kept in the verified log index (``ledger/verified.py``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ledger import ed25519
from ledger.numbers import amount_text
from ledger.verified import LogEntry

if TYPE_CHECKING:
    from ledger.entry import SignedEntry
    from ledger.rules import ProjectState


def log_entry(item: SignedEntry, state: ProjectState | None) -> LogEntry:
    """The verified log index entry of ``item`` (``state``: the project just after it)."""
    return LogEntry(
        seq=item.seq,
        type=item.type,
        at=str(item.data["at"]),
        hash=item.hash,
        by=item.by,
        summary=summary(item.data, state),
        signer=state.labels.get(item.key, "") if state is not None else "",
    )


def signed_by(party: str, signer: str) -> str:
    """The party and the person who signed for it: ``acme (alice)``.

    A party's first signer is labelled with the party's handle; its entries show the handle
    alone (``acme``), as they did before parties had several signers.
    """
    return party if not signer or signer == party else f"{party} ({signer})"


def _names(handles: list[str]) -> str:
    return ", ".join(handles) if handles else "nobody"


def _disputed(body: dict[str, Any], state: ProjectState | None) -> str:
    """What a dispute is about: "the acceptance of deliverable 7", "rejection seq 13 of ..."."""
    target, deliverable = body["target"], body["deliverable"]
    if target == deliverable:
        return f"the acceptance of deliverable {deliverable}"
    kind = state.types.get(target) if state else None
    noun = {"approval.given": "approval", "approval.refused": "rejection"}.get(kind or "", "seq")
    return f"{noun} seq {target} of deliverable {deliverable}"


def summary(data: dict[str, Any], state: ProjectState | None = None) -> str:
    """A one-line human summary of an entry (``state``: the project just before it)."""
    body: dict[str, Any] = data.get("body", {})
    kind = data.get("type")
    if kind == "project.proposed":
        others = [m["handle"] for m in body["members"] if m["handle"] != data["by"]]
        return (
            f'proposed "{body["title"]}" to {_names(others)} '
            f"(approval {body['approval']}, close {body['close']})"
        )
    if kind == "member.joined":
        return "joined, accepting the terms"
    if kind == "member.declined":
        return f"declined: {body['reason']}"
    if kind == "key.rotated":
        new = ed25519.fingerprint(ed25519.parse_public_key_line(body["public_key"]))
        return f"rotated to key {new}"
    if kind == "key.revoked":
        text = f"revoked key {body['fingerprint']}: {body['reason']}"
        if body["replacement"]:
            new = ed25519.fingerprint(ed25519.parse_public_key_line(body["replacement"]))
            text += f"; now signs with {new}"
        return text
    if kind == "signer.added":
        new = ed25519.fingerprint(ed25519.parse_public_key_line(body["public_key"]))
        return f"added signer {body['label']} (key {new})"
    if kind == "signer.removed":
        return f"removed signer {body['label']}: {body['reason']}"
    if kind == "pledge.made":
        return (
            f'pledged "{body["title"]}": {amount_text(body["weight"], body["unit"])} '
            f"to {_names(body['beneficiaries'])}, due {body['due']}"
        )
    if kind == "pledge.amended":
        changes = ", ".join(f"{k} {v}" for k, v in sorted(body["changes"].items()))
        return f"asked to amend pledge {body['pledge']} ({changes}): {body['reason']}"
    if kind == "pledge.withdrawn":
        return f"withdrew pledge {body['pledge']}: {body['reason']}"
    if kind == "deliverable.submitted":
        pledge = state.pledges.get(body["pledge"]) if state else None
        amount = amount_text(body["quantity"], pledge.unit) if pledge else body["quantity"]
        files = len(body["evidence"])
        evidence = f", {files} evidence file{'s' if files != 1 else ''}" if files else ""
        return f'delivered {amount} on pledge {body["pledge"]}: "{body["summary"]}"{evidence}'
    if kind == "approval.given":
        comment = f": {body['comment']}" if body["comment"] else ""
        return f"approved seq {body['target']}{comment}"
    if kind == "approval.refused":
        return f"rejected seq {body['target']}: {body['reason']}"
    if kind == "statement.proposed":
        return f'proposed statement "{body["title"]}"'
    if kind == "statement.signed":
        return f"signed statement {body['statement']} version {body['version']}"
    if kind == "statement.revised":
        return f"revised statement {body['statement']}: {body['reason']}"
    if kind == "close.signed":
        return f"signed the close at head seq {body['head_seq']}"
    if kind == "value.proposed":
        worth = f"{amount_text('1', body['unit'])} = {body['worth']} {body['in']}"
        return f"proposed {worth}: {body['reason']}"
    if kind == "pledge.closed-short":
        return f"asked to close pledge {body['pledge']} short: {body['reason']}"
    if kind == "dispute.opened":
        return f"disputed {_disputed(body, state)}: {body['reason']}"
    if kind == "resolution.signed":
        dispute = state.disputes.get(body["dispute"]) if state else None
        settled = dispute is not None and dispute.resolved_seq == data.get("seq")
        outcome = f" (dispute {body['dispute']} is {body['outcome']})" if settled else ""
        return f"signed {body['outcome']} on dispute {body['dispute']}: {body['reason']}{outcome}"
    if kind == "project.cancelled":
        return f"cancelled the proposal: {body['reason']}"
    return "(unknown entry type)"
