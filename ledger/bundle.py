"""The export bundle, format ``accord/bundle/v1``: a project's log in one JSON Lines file.

Line 1 is a header ``{"format": "accord/bundle/v1", "project": SLUG, "entries": N,
"head": HASH}``; then one line per entry in seq order, ``{"entry": TEXT, "sig": BASE64,
"hash": HEX}``, where TEXT is the canonical entry text exactly as signed. A bundle needs no
database: ``accord verify --bundle`` checks it offline.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import IO, Any

from ledger.errors import VerificationError
from ledger.format import SLUG_RE
from ledger.rows import Row
from ledger.verify import Problem, VerifyReport

FORMAT = "accord/bundle/v1"


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


def read_header(handle: IO[str]) -> BundleHeader:
    """Read and check the header line.

    Raises:
        VerificationError: the file is not an accord bundle v1.
    """
    line = handle.readline()
    try:
        data: Any = json.loads(line)
    except ValueError:
        raise VerificationError(
            "the file is not an accord bundle (its first line is not JSON)",
            hint="export one with `accord export SLUG -o FILE`",
        ) from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        found = data.get("format") if isinstance(data, dict) else None
        raise VerificationError(
            f"the file is not an {FORMAT} bundle (format {found!r})",
            hint="export one with `accord export SLUG -o FILE`",
        )
    project, entries, head = data.get("project"), data.get("entries"), data.get("head")
    if (
        not isinstance(project, str)
        or not SLUG_RE.match(project)
        or not isinstance(entries, int)
        or not isinstance(head, str)
    ):
        raise VerificationError(f"the {FORMAT} header is malformed")
    return BundleHeader(project=project, entries=entries, head=head)


def read_rows(handle: IO[str]) -> Iterator[Row]:
    """Yield the entry lines after the header as rows (a bundle has no store positions).

    A line that cannot be read becomes a row whose text cannot be parsed, so the verifier
    reports it at its position instead of stopping.
    """
    for line in handle:
        try:
            data = json.loads(line)
            text, sig, digest = data["entry"], data["sig"], data["hash"]
            if not all(isinstance(v, str) for v in (text, sig, digest)):
                raise TypeError
        except (ValueError, KeyError, TypeError):
            yield Row(position=None, text="\x00unreadable bundle line", sig="", hash="")
            continue
        yield Row(position=None, text=text, sig=sig, hash=digest)


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
