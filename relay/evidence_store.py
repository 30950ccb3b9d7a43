"""Evidence blobs in the relay's own database: a table of chunks, one commit per blob.

The relay keeps each sealed evidence file (age ciphertext, never plaintext) in the database
that holds its entries, SQLite or PostgreSQL alike (docs/adr/0013-evidence-encryption.md):

* ``accord_evidence_chunks(upload_id, n, data)``: the blob in chunks of at most
  :data:`CHUNK_BYTES` (a reader counts them: the size may change between versions),
  written as the body streams in, each chunk in a short transaction of its own (a long
  upload never holds SQLite's write lock for long);
* ``accord_evidence_uploads(upload_id, slug, started_at)``: uploads in progress;
* ``accord_evidence_blobs(slug, seq, idx, upload_id, size, sha256, stored_at)``: the blob that
  answers for evidence file ``idx`` of deliverable ``seq``.

An upload becomes visible in one transaction (:meth:`EvidenceStore.commit`): its blob row
replaces the previous one (a share) and the previous chunks are deleted. A reader sees the
old blob or the new one, never a part; an upload cut short leaves chunks no blob names,
removed when it fails or, after a crash, by the next upload a day later.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from eventsourcing.persistence import PersistenceError

from ledger.rows import unavailable

if TYPE_CHECKING:
    from ledger.application import Ledger

CHUNK_BYTES = 256 << 10  # small pieces keep every worker thread's buffers small
STALE_UPLOAD = 86400.0  # seconds after which an upload in progress is abandoned


@dataclass(frozen=True)
class StoredBlob:
    """A blob the relay holds for an evidence file: where its chunks are, its size and hash."""

    upload_id: str
    size: int
    sha256: str
    chunks: int


class EvidenceStore:
    """The evidence tables of one ``Ledger``'s database (one per worker thread)."""

    def __init__(self, ledger: Ledger) -> None:
        self._datastore: Any = cast("Any", ledger.recorder).datastore
        self._postgres = hasattr(self._datastore, "schema")
        schema = getattr(self._datastore, "schema", None)
        prefix = f'"{schema}".' if schema else ""
        self._blobs = f"{prefix}accord_evidence_blobs"
        self._chunks = f"{prefix}accord_evidence_chunks"
        self._uploads = f"{prefix}accord_evidence_uploads"
        self._create()  # IF NOT EXISTS: once per worker thread, cheap

    def _create(self) -> None:
        binary = "BYTEA" if self._postgres else "BLOB"
        statements = [
            f"CREATE TABLE IF NOT EXISTS {self._blobs} (slug TEXT NOT NULL, seq BIGINT NOT "
            "NULL, idx INTEGER NOT NULL, upload_id TEXT NOT NULL, size BIGINT NOT NULL, "
            "sha256 TEXT NOT NULL, stored_at DOUBLE PRECISION NOT NULL, "
            "PRIMARY KEY (slug, seq, idx))",
            f"CREATE TABLE IF NOT EXISTS {self._chunks} (upload_id TEXT NOT NULL, n INTEGER "
            f"NOT NULL, data {binary} NOT NULL, PRIMARY KEY (upload_id, n))",
            f"CREATE TABLE IF NOT EXISTS {self._uploads} (upload_id TEXT PRIMARY KEY, "
            "slug TEXT NOT NULL, started_at DOUBLE PRECISION NOT NULL)",
        ]
        for attempt in range(3):
            try:
                self._run(statements)
                return
            except Exception:  # two processes creating at once race in PostgreSQL's catalog
                if attempt == 2:
                    raise
                time.sleep(0.2)

    # --- the one place that runs SQL ------------------------------------------------------

    def _sql(self, statement: str) -> str:
        return statement.replace("?", "%s") if self._postgres else statement

    def _run(self, statements: list[str], params: list[tuple[Any, ...]] | None = None) -> None:
        """Run ``statements`` (each with its params) in one transaction."""
        params = params or [()] * len(statements)
        try:
            with self._datastore.transaction(commit=True) as cursor:
                for statement, values in zip(statements, params, strict=True):
                    cursor.execute(self._sql(statement), values)
        except PersistenceError as exc:
            raise unavailable(exc) from None
        except Exception as exc:
            if type(exc).__module__.startswith(("sqlite3", "psycopg")):
                raise unavailable(exc) from None
            raise

    def _rows(
        self, statement: str, values: tuple[Any, ...], *, binary: bool = False
    ) -> list[tuple[Any, ...]]:
        try:
            with self._datastore.transaction(commit=False) as cursor:
                if binary and self._postgres:  # bytea as bytes, not as hex text twice the size
                    cursor.execute(self._sql(statement), values, binary=True)
                else:
                    cursor.execute(self._sql(statement), values)
                rows = cursor.fetchall()
        except PersistenceError as exc:
            raise unavailable(exc) from None
        except Exception as exc:
            if type(exc).__module__.startswith(("sqlite3", "psycopg")):
                raise unavailable(exc) from None
            raise
        return [tuple(r.values()) if isinstance(r, dict) else tuple(r) for r in rows]

    # --- uploads --------------------------------------------------------------------------

    def begin(self, slug: str) -> str:
        """Start an upload for ``slug``; return its id (and drop abandoned ones)."""
        self._drop_stale()
        upload_id = uuid.uuid4().hex
        self._run(
            [f"INSERT INTO {self._uploads} (upload_id, slug, started_at) VALUES (?, ?, ?)"],  # noqa: S608
            [(upload_id, slug, time.time())],
        )
        return upload_id

    def write(self, upload_id: str, n: int, data: bytes) -> None:
        """Store chunk ``n`` of an upload (its own short transaction)."""
        self._run(
            [f"INSERT INTO {self._chunks} (upload_id, n, data) VALUES (?, ?, ?)"],  # noqa: S608
            [(upload_id, n, data)],
        )

    def commit(
        self, upload_id: str, *, slug: str, seq: int, index: int, size: int, sha256: str
    ) -> None:
        """Make the upload the blob of evidence file ``index`` of ``seq``, in one transaction.

        The blob it replaces (a share) and that blob's chunks go in the same transaction.
        """
        old = self.blob(slug, seq, index)
        statements = [
            f"DELETE FROM {self._blobs} WHERE slug = ? AND seq = ? AND idx = ?",  # noqa: S608
            f"INSERT INTO {self._blobs} (slug, seq, idx, upload_id, size, sha256, stored_at) "  # noqa: S608
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            f"DELETE FROM {self._uploads} WHERE upload_id = ?",  # noqa: S608
        ]
        params: list[tuple[Any, ...]] = [
            (slug, seq, index),
            (slug, seq, index, upload_id, size, sha256, time.time()),
            (upload_id,),
        ]
        if old is not None and old.upload_id != upload_id:
            statements.append(f"DELETE FROM {self._chunks} WHERE upload_id = ?")  # noqa: S608
            params.append((old.upload_id,))
        self._run(statements, params)

    def abort(self, upload_id: str) -> None:
        """Drop an upload that failed and its chunks."""
        self._run(
            [
                f"DELETE FROM {self._chunks} WHERE upload_id = ?",  # noqa: S608
                f"DELETE FROM {self._uploads} WHERE upload_id = ?",  # noqa: S608
            ],
            [(upload_id,), (upload_id,)],
        )

    def _drop_stale(self) -> None:
        cutoff = time.time() - STALE_UPLOAD
        stale = self._rows(
            f"SELECT upload_id FROM {self._uploads} WHERE started_at < ?",  # noqa: S608
            (cutoff,),
        )
        for (upload_id,) in stale:
            self.abort(str(upload_id))

    # --- reads ----------------------------------------------------------------------------

    def blob(self, slug: str, seq: int, index: int) -> StoredBlob | None:
        """The blob stored for evidence file ``index`` of ``seq``, if any."""
        found = self._rows(
            f"SELECT upload_id, size, sha256 FROM {self._blobs} "  # noqa: S608
            "WHERE slug = ? AND seq = ? AND idx = ?",
            (slug, seq, index),
        )
        if not found:
            return None
        upload_id, size, sha256 = found[0]
        counted = self._rows(
            f"SELECT COUNT(*) FROM {self._chunks} WHERE upload_id = ?",  # noqa: S608
            (str(upload_id),),
        )
        return StoredBlob(str(upload_id), int(size), str(sha256), int(counted[0][0]))

    def listing(self, slug: str, seq: int) -> dict[int, int]:
        """The sizes of the blobs stored for deliverable ``seq``, by evidence index."""
        found = self._rows(
            f"SELECT idx, size FROM {self._blobs} WHERE slug = ? AND seq = ?",  # noqa: S608
            (slug, seq),
        )
        return {int(idx): int(size) for idx, size in found}

    def used(self, slug: str, *, besides: tuple[int, int] | None = None) -> int:
        """Bytes of blobs stored for ``slug`` (less the blob ``besides`` = (seq, idx))."""
        found = self._rows(
            f"SELECT seq, idx, size FROM {self._blobs} WHERE slug = ?",  # noqa: S608
            (slug,),
        )
        return sum(int(size) for seq, idx, size in found if (int(seq), int(idx)) != besides)

    def chunk(self, upload_id: str, n: int) -> bytes:
        """Chunk ``n`` of a blob (empty when it is gone: replaced while it was read)."""
        found = self._rows(
            f"SELECT data FROM {self._chunks} WHERE upload_id = ? AND n = ?",  # noqa: S608
            (upload_id, n),
            binary=True,
        )
        return bytes(found[0][0]) if found else b""
