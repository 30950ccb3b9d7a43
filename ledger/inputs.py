"""Files named by the user: opened without hanging, read with a bound.

A named pipe with no writer blocks ``open()`` forever, and ``/dev/zero`` never ends: every
file the user names is opened with ``O_NONBLOCK`` (then switched back to blocking reads, so a
pipe with a writer is read as usual and one without gives end of file at once), and read
with a bound that follows from what may be recorded.
"""

from __future__ import annotations

import fcntl
import os
import stat
from typing import TYPE_CHECKING, BinaryIO

from ledger.errors import NotFoundError, UsageError
from ledger.format import MAX_TEXT

if TYPE_CHECKING:
    from pathlib import Path

UTF8_MAX_BYTES = 4  # the most bytes one character takes in UTF-8


def open_file(path: Path, what: str, *, regular: bool) -> BinaryIO:
    """Open ``path`` for reading in binary without ever blocking in ``open``.

    Args:
        path: the file the user named.
        what: what it is, for messages ("evidence file").
        regular: refuse anything but a regular file (a pipe, a device, a directory).

    Raises:
        NotFoundError: the file does not exist.
        UsageError: it cannot be opened, or it is not a regular file when one is needed.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0))
    except FileNotFoundError as exc:
        raise NotFoundError(
            f"cannot read {what} {path}: {exc.strerror}", hint="check the path"
        ) from None
    except OSError as exc:
        raise UsageError(
            f"cannot open {what} {path}: {exc.strerror}", hint="check the path and its permissions"
        ) from None
    try:
        mode = os.fstat(fd).st_mode
        if regular and not stat.S_ISREG(mode):
            kind = "a directory" if stat.S_ISDIR(mode) else "not a regular file"
            raise UsageError(
                f"{what} {path} is {kind}",
                hint=f"give a regular file as the {what} (not a directory, pipe or device)",
            )
        if stat.S_ISDIR(mode):
            raise UsageError(f"{what} {path} is a directory", hint="give a file")
        flags = fcntl.fcntl(fd, fcntl.F_GETFL)
        fcntl.fcntl(fd, fcntl.F_SETFL, flags & ~os.O_NONBLOCK)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_text_file(path: Path, what: str, *, limit: int = MAX_TEXT) -> str:
    """Read at most ``limit`` characters of UTF-8 text from ``path`` (a file or a pipe).

    Reads no more than the bytes ``limit`` characters can take, plus one, so ``/dev/zero``
    or an endless pipe is refused instead of filling the memory.

    Raises:
        NotFoundError: the file does not exist.
        UsageError: it cannot be read, is not UTF-8, or is longer than ``limit`` characters.
    """
    with open_file(path, what, regular=False) as handle:
        try:
            data = handle.read(limit * UTF8_MAX_BYTES + 1)
        except OSError as exc:
            raise UsageError(f"cannot read {what} {path}: {exc.strerror}") from None
    too_long = UsageError(
        f"{what} {path} is longer than {limit} characters",
        hint=f"accord records texts of at most {limit} characters",
    )
    if len(data) > limit * UTF8_MAX_BYTES:
        raise too_long
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UsageError(
            f"{what} {path} is not UTF-8 text (byte {exc.start + 1} cannot be decoded)",
            hint="save the file as UTF-8",
        ) from None
    if len(text) > limit:
        raise too_long
    return text
