"""Evidence files: what a deliverable records of each file (name, SHA-256, size)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ledger.errors import UsageError
from ledger.inputs import open_file
from ledger.normalise import optional_text

if TYPE_CHECKING:
    from pathlib import Path


def check_evidence_name(name: str) -> str:
    """Return ``name`` if it can be recorded as an evidence file name.

    Raises:
        UsageError: it is blank, too long or not UTF-8 (rename the file).
    """
    if not name.strip():
        raise UsageError(
            f"evidence file name {name!r} is blank",
            hint="rename the file: its name is recorded with the deliverable",
        )
    try:
        return optional_text(name, "evidence file name")
    except UsageError as exc:
        raise UsageError(
            exc.message, hint="rename the file: its name is recorded with the deliverable"
        ) from None


@dataclass(frozen=True)
class Evidence:
    """A file offered as evidence: its base name, SHA-256 and size in bytes."""

    name: str
    sha256: str
    size: int

    @classmethod
    def of_file(cls, path: Path) -> Evidence:
        """Hash the regular file at ``path`` (streaming, so large files are fine).

        A pipe, a device or a directory is refused (it may never end, or block), and the
        file is opened without blocking.

        Raises:
            NotFoundError: the file does not exist.
            UsageError: it is not a regular file, cannot be read, or its name cannot be
                recorded.
        """
        name = check_evidence_name(path.name)
        digest = hashlib.sha256()
        size = 0
        with open_file(path, "evidence file", regular=True) as handle:
            try:
                for chunk in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(chunk)
                    size += len(chunk)
            except OSError as exc:
                raise UsageError(
                    f"cannot read evidence file {path}: {exc.strerror}",
                    hint="check the path; evidence must be a readable file",
                ) from None
        return cls(name=name, sha256=digest.hexdigest(), size=size)

    def as_dict(self) -> dict[str, Any]:
        """Return the evidence as it is recorded in an entry body."""
        return {"name": self.name, "sha256": self.sha256, "size": self.size}
