"""Verifying a stored log: streaming, parallel, and trusting nothing but the bytes.

``verify_stream`` reads rows one batch at a time (memory does not grow with the log beyond
the project state itself) and checks, for every row: its position (seq has no gaps), that its
text is canonical JSON and its stored hash matches, that ``prev`` links, that its signature
verifies with the key it names, that the key was valid for that member at that position, and
every rule of the state machine. The signature checks, the expensive part, run in worker
processes on all cores; the main process parses each entry once, checks its canonical form and
format, and folds the rules in order.

After a failed row the verifier records the problem and moves its chain position past the
row (:func:`unsafe_advance`), so the rows after it are still checked on their own merits
and every problem is reported with its seq.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from cryptography.exceptions import InvalidSignature

from ledger import ed25519, rules
from ledger import entry as entry_mod
from ledger.entry import PREFIX, SignedEntry, is_canonical, parse_text
from ledger.errors import KeyNotValidError, LedgerError, VerificationError
from ledger.rows import Row
from ledger.rules.schema import check_entry

BATCH = 1000
MAX_PROBLEMS = 200
KEY_FIELDS = ("public_key", "replacement")


@dataclass(frozen=True)
class Problem:
    """Something wrong with the log, at a seq (or a store position) with its cause."""

    seq: int | None
    kind: str
    cause: str

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"seq": self.seq, "kind": self.kind, "cause": self.cause}


@dataclass
class VerifyReport:
    """The verdict on one project's log."""

    project: str
    entries: int = 0
    head: str = entry_mod.ZERO_HASH
    status: str = ""
    problems: list[Problem] = field(default_factory=list)
    more_problems: int = 0
    hashes_at: dict[int, str] = field(default_factory=dict)

    @property
    def sound(self) -> bool:
        """True when the whole log verified."""
        return not self.problems and not self.more_problems

    def add(self, problem: Problem) -> None:
        """Record a problem (the first ``MAX_PROBLEMS`` are kept)."""
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(problem)
        else:
            self.more_problems += 1

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "project": self.project,
            "sound": self.sound,
            "entries": self.entries,
            "head": self.head,
            "status": self.status,
            "problems": [p.as_dict() for p in self.problems],
            "more_problems": self.more_problems,
        }


def unsafe_advance(state: rules.ProjectState, seq: int, digest: str, kind: str | None) -> None:
    """Move the chain position past a row that failed (or a gap), without applying it.

    Only the verifier uses this, to keep checking the rows after a failure; the row's
    effects on the project (members, pledges...) are not applied. ``kind`` None records
    nothing at ``seq`` (a missing entry).
    """
    state.seq = seq
    state.head = digest
    if kind is not None:
        state.types[seq] = kind


# --- worker side ------------------------------------------------------------------------------


@lru_cache(maxsize=256)
def _public_key(line: str) -> Any:
    return ed25519.parse_public_key_line(line)


Verdict = tuple[str | None, str | None]


def check_batch(rows: list[tuple[str, str]], keys: dict[str, str]) -> list[Verdict]:
    """Check each (text, sig) on its own: JSON, canonical form, format v1, signature.

    Returns one (problem kind, cause) per row, (None, None) when it passed. ``keys`` maps
    fingerprints to OpenSSH public key lines known before the batch; keys introduced inside
    the batch are learnt in order. Whether the named key was *valid* for its signer at that
    position is for the rules to decide; here the signature must verify with it.
    """
    known = dict(keys)
    return [_check_one(text, sig, known) for text, sig in rows]


def _check_one(text: str, sig: str, known: dict[str, str]) -> Verdict:
    _, verdict, key, line = _precheck(text, known)
    if verdict is not None:
        return verdict
    return _signature_verdict(text, sig, key, line)


Prechecked = tuple[dict[str, Any] | None, Verdict | None, str, str]


def _precheck(text: str, known: dict[str, str]) -> Prechecked:
    """The checks before the signature: (parsed data, failed verdict, key, key line).

    The data is None when the text is not v1 JSON; the key and its line are "" when a check
    failed (the verdict says which).

    Learns the keys the entry introduces into ``known`` (as :func:`check_batch` does).
    """
    try:
        data = parse_text(text)
    except VerificationError as exc:
        return (None, ("canonical", exc.message), "", "")
    _learn_keys(data, known)
    if not is_canonical(text, data):
        return (data, ("canonical", "stored entry text is not in RFC 8785 canonical form"), "", "")
    try:
        check_entry(data)
    except VerificationError as exc:
        return (data, ("format", exc.message), "", "")
    key = str(data["key"])
    line = known.get(key)
    if line is None:
        return (data, ("key", f"entry names unknown key {data['key']}"), "", "")
    return (data, None, key, line)


def check_signatures(jobs: list[tuple[str, str, str, str]]) -> list[Verdict]:
    """Check each (text, sig, key fingerprint, key line): the signature alone.

    The worker side of :func:`verify_stream`, whose main process has already parsed each
    entry and checked its canonical form, its format and that its key is known.
    """
    return [_signature_verdict(text, sig, key, line) for text, sig, key, line in jobs]


def _signature_verdict(text: str, sig: str, key: str, line: str) -> Verdict:
    try:
        raw = entry_mod.decode_signature(sig)  # the one encoding that load() accepts too
    except LedgerError:
        if _reencoded(sig):
            return ("signature", f"signature by key {key} is not in canonical base64")
        return ("signature", f"signature does not verify with key {key}")
    try:
        _public_key(line).verify(raw, PREFIX + text.encode("utf-8"))
    except (InvalidSignature, ValueError, LedgerError):
        return ("signature", f"signature does not verify with key {key}")
    return (None, None)


def _reencoded(sig: str) -> bool:
    """True when ``sig`` decodes to 64 bytes but is not their canonical base64 encoding."""
    try:
        return len(base64.b64decode(sig, validate=True)) == entry_mod.SIGNATURE_SIZE
    except (binascii.Error, ValueError, TypeError):
        return False


def _no_float(text: str) -> Any:
    raise ValueError(f"number {text} is not an integer (v1 has no floats)")


def _learn_keys(data: dict[str, Any], known: dict[str, str]) -> None:
    body = data.get("body")
    if not isinstance(body, dict):
        return
    for name in KEY_FIELDS:
        line = body.get(name)
        if isinstance(line, str):
            try:
                known.setdefault(_fingerprint_of(line), line)
            except LedgerError:
                continue


@lru_cache(maxsize=256)
def _fingerprint_of(line: str) -> str:
    return ed25519.fingerprint(_public_key(line))


# --- main side --------------------------------------------------------------------------------


def _batches(rows: Iterable[Row]) -> Iterator[list[Row]]:
    batch: list[Row] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def default_workers() -> int:
    """All cores, as the operating system lets this process use them."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        return os.cpu_count() or 1


REPORT = "report"  # failure policy: record every problem and keep checking (verify, trail)
STOP = "stop"  # failure policy: stop at the first problem (catching up a verified state)


class StopFold(Exception):
    """Raised inside the fold when the policy is STOP and a row failed."""


def seed_keys(state: rules.ProjectState) -> dict[str, str]:
    """The public key lines a state knows, by fingerprint (to check rows after it)."""
    return {key: line for m in state.members.values() for key, line in m.current_keys().items()}


def verify_stream(
    slug: str,
    rows: Iterable[Row],
    *,
    workers: int | None = None,
    progress: Callable[[int], None] | None = None,
    remember_positions: Iterable[int] = (),
    state: rules.ProjectState | None = None,
    policy: str = REPORT,
    on_applied: Callable[[SignedEntry], None] | None = None,
    pool: ProcessPoolExecutor | None = None,
    checked: Future[list[Verdict]] | None = None,
) -> VerifyReport:
    """Fold one project's rows through every check and rule, in order: the one fold driver.

    The main process checks each batch's rows on their own (JSON, canonical form, format,
    known key) while worker processes check their signatures, and folds earlier batches
    through the stateful rules, in order.
    Never raises for a bad log: it reports it.

    Args:
        slug: the project the rows belong to.
        rows: the stored rows in store order (after ``state``'s position).
        workers: processes for the per-entry checks (default: all cores; 1 = in-process).
        progress: called with the number of rows checked after each batch.
        remember_positions: seqs whose computed hashes the report should keep (for
            comparing with remembered heads).
        state: the verified state to continue from (default: before the first entry); it
            is advanced in place.
        policy: ``REPORT`` records every problem and goes on past it; ``STOP`` ends the
            fold at the first problem, leaving ``state`` after the last sound entry.
        on_applied: called with each entry the rules accepted, in order.
        pool: a worker pool to use (and leave running) instead of starting one.
        checked: the per-row verdicts of ``rows``, already asked of a pool with
            :func:`check_batch` (for a log of one batch, so that many small logs are checked
            in parallel); ``rows`` must then be that one batch.
    """
    report = VerifyReport(project=slug)
    wanted = set(remember_positions)
    state = state if state is not None else rules.new_state(slug)
    report.entries, report.head, report.status = state.seq, state.head, state.status
    keys: dict[str, str] = seed_keys(state)
    count = workers or default_workers()
    own_pool = pool is None and count > 1
    if own_pool:
        pool = ProcessPoolExecutor(count)
    in_flight: deque[tuple[Future[list[Verdict]], list[Row], list[Prechecked] | None]] = deque()
    done = 0

    def fold_oldest() -> None:
        nonlocal done
        future, batch, prechecked = in_flight.popleft()
        for row, (verdict, data) in zip(batch, _verdicts(future.result(), prechecked), strict=True):
            before = len(report.problems) + report.more_problems
            item = _fold(state, row, verdict, report, wanted, strict=policy == STOP, data=data)
            if item is not None and on_applied is not None:
                on_applied(item)
            if policy == STOP and len(report.problems) + report.more_problems > before:
                raise StopFold
        done += len(batch)
        if progress is not None:
            progress(done)

    try:
        for batch in _batches(rows):
            prechecked: list[Prechecked] | None = None
            if checked is not None:
                future, checked = checked, None
            else:
                # Parsed once, here: the data goes on to the rules, the workers get only the
                # signatures of the rows that passed every other check.
                known = dict(keys)
                prechecked = [_precheck(r.text, known) for r in batch]
                jobs = [
                    (r.text, r.sig, key, line)
                    for r, (_, verdict, key, line) in zip(batch, prechecked, strict=True)
                    if verdict is None
                ]
                if pool is not None and count > 1:
                    future = pool.submit(check_signatures, jobs)
                else:
                    future = Future()
                    future.set_result(check_signatures(jobs))
            for row in batch:  # keys introduced here, for the batches after this one
                text = row.text
                if '"public_key"' in text or '"replacement"' in text:
                    _learn_text_keys(text, keys)
            in_flight.append((future, batch, prechecked))
            while len(in_flight) > count + 1:
                fold_oldest()
        while in_flight:
            fold_oldest()
    except StopFold:
        for future, _, _ in in_flight:
            future.cancel()
    finally:
        if own_pool and pool is not None:
            pool.shutdown(cancel_futures=True)
    report.entries = state.seq
    report.head = state.head
    report.status = state.status
    report.problems.sort(key=lambda p: (p.seq is None, p.seq or 0))
    return report


def _verdicts(
    results: list[Verdict], prechecked: list[Prechecked] | None
) -> list[tuple[Verdict, dict[str, Any] | None]]:
    """Each row's verdict, and its data when the main process parsed it already.

    ``results`` are the rows' own verdicts (from :func:`check_batch`) when ``prechecked`` is
    None, else the signature verdicts of the rows that passed their prechecks, in order.
    """
    if prechecked is None:
        return [(verdict, None) for verdict in results]
    signatures = iter(results)
    return [
        (verdict if verdict is not None else next(signatures), data)
        for data, verdict, _, _ in prechecked
    ]


def _well_formed(data: dict[str, Any]) -> bool:
    try:
        check_entry(data)
    except VerificationError:
        return False
    return True


def _learn_text_keys(text: str, keys: dict[str, str]) -> None:
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return
    if isinstance(data, dict):
        _learn_keys(data, keys)


def _fold(
    state: rules.ProjectState,
    row: Row,
    verdict: Verdict,
    report: VerifyReport,
    wanted: set[int],
    *,
    strict: bool = False,
    data: dict[str, Any] | None = None,
) -> SignedEntry | None:
    """Apply one row to the stateful rules, given the verdict on the row itself.

    ``data`` is the row's text already parsed (None: parse it here). Returns the entry when
    the rules accepted it, None when the row was reported.
    """
    expected = state.seq + 1
    kind, cause = verdict
    if row.damage is not None:
        seq = row.position if row.position is not None else expected
        report.add(Problem(seq=seq, kind=row.damage_kind, cause=row.damage))
        unsafe_advance(state, max(seq, expected), "", "damaged")
        return None
    try:
        data = parse_text(row.text) if data is None else data
    except VerificationError:
        report.add(
            Problem(seq=expected, kind=kind or "canonical", cause=cause or "entry cannot be read")
        )
        # Its hash is unknown unless the stored one is intact; "" makes the next row's
        # ``prev`` be taken on its word instead of reported against a hash nobody knows.
        intact = len(row.hash) == 64
        unsafe_advance(state, expected, row.hash if intact else "", "damaged")
        return None
    try:
        digest = entry_mod.row_hash(row.text, row.sig)  # as load() computes it
    except LedgerError:
        digest = row.hash  # no signature bytes to hash; the worker reports the signature
    seq = data["seq"] if isinstance(data.get("seq"), int) and data["seq"] > 0 else expected
    if row.position is not None and row.position != seq:
        report.add(
            Problem(
                seq=seq,
                kind="chain",
                cause=f"stored at position {row.position} but signed as seq {seq}",
            )
        )
    if digest != row.hash:
        report.add(
            Problem(seq=seq, kind="hash", cause="stored hash does not match the entry bytes")
        )
        # Follow the chain as stored, so only the altered entry is reported, not the next.
        digest = row.hash
    if seq < expected:  # never move the chain backwards
        report.add(
            Problem(
                seq=seq,
                kind="chain",
                cause=f"seq {seq} comes again after seq {expected - 1} "
                "(out of order or duplicated)",
            )
        )
        return None
    if seq > expected:
        missing = f"seq {expected}" if seq == expected + 1 else f"seqs {expected}-{seq - 1}"
        report.add(
            Problem(
                seq=expected,
                kind="chain",
                cause=f"{missing} missing here (deleted or out of order)",
            )
        )
        # The predecessor is not here to check ``prev`` against: take the entry's word for it.
        prev = data.get("prev")
        unsafe_advance(state, seq - 1, prev if isinstance(prev, str) else state.head, None)
    if state.head == "" and isinstance(data.get("prev"), str):
        state.head = data["prev"]  # the row before was damaged beyond reading
    if seq in wanted:
        report.hashes_at[seq] = digest
    if kind is not None:
        report.add(Problem(seq=seq, kind=kind, cause=cause or kind))
        if strict or kind == "format" or (kind == "canonical" and not _well_formed(data)):
            # The rules cannot read it (or the fold stops here): skip past it.
            unsafe_advance(state, seq, digest, f"refused {data.get('type', 'unreadable')}")
            return None
    item = SignedEntry(text=row.text, sig=row.sig, hash=digest, data=data)
    try:
        rules.apply(state, item, unsafe_skip_signature=True, unsafe_skip_format=True)
    except LedgerError as exc:
        if isinstance(exc, KeyNotValidError):
            problem_kind = "key"
        elif isinstance(exc, VerificationError):
            problem_kind = "chain"
        else:
            problem_kind = "rule"
        report.add(Problem(seq=seq, kind=problem_kind, cause=exc.message))
        unsafe_advance(state, seq, digest, f"refused {data.get('type', 'unreadable')}")
        return None
    return item
