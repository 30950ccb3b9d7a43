"""This home's remotes and witness state for one ledger: relays, pinned keys, kept checkpoints.

One SQLite file per ledger source under ``ACCORD_HOME/remotes/`` (mode 0600, directory 0700),
beside but apart from the verified state (ADR 0005): the verified state may be forgotten and
rebuilt, while the relay-signed checkpoints kept here are evidence and are never dropped.

* ``remotes``: name, URL and the relay's pinned public key line (trust on first use).
* ``checkpoints``: every relay-signed checkpoint this party verified (the whole note), per
  project, with its size and root, whether this party cosigned it, and ``conflict`` for one
  that contradicted a kept one (kept as evidence of a fork).
* ``synced``: when each project was last pulled in full from each remote (a sync, a write's
  pull or a fresh read's), for the note a read prints when it cannot reach the relay.
* ``receipts``: the relay's receipt of each entry this party wrote through it, once verified
  (docs/relay.md "Receipts"): the entry's seq and hash, and the relay-signed checkpoint and
  RFC 6962 inclusion proof (base64 hashes, JSON) that prove the relay's tree holds it. The
  checkpoint is also kept with the others, so later checkpoints must extend it.
"""

from __future__ import annotations

import builtins
import contextlib
import hashlib
import ipaddress
import os
import re
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ledger.ed25519 import parse_public_key_line
from ledger.errors import LedgerError, NotFoundError, StorageUnavailableError, UsageError
from ledger.keys import accord_home

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS remotes (name TEXT PRIMARY KEY, url TEXT NOT NULL, "
    "relay_key TEXT NOT NULL, added_at TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS checkpoints (remote TEXT NOT NULL, slug TEXT NOT NULL, "
    "size INTEGER NOT NULL, root TEXT NOT NULL, note TEXT NOT NULL, cosigned INTEGER NOT NULL, "
    "conflict INTEGER NOT NULL, seen_at TEXT NOT NULL, "
    "PRIMARY KEY (remote, slug, size, root))",
    "CREATE TABLE IF NOT EXISTS confirmed (remote TEXT NOT NULL, slug TEXT NOT NULL, "
    "seq INTEGER NOT NULL, checked_at TEXT NOT NULL, PRIMARY KEY (remote, slug))",
    "CREATE TABLE IF NOT EXISTS synced (remote TEXT NOT NULL, slug TEXT NOT NULL, "
    "synced_at TEXT NOT NULL, PRIMARY KEY (remote, slug))",
    "CREATE TABLE IF NOT EXISTS frontiers (slug TEXT NOT NULL, size INTEGER NOT NULL, "
    "head TEXT NOT NULL, hashes TEXT NOT NULL, PRIMARY KEY (slug, size))",
    "CREATE TABLE IF NOT EXISTS receipts (remote TEXT NOT NULL, slug TEXT NOT NULL, "
    "seq INTEGER NOT NULL, hash TEXT NOT NULL, size INTEGER NOT NULL, note TEXT NOT NULL, "
    "proof TEXT NOT NULL, received_at TEXT NOT NULL, PRIMARY KEY (remote, slug, seq, hash))",
)
FRONTIERS_KEPT = 16  # per project: the latest sizes whose Merkle frontier was computed
MAX_URL = 2000  # characters of a relay URL
_TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z")
_DAMAGED_HINT = (
    "move it away and `accord remote add` the relay again (it holds the checkpoints you "
    "verified: keep the copy as evidence of what the relay showed you)"
)
_URL_HINT = "give the relay's base URL, e.g. https://relay.example.org or http://127.0.0.1:8470"


def check_relay_url(url: str, *, hint: str = _URL_HINT) -> str:
    """The relay base URL ``url`` without a trailing slash, if it is one accord can use.

    An ``http://`` or ``https://`` URL with a host name (letters, digits, ``.``, ``-``) or an
    IP address (IPv6 in brackets), an optional port from 1 to 65535 and an optional path; no
    user name, password, query, fragment, spaces or control characters.

    Args:
        url: the URL as given (or as stored).
        hint: the hint of the error (the accepted form by default).

    Raises:
        UsageError: it is not (exit 2, with the accepted form).
    """
    shown = url if len(url) <= 80 else url[:80] + "..."
    if len(url) > MAX_URL or not url.isascii() or not url.isprintable() or " " in url:
        raise UsageError(f"relay URL {shown!r} is not a valid URL", hint=hint)
    try:
        parts = urlsplit(url)
        port = parts.port  # ValueError: not a number or out of range
        host = parts.hostname
    except ValueError:
        raise UsageError(f"relay URL {shown!r} is not a valid URL", hint=hint) from None
    if parts.scheme not in ("http", "https"):
        raise UsageError(f"relay URL {shown!r} is not http:// or https://", hint=hint)
    if not host or not _valid_host(host, bracketed="[" in parts.netloc):
        raise UsageError(f"relay URL {shown!r} has no valid host", hint=hint)
    if port == 0:
        raise UsageError(f"relay URL {shown!r} has port 0", hint=hint)
    if "@" in parts.netloc or parts.query or parts.fragment or url.endswith(("?", "#")):
        raise UsageError(f"relay URL {shown!r} carries a user, query or fragment", hint=hint)
    if not _PATH.fullmatch(parts.path):
        raise UsageError(f"relay URL {shown!r} has a path that is not encoded", hint=hint)
    return url.rstrip("/")


# RFC 3986 path-abempty: what the HTTP client and the request signature accept as a path.
_PATH = re.compile(r"(?:/(?:[A-Za-z0-9._~!$&'()*+,;=:@-]|%[0-9A-Fa-f]{2})*)*")
_DOTTED_QUAD = re.compile(r"[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+")


def _valid_host(host: str, *, bracketed: bool) -> bool:
    if bracketed:
        try:
            return ipaddress.ip_address(host).version == 6
        except ValueError:
            return False
    if _DOTTED_QUAD.fullmatch(host):  # the HTTP client reads it as an IPv4 address
        try:
            ipaddress.IPv4Address(host)
        except ValueError:
            return False
    labels = host.split(".")
    return len(host) <= 253 and all(
        0 < len(label) <= 63
        and label.replace("-", "").isalnum()
        and not label.startswith("-")
        and not label.endswith("-")
        for label in labels
    )


@dataclass(frozen=True)
class Remote:
    """A relay this ledger syncs with: its name, URL and pinned key line."""

    name: str
    url: str
    relay_key: str


@dataclass(frozen=True)
class KeptCheckpoint:
    """A relay-signed checkpoint this party verified (``root`` in hex), whole."""

    slug: str
    size: int
    root: str
    note: str
    cosigned: bool
    conflict: bool
    seen_at: str


@dataclass(frozen=True)
class KeptReceipt:
    """A verified append receipt: the entry, and the signed checkpoint and proof holding it."""

    slug: str
    seq: int
    hash: str
    size: int
    note: str
    proof: str
    received_at: str


def remotes_path(source: str, home: Path | None = None) -> Path:
    """The remotes file of the ledger ``source`` under the home."""
    digest = hashlib.sha256(source.encode("utf-8")).hexdigest()[:24]
    return (home or accord_home()) / "remotes" / f"{digest}.sqlite3"


class RemoteStore:
    """The remotes and kept checkpoints of one ledger, in this party's home."""

    def __init__(self, source: str, *, home: Path | None = None, memory: bool = False) -> None:
        self.path = None if memory else remotes_path(source, home)
        self._conn: sqlite3.Connection | None = None

    def exists(self) -> bool:
        """Whether anything was ever recorded (no file: no remote)."""
        return self.path is None or self.path.exists()

    def _db(self) -> sqlite3.Connection:
        if self._conn is not None:
            return self._conn
        try:
            if self.path is None:
                conn = sqlite3.connect(":memory:", isolation_level=None)
            else:
                self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
                with contextlib.suppress(OSError):
                    os.chmod(self.path.parent, 0o700)
                if not self.path.exists():
                    os.close(os.open(self.path, os.O_CREAT | os.O_WRONLY | os.O_EXCL, 0o600))
                conn = sqlite3.connect(self.path, isolation_level=None, timeout=30)
            for statement in _SCHEMA:
                conn.execute(statement)
        except sqlite3.DatabaseError as exc:
            raise StorageUnavailableError(
                f"the remotes file {self.path} is damaged: {exc}", hint=_DAMAGED_HINT
            ) from None
        except OSError as exc:
            raise StorageUnavailableError(
                f"cannot keep the remotes under {self.path}: {exc}",
                hint="set ACCORD_HOME to a writable directory",
            ) from None
        self._conn = conn
        return conn

    @contextlib.contextmanager
    def _guard(self) -> Iterator[sqlite3.Connection]:
        """The connection; a database error or a stored value of the wrong type is damage."""
        db = self._db()
        try:
            yield db
        except (sqlite3.Error, ValueError, TypeError) as exc:
            raise StorageUnavailableError(
                f"the remotes file {self.path} is damaged: {exc}", hint=_DAMAGED_HINT
            ) from None

    def _rows(self, sql: str, params: tuple[Any, ...] = ()) -> builtins.list[tuple[Any, ...]]:
        with self._guard() as db:
            return db.execute(sql, params).fetchall()

    def _run(self, sql: str, params: tuple[Any, ...] = ()) -> None:
        with self._guard() as db:
            db.execute(sql, params)

    def close(self) -> None:
        """Close the file."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    # remotes ------------------------------------------------------------------------------

    def add(self, name: str, url: str, relay_key: str) -> Remote:
        """Add a remote.

        Raises:
            UsageError: a remote of that name exists, or ``url`` is not a relay URL.
            StorageUnavailableError: the remotes file is damaged.
        """
        url = check_relay_url(url)
        with self._guard() as db:
            try:
                db.execute(
                    "INSERT INTO remotes VALUES (?, ?, ?, ?)",
                    (name, url, relay_key, _now()),
                )
            except sqlite3.IntegrityError:
                raise UsageError(
                    f"remote {name!r} exists already", hint="`accord remote remove` it first"
                ) from None
        return Remote(name, url, relay_key)

    def list(self) -> list[Remote]:
        """The remotes, by name.

        Raises:
            StorageUnavailableError: the file is damaged (a name, URL or key that is not text).
        """
        if not self.exists():
            return []
        rows = self._rows("SELECT name, url, relay_key FROM remotes ORDER BY name")
        with self._guard():
            return [Remote(_text(a), _text(b), _key_line(c)) for a, b, c in rows]

    def get(self, name: str) -> Remote:
        """The remote ``name``.

        Raises:
            NotFoundError: there is none.
        """
        for remote in self.list():
            if remote.name == name:
                return remote
        raise NotFoundError(
            f"no remote {name!r} for this ledger", hint="`accord remote list` shows them"
        )

    def remove(self, name: str) -> None:
        """Remove a remote (its kept checkpoints stay, as evidence).

        Raises:
            NotFoundError: there is none.
        """
        self.get(name)
        self._run("DELETE FROM remotes WHERE name=?", (name,))

    def choose(self, name: str | None) -> Remote | None:
        """The remote named, or the only one; None when there is none.

        Raises:
            UsageError: several remotes and none named.
            NotFoundError: the named one does not exist.
        """
        if name is not None:
            return self.get(name)
        found = self.list()
        if len(found) > 1:
            raise UsageError("this ledger has several remotes", hint="name one with --remote NAME")
        return found[0] if found else None

    # kept checkpoints ---------------------------------------------------------------------

    def keep(
        self,
        remote: str,
        slug: str,
        *,
        size: int,
        root: str,
        note: str,
        cosigned: bool = False,
        conflict: bool = False,
    ) -> None:
        """Keep a verified relay-signed checkpoint (whole); mark it cosigned if so."""
        self._run(
            "INSERT OR IGNORE INTO checkpoints VALUES (?, ?, ?, ?, ?, 0, ?, ?)",
            (remote, slug, size, root, note, int(conflict), _now()),
        )
        if cosigned:
            self._run(
                "UPDATE checkpoints SET cosigned=1 WHERE remote=? AND slug=? AND size=? AND root=?",
                (remote, slug, size, root),
            )

    def kept(self, remote: str, slug: str) -> builtins.list[KeptCheckpoint]:
        """The checkpoints kept of ``slug`` from ``remote``, smallest tree first."""
        if not self.exists():
            return []
        rows = self._rows(
            "SELECT slug, size, root, note, cosigned, conflict, seen_at FROM checkpoints "
            "WHERE remote=? AND slug=? ORDER BY size, seen_at",
            (remote, slug),
        )
        with self._guard():
            return [
                KeptCheckpoint(_text(s), _int(z), _text(r), _text(n), bool(c), bool(x), _text(t))
                for s, z, r, n, c, x, t in rows
            ]

    def contradicting(
        self, remote: str, slug: str, *, size: int, root: str
    ) -> KeptCheckpoint | None:
        """The smallest kept checkpoint that a tree of ``size`` with ``root`` contradicts.

        That is a larger tree, or another root at the same size, not itself kept as a
        conflict (None when there is none). One indexed look-up, however many checkpoints
        were kept (one per sync and one per write).
        """
        if not self.exists():
            return None
        rows = self._rows(
            "SELECT slug, size, root, note, cosigned, conflict, seen_at FROM checkpoints "
            "WHERE remote=? AND slug=? AND conflict=0 AND (size>? OR (size=? AND root<>?)) "
            "ORDER BY size, seen_at LIMIT 1",
            (remote, slug, size, size, root),
        )
        if not rows:
            return None
        s, z, r, n, c, x, t = rows[0]
        with self._guard():
            return KeptCheckpoint(_text(s), _int(z), _text(r), _text(n), bool(c), bool(x), _text(t))

    def set_confirmed(self, remote: str, slug: str, seq: int) -> None:
        """Record the seq the quorum had confirmed when ``accord status``/``sync`` checked."""
        self._run(
            "INSERT OR REPLACE INTO confirmed VALUES (?, ?, ?, ?)", (remote, slug, seq, _now())
        )

    def confirmed(self, remote: str, slug: str) -> tuple[int, str] | None:
        """The confirmed seq of ``slug`` last checked with ``remote``, and when (or None)."""
        if not self.exists():
            return None
        rows = self._rows(
            "SELECT seq, checked_at FROM confirmed WHERE remote=? AND slug=?", (remote, slug)
        )
        with self._guard():
            return (_int(rows[0][0]), _text(rows[0][1])) if rows else None

    def set_synced(self, remote: str, slug: str) -> None:
        """Record that ``slug`` was just brought up to ``remote``'s verified checkpoint.

        Raises:
            StorageUnavailableError: the file is damaged or cannot be written.
        """
        self._run("INSERT OR REPLACE INTO synced VALUES (?, ?, ?)", (remote, slug, _now()))

    def synced(self, remote: str, slug: str) -> str | None:
        """When ``slug`` was last brought up to ``remote``'s checkpoint (RFC 3339), or None.

        Raises:
            StorageUnavailableError: the file is damaged (a time that is not text).
        """
        if not self.exists():
            return None
        rows = self._rows("SELECT synced_at FROM synced WHERE remote=? AND slug=?", (remote, slug))
        with self._guard():
            return _time(rows[0][0]) if rows else None

    # receipts ------------------------------------------------------------------------------

    def keep_receipt(
        self, remote: str, slug: str, *, seq: int, digest: str, size: int, note: str, proof: str
    ) -> None:
        """Keep the verified receipt of entry ``seq`` (the first one kept for it stays)."""
        self._run(
            "INSERT OR IGNORE INTO receipts VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (remote, slug, seq, digest, size, note, proof, _now()),
        )

    def receipts(self, remote: str, slug: str) -> builtins.list[KeptReceipt]:
        """The receipts kept of ``slug`` from ``remote``, by seq."""
        if not self.exists():
            return []
        rows = self._rows(
            "SELECT slug, seq, hash, size, note, proof, received_at FROM receipts "
            "WHERE remote=? AND slug=? ORDER BY seq, received_at",
            (remote, slug),
        )
        with self._guard():
            return [
                KeptReceipt(_text(s), _int(q), _text(h), _int(z), _text(n), _text(p), _text(t))
                for s, q, h, z, n, p, t in rows
            ]

    # Merkle frontiers of the verified log ----------------------------------------------------

    def frontiers(self, slug: str, *, upto: int) -> builtins.list[tuple[int, str, str]]:
        """Kept frontiers of ``slug`` no larger than ``upto``, largest first.

        Each is ``(size, head, hashes)``: the verified entry hash at ``size`` when it was
        computed (the caller reuses it only while its verified log still has that hash
        there: the entries are hash-chained, so the head fixes the whole prefix) and the
        subtree roots, hex, comma-separated.
        """
        if not self.exists():
            return []
        rows = self._rows(
            "SELECT size, head, hashes FROM frontiers WHERE slug=? AND size<=? ORDER BY size DESC",
            (slug, upto),
        )
        with self._guard():
            return [(_int(z), _text(h), _text(x)) for z, h, x in rows]

    def forget_frontiers(self, slug: str) -> None:
        """Drop every kept frontier of ``slug`` (they are recomputed when needed)."""
        if self.exists():
            self._run("DELETE FROM frontiers WHERE slug=?", (slug,))

    def keep_frontier(self, slug: str, size: int, head: str, hashes: str) -> None:
        """Keep the frontier at ``size`` (only the latest :data:`FRONTIERS_KEPT` stay)."""
        self._run(
            "INSERT OR REPLACE INTO frontiers VALUES (?, ?, ?, ?)", (slug, size, head, hashes)
        )
        self._run(
            "DELETE FROM frontiers WHERE slug=? AND size NOT IN "
            "(SELECT size FROM frontiers WHERE slug=? ORDER BY size DESC LIMIT ?)",
            (slug, slug, FRONTIERS_KEPT),
        )


def _text(value: object) -> str:
    if not isinstance(value, str):
        raise TypeError(f"a stored {type(value).__name__} where text belongs")
    return value


def _time(value: object) -> str:
    if not _TIME.fullmatch(_text(value)):
        raise ValueError("a stored sync time that is not an RFC 3339 UTC time")
    return _text(value)


def _key_line(value: object) -> str:
    try:
        parse_public_key_line(_text(value))
    except LedgerError as error:
        raise ValueError(f"a pinned relay key that is not a key: {error}") from None
    return _text(value)


def _int(value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"a stored {type(value).__name__} where a whole number belongs")
    return value


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
