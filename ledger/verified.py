"""The verified state: what this party has verified of each project, kept in its own home.

Per ledger (one SQLite file under ``ACCORD_HOME/verified/``, mode 0600 in a 0700 directory)
and per project it keeps the seq and hash of the last entry this party verified, the rules
state after it, and an index of the verified log (type, claimed time and hash per seq).
It is never kept in the shared store, where anyone with write access could forge it, and
it is plain data (JSON per item, a schema version), never pickle.

The rules state is loaded lazily: the small part (terms, members, policies, close
signatures, open disputes) at once, pledges, decisions, statements and disputes on first
use, so a command costs its own work plus the entries appended since, whatever the length
of the history. A missing, damaged or outdated file is rebuilt by a full verification
by the caller; this module only says that it is unusable (:class:`DamagedStateError`).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sqlite3
from collections.abc import Callable, Iterable, Iterator, MutableMapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Generic, TypeVar

from ledger import rules
from ledger.errors import LedgerError, StorageUnavailableError
from ledger.format import DECIMAL_RE
from ledger.keys import accord_home
from ledger.numbers import MAX_FRACTION_DIGITS, MAX_WHOLE_DIGITS, decimal_text, number_excess

SCHEMA_VERSION = 6  # 6: summaries say '1 hour' (the index keeps summaries)
AUTOLOAD_AFTER = 4096  # point misses after which a lazy map loads everything at once
MAX_SEQ = 2**53 - 1  # the largest seq format v1 allows
V = TypeVar("V")


class DamagedStateError(LedgerError):
    """The verified state file cannot be used (damaged, or written by another version).

    ``slug`` names the project whose state is damaged when the file itself is sound.
    """

    def __init__(self, message: str, *, slug: str | None = None) -> None:
        super().__init__(message)
        self.slug = slug


@dataclass(frozen=True)
class VerifiedHead:
    """What this home has verified of one project (or bundle)."""

    source: str
    project: str
    seq: int
    head: str
    verified_at: str


@dataclass(frozen=True)
class LogEntry:
    """One verified entry in the index: type, claimed time, hash, signer and summary."""

    seq: int
    type: str
    at: str
    hash: str
    by: str = ""
    summary: str = ""
    signer: str = ""  # the label of the signer (person) of the party that signed it


# --- lazy maps --------------------------------------------------------------------------------


class LazyMap(MutableMapping[int, V], Generic[V]):
    """A seq-keyed map loaded from the state file on first use, written back on save.

    The rules reach every item they change by its key (``map[seq]`` or ``map.get(seq)``)
    and change it in place, so the items reached by key, and those set, are written back
    on save; items only iterated over (by the read views) are not.
    """

    def __init__(
        self,
        load_one: Callable[[int], V | None],
        load_all: Callable[[], Iterable[tuple[int, V]]],
    ) -> None:
        self._one = load_one
        self._all = load_all
        self._cache: dict[int, V] = {}
        self._absent: set[int] = set()
        self._complete = False
        self._misses = 0
        self._touched: set[int] = set()

    def _load_everything(self) -> None:
        if self._complete:
            return
        for key, value in self._all():
            self._cache.setdefault(key, value)
        self._absent.clear()
        self._complete = True

    def __getitem__(self, key: int) -> V:
        if key in self._cache:
            self._touched.add(key)
            return self._cache[key]
        if self._complete or key in self._absent or not isinstance(key, int):
            raise KeyError(key)
        if not 0 < key <= MAX_SEQ:  # no such seq, and SQLite could not even bind it
            raise KeyError(key)
        self._misses += 1
        if self._misses > AUTOLOAD_AFTER:
            self._load_everything()
            self._touched.add(key)
            return self._cache[key]
        value = self._one(key)
        if value is None:
            self._absent.add(key)
            raise KeyError(key)
        self._cache[key] = value
        self._touched.add(key)
        return value

    def __setitem__(self, key: int, value: V) -> None:
        self._cache[key] = value
        self._absent.discard(key)
        self._touched.add(key)

    def __delitem__(self, key: int) -> None:
        raise TypeError("the rules never forget an item")

    def __iter__(self) -> Iterator[int]:
        self._load_everything()
        return iter(sorted(self._cache))

    def __len__(self) -> int:
        self._load_everything()
        return len(self._cache)

    def touched(self) -> dict[int, V]:
        """The items reached by key or set (to write back)."""
        return {key: self._cache[key] for key in self._touched if key in self._cache}


# --- (de)serialisation ------------------------------------------------------------------------


def _member_out(m: rules.Member) -> dict[str, Any]:
    return {
        "handle": m.handle,
        "pinned": m.pinned,
        "status": m.status,
        "joined_seq": m.joined_seq,
        "keys": list(m.keys),
        "invite": m.invite,
        "signers": [[s.label, s.key, s.public_key, s.since_seq] for s in m.signers.values()],
    }


def _member_in(d: dict[str, Any]) -> rules.Member:
    signers = [
        rules.SignerSeat(_s(label), _s(key), _s(line), _i(since))
        for label, key, line, since in _list(d["signers"])
    ]
    return rules.Member(
        handle=_s(d["handle"]),
        pinned=_opt_s(d["pinned"]),
        status=_s(d["status"]),
        joined_seq=_opt_i(d["joined_seq"]),
        keys=[_s(k) for k in _list(d["keys"])],
        invite=_opt_s(d["invite"]),
        signers={s.label: s for s in signers},
    )


def pledge_out(p: rules.Pledge) -> dict[str, Any]:
    """JSON-ready form of a pledge."""
    return {
        "seq": p.seq,
        "by": p.by,
        "title": p.title,
        "weight": decimal_text(p.weight),
        "unit": p.unit,
        "due": p.due,
        "beneficiaries": list(p.beneficiaries),
        "hash": p.hash,
        "status": p.status,
        "pending_amendment": p.pending_amendment,
        "amendments": list(p.amendments),
        "deliverables": list(p.deliverables),
        "withdrawn_seq": p.withdrawn_seq,
        "pending": decimal_text(p.pending),
        "approved": decimal_text(p.approved),
        "accepted": [[seq, decimal_text(q)] for seq, q in p.accepted],
        "disputed": decimal_text(p.disputed),
        "pending_close": p.pending_close,
        "short_closes": list(p.short_closes),
        "closed_short_seq": p.closed_short_seq,
    }


def pledge_in(d: dict[str, Any]) -> rules.Pledge:
    """A pledge from its JSON form."""
    return rules.Pledge(
        seq=_i(d["seq"]),
        by=_s(d["by"]),
        title=_s(d["title"]),
        weight=_decimal(d["weight"]),
        unit=_s(d["unit"]),
        due=_s(d["due"]),
        beneficiaries=tuple(_s(h) for h in _list(d["beneficiaries"])),
        hash=_s(d["hash"]),
        status=_s(d["status"]),
        pending_amendment=_opt_i(d["pending_amendment"]),
        amendments=[_i(x) for x in _list(d["amendments"])],
        deliverables=[_i(x) for x in _list(d["deliverables"])],
        withdrawn_seq=_opt_i(d["withdrawn_seq"]),
        pending=_quantity(d["pending"]),
        approved=_quantity(d["approved"]),
        accepted=[(_i(seq), _decimal(q)) for seq, q in _list(d["accepted"])],
        disputed=_quantity(d["disputed"]),
        pending_close=_opt_i(d["pending_close"]),
        short_closes=[_i(x) for x in _list(d["short_closes"])],
        closed_short_seq=_opt_i(d["closed_short_seq"]),
    )


def decision_out(x: rules.Decision) -> dict[str, Any]:
    """JSON-ready form of a deliverable or an amendment."""
    data: dict[str, Any] = {
        "seq": x.seq,
        "kind": x.kind,
        "pledge": x.pledge,
        "by": x.by,
        "hash": x.hash,
        "status": x.status,
        "approvals": dict(x.approvals),
        "refusal": list(x.refusal) if x.refusal else None,
        "decided_seq": x.decided_seq,
    }
    if isinstance(x, rules.Deliverable):
        data["summary"] = x.summary
        data["quantity"] = decimal_text(x.quantity)
        data["evidence"] = [list(e) for e in x.evidence]
        data["dispute"] = x.dispute
        data["disputes"] = list(x.disputes)
    elif isinstance(x, rules.Amendment):
        data["changes"] = dict(x.changes)
        data["reason"] = x.reason
    elif isinstance(x, rules.ShortClose):
        data["reason"] = x.reason
    return data


def decision_in(d: dict[str, Any]) -> rules.Decision:
    """A deliverable or amendment from its JSON form."""
    refusal = d["refusal"]
    common: dict[str, Any] = {
        "seq": _i(d["seq"]),
        "kind": _s(d["kind"]),
        "pledge": _i(d["pledge"]),
        "by": _s(d["by"]),
        "hash": _s(d["hash"]),
        "status": _s(d["status"]),
        "approvals": {_s(k): _i(v) for k, v in _dict(d["approvals"]).items()},
        "refusal": _refusal(refusal),
        "decided_seq": _opt_i(d["decided_seq"]),
    }
    if common["kind"] == "deliverable":
        return rules.Deliverable(
            **common,
            summary=_s(d["summary"]),
            quantity=_decimal(d["quantity"]),
            evidence=tuple((_s(n), _s(h), _i(z)) for n, h, z in _list(d["evidence"])),
            dispute=_opt_i(d["dispute"]),
            disputes=[_i(x) for x in _list(d["disputes"])],
        )
    if common["kind"] == "amendment":
        return rules.Amendment(
            **common,
            changes={_s(k): _s(v) for k, v in _dict(d["changes"]).items()},
            reason=_s(d["reason"]),
        )
    if common["kind"] == "close-short":
        return rules.ShortClose(**common, reason=_s(d["reason"]))
    raise ValueError(f"unknown decision kind {common['kind']!r}")


def dispute_out(x: rules.Dispute) -> dict[str, Any]:
    """JSON-ready form of a dispute."""
    return {
        "seq": x.seq,
        "by": x.by,
        "target": x.target,
        "deliverable": x.deliverable,
        "pledge": x.pledge,
        "about": x.about,
        "reason": x.reason,
        "parties": list(x.parties),
        "votes": {party: [outcome, seq] for party, (outcome, seq) in x.votes.items()},
        "status": x.status,
        "resolved_seq": x.resolved_seq,
    }


def dispute_in(d: dict[str, Any]) -> rules.Dispute:
    """A dispute from its JSON form."""
    return rules.Dispute(
        seq=_i(d["seq"]),
        by=_s(d["by"]),
        target=_i(d["target"]),
        deliverable=_i(d["deliverable"]),
        pledge=_i(d["pledge"]),
        about=_s(d["about"]),
        reason=_s(d["reason"]),
        parties=tuple(_s(p) for p in _list(d["parties"])),
        votes={_s(k): (_s(v[0]), _i(v[1])) for k, v in _dict(d["votes"]).items()},
        status=_s(d["status"]),
        resolved_seq=_opt_i(d["resolved_seq"]),
    )


def statement_out(s: rules.Statement) -> dict[str, Any]:
    """JSON-ready form of a statement."""
    return {
        "seq": s.seq,
        "by": s.by,
        "title": s.title,
        "texts": list(s.texts),
        "revisions": list(s.revisions),
        "signatures": dict(s.signatures),
    }


def statement_in(d: dict[str, Any]) -> rules.Statement:
    """A statement from its JSON form."""
    return rules.Statement(
        seq=_i(d["seq"]),
        by=_s(d["by"]),
        title=_s(d["title"]),
        texts=[_s(t) for t in _list(d["texts"])],
        revisions=[_i(x) for x in _list(d["revisions"])],
        signatures={_s(k): _i(v) for k, v in _dict(d["signatures"]).items()},
    )


CORE_FIELDS = (
    "seq", "head", "status", "title", "purpose", "proposer", "approval", "close_policy",
    "terms", "final_head", "final_head_seq", "closed_seq", "cancelled_seq",
)  # fmt: skip


def core_out(state: rules.ProjectState) -> dict[str, Any]:
    """The small part of a state, loaded at once."""
    data = {name: getattr(state, name) for name in CORE_FIELDS}
    data["members"] = [_member_out(m) for m in state.members.values()]
    data["revoked"] = dict(state.revoked)
    data["removed"] = dict(state.removed)
    data["labels"] = dict(state.labels)
    data["close_signatures"] = dict(state.close_signatures)
    data["units"] = dict(state.units)
    data["values"] = [value_out(v) for v in state.values.values()]
    data["open_disputes"] = {str(k): v for k, v in state.open_disputes.items()}
    return data


def core_in(slug: str, d: dict[str, Any], state: rules.ProjectState) -> None:
    """Fill ``state`` with the small part read back."""
    state.slug = slug
    state.seq, state.head = _i(d["seq"]), _s(d["head"])
    state.status, state.title, state.purpose = _s(d["status"]), _s(d["title"]), _s(d["purpose"])
    state.proposer, state.approval = _s(d["proposer"]), _s(d["approval"])
    state.close_policy, state.terms = _s(d["close_policy"]), _s(d["terms"])
    state.final_head, state.final_head_seq = _s(d["final_head"]), _i(d["final_head_seq"])
    state.closed_seq = _opt_i(d["closed_seq"])
    state.cancelled_seq = _opt_i(d.get("cancelled_seq"))  # absent before project.cancelled
    state.members = {m.handle: m for m in (_member_in(x) for x in _list(d["members"]))}
    state.revoked = {_s(k): _i(v) for k, v in _dict(d["revoked"]).items()}
    state.removed = {_s(k): _i(v) for k, v in _dict(d["removed"]).items()}
    state.labels = {_s(k): _s(v) for k, v in _dict(d["labels"]).items()}
    state.close_signatures = {_s(k): _i(v) for k, v in _dict(d["close_signatures"]).items()}
    state.units = {_s(k): _s(v) for k, v in _dict(d["units"]).items()}
    state.values = {v.seq: v for v in (value_in(x) for x in _list(d["values"]))}
    state.open_disputes = {int(_s(k)): _i(v) for k, v in _dict(d["open_disputes"]).items()}


def value_out(v: rules.ValueProposal) -> dict[str, Any]:
    """JSON-ready form of a value proposal."""
    return {
        "seq": v.seq,
        "by": v.by,
        "hash": v.hash,
        "unit": v.unit,
        "worth": decimal_text(v.worth),
        "reference": v.reference,
        "reason": v.reason,
        "status": v.status,
        "approvals": dict(v.approvals),
        "refusal": list(v.refusal) if v.refusal else None,
        "decided_seq": v.decided_seq,
        "replaced_seq": v.replaced_seq,
    }


def value_in(d: dict[str, Any]) -> rules.ValueProposal:
    """A value proposal from its JSON form."""
    refusal = d["refusal"]
    return rules.ValueProposal(
        seq=_i(d["seq"]),
        by=_s(d["by"]),
        hash=_s(d["hash"]),
        unit=_s(d["unit"]),
        worth=_decimal(d["worth"]),
        reference=_s(d["reference"]),
        reason=_s(d["reason"]),
        status=_s(d["status"]),
        approvals={_s(k): _i(v) for k, v in _dict(d["approvals"]).items()},
        refusal=_refusal(refusal),
        decided_seq=_opt_i(d["decided_seq"]),
        replaced_seq=_opt_i(d["replaced_seq"]),
    )


def _s(v: Any) -> str:
    if not isinstance(v, str):
        raise TypeError("expected text")
    return v


def _decimal(v: Any) -> Decimal:
    """A number of an entry (weight, quantity, worth), canonical and within the bound.

    Raises:
        ValueError: anything else (the item is damaged).
    """
    if not (isinstance(v, str) and DECIMAL_RE.fullmatch(v)) or number_excess(v) is not None:
        raise ValueError("expected a decimal")
    return Decimal(v)


def _quantity(v: Any) -> Decimal:
    """A stored total: the text of a finite decimal >= 0 (ValueError for anything else).

    Totals are written in canonical plain form (:func:`ledger.format.decimal_text`); files
    of earlier versions wrote ``str(Decimal)``, so exponents and trailing zeros are read
    too. A total is a sum of at most 2^53 bounded numbers: more than
    :data:`~ledger.format.MAX_FRACTION_DIGITS` decimals, 16 digits more than a number has
    before the point, NaN, an infinity or a negative is damage.
    """
    try:
        number = Decimal(_s(v))
    except ArithmeticError:
        raise ValueError("expected a number") from None
    if not number.is_finite() or number < 0:
        raise ValueError("expected a finite number >= 0")
    exponent = number.as_tuple().exponent
    if not isinstance(exponent, int) or exponent < -MAX_FRACTION_DIGITS:
        raise ValueError("expected a total with at most the decimals of format v1")
    if number.adjusted() >= MAX_WHOLE_DIGITS + 16:
        raise ValueError("expected a total within the bound of format v1")
    return number


def _refusal(v: Any) -> tuple[str, int, str] | None:
    """A stored refusal (party, seq, reason), or None; anything else is damage."""
    if not v:
        return None
    if not isinstance(v, list) or len(v) != 3:
        raise ValueError("expected a refusal of three items")
    return _s(v[0]), _i(v[1]), _s(v[2])


def _opt_s(v: Any) -> str | None:
    return None if v is None else _s(v)


def _i(v: Any) -> int:
    if not isinstance(v, int) or isinstance(v, bool):
        raise TypeError("expected an integer")
    return v


def _opt_i(v: Any) -> int | None:
    return None if v is None else _i(v)


def _list(v: Any) -> list[Any]:
    if not isinstance(v, list):
        raise TypeError("expected a list")
    return v


def _dict(v: Any) -> dict[str, Any]:
    if not isinstance(v, dict):
        raise TypeError("expected an object")
    return v


# --- the file ---------------------------------------------------------------------------------

ITEM_KINDS: dict[str, tuple[Callable[[Any], dict[str, Any]], Callable[[dict[str, Any]], Any]]] = {
    "pledge": (pledge_out, pledge_in),
    "decision": (decision_out, decision_in),
    "statement": (statement_out, statement_in),
    "dispute": (dispute_out, dispute_in),
}

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS projects (slug TEXT PRIMARY KEY, seq INTEGER NOT NULL, "
    "head TEXT NOT NULL, core TEXT, verified_at TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS log (slug TEXT NOT NULL, seq INTEGER NOT NULL, "
    "type TEXT NOT NULL, at TEXT NOT NULL, hash TEXT NOT NULL, by TEXT NOT NULL, "
    "summary TEXT NOT NULL, signer TEXT NOT NULL, PRIMARY KEY (slug, seq)) WITHOUT ROWID",
    "CREATE TABLE IF NOT EXISTS items (slug TEXT NOT NULL, kind TEXT NOT NULL, "
    "seq INTEGER NOT NULL, data TEXT NOT NULL, PRIMARY KEY (slug, kind, seq)) WITHOUT ROWID",
)


def source_path(source: str, home: Path | None = None) -> Path:
    """The state file of the ledger (or bundle source) ``source`` under the home."""
    digest = hashlib.sha256(source.encode("utf-8")).hexdigest()[:24]
    return (home or accord_home()) / "verified" / f"{digest}.sqlite3"


class VerifiedStore:
    """One ledger's verified state in this party's home."""

    def __init__(self, source: str, *, home: Path | None = None, memory: bool = False) -> None:
        self.source = source
        self.path = None if memory else source_path(source, home)
        self._conn: sqlite3.Connection | None = None
        self._closed = False

    # connection ---------------------------------------------------------------------------

    def _db(self) -> sqlite3.Connection:
        if self._conn is not None:
            return self._conn
        if self._closed and self.path is None:
            raise StorageUnavailableError("the in-memory verified state was closed with its ledger")
        try:
            if self.path is None:
                conn = sqlite3.connect(":memory:", isolation_level=None)
            else:
                self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
                with contextlib.suppress(OSError):
                    os.chmod(self.path.parent, 0o700)
                if not self.path.exists():
                    fd = os.open(self.path, os.O_CREAT | os.O_WRONLY | os.O_EXCL, 0o600)
                    os.close(fd)
                conn = sqlite3.connect(self.path, isolation_level=None, timeout=30)
            conn.execute("PRAGMA journal_mode=WAL" if self.path else "PRAGMA journal_mode=MEMORY")
            conn.execute("PRAGMA synchronous=NORMAL")
            for statement in _SCHEMA:
                conn.execute(statement)
            row = conn.execute("SELECT value FROM meta WHERE key='version'").fetchone()
            if row is None:
                conn.execute(
                    "INSERT OR IGNORE INTO meta VALUES ('version', ?), ('source', ?)",
                    (str(SCHEMA_VERSION), self.source),
                )
            elif row[0] != str(SCHEMA_VERSION):
                conn.close()
                raise DamagedStateError(
                    f"the verified state file {self.path} was written by another version "
                    f"(schema {row[0]})"
                )
        except sqlite3.DatabaseError as exc:
            raise DamagedStateError(
                f"the verified state file {self.path} is damaged: {exc}"
            ) from None
        except OSError as exc:
            raise StorageUnavailableError(
                f"cannot keep the verified state under {self.path}: {exc.strerror}",
                hint="set ACCORD_HOME to a writable directory",
            ) from None
        self._conn = conn
        return conn

    def close(self) -> None:
        """Close the file (an in-memory state is then gone)."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        self._closed = True

    def reset_file(self) -> None:
        """Remove a damaged file so that it can be rebuilt (after a full verification)."""
        self.close()
        self._closed = False
        if self.path is not None:
            for suffix in ("", "-wal", "-shm"):
                with contextlib.suppress(FileNotFoundError):
                    Path(str(self.path) + suffix).unlink()

    # reading ------------------------------------------------------------------------------

    def head(self, slug: str) -> VerifiedHead | None:
        """What was verified of ``slug`` (None: nothing yet).

        Raises:
            DamagedStateError: the file cannot be read.
        """
        try:
            row = (
                self._db()
                .execute("SELECT seq, head, verified_at FROM projects WHERE slug=?", (slug,))
                .fetchone()
            )
        except sqlite3.DatabaseError as exc:
            raise DamagedStateError(f"the verified state file is damaged: {exc}") from None
        if row is None:
            return None
        if not (isinstance(row[0], int) and isinstance(row[1], str)):
            raise DamagedStateError(f"the verified head of {slug!r} is damaged")
        return VerifiedHead(self.source, slug, row[0], row[1], str(row[2]))

    def heads(self) -> list[VerifiedHead]:
        """Every project (or bundle) this home has verified in this source.

        Raises:
            DamagedStateError: the file cannot be read.
        """
        try:
            rows = (
                self._db()
                .execute("SELECT slug, seq, head, verified_at FROM projects ORDER BY slug")
                .fetchall()
            )
        except sqlite3.DatabaseError as exc:
            raise DamagedStateError(f"the verified state file is damaged: {exc}") from None
        return [VerifiedHead(self.source, r[0], r[1], r[2], r[3]) for r in rows]

    def load(self, slug: str) -> rules.ProjectState | None:
        """The verified rules state of ``slug``, lazily loaded (None: nothing verified).

        Raises:
            DamagedStateError: the state cannot be read back.
        """
        db = self._db()
        try:
            row = db.execute(
                "SELECT seq, head, core FROM projects WHERE slug=?", (slug,)
            ).fetchone()
            if row is None:
                return None
            if row[2] is None:
                raise DamagedStateError(f"only the head of {slug!r} is verified here")
            state = rules.new_state(slug)
            core = json.loads(row[2])
            core_in(slug, core, state)
            if state.seq != row[0] or state.head != row[1]:
                raise DamagedStateError(f"the verified state of {slug!r} contradicts its head")
        except (sqlite3.DatabaseError, ValueError, KeyError, TypeError, IndexError) as exc:
            raise DamagedStateError(f"the verified state of {slug!r} is damaged: {exc}") from None
        state.pledges = self._lazy(slug, "pledge")
        state.decisions = self._lazy(slug, "decision")
        state.statements = self._lazy(slug, "statement")
        state.disputes = self._lazy(slug, "dispute")
        state.types = LazyMap(
            lambda seq: self._log_value(slug, seq, "type"),
            lambda: self._log_all(slug, "type"),
        )
        return state

    def _lazy(self, slug: str, kind: str) -> LazyMap[Any]:
        decode = ITEM_KINDS[kind][1]

        def one(seq: int) -> Any:
            row = self._read(
                "SELECT data FROM items WHERE slug=? AND kind=? AND seq=?", (slug, kind, seq)
            )
            return self._decode(decode, row[0][0], slug) if row else None

        def everything() -> Iterator[tuple[int, Any]]:
            rows = self._read(
                "SELECT seq, data FROM items WHERE slug=? AND kind=? ORDER BY seq", (slug, kind)
            )
            for seq, data in rows:
                yield seq, self._decode(decode, data, slug)

        return LazyMap(one, everything)

    def _read(self, statement: str, params: tuple[Any, ...]) -> list[Any]:
        try:
            return self._db().execute(statement, params).fetchall()
        except sqlite3.DatabaseError as exc:
            raise DamagedStateError(f"the verified state file is damaged: {exc}") from None

    @staticmethod
    def _decode(decode: Callable[[dict[str, Any]], Any], text: Any, slug: str) -> Any:
        try:
            return decode(json.loads(text))
        except (ValueError, KeyError, TypeError, IndexError) as exc:
            raise DamagedStateError(
                f"an item of the verified state is damaged: {exc}", slug=slug
            ) from None

    def keep_only_head(self, slug: str) -> None:
        """Drop ``slug``'s damaged state but keep its verified head (to check the rebuild).

        Raises:
            DamagedStateError: the file itself cannot be written.
        """
        db = self._db()
        try:
            db.execute("BEGIN IMMEDIATE")
            db.execute("UPDATE projects SET core = NULL WHERE slug=?", (slug,))
            db.execute("DELETE FROM items WHERE slug=?", (slug,))
            db.execute("DELETE FROM log WHERE slug=?", (slug,))
            db.execute("COMMIT")
        except sqlite3.DatabaseError as exc:
            raise DamagedStateError(f"the verified state file is damaged: {exc}") from None

    def _log_value(self, slug: str, seq: int, column: str) -> Any:
        rows = self._read(
            f"SELECT {column} FROM log WHERE slug=? AND seq=?",  # noqa: S608 - fixed names
            (slug, seq),
        )
        return rows[0][0] if rows else None

    def _log_all(self, slug: str, column: str) -> Iterator[tuple[int, Any]]:
        yield from self._read(
            f"SELECT seq, {column} FROM log WHERE slug=? ORDER BY seq",  # noqa: S608
            (slug,),
        )

    def log_entry(self, slug: str, seq: int) -> LogEntry | None:
        """The verified index entry at ``seq`` (None when not verified)."""
        rows = self._read(
            "SELECT type, at, hash, by, summary, signer FROM log WHERE slug=? AND seq=?",
            (slug, seq),
        )
        return LogEntry(seq, *rows[0]) if rows else None

    def timeline(self, slug: str, *, upto: int, after: int = 0) -> Iterator[LogEntry]:
        """The verified log index ``after``+1..``upto`` in seq order, a page at a time."""
        last = after
        while True:
            rows = self._read(
                "SELECT seq, type, at, hash, by, summary, signer FROM log WHERE slug=? AND seq>? "
                "AND seq<=? ORDER BY seq LIMIT 5000",
                (slug, last, upto),
            )
            for row in rows:
                yield LogEntry(*row)
            if len(rows) < 5000:
                return
            last = rows[-1][0]

    def log_hashes(self, slug: str, *, upto: int, after: int = 0) -> Iterator[tuple[int, str]]:
        """The verified hashes of seqs ``after``+1..``upto`` in order, a page at a time."""
        last = after
        while True:
            rows = self._read(
                "SELECT seq, hash FROM log WHERE slug=? AND seq>? AND seq<=? ORDER BY seq "
                "LIMIT 5000",
                (slug, last, upto),
            )
            yield from rows
            if len(rows) < 5000:
                return
            last = rows[-1][0]

    def claimed_times(self, slug: str, *, upto: int) -> dict[int, str]:
        """The claimed time of each verified entry 1..``upto``, by seq."""
        rows = self._read("SELECT seq, at FROM log WHERE slug=? AND seq<=?", (slug, upto))
        return dict(rows)

    def signer_labels(self, slug: str, *, upto: int) -> dict[int, str]:
        """The label of the signer of each verified entry 1..``upto``, by seq."""
        rows = self._read("SELECT seq, signer FROM log WHERE slug=? AND seq<=?", (slug, upto))
        return dict(rows)

    def cut_after_day(self, slug: str, day: str) -> int:
        """The number of entries before the first one claimed after ``day`` (YYYY-MM-DD)."""
        rows = self._read(
            "SELECT MIN(seq) FROM log WHERE slug=? AND substr(at, 1, 10) > ?", (slug, day)
        )
        first_after = rows[0][0] if rows and rows[0][0] is not None else None
        if first_after is None:
            head = self.head(slug)
            return head.seq if head else 0
        return int(first_after) - 1

    # writing ------------------------------------------------------------------------------

    def save(
        self,
        state: rules.ProjectState,
        *,
        base_seq: int,
        log: Iterable[LogEntry],
        everything: bool = False,
    ) -> bool:
        """Record ``state`` as verified, if nobody advanced the file past ``base_seq`` since.

        ``log`` holds the index entries for seqs after ``base_seq``. With ``everything`` the
        project's items are replaced by those in ``state`` (a full verification); otherwise
        the items loaded in ``state`` are written back. Returns False when another process
        had already recorded a different position (its record is kept; the next command
        starts from it).

        Raises:
            StorageUnavailableError: the file cannot be written.
        """
        db = self._db()
        slug = state.slug
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        try:
            db.execute("BEGIN IMMEDIATE")
            try:
                row = db.execute("SELECT seq, core FROM projects WHERE slug=?", (slug,)).fetchone()
                current = row[0] if row is not None and row[1] is not None else 0
                if current != base_seq and not everything:
                    db.execute("ROLLBACK")
                    return False
                if everything or row is None or row[1] is None:
                    db.execute("DELETE FROM items WHERE slug=?", (slug,))
                    db.execute("DELETE FROM log WHERE slug=?", (slug,))
                db.executemany(
                    "INSERT OR REPLACE INTO log VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    ((slug, e.seq, e.type, e.at, e.hash, e.by, e.summary, e.signer) for e in log),
                )
                for kind, items in (
                    ("pledge", state.pledges),
                    ("decision", state.decisions),
                    ("statement", state.statements),
                    ("dispute", state.disputes),
                ):
                    encode = ITEM_KINDS[kind][0]
                    values = items.touched() if isinstance(items, LazyMap) else items
                    db.executemany(
                        "INSERT OR REPLACE INTO items VALUES (?, ?, ?, ?)",
                        (
                            (slug, kind, seq, json.dumps(encode(item), separators=(",", ":")))
                            for seq, item in values.items()
                        ),
                    )
                db.execute(
                    "INSERT OR REPLACE INTO projects VALUES (?, ?, ?, ?, ?)",
                    (slug, state.seq, state.head, json.dumps(core_out(state)), now),
                )
                db.execute("COMMIT")
            except BaseException:
                with contextlib.suppress(sqlite3.Error):
                    db.execute("ROLLBACK")
                raise
        except sqlite3.DatabaseError as exc:
            raise StorageUnavailableError(
                f"cannot record the verified state in {self.path}: {exc}",
                hint="check ACCORD_HOME; `accord state forget` starts again from scratch",
            ) from None
        return True

    def save_head(self, slug: str, seq: int, head: str) -> None:
        """Remember only a verified head (bundles: there is no store to read state from).

        Raises:
            StorageUnavailableError: the file cannot be written.
        """
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        try:
            self._db().execute(
                "INSERT OR REPLACE INTO projects VALUES (?, ?, ?, NULL, ?)",
                (slug, seq, head, now),
            )
        except sqlite3.DatabaseError as exc:
            raise StorageUnavailableError(
                f"cannot record the verified head in {self.path}: {exc}"
            ) from None

    def forget(self, slug: str | None) -> int:
        """Forget what was verified of ``slug`` (None: every project); return how many.

        Raises:
            StorageUnavailableError: the file cannot be written.
        """
        db = self._db()
        where, params = ("WHERE slug=?", (slug,)) if slug is not None else ("", ())
        try:
            db.execute("BEGIN IMMEDIATE")
            count = db.execute(f"SELECT COUNT(*) FROM projects {where}", params).fetchone()[0]  # noqa: S608
            for table in ("projects", "log", "items"):
                db.execute(f"DELETE FROM {table} {where}", params)  # noqa: S608
            db.execute("COMMIT")
        except sqlite3.DatabaseError as exc:
            raise StorageUnavailableError(f"cannot change {self.path}: {exc}") from None
        return int(count)
