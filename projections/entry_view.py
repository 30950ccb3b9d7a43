"""One entry in full: who signed it, what it says in words, where it stands, who decided.

(Longer than ~500 lines on purpose: it is the projections' registry of entry types, one view
per type of format v1 in :data:`VIEWS`, all built from the shared facts and standings here.)

``entry_view(replay, seq, today)`` reads the verified entry ``seq`` and the verified state of
its project (as of the replay's point in time) and returns an :class:`EntryView`:

* the envelope: party, signer label, key fingerprint, claimed time, type and hash;
* ``facts``: the body in words, per entry type (:data:`VIEWS`, one function per type of
  format v1): an amendment's old and new values, a deliverable's pledge, quantity, summary
  and evidence files, a dispute's target and reason, a statement's text, and so on. Each fact
  has a JSON value (raw, exactly as signed or computed) and the words a person reads;
* ``status``: where the entry (or what it created or decided) stands now: a deliverable
  ``pending``/``accepted``/``rejected``/``void``, a statement ``in force``/``pending``/``void``,
  a dispute ``open``/``upheld``/``dismissed``...;
* ``waiting``: who it waits for, and to do what;
* ``decisions``: who has decided (approved, rejected, signed, joined...), with the seq of
  the deciding entry, who signed it and when.

The helpers :func:`amendment_changes`, :func:`changes_words` and :func:`evidence_words` serve
``accord todo`` too, so a row there carries the same essentials in one line.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from itertools import islice
from typing import TYPE_CHECKING, Any

from ledger import ed25519, rules
from ledger.errors import NotFoundError
from ledger.numbers import amount_text, decimal_text
from ledger.rules import entry_noun
from ledger.summaries import signed_by, summary
from projections.obligations import obligation
from projections.values import value_status

if TYPE_CHECKING:
    from ledger.entry import SignedEntry
    from projections.replay import Replay

AMENDABLE = ("title", "weight", "due")  # what format v1 lets an amendment change, in order


@dataclass(frozen=True)
class Fact:
    """One thing an entry says: a JSON key, its value, and the lines a person reads.

    A fact without words is for scripts only (the unit beside a quantity already in words).
    """

    name: str
    value: Any
    words: tuple[str, ...]


@dataclass(frozen=True)
class Waiting:
    """A party the entry waits for, and what it is waited on to do."""

    party: str
    to: str

    def as_row(self) -> dict[str, Any]:
        """JSON-ready row."""
        return {"party": self.party, "to": self.to}


@dataclass(frozen=True)
class Decided:
    """A decision taken on the entry (or what it created): who, how, by which entry, when."""

    party: str
    decision: str
    seq: int
    signer: str
    at: str
    note: str = ""

    @property
    def words(self) -> str:
        """``burgerco approved (seq 7, by burgerco (bob) at 2026-11-22T10:07:00Z): note``."""
        who = signed_by(self.party, self.signer)
        text = f"{self.party} {self.decision} (seq {self.seq}, by {who} at {self.at})"
        return f"{text}: {self.note}" if self.note else text

    def as_row(self) -> dict[str, Any]:
        """JSON-ready row."""
        return {
            "party": self.party,
            "decision": self.decision,
            "seq": self.seq,
            "signer": self.signer,
            "signed_by": signed_by(self.party, self.signer),
            "at": self.at,
            "note": self.note,
        }


@dataclass(frozen=True)
class Standing:
    """Where an entry stands: status, in words, who it waits for, who has decided."""

    status: str
    words: str
    waiting: tuple[Waiting, ...] = ()
    decisions: tuple[Decided, ...] = ()


@dataclass(frozen=True)
class EntryView:
    """One verified entry in full (see the module docstring)."""

    project: str
    seq: int
    type: str
    noun: str
    by: str
    signer: str
    key: str
    at: str
    hash: str
    prev: str
    summary: str
    body: dict[str, Any]
    facts: tuple[Fact, ...]
    standing: Standing

    @property
    def signed_by(self) -> str:
        """The party and the person who signed: ``acme (alice)``."""
        return signed_by(self.by, self.signer)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready, with the stable keys docs/cli.md documents."""
        return {
            "project": self.project,
            "seq": self.seq,
            "type": self.type,
            "noun": self.noun,
            "by": self.by,
            "signer": self.signer,
            "signed_by": self.signed_by,
            "key": self.key,
            "at": self.at,
            "hash": self.hash,
            "prev": self.prev,
            "summary": self.summary,
            "body": self.body,
            "details": {fact.name: fact.value for fact in self.facts},
            "status": self.standing.status,
            "status_text": self.standing.words,
            "waiting_for": [w.as_row() for w in self.standing.waiting],
            "decisions": [d.as_row() for d in self.standing.decisions],
        }


@dataclass
class _Context:
    """What a per-type view reads: the replay (verified entries and state) and today."""

    replay: Replay
    today: date
    _entries: dict[int, SignedEntry] = field(default_factory=dict)

    @property
    def state(self) -> rules.ProjectState:
        return self.replay.state

    def entry(self, seq: int) -> SignedEntry:
        if seq not in self._entries:
            self._entries[seq] = self.replay.entry(seq)
        return self._entries[seq]

    def decided(self, party: str, decision: str, seq: int, note: str = "") -> Decided:
        logged = self.replay.log_entry(seq)
        return Decided(party, decision, seq, logged.signer, logged.at, note)


def entry_view(replay: Replay, seq: int, today: date) -> EntryView:
    """Entry ``seq`` of the replayed project, in full (as of the replay's point in time).

    Raises:
        NotFoundError: the project has no entry ``seq`` (then).
    """
    state = replay.state
    if not 1 <= seq <= state.seq:
        raise NotFoundError(
            f"project {state.slug!r} has no entry at seq {seq} (it has {state.seq})",
            hint=f"`accord trail {state.slug}` lists every seq",
        )
    context = _Context(replay, today)
    item = context.entry(seq)
    facts, standing = VIEWS[item.type](context, item)
    return EntryView(
        project=state.slug,
        seq=seq,
        type=item.type,
        noun=entry_noun(item.type),
        by=item.by,
        signer=state.labels.get(item.key, ""),
        key=item.key,
        at=str(item.data["at"]),
        hash=item.hash,
        prev=str(item.data["prev"]),
        summary=summary(item.data, state),
        body=dict(item.body),
        facts=tuple(facts),
        standing=standing,
    )


# --- shared words (also for accord todo) ---------------------------------------------------


def amendment_changes(replay: Replay, amendment: rules.Amendment) -> dict[str, dict[str, str]]:
    """What ``amendment`` changes: ``{field: {"old": ..., "new": ...}}`` in format order.

    ``old`` is the pledge as it stood when the amendment was proposed: the pledge now while
    the amendment is pending (only one is pending at a time), otherwise the pledge as made
    with the amendments accepted before this one.
    """
    pledge = replay.state.pledges[amendment.pledge]
    if amendment.status == rules.PENDING:
        before = {"title": pledge.title, "weight": decimal_text(pledge.weight), "due": pledge.due}
    else:
        made = replay.entry(pledge.seq).body
        before = {"title": made["title"], "weight": made["weight"], "due": made["due"]}
        for seq in sorted(pledge.amendments):
            earlier = replay.state.decisions[seq]
            if (
                seq < amendment.seq
                and isinstance(earlier, rules.Amendment)
                and earlier.status == rules.ACCEPTED
            ):
                before.update(earlier.changes)
    return {
        name: {"old": before[name], "new": amendment.changes[name]}
        for name in AMENDABLE
        if name in amendment.changes
    }


def changes_words(changes: dict[str, dict[str, str]], unit: str) -> str:
    """``weight 30 → 40 hours, due 2026-12-15 → 2026-12-31, title 'A' → 'B'``."""
    parts = []
    for name, change in changes.items():
        old, new = change["old"], change["new"]
        if name == "title":
            parts.append(f"title {old!r} → {new!r}")
        elif name == "weight":
            parts.append(f"weight {old} → {amount(new, unit)}")
        else:
            parts.append(f"{name} {old} → {new}")
    return ", ".join(parts)


def amount(quantity: str, unit: str) -> str:
    """A quantity and its unit as words: ``10 hours``, ``1 hour`` (every such phrase here)."""
    return amount_text(quantity, unit)


def evidence_words(count: int) -> str:
    """``no evidence``, ``1 evidence file``, ``2 evidence files``."""
    if count == 0:
        return "no evidence"
    return f"{count} evidence file{'s' if count != 1 else ''}"


def _and(names: tuple[str, ...] | list[str]) -> str:
    """``acme``, ``acme and veggie``, ``acme, burgerco and veggie``."""
    return " and ".join(names) if len(names) < 3 else f"{', '.join(names[:-1])} and {names[-1]}"


def _pledge_words(pledge: rules.Pledge) -> str:
    to = ", ".join(pledge.beneficiaries)
    return f"{pledge.seq} {pledge.title!r} by {pledge.by} to {to}"


def _text(name: str, value: str) -> Fact:
    """Partner text on one line (a line break in it is shown escaped, like any control)."""
    return Fact(name, value, (value or "(none)",))


def _block(name: str, value: str) -> Fact:
    """A statement's text: its line breaks are kept (each line is shown safe)."""
    return Fact(name, value, tuple(value.split("\n")))


def _version(version: int, current: int) -> str:
    return str(version) if version == current else f"{version} (now version {current})"


def _line(name: str, value: Any, words: str) -> Fact:
    return Fact(name, value, (words,))


def _pledge_fact(state: rules.ProjectState, seq: int) -> Fact:
    return _line("pledge", seq, _pledge_words(state.pledges[seq]))


# --- decisions: deliverables, amendments, close-short proposals, values ---------------------


def _decision_standing(context: _Context, seq: int) -> Standing:
    """Where a deliverable, amendment, close-short or value proposal stands, and who decided."""
    state = context.state
    if seq in state.values:
        return _value_standing(context, state.values[seq])
    decision = state.decisions[seq]
    pledge = state.pledges[decision.pledge]
    decided = [
        context.decided(party, "approved", approval, _comment(context, approval))
        for party, approval in sorted(decision.approvals.items(), key=lambda a: a[1])
    ]
    if decision.refusal is not None:
        party, refused, reason = decision.refusal
        decided.append(context.decided(party, "rejected", refused, reason))
    waiting: tuple[Waiting, ...] = ()
    if decision.status == rules.PENDING:
        needed = state.approvals_needed(pledge)
        words = f"pending: {len(decision.approvals)} of {needed} approvals"
        waiting = tuple(
            Waiting(h, "approve or reject")
            for h in pledge.beneficiaries
            if h not in decision.approvals
        )
    else:
        words = _decided_words(state, decision)
    if isinstance(decision, rules.Deliverable) and decision.dispute is not None:
        words += f"; disputed: dispute seq {decision.dispute} is open"
    return Standing(decision.status, words, waiting, tuple(decided))


def _decided_words(state: rules.ProjectState, decision: rules.Decision) -> str:
    at = decision.decided_seq
    kind = state.types.get(at) if at is not None else None
    if decision.status == rules.ACCEPTED:
        return f"accepted at seq {at}"
    if decision.status == rules.REJECTED and kind == "resolution.signed":
        return f"rejected at seq {at}: a dispute of its acceptance was upheld"
    if decision.status == rules.REJECTED and decision.refusal is not None:
        return f"rejected at seq {at} by {decision.refusal[0]}"
    return f"{decision.status} since seq {at} ({entry_noun(kind or '')})"


def _comment(context: _Context, approval: int) -> str:
    return str(context.entry(approval).body.get("comment", ""))


def _value_standing(context: _Context, proposal: rules.ValueProposal) -> Standing:
    state = context.state
    status = value_status(proposal)
    needed = rules.value_approvers(state, proposal)
    decided = [
        context.decided(party, "approved", approval, _comment(context, approval))
        for party, approval in sorted(proposal.approvals.items(), key=lambda a: a[1])
    ]
    if proposal.refusal is not None:
        party, refused, reason = proposal.refusal
        decided.append(context.decided(party, "rejected", refused, reason))
    waiting: tuple[Waiting, ...] = ()
    if status == "pending":
        approvals = sum(1 for h in needed if h in proposal.approvals)
        words = f"pending: {approvals} of {len(needed)} approvals"
        waiting = tuple(
            Waiting(h, "approve or reject") for h in needed if h not in proposal.approvals
        )
    elif status == "agreed":
        words = f"agreed at seq {proposal.decided_seq}: in force"
    elif status == "replaced":
        words = (
            f"agreed at seq {proposal.decided_seq}, replaced at seq {proposal.replaced_seq} by "
            "a later agreed value"
        )
    elif status == "superseded":
        words = f"superseded at seq {proposal.decided_seq} by a newer proposal for {proposal.unit}"
    else:
        by = f" by {proposal.refusal[0]}" if proposal.refusal is not None else ""
        words = f"rejected at seq {proposal.decided_seq}{by}"
    return Standing(status, words, waiting, tuple(decided))


def _target_words(context: _Context, target: int) -> str:
    """``deliverable seq 5 by acme: 10 hours on pledge 4 'Posters'`` (what was decided)."""
    state = context.state
    if target in state.values:
        value = state.values[target]
        return (
            f"value proposal seq {target} by {value.by}: {amount('1', value.unit)} = "
            f"{decimal_text(value.worth)} {value.reference}"
        )
    decision = state.decisions[target]
    pledge = state.pledges[decision.pledge]
    about = f"{decision.kind} seq {target} by {decision.by}"
    where = f"pledge {pledge.seq} {pledge.title!r}"
    if isinstance(decision, rules.Deliverable):
        return f"{about}: {amount(decimal_text(decision.quantity), pledge.unit)} on {where}"
    if isinstance(decision, rules.Amendment):
        changes = changes_words(amendment_changes(context.replay, decision), pledge.unit)
        return f"{about} of {where}: {changes}"
    return f"{about} of {where}"


# --- the views, one per entry type -----------------------------------------------------------

Shown = tuple[list[Fact], Standing]


def _member_decisions(context: _Context) -> Iterator[Decided]:
    """The joins and declines of the invitees, from the verified log (all come first)."""
    state = context.state
    left = sum(1 for m in state.members.values() if m.status != rules.INVITED) - 1
    if left <= 0:
        return
    for row in islice(context.replay.timeline(), 1, None):  # a page at a time
        if row["type"] == "member.joined":
            yield Decided(row["party"], "joined", row["seq"], row["signer"], row["at"])
        elif row["type"] == "member.declined":
            reason = str(context.entry(row["seq"]).body["reason"])
            yield Decided(row["party"], "declined", row["seq"], row["signer"], row["at"], reason)
        else:
            continue
        left -= 1
        if left == 0:
            return


def _policy_words(policy: str, *, close: bool) -> str:
    if close:
        return "every member signs the close" if policy == "all" else f"{policy} members sign"
    if policy == "all":
        return "every beneficiary of a pledge approves"
    if policy == "any":
        return "any one beneficiary approves"
    return f"{policy} beneficiaries approve (all, if a pledge has fewer)"


def _project_proposed(context: _Context, item: SignedEntry) -> Shown:
    state, body = context.state, item.body
    seats = []
    for member in body["members"]:
        handle, pinned, invite = member["handle"], member["key"], member.get("invite")
        if handle == item.by:
            seats.append(f"{handle} (proposer, key {pinned})")
        elif pinned is not None:
            seats.append(f"{handle} (pinned to key {pinned})")
        elif invite is not None:
            seats.append(f"{handle} (unpinned, protected by invite {invite})")
        else:
            seats.append(f"{handle} (unpinned)")
    facts = [
        _line("title", body["title"], body["title"]),
        _text("purpose", body["purpose"]),
        Fact("members", body["members"], tuple(seats)),
        _line("approval", body["approval"], _policy_words(body["approval"], close=False)),
        _line("close", body["close"], _policy_words(body["close"], close=True)),
    ]
    waiting = tuple(
        Waiting(h, "join or decline")
        for h in (state.waiting_for() if state.status == rules.PROPOSED else ())
    )
    by_status: dict[str, str] = {
        rules.PROPOSED: "proposed: waiting for every invitee to join or decline",
        rules.ACTIVE: "active: every invitee joined or declined",
        rules.CLOSED: f"closed at seq {state.closed_seq}",
        rules.ABANDONED: "abandoned: every invitee declined",
        rules.CANCELLED: f"cancelled by its proposer at seq {state.cancelled_seq}",
    }
    words = by_status[state.status]
    return facts, Standing(state.status, words, waiting, tuple(_member_decisions(context)))


def _key_status(state: rules.ProjectState, party: str, key: str) -> Standing:
    """Whether ``key`` still signs for ``party``: current, replaced, revoked or removed."""
    member = state.members[party]
    signer = member.signer_for(key)
    if signer is not None:
        return Standing("current", f"current: {signed_by(party, signer.label)} signs with it")
    if key in state.revoked:
        return Standing("revoked", f"revoked at seq {state.revoked[key]}")
    if key in state.removed:
        return Standing("removed", f"its signer was removed at seq {state.removed[key]}")
    return Standing("replaced", "replaced by a newer key")


def _fingerprint(line: str) -> str:
    return ed25519.fingerprint(ed25519.parse_public_key_line(line))


def _member_joined(context: _Context, item: SignedEntry) -> Shown:
    state = context.state
    proof = item.body.get("invite_proof")
    terms = "the terms of the proposal (seq 1)" if item.body["terms"] == state.terms else "?"
    facts = [
        _line("key", item.key, item.key),
        _line("terms", item.body["terms"], f"accepted {terms}, hash {item.body['terms']}"),
        _line(
            "invite",
            proof is not None,
            "proved with the invite of its seat" if proof else "none (the seat needs none)",
        ),
    ]
    key = _key_status(state, item.by, item.key)
    return facts, Standing("joined", f"joined; its key is {key.words}")


def _member_declined(context: _Context, item: SignedEntry) -> Shown:
    del context
    facts = [_text("reason", item.body["reason"])]
    return facts, Standing("declined", "declined the invitation")


def _key_rotated(context: _Context, item: SignedEntry) -> Shown:
    new = _fingerprint(item.body["public_key"])
    facts = [_line("old_key", item.key, item.key), _line("new_key", new, new)]
    return facts, _key_status(context.state, item.by, new)


def _key_revoked(context: _Context, item: SignedEntry) -> Shown:
    body = item.body
    replacement = _fingerprint(body["replacement"]) if body["replacement"] else None
    facts = [
        _line("revoked_key", body["fingerprint"], body["fingerprint"]),
        _text("reason", body["reason"]),
        _line("replacement", replacement, replacement or "none"),
    ]
    words = f"revoked at seq {item.seq}: nothing signed with it after that seq counts"
    return facts, Standing("revoked", words)


def _signer_added(context: _Context, item: SignedEntry) -> Shown:
    key = _fingerprint(item.body["public_key"])
    facts = [_line("label", item.body["label"], item.body["label"]), _line("signer_key", key, key)]
    return facts, _key_status(context.state, item.by, key)


def _signer_removed(context: _Context, item: SignedEntry) -> Shown:
    key = next((k for k, seq in context.state.removed.items() if seq == item.seq), "")
    facts = [
        _line("label", item.body["label"], item.body["label"]),
        _line("signer_key", key, key),
        _text("reason", item.body["reason"]),
    ]
    return facts, Standing("removed", f"signer {item.body['label']} no longer signs for {item.by}")


def _pledge_made(context: _Context, item: SignedEntry) -> Shown:
    state, body = context.state, item.body
    pledge = state.pledges[item.seq]
    facts = [
        _line("title", body["title"], body["title"]),
        _line("weight", body["weight"], amount(body["weight"], body["unit"])),
        _line("unit", body["unit"], body["unit"]),
        _line("due", body["due"], body["due"]),
        _line("beneficiaries", body["beneficiaries"], ", ".join(body["beneficiaries"])),
    ]
    now = {"title": pledge.title, "weight": decimal_text(pledge.weight), "due": pledge.due}
    if any(now[name] != body[name] for name in AMENDABLE):
        facts.append(
            _line(
                "now",
                now,
                f"{now['title']!r}, {amount(now['weight'], pledge.unit)}, due {now['due']} "
                f"(amended: seq {', '.join(str(s) for s in pledge.amendments)})",
            )
        )
    deliverables = [state.decisions[seq] for seq in pledge.deliverables]
    facts.append(
        Fact(
            "deliverables",
            [
                {"seq": d.seq, "quantity": decimal_text(d.quantity), "status": d.status}
                for d in deliverables
                if isinstance(d, rules.Deliverable)
            ],
            tuple(
                f"seq {d.seq}: {amount(decimal_text(d.quantity), pledge.unit)}, {d.status}"
                for d in deliverables
                if isinstance(d, rules.Deliverable)
            )
            or ("none yet",),
        )
    )
    row = obligation(context.replay, pledge, context.today)
    weight = amount(decimal_text(row.weight), row.unit)
    words = (
        f"{row.status}: {decimal_text(row.delivered)} of {weight} delivered, "
        f"{decimal_text(row.approved)} approved"
    )
    if row.days_late:
        words += f", {row.days_late} day{'s' if row.days_late != 1 else ''} late"
    waiting: list[Waiting] = []
    if row.status in ("open", "overdue") or (
        row.status in ("submitted", "disputed", "amended-pending") and row.delivered < row.weight
    ):
        waiting.append(Waiting(pledge.by, f"deliver (due {row.due.isoformat()})"))
    for decision in deliverables + [state.decisions[s] for s in pledge.amendments]:
        if decision.status == rules.PENDING:
            waiting.extend(
                Waiting(h, f"approve or reject seq {decision.seq}")
                for h in pledge.beneficiaries
                if h not in decision.approvals
            )
    return facts, Standing(row.status, words, tuple(waiting))


def _pledge_amended(context: _Context, item: SignedEntry) -> Shown:
    state = context.state
    amendment = state.decisions[item.seq]
    assert isinstance(amendment, rules.Amendment)  # noqa: S101 - the rules recorded it so
    pledge = state.pledges[amendment.pledge]
    changes = amendment_changes(context.replay, amendment)
    facts = [
        _pledge_fact(state, pledge.seq),
        Fact(
            "changes",
            changes,
            tuple(changes_words({name: change}, pledge.unit) for name, change in changes.items()),
        ),
        Fact("unit", pledge.unit, ()),
        _text("reason", item.body["reason"]),
    ]
    return facts, _decision_standing(context, item.seq)


def _pledge_withdrawn(context: _Context, item: SignedEntry) -> Shown:
    facts = [_pledge_fact(context.state, item.body["pledge"]), _text("reason", item.body["reason"])]
    return facts, Standing("withdrawn", f"pledge {item.body['pledge']} is withdrawn")


def _deliverable_submitted(context: _Context, item: SignedEntry) -> Shown:
    state, body = context.state, item.body
    pledge = state.pledges[body["pledge"]]
    evidence = body["evidence"]
    facts = [
        _pledge_fact(state, pledge.seq),
        _line("quantity", body["quantity"], amount(body["quantity"], pledge.unit)),
        Fact("unit", pledge.unit, ()),
        _text("summary", body["summary"]),
        Fact(
            "evidence",
            [{"name": e["name"], "size": e["size"], "sha256": e["sha256"]} for e in evidence],
            tuple(f"{e['name']} ({e['size']} bytes, SHA-256 {e['sha256']})" for e in evidence)
            or ("none",),
        ),
    ]
    deliverable = state.decisions[item.seq]
    assert isinstance(deliverable, rules.Deliverable)  # noqa: S101 - the rules recorded it so
    if deliverable.disputes:
        facts.append(
            _line(
                "disputes",
                list(deliverable.disputes),
                ", ".join(f"seq {d} ({state.disputes[d].status})" for d in deliverable.disputes),
            )
        )
    return facts, _decision_standing(context, item.seq)


def _approval(context: _Context, item: SignedEntry) -> Shown:
    target = item.body["target"]
    note = "comment" if item.type == "approval.given" else "reason"
    facts = [
        _line("target", target, _target_words(context, target)),
        _text(note, item.body[note]),
    ]
    return facts, _decision_standing(context, target)


def _statement_standing(context: _Context, statement: rules.Statement) -> Standing:
    state = context.state
    members = state.joined()
    missing = [h for h in members if h not in statement.signatures]
    version = statement.version
    if missing:
        signed = len(members) - len(missing)
        status, words = (
            "pending",
            f"pending: {signed} of {len(members)} signatures on version {version}",
        )
    else:
        status, words = "in force", f"in force: every member signed version {version}"
    decided = tuple(
        context.decided(party, f"signed version {version}", seq)
        for party, seq in sorted(statement.signatures.items(), key=lambda s: s[1])
    )
    waiting = tuple(Waiting(h, f"sign version {version}") for h in missing)
    return Standing(status, words, waiting, decided)


def _void(standing: Standing, words: str) -> Standing:
    return Standing(
        "void", f"{words}; the statement is {standing.words}", standing.waiting, standing.decisions
    )


def _statement_proposed(context: _Context, item: SignedEntry) -> Shown:
    statement = context.state.statements[item.seq]
    facts = [
        _line("title", item.body["title"], item.body["title"]),
        _line("version", 1, _version(1, statement.version)),
        _block("text", item.body["text"]),
    ]
    standing = _statement_standing(context, statement)
    if statement.version > 1:
        words = (
            f"{standing.words} (this text, version 1, was revised at seq {statement.revisions[1]})"
        )
        standing = Standing(standing.status, words, standing.waiting, standing.decisions)
    return facts, standing


def _statement_signed(context: _Context, item: SignedEntry) -> Shown:
    statement = context.state.statements[item.body["statement"]]
    version = item.body["version"]
    facts = [
        _line("statement", statement.seq, f"{statement.seq} {statement.title!r}"),
        _line("version", version, _version(version, statement.version)),
        _line("text_hash", item.body["text_hash"], f"SHA-256 {item.body['text_hash']}"),
    ]
    standing = _statement_standing(context, statement)
    if version != statement.version:
        standing = _void(
            standing, f"void: the text was revised at seq {statement.revisions[version]}"
        )
    return facts, standing


def _statement_revised(context: _Context, item: SignedEntry) -> Shown:
    statement = context.state.statements[item.body["statement"]]
    version = statement.revisions.index(item.seq) + 1
    facts = [
        _line("statement", statement.seq, f"{statement.seq} {statement.title!r}"),
        _line("version", version, _version(version, statement.version)),
        _block("text", item.body["text"]),
        _text("reason", item.body["reason"]),
    ]
    standing = _statement_standing(context, statement)
    if version != statement.version:
        standing = _void(standing, f"void: revised again at seq {statement.revisions[version]}")
    return facts, standing


def _close_signed(context: _Context, item: SignedEntry) -> Shown:
    state, body = context.state, item.body
    facts = [_line("head_seq", body["head_seq"], f"seq {body['head_seq']}, hash {body['head']}")]
    counts = (
        body["head_seq"] == state.final_head_seq and state.close_signatures.get(item.by) == item.seq
    )
    if not counts:
        words = (
            f"void: entries were added after head seq {body['head_seq']} (the final head is "
            f"seq {state.final_head_seq})"
        )
        return facts, Standing("void", words)
    decided = tuple(
        context.decided(party, "signed the close", seq)
        for party, seq in sorted(state.close_signatures.items(), key=lambda s: s[1])
    )
    if state.status == rules.CLOSED:
        return facts, Standing("closed", f"closed at seq {state.closed_seq}", (), decided)
    signers = [h for h in state.joined() if state.members[h].signers]
    waiting = tuple(
        Waiting(h, "sign the close") for h in signers if h not in state.close_signatures
    )
    words = f"pending: {len(state.close_signatures)} of {state.closes_needed()} close signatures"
    return facts, Standing("pending", words, waiting, decided)


def _value_proposed(context: _Context, item: SignedEntry) -> Shown:
    body = item.body
    facts = [
        _line("unit", body["unit"], body["unit"]),
        _line(
            "worth", body["worth"], f"{amount('1', body['unit'])} = {body['worth']} {body['in']}"
        ),
        _line("in", body["in"], body["in"]),
        _text("reason", body["reason"]),
    ]
    return facts, _decision_standing(context, item.seq)


def _pledge_closed_short(context: _Context, item: SignedEntry) -> Shown:
    state = context.state
    pledge = state.pledges[item.body["pledge"]]
    facts = [
        _pledge_fact(state, pledge.seq),
        _line(
            "approved",
            {"approved": decimal_text(pledge.approved), "weight": decimal_text(pledge.weight)},
            f"{decimal_text(pledge.approved)} of "
            f"{amount(decimal_text(pledge.weight), pledge.unit)} approved",
        ),
        Fact("unit", pledge.unit, ()),
        _text("reason", item.body["reason"]),
    ]
    return facts, _decision_standing(context, item.seq)


def _dispute_standing(context: _Context, dispute: rules.Dispute) -> Standing:
    state = context.state
    decided = tuple(
        context.decided(party, f"signed {outcome}", seq, str(context.entry(seq).body["reason"]))
        for party, (outcome, seq) in sorted(dispute.votes.items(), key=lambda v: v[1][1])
    )
    if dispute.status != rules.OPEN:
        deliverable = state.decisions[dispute.deliverable]
        words = (
            f"{dispute.status} at seq {dispute.resolved_seq}: deliverable {dispute.deliverable} "
            f"is {deliverable.status}"
        )
        return Standing(dispute.status, words, (), decided)
    outcomes = {outcome for outcome, _ in dispute.votes.values()}
    waiting = tuple(
        Waiting(p, "sign an outcome (upheld or dismissed)")
        if p not in dispute.votes
        else Waiting(p, "agree on one outcome")
        for p in dispute.parties
        if p not in dispute.votes or len(outcomes) > 1
    )
    words = f"open: settled when {_and(dispute.parties)} sign one outcome"
    return Standing(rules.OPEN, words, waiting, decided)


def _dispute_opened(context: _Context, item: SignedEntry) -> Shown:
    state = context.state
    dispute = state.disputes[item.seq]
    deliverable = state.decisions[dispute.deliverable]
    assert isinstance(deliverable, rules.Deliverable)  # noqa: S101 - a dispute names one
    pledge = state.pledges[dispute.pledge]
    kind = state.types[dispute.target]
    author = context.replay.log_entry(dispute.target).by
    facts = [
        _line("target", dispute.target, f"seq {dispute.target}: {entry_noun(kind)} by {author}"),
        _line(
            "deliverable",
            dispute.deliverable,
            f"{dispute.deliverable} by {deliverable.by}: {decimal_text(deliverable.quantity)} "
            f"{pledge.unit} on pledge {pledge.seq} {pledge.title!r}",
        ),
        _line("about", dispute.about, f"its {dispute.about}"),
        _text("reason", item.body["reason"]),
        _line("parties", list(dispute.parties), ", ".join(dispute.parties)),
    ]
    return facts, _dispute_standing(context, dispute)


def _resolution_signed(context: _Context, item: SignedEntry) -> Shown:
    dispute = context.state.disputes[item.body["dispute"]]
    facts = [
        _line(
            "dispute",
            dispute.seq,
            f"{dispute.seq} by {dispute.by} of the {dispute.about} of deliverable "
            f"{dispute.deliverable}",
        ),
        _line("outcome", item.body["outcome"], item.body["outcome"]),
        _text("reason", item.body["reason"]),
    ]
    return facts, _dispute_standing(context, dispute)


def _project_cancelled(context: _Context, item: SignedEntry) -> Shown:
    state = context.state
    never = [m.handle for m in state.members.values() if m.status == rules.INVITED]
    facts = [
        _text("reason", item.body["reason"]),
        Fact("unanswered", never, (f"never answered: {_and(never)}" if never else "none",)),
    ]
    words = "cancelled: the proposal takes nothing more, and no invitee can join"
    return facts, Standing(rules.CANCELLED, words)


# The projections' registry of entry types: one view per type declared in ledger/rules/
# (tests/unit/test_registries.py checks that they match).
VIEWS: dict[str, Callable[[_Context, SignedEntry], Shown]] = {
    "project.proposed": _project_proposed,
    "member.joined": _member_joined,
    "member.declined": _member_declined,
    "key.rotated": _key_rotated,
    "key.revoked": _key_revoked,
    "signer.added": _signer_added,
    "signer.removed": _signer_removed,
    "pledge.made": _pledge_made,
    "pledge.amended": _pledge_amended,
    "pledge.withdrawn": _pledge_withdrawn,
    "deliverable.submitted": _deliverable_submitted,
    "approval.given": _approval,
    "approval.refused": _approval,
    "statement.proposed": _statement_proposed,
    "statement.signed": _statement_signed,
    "statement.revised": _statement_revised,
    "close.signed": _close_signed,
    "value.proposed": _value_proposed,
    "pledge.closed-short": _pledge_closed_short,
    "dispute.opened": _dispute_opened,
    "resolution.signed": _resolution_signed,
    "project.cancelled": _project_cancelled,
}
