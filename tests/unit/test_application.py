"""The Ledger application: receipts, reads, listings, evidence, and the optimistic write path.

Most tests use the in-memory store; the concurrency and tampering tests open two ``Ledger``
objects on one SQLite file, as two processes would.
"""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from eventsourcing.persistence import IntegrityError

from ledger import entry, rules, storage
from ledger.application import (
    Evidence,
    Ledger,
    ProjectSummary,
    Receipt,
)
from ledger.errors import (
    ConflictError,
    NotFoundError,
    ProjectNotFoundError,
    RuleViolationError,
    UsageError,
    VerificationError,
)
from ledger.keys import Signer
from ledger.project import Project
from ledger.writes import MAX_ATTEMPTS

SLUG = "no-whopper-day"
DUE = "2026-12-01"


class TickingClock:
    """Claims 2026-11-22T10:00:00Z plus one minute per call (the signer's ``at``)."""

    def __init__(self) -> None:
        self.now = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(minutes=1)
        return self.now


def hashes(ledger: Ledger, slug: str = SLUG) -> list[str]:
    return [stored.entry.hash for stored in ledger.read_entries(slug)]


def start(ledger: Ledger, signers: dict[str, Signer], *, approval: str = "all") -> None:
    """Propose (seq 1) with acme; burgerco (2) and veggie (3) join: the project is active."""
    ledger.propose_project(
        SLUG,
        title="No Whopper Day",
        purpose="A joint campaign",
        members={"burgerco": None, "veggie": None},
        approval=approval,
        close="all",
        signer=signers["acme"],
    )
    ledger.join_project(SLUG, signer=signers["burgerco"])
    ledger.join_project(SLUG, signer=signers["veggie"])


def pledge(ledger: Ledger, signer: Signer, weight: str = "30") -> Receipt:
    return ledger.add_pledge(
        SLUG,
        title="Campaign video",
        weight=weight,
        unit="hours",
        due=DUE,
        beneficiaries=None,
        signer=signer,
    )


def deliver(
    ledger: Ledger,
    signer: Signer,
    on: int,
    quantity: str | None,
    evidence: tuple[Evidence, ...] = (),
) -> Receipt:
    return ledger.deliver(
        SLUG, on, summary="Work done", quantity=quantity, evidence=list(evidence), signer=signer
    )


# --- receipts and reads ----------------------------------------------------------------------


def test_a_receipt_names_what_was_recorded(
    memory_ledger: Ledger, signers: dict[str, Signer]
) -> None:
    acme = signers["acme"]
    receipt = memory_ledger.propose_project(
        SLUG,
        title="No Whopper Day",
        purpose="",
        members={"burgerco": None},
        approval="any",
        close="all",
        signer=acme,
    )
    stored = list(memory_ledger.read_entries(SLUG))
    assert receipt == Receipt(
        project=SLUG,
        seq=1,
        type="project.proposed",
        hash=stored[0].entry.hash,
        by="acme",
        key=acme.fingerprint,
        at="2026-11-22T10:01:00Z",
        status="proposed",
        attempts=1,
        signer="acme",
    )
    assert receipt.as_dict() == {
        "project": SLUG,
        "seq": 1,
        "type": "project.proposed",
        "hash": stored[0].entry.hash,
        "by": "acme",
        "signer": "acme",
        "key": acme.fingerprint,
        "at": "2026-11-22T10:01:00Z",
        "project_status": "proposed",
    }
    joined = memory_ledger.join_project(SLUG, signer=signers["burgerco"])
    assert (joined.seq, joined.type, joined.by, joined.status) == (
        2,
        "member.joined",
        "burgerco",
        "active",
    )
    assert joined.at == "2026-11-22T10:02:00Z"
    assert joined.hash == hashes(memory_ledger)[1]


def test_read_entries_gives_the_store_time_apart_from_the_claimed_time(
    memory_ledger: Ledger, signers: dict[str, Signer]
) -> None:
    before = datetime.now(UTC)
    start(memory_ledger, signers)
    after = datetime.now(UTC)
    stored = list(memory_ledger.read_entries(SLUG))
    assert [item.entry.seq for item in stored] == [1, 2, 3]
    assert [item.entry.data["at"] for item in stored] == [
        "2026-11-22T10:01:00Z",
        "2026-11-22T10:02:00Z",
        "2026-11-22T10:03:00Z",
    ]
    for item in stored:
        assert item.received_at.tzinfo is not None
        assert before <= item.received_at <= after
        claimed = datetime.strptime(item.entry.data["at"], "%Y-%m-%dT%H:%M:%SZ")
        assert item.received_at != claimed.replace(tzinfo=UTC)
    assert stored[0].received_at <= stored[1].received_at <= stored[2].received_at


def test_read_entries_links_every_entry_to_the_one_before(
    memory_ledger: Ledger, signers: dict[str, Signer]
) -> None:
    start(memory_ledger, signers)
    items = [stored.entry for stored in memory_ledger.read_entries(SLUG)]
    assert items[0].data["prev"] == entry.ZERO_HASH
    assert [b.data["prev"] for b in items[1:]] == [a.hash for a in items[:-1]]


def test_an_empty_ledger_lists_no_projects(memory_ledger: Ledger) -> None:
    assert memory_ledger.list_slugs() == []
    assert memory_ledger.list_projects() == []


def test_list_slugs_and_list_projects_show_every_project_sorted(
    memory_ledger: Ledger, signers: dict[str, Signer]
) -> None:
    for slug in ("zeta", "alpha"):
        memory_ledger.propose_project(
            slug,
            title=f"Project {slug}",
            purpose="",
            members={"burgerco": None, "veggie": None},
            approval="all",
            close="all",
            signer=signers["acme"],
        )
    memory_ledger.join_project("zeta", signer=signers["burgerco"])
    assert memory_ledger.list_slugs() == ["alpha", "zeta"]
    assert memory_ledger.list_projects() == [
        ProjectSummary(
            slug="alpha",
            title="Project alpha",
            status="proposed",
            members=("acme", "burgerco", "veggie"),
            entries=1,
            head=hashes(memory_ledger, "alpha")[-1],
        ),
        ProjectSummary(
            slug="zeta",
            title="Project zeta",
            status="proposed",
            members=("acme", "burgerco", "veggie"),
            entries=2,
            head=hashes(memory_ledger, "zeta")[-1],
        ),
    ]


READS_AND_WRITES: dict[str, Callable[[Ledger, dict[str, Signer]], Any]] = {
    "get_state": lambda ledger, s: ledger.get_state("nope"),
    "read_entries": lambda ledger, s: list(ledger.read_entries("nope")),
    "join_project": lambda ledger, s: ledger.join_project("nope", signer=s["burgerco"]),
    "add_pledge": lambda ledger, s: ledger.add_pledge(
        "nope",
        title="t",
        weight="1",
        unit="hours",
        due=DUE,
        beneficiaries=None,
        signer=s["acme"],
    ),
    "approve": lambda ledger, s: ledger.approve("nope", 5, comment="", signer=s["acme"]),
    "sign_close": lambda ledger, s: ledger.sign_close("nope", signer=s["acme"]),
}


@pytest.mark.parametrize("call", sorted(READS_AND_WRITES))
def test_an_unknown_slug_raises_project_not_found(
    memory_ledger: Ledger, signers: dict[str, Signer], call: str
) -> None:
    start(memory_ledger, signers)
    with pytest.raises(ProjectNotFoundError) as info:
        READS_AND_WRITES[call](memory_ledger, signers)
    assert info.value.message == "no project 'nope' in this ledger"
    assert info.value.slug == "nope"
    assert isinstance(info.value, NotFoundError)
    assert memory_ledger.list_slugs() == [SLUG]


# --- values the user gives -------------------------------------------------------------------


def propose_with(ledger: Ledger, signers: dict[str, Signer], **overrides: Any) -> Receipt:
    arguments: dict[str, Any] = {
        "title": "No Whopper Day",
        "purpose": "",
        "members": {"burgerco": None},
        "approval": "all",
        "close": "all",
        "signer": signers["acme"],
    }
    slug = overrides.pop("slug", SLUG)
    arguments.update(overrides)
    return ledger.propose_project(slug, **arguments)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"slug": "No Whopper"}, "project slug 'No Whopper' is not valid"),
        ({"approval": "0"}, "approval policy '0' is not valid"),
        ({"approval": "02"}, "approval policy '02' is not valid"),
        ({"approval": "most"}, "approval policy 'most' is not valid"),
        ({"close": "any"}, "close policy 'any' is not valid"),
        ({"title": "  "}, "the title must not be empty"),
        ({"members": {"Burger Co": None}}, "member 'Burger Co' is not valid"),
        (
            {"members": {"burgerco": "SHA256:short"}},
            "pinned fingerprint 'SHA256:short' of 'burgerco' is not an OpenSSH SHA256 fingerprint",
        ),
    ],
)
def test_a_malformed_proposal_is_a_usage_error(
    memory_ledger: Ledger,
    signers: dict[str, Signer],
    overrides: dict[str, Any],
    message: str,
) -> None:
    with pytest.raises(UsageError) as info:
        propose_with(memory_ledger, signers, **overrides)
    assert type(info.value) is UsageError
    assert info.value.message == message
    assert memory_ledger.list_slugs() == []


def test_the_proposer_cannot_pin_someone_elses_key_for_itself(
    memory_ledger: Ledger, signers: dict[str, Signer]
) -> None:
    with pytest.raises(UsageError) as info:
        propose_with(
            memory_ledger,
            signers,
            members={"acme": signers["veggie"].fingerprint, "burgerco": None},
        )
    assert info.value.message == "the pinned fingerprint of 'acme' is not its own key"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("weight", "abc", "weight 'abc' is not a number"),
        ("weight", "-1", "weight must be greater than zero, not '-1'"),
        ("weight", "0", "weight must be greater than zero, not '0'"),
        ("weight", "1e3", "weight '1e3' is not a number"),
        ("unit", "Person Hours", "unit 'Person Hours' is not valid"),
        ("due", "2026-02-30", "due date '2026-02-30' is not a date"),
        ("title", "", "the title must not be empty"),
    ],
)
def test_a_malformed_pledge_is_a_usage_error_and_records_nothing(
    memory_ledger: Ledger, signers: dict[str, Signer], field: str, value: str, message: str
) -> None:
    start(memory_ledger, signers)
    arguments = {"title": "Video", "weight": "30", "unit": "hours", "due": DUE}
    arguments[field] = value
    before = hashes(memory_ledger)
    with pytest.raises(UsageError) as info:
        memory_ledger.add_pledge(SLUG, **arguments, beneficiaries=None, signer=signers["acme"])
    assert info.value.message == message
    assert hashes(memory_ledger) == before


def test_weights_and_quantities_are_stored_as_canonical_decimal_strings(
    memory_ledger: Ledger, signers: dict[str, Signer]
) -> None:
    start(memory_ledger, signers)
    pledge(memory_ledger, signers["acme"], weight=" 012.50 ")  # seq 4
    deliver(memory_ledger, signers["acme"], 4, ".5")  # seq 5
    stored = [item.entry for item in memory_ledger.read_entries(SLUG)]
    assert stored[3].body["weight"] == "12.5"
    assert stored[4].body["quantity"] == "0.5"


# --- evidence --------------------------------------------------------------------------------


def test_evidence_of_a_file_is_its_name_sha256_and_size(tmp_path: Path) -> None:
    path = tmp_path / "cut.txt"
    path.write_bytes(b"hello\n")
    evidence = Evidence.of_file(path)
    assert evidence == Evidence(
        name="cut.txt",
        sha256="5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03",
        size=6,
    )
    assert evidence.sha256 == hashlib.sha256(b"hello\n").hexdigest()
    assert evidence.as_dict() == {
        "name": "cut.txt",
        "sha256": "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03",
        "size": 6,
    }


def test_evidence_of_an_empty_file_hashes_no_bytes(tmp_path: Path) -> None:
    path = tmp_path / "empty.bin"
    path.write_bytes(b"")
    assert Evidence.of_file(path) == Evidence(
        name="empty.bin",
        sha256="e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        size=0,
    )


def test_evidence_of_a_large_file_is_hashed_in_chunks(tmp_path: Path) -> None:
    data = bytes(range(256)) * 8193  # a little over two 1 MiB chunks
    path = tmp_path / "video.bin"
    path.write_bytes(data)
    evidence = Evidence.of_file(path)
    assert (evidence.sha256, evidence.size) == (hashlib.sha256(data).hexdigest(), len(data))


def test_evidence_of_a_missing_file_is_not_found(tmp_path: Path) -> None:
    path = tmp_path / "missing.pdf"
    with pytest.raises(NotFoundError) as info:
        Evidence.of_file(path)
    assert info.value.message == f"cannot read evidence file {path}: No such file or directory"


def test_a_deliverable_records_its_evidence(
    memory_ledger: Ledger, signers: dict[str, Signer], tmp_path: Path
) -> None:
    start(memory_ledger, signers)
    pledge(memory_ledger, signers["acme"])  # seq 4
    path = tmp_path / "cut.txt"
    path.write_bytes(b"hello\n")
    deliver(memory_ledger, signers["acme"], 4, "1", (Evidence.of_file(path),))  # seq 5
    digest = "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03"
    stored = list(memory_ledger.read_entries(SLUG))[-1].entry
    assert stored.body["evidence"] == [{"name": "cut.txt", "sha256": digest, "size": 6}]
    decision = memory_ledger.get_state(SLUG).decisions[5]
    assert isinstance(decision, rules.Deliverable)
    assert decision.evidence == (("cut.txt", digest, 6),)


# --- deliver without a quantity --------------------------------------------------------------


def quantity_of(ledger: Ledger, seq: int) -> str:
    return str(list(ledger.read_entries(SLUG))[seq - 1].entry.body["quantity"])


def test_deliver_without_quantity_claims_the_remaining_weight(
    memory_ledger: Ledger, signers: dict[str, Signer]
) -> None:
    acme = signers["acme"]
    start(memory_ledger, signers)
    pledge(memory_ledger, acme, weight="12.5")  # seq 4
    deliver(memory_ledger, acme, 4, "10")  # seq 5, pending
    assert deliver(memory_ledger, acme, 4, None).seq == 6
    assert quantity_of(memory_ledger, 6) == "2.5"


def test_deliver_without_quantity_counts_accepted_and_pending_but_not_rejected_work(
    memory_ledger: Ledger, signers: dict[str, Signer]
) -> None:
    acme, burgerco, veggie = signers["acme"], signers["burgerco"], signers["veggie"]
    start(memory_ledger, signers)
    pledge(memory_ledger, acme, weight="30")  # seq 4
    deliver(memory_ledger, acme, 4, "10")  # seq 5
    memory_ledger.approve(SLUG, 5, comment="", signer=burgerco)  # seq 6
    memory_ledger.approve(SLUG, 5, comment="", signer=veggie)  # seq 7: 10 accepted
    deliver(memory_ledger, acme, 4, "5")  # seq 8: 5 pending
    deliver(memory_ledger, acme, 4, "8")  # seq 9
    memory_ledger.reject(SLUG, 9, reason="blurry", signer=veggie)  # seq 10: 8 rejected
    assert deliver(memory_ledger, acme, 4, None).seq == 11
    assert quantity_of(memory_ledger, 11) == "15"


def test_deliver_without_quantity_uses_the_amended_weight(
    memory_ledger: Ledger, signers: dict[str, Signer]
) -> None:
    acme = signers["acme"]
    start(memory_ledger, signers, approval="any")
    pledge(memory_ledger, acme, weight="30")  # seq 4
    deliver(memory_ledger, acme, 4, "10")  # seq 5
    memory_ledger.amend_pledge(
        SLUG, 4, title=None, weight="45", due=None, reason="more scope", signer=acme
    )  # seq 6
    assert quantity_of(memory_ledger, deliver(memory_ledger, acme, 4, "1").seq) == "1"  # seq 7
    memory_ledger.approve(SLUG, 6, comment="", signer=signers["veggie"])  # seq 8
    assert deliver(memory_ledger, acme, 4, None).seq == 9
    assert quantity_of(memory_ledger, 9) == "34"  # 45 - 10 - 1


def test_deliver_without_quantity_refuses_when_nothing_remains(
    memory_ledger: Ledger, signers: dict[str, Signer]
) -> None:
    acme = signers["acme"]
    start(memory_ledger, signers)
    pledge(memory_ledger, acme, weight="30")  # seq 4
    deliver(memory_ledger, acme, 4, "31")  # seq 5: more than the weight
    before = hashes(memory_ledger)
    with pytest.raises(UsageError) as info:
        deliver(memory_ledger, acme, 4, None)
    assert type(info.value) is UsageError
    assert info.value.message == "pledge 4 has no undelivered weight left"
    assert info.value.hint == "give --quantity for additional work"
    assert hashes(memory_ledger) == before
    # An explicit quantity is still welcome.
    assert deliver(memory_ledger, acme, 4, "2").seq == 6


# --- every store behaves the same ------------------------------------------------------------


def test_a_short_collaboration_behaves_the_same_on_every_store(
    ledger: Ledger, signers: dict[str, Signer]
) -> None:
    acme, burgerco, veggie = signers["acme"], signers["burgerco"], signers["veggie"]
    start(ledger, signers)
    pledge(ledger, acme)  # seq 4
    deliver(ledger, acme, 4, None)  # seq 5
    ledger.approve(SLUG, 5, comment="great", signer=burgerco)  # seq 6
    ledger.approve(SLUG, 5, comment="", signer=veggie)  # seq 7
    for signer in (acme, burgerco, veggie):
        receipt = ledger.sign_close(SLUG, signer=signer)  # seqs 8, 9, 10
    assert (receipt.seq, receipt.status) == (10, "closed")
    items = [stored.entry for stored in ledger.read_entries(SLUG)]
    assert [item.seq for item in items] == list(range(1, 11))
    assert rules.replay(SLUG, items) == ledger.get_state(SLUG)
    state = ledger.get_state(SLUG)
    assert state.decisions[5].status == rules.ACCEPTED
    decision = state.decisions[5]
    assert isinstance(decision, rules.Deliverable)
    assert decision.quantity == Decimal(30)
    assert ledger.list_slugs() == [SLUG]
    with pytest.raises(RuleViolationError) as info:
        pledge(ledger, veggie)
    assert info.value.message == (
        "project 'no-whopper-day' is closed (seq 10); nothing more can be added"
    )


# --- optimistic concurrency on one SQLite file -----------------------------------------------


@pytest.fixture
def two_ledgers(tmp_path: Path) -> Iterator[tuple[Ledger, Ledger]]:
    """Two Ledger objects on the same SQLite file, as two processes would open it."""
    env = storage.settings(str(tmp_path / "a.db"))
    first, second = Ledger(env, clock=TickingClock()), Ledger(env, clock=TickingClock())
    yield first, second
    first.close()
    second.close()


def check_chain(ledger: Ledger, length: int) -> list[entry.SignedEntry]:
    items = [stored.entry for stored in ledger.read_entries(SLUG)]
    assert [item.seq for item in items] == list(range(1, length + 1))
    assert [b.data["prev"] for b in items[1:]] == [a.hash for a in items[:-1]]
    assert rules.replay(SLUG, items) == ledger.get_state(SLUG)
    return items


def test_two_ledgers_on_one_file_see_each_others_entries(
    two_ledgers: tuple[Ledger, Ledger], signers: dict[str, Signer]
) -> None:
    first, second = two_ledgers
    start(first, signers)
    assert second.get_state(SLUG) == first.get_state(SLUG)
    assert pledge(first, signers["acme"]).seq == 4
    receipt = pledge(second, signers["veggie"])
    assert (receipt.seq, receipt.attempts) == (5, 1)
    items = check_chain(first, 5)
    assert check_chain(second, 5) == items


def test_a_writer_that_read_a_stale_head_re_reads_re_checks_and_re_signs(
    two_ledgers: tuple[Ledger, Ledger],
    signers: dict[str, Signer],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    first, second = two_ledgers
    start(first, signers)
    stale = second.get_state(SLUG)  # second verifies the project at seq 3 ...
    assert stale.seq == 3
    stale_aggregate = second._get_project(SLUG)
    taken = pledge(first, signers["acme"])  # ... then first appends seq 4
    assert taken.seq == 4

    reads: list[str] = []
    fresh_read = second.verified_state
    fresh_aggregate = second._get_project

    def first_read_is_stale(slug: str) -> Any:
        reads.append(slug)
        return stale if len(reads) == 1 else fresh_read(slug)

    def aggregate(slug: str) -> Project:
        return stale_aggregate if len(reads) == 1 else fresh_aggregate(slug)

    monkeypatch.setattr(second, "verified_state", first_read_is_stale)
    monkeypatch.setattr(second, "_get_project", aggregate)
    receipt = pledge(second, signers["veggie"])
    assert reads == [SLUG, SLUG]
    assert (receipt.seq, receipt.attempts, receipt.status) == (5, 2, "active")
    assert receipt.at == "2026-11-22T10:02:00Z"  # signed again, on the second attempt
    items = check_chain(first, 5)
    assert items[3].hash == taken.hash
    assert items[4].hash == receipt.hash
    assert items[4].data["prev"] == taken.hash
    assert items[4].by == "veggie"


def test_saving_a_stale_aggregate_is_refused_by_the_store(
    two_ledgers: tuple[Ledger, Ledger], signers: dict[str, Signer]
) -> None:
    first, second = two_ledgers
    start(first, signers)
    stale = second._get_project(SLUG)
    state = second.get_state(SLUG)
    pledge(first, signers["acme"])  # seq 4 is taken
    veggie = signers["veggie"]
    item = entry.sign(
        {
            "v": 1,
            "project": SLUG,
            "seq": 4,
            "prev": state.head,
            "type": "pledge.made",
            "by": "veggie",
            "key": veggie.fingerprint,
            "at": "2026-11-22T11:00:00Z",
            "body": {
                "title": "Posts",
                "weight": "12",
                "unit": "posts",
                "due": DUE,
                "beneficiaries": ["acme", "burgerco"],
            },
        },
        veggie.private_key,
    )
    stale.append(item, state=state)  # the rules accept it against the stale state
    with pytest.raises(IntegrityError):
        second.save(stale)
    items = check_chain(second, 4)
    assert items[3].by == "acme"


def test_a_writer_gives_up_with_a_conflict_after_the_bounded_number_of_attempts(
    two_ledgers: tuple[Ledger, Ledger],
    signers: dict[str, Signer],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    first, second = two_ledgers
    start(first, signers)
    pledge(first, signers["acme"])  # seq 4
    reads: list[str] = []

    stale = second.get_state(SLUG)  # verified at seq 4
    stale_aggregate = second._get_project(SLUG)
    pledge(first, signers["acme"])  # seq 5: every later read of second is stale

    def always_stale(slug: str) -> Any:
        reads.append(slug)
        return copy.deepcopy(stale)

    monkeypatch.setattr(second, "verified_state", always_stale)
    monkeypatch.setattr(second, "_get_project", lambda slug: copy.deepcopy(stale_aggregate))
    before = hashes(first)
    with pytest.raises(ConflictError) as info:
        pledge(second, signers["veggie"])
    assert info.value.message == (
        f"gave up after {MAX_ATTEMPTS} attempts: other writers kept appending to 'no-whopper-day'"
    )
    assert len(reads) == MAX_ATTEMPTS
    assert hashes(first) == before


def test_proposing_a_slug_another_writer_just_took_is_a_rule_violation(
    two_ledgers: tuple[Ledger, Ledger], signers: dict[str, Signer]
) -> None:
    first, second = two_ledgers
    start(first, signers)
    with pytest.raises(RuleViolationError) as info:
        second.propose_project(
            SLUG,
            title="Mine",
            purpose="",
            members={"acme": None},
            approval="all",
            close="all",
            signer=signers["veggie"],
        )
    assert info.value.message == "project 'no-whopper-day' exists already"
    check_chain(first, 3)


# --- a row inserted by hand fails closed -----------------------------------------------------


def insert_by_hand(ledger: Ledger, item: entry.SignedEntry, stored_hash: str | None = None) -> None:
    """Append ``item`` through the aggregate's event, bypassing the rules, and save it."""
    project = ledger._get_project(SLUG)
    project._record(party=item.by, entry=item.text, sig=item.sig, hash=stored_hash or item.hash)
    ledger.save(project)


@pytest.fixture
def sqlite_ledger(tmp_path: Path) -> Iterator[Ledger]:
    ledger = Ledger(storage.settings(str(tmp_path / "a.db")), clock=TickingClock())
    yield ledger
    ledger.close()


def own_approval(ledger: Ledger, signers: dict[str, Signer]) -> entry.SignedEntry:
    """acme approving its own deliverable (seq 5), validly signed, as seq 6."""
    state = ledger.get_state(SLUG)
    acme = signers["acme"]
    return entry.sign(
        {
            "v": 1,
            "project": SLUG,
            "seq": 6,
            "prev": state.head,
            "type": "approval.given",
            "by": "acme",
            "key": acme.fingerprint,
            "at": "2026-11-22T11:00:00Z",
            "body": {"target": 5, "target_hash": state.decisions[5].hash, "comment": "lgtm"},
        },
        acme.private_key,
    )


def test_a_hand_inserted_row_that_breaks_a_rule_fails_every_read_and_write(
    sqlite_ledger: Ledger, signers: dict[str, Signer], tmp_path: Path
) -> None:
    start(sqlite_ledger, signers)
    pledge(sqlite_ledger, signers["acme"])  # seq 4
    deliver(sqlite_ledger, signers["acme"], 4, "30")  # seq 5
    bad = own_approval(sqlite_ledger, signers)
    insert_by_hand(sqlite_ledger, bad)

    assert [r.hash for r in sqlite_ledger.read_raw(SLUG)][-1] == bad.hash  # the row is there
    message = "'acme' cannot approve or reject its own deliverable (seq 5)"
    with pytest.raises(VerificationError) as info:  # ... but the project fails closed
        sqlite_ledger.get_state(SLUG)
    assert (info.value.message, info.value.seq) == (message, 6)
    with pytest.raises(VerificationError) as info:
        pledge(sqlite_ledger, signers["veggie"])
    assert info.value.message == message
    with pytest.raises(VerificationError):
        sqlite_ledger.list_projects()
    assert len(list(sqlite_ledger.read_raw(SLUG))) == 6

    reopened = Ledger(storage.settings(str(tmp_path / "a.db")))
    try:
        with pytest.raises(VerificationError) as info:
            reopened.get_state(SLUG)
        assert info.value.message == message
    finally:
        reopened.close()


def test_a_hand_inserted_row_signed_with_another_key_fails_verification(
    sqlite_ledger: Ledger, signers: dict[str, Signer]
) -> None:
    start(sqlite_ledger, signers)
    state = sqlite_ledger.get_state(SLUG)
    forged = entry.sign(
        {
            "v": 1,
            "project": SLUG,
            "seq": 4,
            "prev": state.head,
            "type": "pledge.withdrawn",
            "by": "veggie",
            "key": signers["veggie"].fingerprint,
            "at": "2026-11-22T11:00:00Z",
            "body": {"pledge": 1, "reason": "forged"},
        },
        signers["mallory"].private_key,
    )
    insert_by_hand(sqlite_ledger, forged)
    with pytest.raises(VerificationError) as info:
        sqlite_ledger.get_state(SLUG)
    assert (info.value.message, info.value.seq) == (
        f"signature does not verify with key {signers['veggie'].fingerprint}",
        4,
    )


def test_a_hand_inserted_row_with_a_wrong_hash_fails_to_load(
    sqlite_ledger: Ledger, signers: dict[str, Signer]
) -> None:
    start(sqlite_ledger, signers)
    pledge(sqlite_ledger, signers["acme"])  # seq 4
    deliver(sqlite_ledger, signers["acme"], 4, "30")  # seq 5
    item = entry.sign(
        {
            "v": 1,
            "project": SLUG,
            "seq": 6,
            "prev": sqlite_ledger.get_state(SLUG).head,
            "type": "pledge.withdrawn",
            "by": "acme",
            "key": signers["acme"].fingerprint,
            "at": "2026-11-22T11:00:00Z",
            "body": {"pledge": 4, "reason": "changed plans"},
        },
        signers["acme"].private_key,
    )
    insert_by_hand(sqlite_ledger, item, stored_hash="0" * 64)
    for read in (
        lambda: list(sqlite_ledger.read_entries(SLUG)),
        lambda: sqlite_ledger.get_state(SLUG),
    ):
        with pytest.raises(VerificationError) as info:
            read()
        assert info.value.message == "stored hash does not match the entry bytes"
        assert info.value.seq == 6


def test_a_close_receipt_counts_the_close_signatures_on_the_final_head(
    memory_ledger: Ledger, signers: dict[str, Signer]
) -> None:
    start(memory_ledger, signers)
    receipts = [
        memory_ledger.sign_close(SLUG, signer=signers[party])
        for party in ("acme", "burgerco", "veggie")
    ]
    assert [(r.closes, r.status) for r in receipts] == [
        ((1, 3), "active"),
        ((2, 3), "active"),
        ((3, 3), "closed"),
    ]
    data = receipts[0].as_dict()
    assert (data["close_signatures"], data["close_needed"]) == (1, 3)
    assert "close_signatures" not in pledge_receipt_keys(memory_ledger, signers)


def pledge_receipt_keys(ledger: Ledger, signers: dict[str, Signer]) -> set[str]:
    other = "other-project"
    ledger.propose_project(
        other, title="Other", purpose="", members={"burgerco": None},
        approval="all", close="all", signer=signers["acme"],
    )  # fmt: skip
    return set(ledger.join_project(other, signer=signers["burgerco"]).as_dict())
