"""Guards: checks a command's body builder makes before it signs, beyond the rules.

The rules state machine (``ledger/rules/``) decides what a log may hold, for every party
and for logs already written. A guard is narrower: it asks the signer of *this* command to
confirm something it might not have seen, and changes nothing about what the log means. A
log written without a guard (an older accord, another client) verifies exactly as before.
ADR 0012 (docs/adr/0012-fair-judgements.md) explains why the open-pledges check of the
close is a guard and not a rule.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ledger.errors import RuleViolationError, UsageError
from ledger.numbers import amount_text, decimal_text
from ledger.rules import state as rules

if TYPE_CHECKING:
    from collections.abc import Collection

    from ledger.rules.state import Pledge, ProjectState

LISTED = 10  # open pledges named in the refusal; the rest are counted
SEQS_IN_HINT = 20  # pledge seqs written out in the hint's --accept-open
TITLE_SHOWN = 40


class OpenPledgesError(RuleViolationError):
    """The close was refused: pledges are still open and the signer did not accept them."""

    def __init__(self, message: str, *, hint: str, pledges: list[int]) -> None:
        super().__init__(message, hint=hint)
        self.pledges = pledges


def open_pledges(state: ProjectState) -> list[Pledge]:
    """The pledges still owed: not withdrawn, not closed short and not fulfilled, by seq."""
    return [
        p
        for p in state.pledges.values()
        if p.status not in ("withdrawn", rules.CLOSED_SHORT) and p.approved < p.weight
    ]


def _title(text: str) -> str:
    return text if len(text) <= TITLE_SHOWN else text[: TITLE_SHOWN - 3] + "..."


def _standing(pledge: Pledge) -> str:
    """``25 of 40 hours approved, 15 awaiting a decision``."""
    weight = amount_text(decimal_text(pledge.weight), pledge.unit)
    parts = [f"{decimal_text(pledge.approved)} of {weight} approved"]
    if pledge.pending > 0:
        parts.append(f"{decimal_text(pledge.pending)} awaiting a decision")
    if pledge.disputed > 0:
        parts.append(f"{decimal_text(pledge.disputed)} disputed")
    if pledge.pending_close is not None:
        parts.append(f"close-short proposed at seq {pledge.pending_close}")
    return ", ".join(parts)


def check_close(state: ProjectState, handle: str, key: str, accepted: Collection[int]) -> None:
    """Refuse to sign the close while pledges are open, unless each one is ``accepted``.

    Checked on the state the close signature is built on (after any pull from a relay), so
    a pledge made meanwhile is never closed over unseen. Only a signature the rules would
    take is guarded: a refusal by the rules (not a member, not a current key of the party,
    already signed, an open dispute, a closed project) keeps its own message.

    Raises:
        UsageError: an accepted seq is not a pledge of the project.
        OpenPledgesError: open pledges that were not accepted (exit 4), listed with the
            commands that end them.
    """
    for seq in sorted(set(accepted)):
        if seq not in state.pledges:
            raise UsageError(
                f"seq {seq} is not a pledge of {state.slug!r}; only pledges can be accepted "
                "as open",
                hint=f"`accord obligations {state.slug}` lists the pledges",
            )
    member = state.members.get(handle)
    if (
        state.status != rules.ACTIVE
        or member is None
        or member.status != rules.JOINED
        or member.signer_for(key) is None
        or handle in state.close_signatures
        or state.open_disputes
    ):
        return
    missing = [p for p in open_pledges(state) if p.seq not in set(accepted)]
    if not missing:
        return
    slug, count = state.slug, len(missing)
    listed = "; ".join(
        f'{p.seq} "{_title(p.title)}" by {p.by} ({_standing(p)})' for p in missing[:LISTED]
    )
    more = f"; and {count - LISTED} more" if count > LISTED else ""
    seqs = ",".join(str(p.seq) for p in missing[:SEQS_IN_HINT])
    if count > SEQS_IN_HINT:
        seqs += f",... (all {count}: `accord obligations {slug}`)"
    if count == 1:
        only = missing[0]
        ends = (
            f"`accord pledge close-short {slug} {only.seq} --reason R --as {only.by}` (its "
            f"beneficiaries then approve) or `accord pledge withdraw {slug} {only.seq} "
            f"--reason R --as {only.by}`"
        )
    else:
        ends = (
            f"`accord pledge close-short {slug} PLEDGE --reason R --as PROMISOR` (the "
            f"beneficiaries then approve) or `accord pledge withdraw {slug} PLEDGE --reason R "
            "--as PROMISOR`"
        )
    raise OpenPledgesError(
        f"{count} pledge{'s' if count != 1 else ''} of {slug!r} "
        f"{'are' if count != 1 else 'is'} still open: {listed}{more}",
        hint=f"finish or end {'them' if count != 1 else 'it'} first: {ends}; or close "
        f"leaving {'them' if count != 1 else 'it'} open: `accord close {slug} "
        f"--accept-open {seqs} --as {handle}`",
        pledges=[p.seq for p in missing],
    )
