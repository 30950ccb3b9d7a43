"""The relay's errors, server and client side: each a :class:`~ledger.errors.LedgerError`.

They subclass the ledger's errors by cause, so ``relay/server.py`` maps every error to one
HTTP status in one table and ``commands/errors.py`` maps them to exit codes.
"""

from __future__ import annotations

from ledger.errors import (
    ConflictError,
    LedgerError,
    NotFoundError,
    RuleViolationError,
    StorageUnavailableError,
)


class MalformedRequestError(LedgerError):
    """The request is malformed (400): not JSON lines, not bundle rows, bad parameters."""


class BodyTooLargeError(LedgerError):
    """The request body is over the endpoint's limit (413)."""


class NotReadableError(NotFoundError):
    """No such project, or the request is not signed by one of its members (404 alike)."""

    def __init__(self) -> None:
        super().__init__("no such project")


class UnsignedCheckpointError(RuleViolationError):
    """A cosigned checkpoint that this relay did not sign for the project (422)."""


class RelayConflictError(ConflictError):
    """The head moved (409); carries the relay's current signed checkpoint.

    The relay raises it with the checkpoint it signed; the client (``relay/client.py``)
    rebuilds it from a 409 answer, whose checkpoint is then unverified.
    """

    def __init__(self, message: str, *, checkpoint: str | None, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.checkpoint = checkpoint


class RelayStateError(StorageUnavailableError):
    """The store contradicts what the relay verified or signed: it refuses to sign (503)."""
