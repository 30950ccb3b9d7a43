"""Writing output files safely: a fresh temporary file beside the target, then one rename."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

REPORT_FILES = {
    "md": "close-report.md",
    "html": "close-report.html",
    "json": "close-report.json",
    "pdf": "close-report.pdf",
}

if TYPE_CHECKING:
    from ledger.application import Ledger

FILE_MODE = 0o644


def _umask() -> int:
    """The process umask (read by setting a restrictive one for an instant)."""
    mask = os.umask(0o077)
    os.umask(mask)
    return mask


@contextmanager
def replace_atomically(path: Path) -> Iterator[TextIO]:
    """Yield a text handle whose content replaces ``path`` in one step when the block ends.

    The content goes to a new temporary file in the target directory, created exclusively
    (``O_CREAT | O_EXCL | O_NOFOLLOW``, by :func:`tempfile.mkstemp`) under an unpredictable
    name, so a file or symlink planted there in advance is never written through. It gets
    mode 0644 less the umask, is flushed to disk, and is renamed over ``path``
    (:func:`os.replace`): readers see the old file or the new one, never a partial one, and
    a symlink at ``path`` is replaced, not followed. On any error the temporary file is
    removed and ``path`` is left as it was.

    Raises:
        OSError: the directory cannot be written, or ``path`` is a directory.
    """
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, FILE_MODE & ~_umask())
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            fd = -1  # the handle owns it now
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        if fd != -1:
            os.close(fd)
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def write_atomically(path: Path, text: str | Iterable[str]) -> None:
    """Replace ``path`` with ``text`` (UTF-8, newlines as given) via :func:`replace_atomically`.

    ``text`` may be a string or pieces of one, written as they come.

    Raises:
        OSError: the file cannot be written.
    """
    with replace_atomically(path) as handle:
        if isinstance(text, str):
            handle.write(text)
        else:
            handle.writelines(text)


def write_bytes_atomically(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data``, as :func:`replace_atomically` replaces a text file.

    Raises:
        OSError: the file cannot be written.
    """
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, FILE_MODE & ~_umask())
        with os.fdopen(fd, "wb") as handle:
            fd = -1  # the handle owns it now
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        if fd != -1:
            os.close(fd)
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def beside_ledger(ledger: Ledger, slug: str, name: str, home_part: str) -> Path:
    """``<ledger's directory>/NAME/SLUG/``: where a ledger's reports or evidence copies go.

    For a PostgreSQL ledger, ``ACCORD_HOME/HOME_PART/<digest of the ledger>/SLUG/``; for an
    in-memory one (tests), ``NAME/SLUG/``. Shown relative to the current directory when it
    lies below it (the shell's directory plays no other part).
    """
    import hashlib

    from ledger import keys as key_store
    from ledger import storage

    source = ledger.verified.source
    if ledger.verified.path is None:
        base = Path(name)
    elif storage.is_postgres(source):
        digest = hashlib.sha256(source.encode("utf-8")).hexdigest()[:24]
        base = key_store.accord_home() / home_part / digest
    else:
        base = Path(source).parent / name
    target = base / slug
    try:
        return target.relative_to(Path.cwd().resolve())
    except (ValueError, OSError):
        return target
