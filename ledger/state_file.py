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

Items and the small part are written and strictly read back by :mod:`ledger.codec`, driven
by the fields of the state dataclasses; the lazy maps are :class:`ledger.lazymap.LazyMap`.
Each item is flagged open or not (:mod:`ledger.open_items`), so that everyday reads decode
only what may still wait for someone.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from ledger import codec, open_items, rules, totals
from ledger.errors import LedgerError, StorageUnavailableError
from ledger.keys import accord_home
from ledger.lazymap import LazyMap

# 8: running totals per party and unit (ledger/totals.py); 7: items flagged open
# (ledger/open_items.py); 6: summaries say '1 hour'
SCHEMA_VERSION = 8
CHUNK = 500  # seqs per query when reading stored items by key


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


# --- the file ---------------------------------------------------------------------------------

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS projects (slug TEXT PRIMARY KEY, seq INTEGER NOT NULL, "
    "head TEXT NOT NULL, core TEXT, verified_at TEXT NOT NULL, totals INTEGER NOT NULL)",
    "CREATE TABLE IF NOT EXISTS log (slug TEXT NOT NULL, seq INTEGER NOT NULL, "
    "type TEXT NOT NULL, at TEXT NOT NULL, hash TEXT NOT NULL, by TEXT NOT NULL, "
    "summary TEXT NOT NULL, signer TEXT NOT NULL, PRIMARY KEY (slug, seq)) WITHOUT ROWID",
    "CREATE TABLE IF NOT EXISTS items (slug TEXT NOT NULL, kind TEXT NOT NULL, "
    "seq INTEGER NOT NULL, data TEXT NOT NULL, open INTEGER NOT NULL, "
    "PRIMARY KEY (slug, kind, seq)) WITHOUT ROWID",
    "CREATE INDEX IF NOT EXISTS open_items ON items (slug, kind, seq) WHERE open = 1",
    # Per project, party and unit: the sums over its pledges (ledger/totals.py), kept while
    # projects.totals is 1.
    "CREATE TABLE IF NOT EXISTS totals (slug TEXT NOT NULL, party TEXT NOT NULL, "
    "unit TEXT NOT NULL, data TEXT NOT NULL, PRIMARY KEY (slug, party, unit)) WITHOUT ROWID",
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
            codec.decode_core(slug, core, state)
            if state.seq != row[0] or state.head != row[1]:
                raise DamagedStateError(f"the verified state of {slug!r} contradicts its head")
        except (sqlite3.DatabaseError, ValueError, KeyError, TypeError, IndexError) as exc:
            raise DamagedStateError(f"the verified state of {slug!r} is damaged: {exc}") from None
        for kind, (attribute, cls) in codec.ITEMS.items():
            setattr(state, attribute, self._lazy(state, kind, attribute, cls))
        state.types = LazyMap(
            lambda seq: self._log_value(slug, seq, "type"),
            lambda: self._log_all(slug, "type"),
        )
        return state

    def _lazy(
        self, state: rules.ProjectState, kind: str, attribute: str, cls: type[Any]
    ) -> LazyMap[Any]:
        slug = state.slug

        def one(seq: int) -> Any:
            row = self._read(
                "SELECT data FROM items WHERE slug=? AND kind=? AND seq=?", (slug, kind, seq)
            )
            return self._decode(cls, row[0][0], slug) if row else None

        def everything() -> Iterator[tuple[int, Any]]:
            rows = self._read(
                "SELECT seq, data FROM items WHERE slug=? AND kind=? ORDER BY seq", (slug, kind)
            )
            for seq, data in rows:
                yield seq, self._decode(cls, data, slug)

        def keys() -> list[int]:
            rows = self._read(
                "SELECT seq FROM items WHERE slug=? AND kind=? ORDER BY seq", (slug, kind)
            )
            return [seq for (seq,) in rows]

        def open_keys() -> list[int]:
            rows = self._read(
                "SELECT seq FROM items WHERE slug=? AND kind=? AND open=1 ORDER BY seq",
                (slug, kind),
            )
            return [seq for (seq,) in rows]

        def still_open(item: Any) -> bool:
            return open_items.is_open(attribute, item, state)

        def many(seqs: list[int]) -> Iterator[tuple[int, Any]]:
            for start in range(0, len(seqs), CHUNK):
                part = seqs[start : start + CHUNK]
                marks = ",".join("?" * len(part))
                rows = self._read(
                    f"SELECT seq, data FROM items WHERE slug=? AND kind=? AND seq IN ({marks})",  # noqa: S608
                    (slug, kind, *part),
                )
                for seq, data in rows:
                    yield seq, self._decode(cls, data, slug)

        return LazyMap(one, everything, keys, (open_keys, still_open), many)

    def _read(self, statement: str, params: tuple[Any, ...]) -> list[Any]:
        try:
            return self._db().execute(statement, params).fetchall()
        except sqlite3.DatabaseError as exc:
            raise DamagedStateError(f"the verified state file is damaged: {exc}") from None

    @staticmethod
    def _decode(cls: type[Any], text: Any, slug: str) -> Any:
        try:
            return codec.decode(cls, json.loads(text))
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
            db.execute("DELETE FROM totals WHERE slug=?", (slug,))
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
                row = db.execute(
                    "SELECT seq, core, totals FROM projects WHERE slug=?", (slug,)
                ).fetchone()
                current = row[0] if row is not None and row[1] is not None else 0
                if current != base_seq and not everything:
                    db.execute("ROLLBACK")
                    return False
                whole = everything or row is None or row[1] is None
                if whole:
                    for table in ("items", "log", "totals"):
                        db.execute(f"DELETE FROM {table} WHERE slug=?", (slug,))  # noqa: S608
                log = list(log)
                db.executemany(
                    "INSERT OR REPLACE INTO log VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    ((slug, e.seq, e.type, e.at, e.hash, e.by, e.summary, e.signer) for e in log),
                )
                # Before the items are written back: the changed pledges as they were stored.
                kept = self._save_totals(
                    state,
                    whole=whole,
                    kept=whole or bool(row and row[2]),
                    times={e.seq: e.at for e in log},
                )
                for kind, (attribute, _) in codec.ITEMS.items():
                    items = getattr(state, attribute)
                    values = items.touched() if isinstance(items, LazyMap) else items
                    db.executemany(
                        "INSERT OR REPLACE INTO items VALUES (?, ?, ?, ?, ?)",
                        (
                            (
                                slug,
                                kind,
                                seq,
                                json.dumps(codec.encode(item), separators=(",", ":")),
                                int(open_items.is_open(attribute, item, state)),
                            )
                            for seq, item in values.items()
                        ),
                    )
                db.execute(
                    "INSERT OR REPLACE INTO projects VALUES (?, ?, ?, ?, ?, ?)",
                    (
                        slug,
                        state.seq,
                        state.head,
                        json.dumps(codec.encode_core(state)),
                        now,
                        int(kept),
                    ),
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

    def _save_totals(
        self, state: rules.ProjectState, *, whole: bool, kept: bool, times: dict[int, str]
    ) -> bool:
        """Bring the running totals of ``state``'s project up to date (inside :meth:`save`).

        ``whole``: every pledge of the project is in ``state`` (the totals are added up
        afresh); otherwise the pledges changed since they were stored (those reached by
        key) make the difference, read as they were stored before they are written back.
        ``kept``: the stored totals were up to date; ``times``: the claimed times of the
        entries being recorded (older ones are read from the log index). Returns whether
        they are now; a stored pledge or total that cannot be read back leaves them unknown
        (the reads then add up every pledge) until the next full verification.
        """
        db, slug = self._db(), state.slug

        def day_of(seq: int) -> date:
            if seq in times:
                return totals.claimed_day(times[seq])
            found = db.execute("SELECT at FROM log WHERE slug=? AND seq=?", (slug, seq)).fetchone()
            if found is None:
                raise ValueError(f"seq {seq} is not in the verified index")
            return totals.claimed_day(str(found[0]))

        pledges = state.pledges
        try:
            if whole:
                sums = totals.add_up(totals.pledge_facts(p, day_of) for p in pledges.values())
                changed = set(sums)
            elif not kept:
                return False
            else:
                touched = pledges.touched() if isinstance(pledges, LazyMap) else dict(pledges)
                if not touched:
                    return True
                before = [
                    totals.pledge_facts(self._decode(rules.Pledge, data, slug), day_of)
                    for data in self._stored_items(slug, "pledge", sorted(touched))
                ]
                after = [totals.pledge_facts(p, day_of) for p in touched.values()]
                sums = self._stored_totals(slug, {f.key for f in (*before, *after)})
                changed = totals.apply_changes(sums, before, after)
        except (DamagedStateError, ValueError, KeyError, TypeError, IndexError, ArithmeticError):
            db.execute("DELETE FROM totals WHERE slug=?", (slug,))
            return False
        db.executemany(
            "DELETE FROM totals WHERE slug=? AND party=? AND unit=?",
            ((slug, party, unit) for party, unit in changed if (party, unit) not in sums),
        )
        db.executemany(
            "INSERT OR REPLACE INTO totals VALUES (?, ?, ?, ?)",
            (
                (slug, key[0], key[1], json.dumps(sums[key].encode(), separators=(",", ":")))
                for key in sorted(changed)
                if key in sums
            ),
        )
        return True

    def _stored_items(self, slug: str, kind: str, seqs: list[int]) -> Iterator[str]:
        """The stored data of these items (those stored), a few hundred per query."""
        for start in range(0, len(seqs), CHUNK):
            part = seqs[start : start + CHUNK]
            marks = ",".join("?" * len(part))
            yield from (
                data
                for (data,) in self._db().execute(
                    f"SELECT data FROM items WHERE slug=? AND kind=? AND seq IN ({marks})",  # noqa: S608
                    (slug, kind, *part),
                )
            )

    def _stored_totals(
        self, slug: str, keys: set[totals.Key]
    ) -> dict[totals.Key, totals.UnitTotals]:
        """The stored totals of these (party, unit) keys (those stored).

        Raises:
            ValueError: a stored total cannot be read back.
        """
        found: dict[totals.Key, totals.UnitTotals] = {}
        for party, unit in keys:
            row = (
                self._db()
                .execute(
                    "SELECT data FROM totals WHERE slug=? AND party=? AND unit=?",
                    (slug, party, unit),
                )
                .fetchone()
            )
            if row is not None:
                found[(party, unit)] = totals.UnitTotals.decode(json.loads(row[0]))
        return found

    def unit_totals(
        self, slug: str, *, seq: int, head: str
    ) -> dict[totals.Key, totals.UnitTotals] | None:
        """The running totals of ``slug`` at ``seq`` and ``head`` (None: not kept for it).

        None when the file holds another position of the project (a read in the past, or
        another process recorded a newer one meanwhile) or does not keep its totals.

        Raises:
            DamagedStateError: the stored totals cannot be read back.
        """
        db = self._db()
        try:
            db.execute("BEGIN")  # one snapshot: the position and the totals at it
            try:
                row = db.execute(
                    "SELECT seq, head, totals FROM projects WHERE slug=?", (slug,)
                ).fetchone()
                if row is None or (row[0], row[1], row[2]) != (seq, head, 1):
                    return None
                rows = db.execute(
                    "SELECT party, unit, data FROM totals WHERE slug=? ORDER BY party, unit",
                    (slug,),
                ).fetchall()
            finally:
                db.execute("COMMIT")
            return {(p, u): totals.UnitTotals.decode(json.loads(d)) for p, u, d in rows}
        except sqlite3.DatabaseError as exc:
            raise DamagedStateError(f"the verified state file is damaged: {exc}") from None
        except (ValueError, TypeError) as exc:
            raise DamagedStateError(
                f"the running totals of {slug!r} are damaged: {exc}", slug=slug
            ) from None

    def save_head(self, slug: str, seq: int, head: str) -> None:
        """Remember only a verified head (bundles: there is no store to read state from).

        Raises:
            StorageUnavailableError: the file cannot be written.
        """
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        try:
            self._db().execute(
                "INSERT OR REPLACE INTO projects VALUES (?, ?, ?, NULL, ?, 0)",
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
            for table in ("projects", "log", "items", "totals"):
                db.execute(f"DELETE FROM {table} {where}", params)  # noqa: S608
            db.execute("COMMIT")
        except sqlite3.DatabaseError as exc:
            raise StorageUnavailableError(f"cannot change {self.path}: {exc}") from None
        return int(count)
