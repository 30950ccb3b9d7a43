"""The close report's content: a pure function of a project's log.

``report_data`` gathers everything the report shows into one JSON-ready dict (schema
``accord/close-report/v1``, documented in docs/report.md). It reads only signed entry data,
never the store's receive times or the wall clock, so the same log always gives the same
report: "today" is the claimed date of the head entry.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

from ledger import rules
from ledger.numbers import decimal_text
from projections.contributions import DEFAULT_THRESHOLD, contributions, ratio_text
from projections.obligations import FINISHED, obligation
from projections.statements import statement_detail
from projections.values import value_rows
from projections.views import removed_signer_rows, signer_rows

if TYPE_CHECKING:
    from fractions import Fraction

    from projections.replay import Replay

SCHEMA = "accord/close-report/v1"


def report_today(replay: Replay) -> date:
    """The report's "today": the claimed date of the head entry."""
    return replay.at(replay.position).date()


def report_data(
    replay: Replay, *, threshold: Fraction = DEFAULT_THRESHOLD, stream_timeline: bool = False
) -> dict[str, Any]:
    """Everything the close report holds, as JSON-ready data.

    With ``stream_timeline`` the timeline is a :class:`~projections.replay.Timeline` read
    from the ledger a page at a time (for writing a long report while the ledger is open);
    otherwise it is a list.
    """
    state = replay.state
    today = report_today(replay)
    head = replay.entry(replay.position)
    return {
        "schema": SCHEMA,
        "kind": "close" if state.status == rules.CLOSED else "interim",
        "project": {
            "slug": state.slug,
            "title": state.title,
            "purpose": state.purpose,
            "status": state.status,
            "proposer": state.proposer,
            "approval": state.approval,
            "close": state.close_policy,
            "terms_hash": state.terms,
        },
        "as_of": {"seq": state.seq, "at": str(head.data["at"]), "day": today.isoformat()},
        "parties": _parties(replay),
        "pledges": _pledges(replay, today),
        "open_obligations": [
            obligation(replay, p, today).as_row()
            for p in state.pledges.values()
            if obligation(replay, p, today).status not in FINISHED
        ],
        "contributions": {
            "threshold": ratio_text(threshold, 4),
            "rows": [c.as_row() for c in contributions(replay, today, threshold=threshold)],
            "reference": rules.reference_unit(state) if rules.agreed_values(state) else None,
        },
        "values": _values(replay),
        "statements": [statement_detail(state, seq) for seq in state.statements],
        "timeline": _timeline(replay) if stream_timeline else list(_timeline(replay)),
        "close": _close(replay),
    }


def _parties(replay: Replay) -> list[dict[str, Any]]:
    state = replay.state
    return [
        {
            "handle": m.handle,
            "status": m.status,
            "signers": signer_rows(m),
            "removed_signers": removed_signer_rows(state, m),
            "keys": list(m.keys),
            "revoked": sorted(k for k in m.keys if k in state.revoked),
            "pinned": m.pinned,
            "invite": m.invite,
            "joined_seq": m.joined_seq,
        }
        for m in sorted(state.members.values(), key=lambda m: m.handle)
    ]


def _decision(
    times: dict[int, str], labels: dict[int, str], item: rules.Decision
) -> dict[str, Any]:
    refusal = item.refusal
    return {
        "seq": item.seq,
        "at": times[item.seq],
        "signer": labels.get(item.seq, ""),
        "status": item.status,
        "approved_by": [
            {"party": p, "seq": s, "signer": labels.get(s, "")}
            for p, s in sorted(item.approvals.items())
        ],
        "refused_by": {
            "party": refusal[0],
            "seq": refusal[1],
            "signer": labels.get(refusal[1], ""),
            "reason": refusal[2],
        }
        if refusal
        else None,
        "decided_seq": item.decided_seq,
    }


def _pledges(replay: Replay, today: date) -> list[dict[str, Any]]:
    state = replay.state
    times = replay.claimed_times()
    labels = replay.signer_labels() if state.pledges else {}
    result = []
    for pledge in state.pledges.values():
        row = obligation(replay, pledge, today).as_row()
        row["hash"] = pledge.hash
        row["signer"] = labels.get(pledge.seq, "")
        row["deliverables"] = []
        for seq in pledge.deliverables:
            item = state.decisions[seq]
            if not isinstance(item, rules.Deliverable):
                continue
            row["deliverables"].append(
                {
                    **_decision(times, labels, item),
                    "summary": item.summary,
                    "quantity": decimal_text(item.quantity),
                    "evidence": [
                        {"name": n, "sha256": h, "size": size} for n, h, size in item.evidence
                    ],
                    "disputes": [_dispute(state, labels, d) for d in item.disputes],
                }
            )
        row["amendments"] = []
        for seq in pledge.amendments:
            amendment = state.decisions[seq]
            if not isinstance(amendment, rules.Amendment):
                continue
            row["amendments"].append(
                {
                    **_decision(times, labels, amendment),
                    "changes": dict(sorted(amendment.changes.items())),
                    "reason": amendment.reason,
                }
            )
        row["withdrawn_seq"] = pledge.withdrawn_seq
        row["disputed"] = decimal_text(pledge.disputed)
        row["short_closes"] = []
        for seq in pledge.short_closes:
            proposal = state.decisions[seq]
            if isinstance(proposal, rules.ShortClose):
                row["short_closes"].append(
                    {**_decision(times, labels, proposal), "reason": proposal.reason}
                )
        row["closed_short_seq"] = pledge.closed_short_seq
        result.append(row)
    return result


def _values(replay: Replay) -> list[dict[str, Any]]:
    times = replay.claimed_times() if replay.state.values else {}
    return [{**row, "at": times[row["seq"]]} for row in value_rows(replay.state)]


def _dispute(state: rules.ProjectState, labels: dict[int, str], seq: int) -> dict[str, Any]:
    dispute = state.disputes[seq]
    return {
        "seq": dispute.seq,
        "by": dispute.by,
        "signer": labels.get(dispute.seq, ""),
        "target": dispute.target,
        "about": dispute.about,
        "reason": dispute.reason,
        "parties": list(dispute.parties),
        "signed": [
            {"party": party, "outcome": outcome, "seq": at, "signer": labels.get(at, "")}
            for party, (outcome, at) in sorted(dispute.votes.items())
        ],
        "status": dispute.status,
        "resolved_seq": dispute.resolved_seq,
    }


def _timeline(replay: Replay) -> Sequence[dict[str, Any]]:
    return replay.timeline()


def _close(replay: Replay) -> dict[str, Any]:
    state = replay.state
    signatures = []
    for party, seq in sorted(state.close_signatures.items()):
        entry = replay.entry(seq)
        signatures.append(
            {
                "party": party,
                "signer": state.labels.get(entry.key, ""),
                "seq": seq,
                "key": entry.key,
                "hash": entry.hash,
                "signature": entry.sig,
            }
        )
    return {
        "closed": state.status == rules.CLOSED,
        "closed_seq": state.closed_seq,
        "final_head": state.final_head,
        "final_head_seq": state.final_head_seq,
        "head": state.head,
        "entries": state.seq,
        "policy": state.close_policy,
        "signatures": signatures,
    }
