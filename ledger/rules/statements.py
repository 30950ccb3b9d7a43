"""Statement rules: statements proposed, signed and revised; the close signed.

Shared-responsibility statements, and the close of the project signed at its final head.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from ledger import format as fmt
from ledger import normalise
from ledger.errors import AlreadyDecidedError, ConflictError
from ledger.rules import guards
from ledger.rules.checks import find, require_active, rule
from ledger.rules.state import CLOSED, ProjectState, Statement
from ledger.rules.types import Build, EntryType, declare, entry_noun

if TYPE_CHECKING:
    from ledger.entry import SignedEntry
    from ledger.keys import Signer


def text_hash(text: str) -> str:
    """Return the SHA-256 (hex) of a statement text, as statement.signed records it."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _statement(state: ProjectState, seq: int) -> Statement:
    kind = find(state, seq)
    statement = state.statements.get(seq)
    if statement is None:
        raise rule(
            f"seq {seq} is {entry_noun(kind)}, not a statement",
            hint=f"`accord statement list {state.slug}` lists statements by seq",
        )
    return statement


def _statement_proposed(state: ProjectState, item: SignedEntry) -> Callable[[], None]:
    require_active(state, item)

    def commit() -> None:
        state.statements[item.seq] = Statement(
            seq=item.seq,
            by=item.by,
            title=item.body["title"],
            texts=[item.body["text"]],
            revisions=[item.seq],
        )

    return commit


def _statement_signed(state: ProjectState, item: SignedEntry) -> Callable[[], None]:
    require_active(state, item)
    statement = _statement(state, item.body["statement"])
    if item.body["version"] != statement.version:
        raise rule(
            f"statement {statement.seq} is at version {statement.version}, "
            f"not version {item.body['version']}",
            hint="read the current text with `accord statement show` and sign again",
        )
    if item.body["text_hash"] != text_hash(statement.text):
        raise rule(f"the signed text hash does not match statement {statement.seq}")
    if item.by in statement.signatures:
        raise AlreadyDecidedError(
            f"{item.by!r} already signed version {statement.version} of statement {statement.seq}",
            decided_seq=statement.signatures[item.by],
        )

    def commit() -> None:
        statement.signatures[item.by] = item.seq

    return commit


def _statement_revised(state: ProjectState, item: SignedEntry) -> Callable[[], None]:
    require_active(state, item)
    statement = _statement(state, item.body["statement"])
    if item.body["text"] == statement.text:
        raise rule(f"the revision does not change the text of statement {statement.seq}")

    def commit() -> None:
        statement.texts.append(item.body["text"])
        statement.revisions.append(item.seq)
        statement.signatures = {}

    return commit


def _close_signed(state: ProjectState, item: SignedEntry) -> Callable[[], None]:
    require_active(state, item)
    body = item.body
    if body["head"] != state.final_head or body["head_seq"] != state.final_head_seq:
        raise rule(
            f"the close signature names head seq {body['head_seq']}, but the final head is "
            f"seq {state.final_head_seq}",
            hint="an entry was added since; sign the close again",
        )
    if item.by in state.close_signatures:
        raise AlreadyDecidedError(
            f"{item.by!r} already signed the close of head seq {state.final_head_seq}",
            decided_seq=state.close_signatures[item.by],
        )
    if state.open_disputes:
        first = min(state.open_disputes)
        raise rule(
            f"dispute {first} is open; a project with an open dispute cannot close",
            hint=f"its parties settle it first: `accord resolve {state.slug} {first} "
            "--outcome upheld|dismissed --reason R --as HANDLE`",
        )
    needed = state.closes_needed()

    def commit() -> None:
        state.close_signatures[item.by] = item.seq
        if len(state.close_signatures) >= needed:
            state.status, state.closed_seq = CLOSED, item.seq

    return commit


# --- body builders: what the commands sign (user input is refused as a usage error) ---------


def statement_body(*, title: str, text: str) -> Build:
    """The body of ``statement.proposed``.

    Raises:
        UsageError: an empty title or text.
    """
    body = {
        "title": normalise.required_text(title, "title"),
        "text": normalise.required_text(text, "text"),
    }
    return lambda _state: body


def signature_body(statement: int, *, expected_text: str | None = None) -> Build:
    """The body of ``statement.signed``: the current version and the hash of its text.

    With ``expected_text``, sign only if the current text is exactly that, checked on the
    state the signature is built on.

    Raises:
        UsageError: a malformed seq.
        ConflictError: the current text is not ``expected_text`` (revised meanwhile).
    """
    normalise.check_seq(statement, "statement")

    def build(state: ProjectState) -> dict[str, Any]:
        item = state.statements.get(statement)
        text = item.text if item else ""
        version = item.version if item else 1
        if item is not None and expected_text is not None and text != expected_text:
            raise ConflictError(
                f"statement {statement} was revised meanwhile (now version {version}); "
                "it was not signed",
                hint=f"read it with `accord statement show {state.slug} {statement}` and sign "
                "it if you agree",
            )
        return {"statement": statement, "version": version, "text_hash": text_hash(text)}

    return build


def revision_body(statement: int, *, text: str, reason: str) -> Build:
    """The body of ``statement.revised``.

    Raises:
        UsageError: a malformed seq, or an empty text or reason.
    """
    body = {
        "statement": normalise.check_seq(statement, "statement"),
        "text": normalise.required_text(text, "text"),
        "reason": normalise.required_text(reason, "reason"),
    }
    return lambda _state: body


def close_body(*, signer: Signer, accept_open: Iterable[int] = ()) -> Build:
    """The body of ``close.signed``: the final head, behind the open-pledges guard (ADR 0012).

    Raises:
        UsageError: a seq in ``accept_open`` is not a pledge.
        OpenPledgesError: pledges are open and not accepted (a RuleViolationError).
    """
    accepted = frozenset(accept_open)

    def build(state: ProjectState) -> dict[str, Any]:
        guards.check_close(state, signer.handle, signer.fingerprint, accepted)
        return {"head": state.final_head, "head_seq": state.final_head_seq}

    return build


def _signed_subject(state: ProjectState, item: SignedEntry) -> dict[str, Any]:
    statement = state.statements[item.body["statement"]]
    members = state.joined()
    signed = sum(1 for handle in members if handle in statement.signatures)
    return {
        "statement": statement.seq,
        "statement_title": statement.title,
        "version": item.body["version"],
        "signatures": signed,
        "signatures_needed": len(members),
        "status": "in force" if signed == len(members) else "pending",
    }


declare(
    EntryType(
        "statement.proposed",
        14,
        "a statement",
        {"title": fmt.is_text(), "text": fmt.is_text()},
        _statement_proposed,
        lambda data, state: f'proposed statement "{data["body"]["title"]}"',
        build=statement_body,
    ),
    EntryType(
        "statement.signed",
        15,
        "a statement signature",
        {"statement": fmt.is_seq, "version": fmt.is_seq, "text_hash": fmt.is_hash},
        _statement_signed,
        lambda data, state: (
            f"signed statement {data['body']['statement']} version {data['body']['version']}"
        ),
        subject=_signed_subject,
        build=signature_body,
    ),
    EntryType(
        "statement.revised",
        16,
        "a statement revision",
        {"statement": fmt.is_seq, "text": fmt.is_text(), "reason": fmt.is_text()},
        _statement_revised,
        lambda data, state: (
            f"revised statement {data['body']['statement']}: {data['body']['reason']}"
        ),
        build=revision_body,
    ),
    EntryType(
        "close.signed",
        17,
        "a close signature",
        {"head": fmt.is_hash, "head_seq": fmt.is_seq},
        _close_signed,
        lambda data, state: f"signed the close at head seq {data['body']['head_seq']}",
        subject=lambda state, item: {
            "project_title": state.title,
            "head_seq": item.body["head_seq"],
        },
        build=close_body,
    ),
)
