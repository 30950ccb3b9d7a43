"""How a command that records an entry reports what it recorded."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click

from commands.output import echo, render, safe_json
from ledger.numbers import amount_text
from projections.views import signed_by

if TYPE_CHECKING:
    from ledger.application import Receipt

MAX_SHOWN_TITLE = 60


def render_receipt(receipt: Receipt, *, output_format: str) -> None:
    """Print the seq, type and hash of a recorded entry (and a project status change).

    A decision or signature also names what it was about (``subject``): the pledge's title,
    the party, the quantity, the statement's title, and where the decision stands.
    """
    data = receipt.as_dict()
    if output_format == "json":
        click.echo(safe_json(data))
        return
    if output_format == "csv":
        render([data], output_format="csv")
        return
    echo(f"recorded {receipt.project} seq {receipt.seq} {receipt.type}")
    echo(f"hash {receipt.hash}")
    if receipt.signer and receipt.signer != receipt.by:  # as the trail shows it
        echo(f"signed by {signed_by(receipt.by, receipt.signer)}")
    if receipt.subject is not None:
        line = subject_line(receipt.type, receipt.subject)
        if line:
            echo(line)
    if receipt.type == "close.signed" or receipt.status != "active":
        echo(f"project {receipt.project} is {receipt.status}")
    if receipt.closes is not None and receipt.status == "active":
        signed, needed = receipt.closes
        echo(f"close signatures on the final head: {signed} of {needed} needed")


def render_signed(receipt: Receipt, signature: Receipt | None, *, output_format: str) -> None:
    """Print an entry's receipt and that of the signature its author added right after.

    Tables print both receipts, one after the other; JSON prints one object, the first
    receipt with the second nested under ``signature``; CSV one row, likewise.
    """
    if signature is None or output_format == "table":
        render_receipt(receipt, output_format=output_format)
        if signature is not None:
            render_receipt(signature, output_format=output_format)
        return
    data = {**receipt.as_dict(), "signature": signature.as_dict()}
    if output_format == "json":
        click.echo(safe_json(data))
    else:
        render([data], output_format="csv")


def _title(text: Any) -> str:
    """A title as one safe, short, quoted line (no control characters, at most 60 shown)."""
    plain = "".join(
        "?" if unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp", "Cs") else c for c in str(text)
    )
    if len(plain) > MAX_SHOWN_TITLE:
        plain = plain[: MAX_SHOWN_TITLE - 3] + "..."
    return f'"{plain}"'


def _value(subject: dict[str, Any]) -> str:
    about = (
        f"value seq {subject['target']} by {subject['party']}: "
        f"{amount_text('1', subject['unit'])} = {subject['worth']} {subject['in']}"
    )
    if subject["status"] == "pending":
        return f"{about} ({subject['approvals']} of {subject['approvals_needed']} approvals)"
    if subject["status"] == "accepted":
        return f"{about} (agreed)"
    return f"{about} ({subject['status']})"


def _decided(subject: dict[str, Any]) -> str:
    if subject["target_type"] == "value":
        return _value(subject)
    what = f"{subject['target_type']} seq {subject['target']} by {subject['party']}"
    pledge = f"pledge {subject['pledge']} {_title(subject['pledge_title'])}"
    if "quantity" in subject:
        about = f"{what}: {amount_text(subject['quantity'], subject['unit'])} on {pledge}"
    elif subject["target_type"] == "close-short":
        about = (
            f"{what} of {pledge} at {subject['approved']} of {subject['weight']} "
            f"{subject['unit']} approved"
        )
    else:
        changes = ", ".join(
            f"{name} {_title(value) if name == 'title' else value}"
            for name, value in subject.get("changes", {}).items()
        )
        about = f"{what} to {pledge}: {changes}"
    if subject["status"] == "pending":
        return f"{about} ({subject['approvals']} of {subject['approvals_needed']} approvals)"
    return f"{about} ({subject['status']})"


def subject_line(kind: str, subject: dict[str, Any]) -> str | None:
    """One line saying what a decision or signature was about, or None."""
    line = SUBJECT_LINES.get(kind)
    return line(kind, subject) if line is not None else None


def _delivered(kind: str, subject: dict[str, Any]) -> str:
    to = ", ".join(subject["to"])
    return (
        f"delivered {amount_text(subject['quantity'], subject['unit'])} "
        f"on pledge {subject['pledge']} "
        f"{_title(subject['pledge_title'])} to {to}"
    )


def _statement_signed(kind: str, subject: dict[str, Any]) -> str:
    standing = (
        "in force: every member signed"
        if subject["status"] == "in force"
        else f"{subject['signatures']} of {subject['signatures_needed']} signatures"
    )
    return (
        f"signed version {subject['version']} of statement {subject['statement']} "
        f"{_title(subject['statement_title'])} ({standing})"
    )


def _close_signed(kind: str, subject: dict[str, Any]) -> str:
    title = _title(subject["project_title"])
    return f"signed the close of {title} at head seq {subject['head_seq']}"


def _signer(kind: str, subject: dict[str, Any]) -> str:
    done = "added signer" if kind == "signer.added" else "removed signer"
    signers = ", ".join(subject["signers"])
    return (
        f"{done} {subject['label']} ({subject['key']}) of {subject['party']}; "
        f"its signers now: {signers}"
    )


def _closed_short(kind: str, subject: dict[str, Any]) -> str:
    return (
        f"asked to close pledge {subject['pledge']} {_title(subject['pledge_title'])} short "
        f"at {subject['approved']} of {subject['weight']} {subject['unit']} approved; "
        f"{', '.join(subject['to'])} decide"
    )


def _cancelled(kind: str, subject: dict[str, Any]) -> str:
    waiting = ", ".join(subject["waiting"]) or "nobody"
    return (
        f"cancelled the proposal {_title(subject['project_title'])}; "
        f"it no longer waits for {waiting}"
    )


def _dispute_line(kind: str, subject: dict[str, Any]) -> str:
    what = (
        f"the {subject['about']} of {subject['party']}'s deliverable {subject['deliverable']}: "
        f"{amount_text(subject['quantity'], subject['unit'])} on pledge {subject['pledge']} "
        f"{_title(subject['pledge_title'])}"
    )
    if kind == "dispute.opened":
        return f"disputed {what} (settled when {', '.join(subject['parties'])} sign one outcome)"
    if subject["status"] != "open":
        return (
            f"dispute {subject['dispute']} is {subject['status']}: deliverable "
            f"{subject['deliverable']} is {subject['deliverable_status']}"
        )
    signed = ", ".join(f"{p} {o}" for p, o in subject["signed"].items())
    waiting = [p for p in subject["parties"] if p not in subject["signed"]]
    return f"dispute {subject['dispute']} on {what} stays open: signed {signed}" + (
        f"; waiting for {', '.join(waiting)}" if waiting else "; the parties disagree"
    )


# The receipt line of each entry type of format v1 (``None``: its receipt names no subject,
# exactly the types whose declaration in ``ledger/rules/`` has no ``subject``).
SUBJECT_LINES: dict[str, Callable[[str, dict[str, Any]], str] | None] = {
    "project.proposed": None,
    "member.joined": None,
    "member.declined": None,
    "key.rotated": None,
    "key.revoked": None,
    "signer.added": _signer,
    "signer.removed": _signer,
    "pledge.made": None,
    "pledge.amended": None,
    "pledge.withdrawn": None,
    "deliverable.submitted": _delivered,
    "approval.given": lambda kind, subject: f"approved {_decided(subject)}",
    "approval.refused": lambda kind, subject: f"rejected {_decided(subject)}",
    "statement.proposed": None,
    "statement.signed": _statement_signed,
    "statement.revised": None,
    "close.signed": _close_signed,
    "value.proposed": lambda kind, subject: f"proposed {_value(subject)}",
    "pledge.closed-short": _closed_short,
    "dispute.opened": _dispute_line,
    "resolution.signed": _dispute_line,
    "project.cancelled": _cancelled,
}
