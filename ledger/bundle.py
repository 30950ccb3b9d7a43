"""The export bundle, format ``accord/bundle/v1``: a project's log in one JSON Lines file.

Line 1 is a header ``{"format": "accord/bundle/v1", "project": SLUG, "entries": N,
"head": HASH}``; then one line per entry in seq order, ``{"entry": TEXT, "sig": BASE64,
"hash": HEX}``, where TEXT is the canonical entry text exactly as signed. A bundle needs no
database: ``accord verify --bundle`` checks it offline.

A bundle comes from someone else and is read as hostile: in binary, one line at a time with
a bound on its length, each line decoded as UTF-8 on its own. A line that is too long, not
UTF-8, not JSON (or nested too deeply to parse) becomes a problem reported at its line, never
an exception.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any

from ledger.errors import VerificationError
from ledger.fold import Problem, VerifyReport
from ledger.format import SLUG_RE
from ledger.inputs import open_file
from ledger.rows import Row

if TYPE_CHECKING:
    from pathlib import Path

FORMAT = "accord/bundle/v1"
MAX_HEADER_LINE = 1 << 16  # bytes; a header is about 200
# Bytes of one entry line: more than any valid v1 entry takes (bodies hold at most 100,000
# characters per text, 4 bytes each in UTF-8, escaped twice in the worst case).
MAX_ENTRY_LINE = 1 << 23
_CHUNK = 1 << 20


@dataclass(frozen=True)
class BundleHeader:
    """The first line of a bundle."""

    project: str
    entries: int
    head: str

    def as_line(self) -> str:
        """The header as its JSON line (without newline)."""
        data = {
            "format": FORMAT,
            "project": self.project,
            "entries": self.entries,
            "head": self.head,
        }
        return json.dumps(data, separators=(",", ":"))


def entry_line(row: Row) -> str:
    """One entry as its bundle line (without newline)."""
    return json.dumps(
        {"entry": row.text, "sig": row.sig, "hash": row.hash},
        ensure_ascii=False,
        separators=(",", ":"),
    )


def write(out: IO[str], header: BundleHeader, rows: Iterable[Row]) -> int:
    """Write a bundle; return the number of entries written."""
    out.write(header.as_line() + "\n")
    count = 0
    for row in rows:
        out.write(entry_line(row) + "\n")
        count += 1
    return count


def open_bundle(path: Path) -> IO[bytes]:
    """Open the bundle at ``path`` for reading (binary; a regular file only, never blocking).

    Raises:
        NotFoundError: there is no such file.
        UsageError: it is not a regular file (a pipe, a device, a directory) or unreadable.
    """
    return open_file(path, "bundle", regular=True)


def _read_line(handle: IO[bytes], limit: int) -> tuple[bytes, bool]:
    """Read one line of at most ``limit`` bytes; return it and whether it was cut.

    A longer line is consumed to its end (a chunk at a time) and reported as cut.
    """
    line = handle.readline(limit + 1)
    if len(line) <= limit or line.endswith(b"\n"):
        return line, False
    while True:
        rest = handle.readline(_CHUNK)
        if not rest or rest.endswith(b"\n"):
            return line[:limit], True


def _json(line: bytes) -> Any:
    """Parse one line as UTF-8 JSON; raise ValueError with a cause when it cannot be."""
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError("not UTF-8 text") from None
    try:
        return json.loads(text)
    except RecursionError:
        raise ValueError("nested too deeply") from None
    except ValueError:
        raise ValueError("not JSON") from None


def read_header(handle: IO[bytes]) -> BundleHeader:
    """Read and check the header line.

    Raises:
        VerificationError: the file is not an accord bundle v1.
    """
    hint = "export one with `accord export SLUG -o FILE`"
    line, cut = _read_line(handle, MAX_HEADER_LINE)
    if cut:
        raise VerificationError(
            f"the file is not an accord bundle (its first line is longer than "
            f"{MAX_HEADER_LINE} bytes)",
            hint=hint,
        )
    try:
        data = _json(line)
    except ValueError as exc:
        cause = "is not JSON" if str(exc) == "not JSON" else f"is {exc}"
        raise VerificationError(
            f"the file is not an accord bundle (its first line {cause})", hint=hint
        ) from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        found = data.get("format") if isinstance(data, dict) else None
        shown = found if isinstance(found, str) and len(found) <= 80 else None
        raise VerificationError(f"the file is not an {FORMAT} bundle (format {shown!r})", hint=hint)
    project, entries, head = data.get("project"), data.get("entries"), data.get("head")
    if (
        not isinstance(project, str)
        or not SLUG_RE.fullmatch(project)
        or not isinstance(entries, int)
        or isinstance(entries, bool)
        or entries < 0
        or not isinstance(head, str)
    ):
        raise VerificationError(f"the {FORMAT} header is malformed")
    return BundleHeader(project=project, entries=entries, head=head)


def read_rows(handle: IO[bytes]) -> Iterator[Row]:
    """Yield the entry lines after the header as rows (a bundle has no store positions).

    A line that cannot be read (too long, not UTF-8, not JSON, not an object with the string
    fields ``entry``, ``sig`` and ``hash``) becomes a damaged row that says why, so the
    verifier reports it at its position instead of stopping.
    """
    number = 1  # the header
    while True:
        line, cut = _read_line(handle, MAX_ENTRY_LINE)
        if not line:
            return
        number += 1
        if cut:
            yield _damaged(f"bundle line {number} is longer than {MAX_ENTRY_LINE} bytes")
            continue
        try:
            data = _json(line)
        except ValueError as exc:
            yield _damaged(f"bundle line {number} is {exc}")
            continue
        fields = (
            (data.get("entry"), data.get("sig"), data.get("hash")) if isinstance(data, dict) else ()
        )
        if len(fields) != 3 or not all(isinstance(v, str) for v in fields):
            yield _damaged(
                f"bundle line {number} is not an entry line (an object with entry, sig "
                "and hash strings)"
            )
            continue
        text, sig, digest = fields
        yield Row(position=None, text=str(text), sig=str(sig), hash=str(digest))


def _damaged(cause: str) -> Row:
    return Row(
        position=None,
        text="\x00unreadable bundle line",
        sig="",
        hash="",
        damage=cause,
        damage_kind="bundle",
    )


def check_header(report: VerifyReport, header: BundleHeader) -> None:
    """Add problems where the header disagrees with the entries that follow it."""
    if header.entries != report.entries:
        report.add(
            Problem(
                seq=None,
                kind="bundle",
                cause=f"the header announces {header.entries} entries, the bundle holds "
                f"{report.entries}",
            )
        )
    if header.head != report.head:
        report.add(
            Problem(seq=None, kind="bundle", cause="the header's head is not the last entry's hash")
        )
