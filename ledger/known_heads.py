"""Comparing a verification with a head verified before (a client's trusted state).

A verification of a project must find, at a seq verified before, the same hash: a shorter
history is a truncation, a different hash a rewrite or a fork, even when every remaining
signature is valid. The heads come from the verified state (``ledger/state_file.py``) and, for
ledgers verified by the previous version, from its ``ACCORD_HOME/trust`` files, which
:func:`recall` still reads; :func:`remember` writes that legacy format (kept for the tests
that prove such files are honoured).
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from ledger.errors import StorageUnavailableError
from ledger.fold import Problem, VerifyReport
from ledger.keys import accord_home


@dataclass(frozen=True)
class Remembered:
    """A head verified before."""

    seq: int
    hash: str
    verified_at: str


def _file(source: str, slug: str, home: Path | None) -> Path:
    digest = hashlib.sha256(source.encode("utf-8")).hexdigest()[:24]
    return (home or accord_home()) / "trust" / digest / f"{slug}.json"


def recall(source: str, slug: str, home: Path | None = None) -> Remembered | None:
    """Return the head remembered for ``slug`` in ``source`` (a ledger id), if any."""
    path = _file(source, slug, home)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return Remembered(seq=int(data["seq"]), hash=str(data["hash"]), verified_at=data["at"])
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError):
        # A damaged trust file must not silently reset trust: treat it as a problem.
        return Remembered(seq=-1, hash="", verified_at="")


def compare(report: VerifyReport, remembered: Remembered | None) -> None:
    """Add a problem to ``report`` when the log contradicts the remembered head."""
    if remembered is None:
        return
    if remembered.seq < 0:
        report.add(Problem(seq=None, kind="history", cause="the remembered head file is damaged"))
        return
    if report.entries < remembered.seq:
        report.add(
            Problem(
                seq=report.entries + 1,
                kind="history",
                cause=f"history is shorter than before: {report.entries} entries now, "
                f"{remembered.seq} verified on {remembered.verified_at} (truncated)",
            )
        )
        return
    seen = report.hashes_at.get(remembered.seq)
    if seen != remembered.hash:
        report.add(
            Problem(
                seq=remembered.seq,
                kind="history",
                cause=f"seq {remembered.seq} differs from the one verified on "
                f"{remembered.verified_at} (history rewritten or forked)",
            )
        )


def remember(source: str, report: VerifyReport, home: Path | None = None) -> None:
    """Remember the head of a sound report.

    Raises:
        StorageUnavailableError: ACCORD_HOME is not writable.
    """
    path = _file(source, report.project, home)
    data = {
        "source": source,
        "project": report.project,
        "seq": report.entries,
        "hash": report.head,
        "at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
        os.replace(tmp, path)
    except OSError as exc:
        raise StorageUnavailableError(
            f"cannot remember the verified head under {path.parent}: {exc.strerror}",
            hint="set ACCORD_HOME to a writable directory",
        ) from None
