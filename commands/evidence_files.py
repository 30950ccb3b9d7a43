"""Evidence files on this machine: where copies are kept, their safe names, checks.

The copies of a project's evidence live beside the ledger (:func:`evidence_dir`,
``accord-evidence/SLUG/SEQ/INDEX-NAME``; the names are ``ledger.sealing.disk_name``), and a
copy counts only while its size and SHA-256 are the signed ones (:func:`local_copy`). Files
are staged in the target directory and renamed into place together (:func:`staged_files`).
The commands are in ``commands/evidence.py``; this module needs no relay and no click, so
the report (``commands/reporting.py``) and audits can use it.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from commands.files import beside_ledger
from ledger.errors import NotFoundError, UsageError
from ledger.sealing import HashingWriter, SignedFile, check_plaintext, disk_name, evidence_of

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Sequence

    from ledger import rules
    from ledger.application import Ledger

DEFAULT_EVIDENCE_DIR = "accord-evidence"
BESIDE = "evidence"  # the directory beside a bundle: evidence/SEQ/INDEX-NAME


def evidence_dir(ledger: Ledger, slug: str) -> Path:
    """Where the evidence of ``slug`` is kept: ``accord-evidence/SLUG/`` beside the ledger.

    For a PostgreSQL ledger, ``ACCORD_HOME/evidence/<digest of the ledger>/SLUG/``
    (as the close report's directory is chosen).
    """
    return beside_ledger(ledger, slug, DEFAULT_EVIDENCE_DIR, "evidence")


def local_copy(ledger: Ledger, slug: str, seq: int, signed: SignedFile) -> Path | None:
    """The kept copy of an evidence file, when there is one and it is the signed file."""
    path = evidence_dir(ledger, slug) / str(seq) / signed.disk_name
    try:
        if path.is_symlink() or not path.is_file() or path.stat().st_size != signed.size:
            return None
        return path if sha256_of(path) == signed.sha256 else None
    except OSError:
        return None


def evidence_links(ledger: Ledger, slug: str, report: Path) -> Callable[[int, int, str], str]:
    """Links from the report directory ``report`` to where each file's local copy is kept.

    The link of file ``index`` of deliverable ``seq``, signed as ``name``: relative,
    URL-quoted (the names are made safe, :func:`ledger.sealing.disk_name`). Every signed
    file gets its link whether or not this party holds the copy yet (``accord evidence get``
    puts it there): the link is a function of the log and of where the report is written, so
    the close report written beside each replica's ledger is the same bytes on every
    replica. Made when a file is shown, so a report costs the files it lists.
    """
    from urllib.parse import quote

    base = evidence_dir(ledger, slug).absolute()
    here = report.absolute()

    def link(seq: int, index: int, name: str) -> str:
        path = base / str(seq) / disk_name(index, name)
        return quote(Path(os.path.relpath(path, here)).as_posix())

    return link


def sha256_of(path: Path) -> str:
    """The SHA-256 (hex) of the file at ``path``, read a megabyte at a time."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for piece in iter(lambda: handle.read(1 << 20), b""):
            digest.update(piece)
    return digest.hexdigest()


def make_directory(path: Path) -> Path:
    """Create ``path`` (and parents); refuse one that is not a directory.

    Raises:
        UsageError: it cannot be created or is a file.
    """
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(
            f"cannot create the directory {path}: {exc.strerror}",
            hint="choose a writable directory with -o DIR",
        ) from None
    if path.is_symlink() or not path.is_dir():
        raise UsageError(f"{path} is not a directory", hint="choose a directory with -o DIR")
    return path


@contextlib.contextmanager
def staged_files(directory: Path) -> Iterator[list[tuple[Path, Path]]]:
    """Files staged in ``directory`` (temporary, then renamed together); removed on error.

    The block appends ``(temporary, final)`` pairs; when it ends without error each
    temporary file is renamed over its final name (``os.replace``: a symlink there is
    replaced, never followed).
    """
    staged: list[tuple[Path, Path]] = []
    try:
        yield staged
        for temporary, final in staged:
            os.replace(temporary, final)
        staged.clear()
    finally:
        for temporary, _ in staged:
            with contextlib.suppress(OSError):
                temporary.unlink()


def temporary_file(directory: Path, name: str) -> Path:
    """A new empty file with a hidden, unpredictable name in ``directory`` (for a rename)."""
    fd, path = tempfile.mkstemp(prefix=f".{name[:40]}.", suffix=".tmp", dir=directory)
    os.close(fd)
    return Path(path)


def keep_copies(
    ledger: Ledger, slug: str, seq: int, files: Sequence[tuple[Path, SignedFile]]
) -> Path:
    """Copy the deliverer's evidence files into the evidence directory; return it.

    Raises:
        VerificationError: a file changed since it was hashed for the entry.
    """
    target = make_directory(evidence_dir(ledger, slug) / str(seq))
    with staged_files(target) as staged:
        for source, signed in files:
            temporary = temporary_file(target, signed.disk_name)
            staged.append((temporary, target / signed.disk_name))
            with source.open("rb") as reading, temporary.open("wb") as writing:
                sink = HashingWriter(writing)
                shutil.copyfileobj(reading, sink)
            check_plaintext(sink.digest.hexdigest(), sink.size, signed)
    return target


def describe(seq: int, signed: SignedFile) -> str:
    """``deliverable 5 file 1 'posters.pdf' (1200 bytes)``."""
    return f"deliverable {seq} file {signed.index} {signed.name!r} ({signed.size} bytes)"


def check_beside_bundle(
    bundle_path: Path, state: rules.ProjectState
) -> tuple[list[tuple[int, str]], list[str]]:
    """Check the evidence files beside a bundle (``evidence/SEQ/INDEX-NAME``).

    Returns the mismatches as (seq, cause) and the absent files described; nothing when
    there is no ``evidence`` directory beside the bundle.
    """
    base = bundle_path.parent / BESIDE
    if not base.is_dir():
        return [], []
    bad: list[tuple[int, str]] = []
    absent: list[str] = []
    for seq in sorted(state.decisions):
        for signed in signed_files(state, seq):
            path = base / str(seq) / signed.disk_name
            if not path.is_file():
                absent.append(describe(seq, signed))
                continue
            size, sha = path.stat().st_size, sha256_of(path)
            if (size, sha) != (signed.size, signed.sha256):
                bad.append(
                    (
                        seq,
                        f"evidence file {signed.index} {signed.name!r} beside the bundle is not "
                        f"the signed one: {size} bytes, SHA-256 {sha}; signed {signed.size} "
                        f"bytes, SHA-256 {signed.sha256}",
                    )
                )
    return bad, absent


def signed_files(state: rules.ProjectState, number: int) -> list[SignedFile]:
    """The evidence files seq ``number`` signed (none when it is not a deliverable)."""
    try:
        return evidence_of(state, number)
    except NotFoundError:
        return []
