"""Evidence files: what a deliverable records of each file (name, SHA-256, size)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ledger.errors import NotFoundError


@dataclass(frozen=True)
class Evidence:
    """A file offered as evidence: its base name, SHA-256 and size in bytes."""

    name: str
    sha256: str
    size: int

    @classmethod
    def of_file(cls, path: Path) -> Evidence:
        """Hash the file at ``path`` (streaming, so large files are fine).

        Raises:
            NotFoundError: the file does not exist or cannot be read.
        """
        digest = hashlib.sha256()
        size = 0
        try:
            with path.open("rb") as handle:
                for chunk in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(chunk)
                    size += len(chunk)
        except OSError as exc:
            raise NotFoundError(
                f"cannot read evidence file {path}: {exc.strerror}",
                hint="check the path; evidence must be a readable file",
            ) from None
        return cls(name=path.name, sha256=digest.hexdigest(), size=size)

    def as_dict(self) -> dict[str, Any]:
        """Return the evidence as it is recorded in an entry body."""
        return {"name": self.name, "sha256": self.sha256, "size": self.size}
