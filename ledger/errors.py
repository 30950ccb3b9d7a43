"""Domain errors of the ledger, grouped by cause.

Each error carries a plain one-line message and an optional ``hint``. None of them knows
about exit codes: ``commands/errors.py`` alone maps causes to exit codes.
"""

from __future__ import annotations


class LedgerError(Exception):
    """Base class of every error the ledger raises on purpose."""

    default_hint: str | None = None

    def __init__(self, message: str, *, hint: str | None = None, seq: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint if hint is not None else self.default_hint
        self.seq = seq

    def __str__(self) -> str:
        return self.message


class UsageError(LedgerError):
    """A value given by the user is malformed (a date, a weight, a handle...)."""


class NotFoundError(LedgerError):
    """Something named does not exist: a project, a party, a seq, a key, a file."""


class ProjectNotFoundError(NotFoundError):
    """The named project has no stream in this ledger."""

    def __init__(self, slug: str) -> None:
        super().__init__(
            f"no project {slug!r} in this ledger",
            hint="`accord project list` shows the projects this ledger holds",
        )
        self.slug = slug


class LedgerNotFoundError(NotFoundError):
    """The ledger file does not exist yet."""


class RuleViolationError(LedgerError):
    """An entry breaks a rule of the state machine."""


class AlreadyDecidedError(RuleViolationError):
    """A decision or signature that was taken already (approved, refused, signed, joined...).

    The message is ``stem`` followed by ``(seq N)``, ``N`` (``decided_seq``) being the entry
    that took it; a command that knows the verified log names who signed that entry and when
    (:meth:`explain`), so that every refusal of a decision already taken says by whom and when.
    """

    def __init__(
        self, stem: str, *, decided_seq: int, hint: str | None = None, seq: int | None = None
    ) -> None:
        super().__init__(f"{stem} (seq {decided_seq})", hint=hint, seq=seq)
        self.stem = stem
        self.decided_seq = decided_seq

    def explain(self, slug: str, *, signed_by: str, at: str) -> None:
        """Name who signed the deciding entry and its claimed time, with a hint to show it."""
        self.message = f"{self.stem} (seq {self.decided_seq}, by {signed_by} at {at})"
        show = f"`accord show {slug} {self.decided_seq}` shows it in full"
        self.hint = f"{show}; {self.hint}" if self.hint else show
        self.args = (self.message,)


class ConflictError(RuleViolationError):
    """Someone else wrote first, and retrying did not help."""


class SignatureError(LedgerError):
    """A signature, a key or a hash chain does not check out."""


class SignatureInvalidError(SignatureError):
    """A signature does not verify against the key that is said to have made it."""


class SignatureMissingError(SignatureError):
    """An entry carries no signature."""


class KeyNotValidError(SignatureError):
    """The key named by an entry is unknown, revoked, superseded, not the one pinned, or weak."""


class WeakKeyError(KeyNotValidError):
    """A public key is of small order or not canonically encoded: it identifies no one.

    Signatures by a small-order key verify for many messages without any private key, so
    anyone could sign in the name of whoever registered it (see ``docs/format.md``, Keys).
    """

    default_hint = (
        "use a key made by `accord key new` or `ssh-keygen -t ed25519`; a weak key would let "
        "anyone sign in its holder's name"
    )


class VerificationError(SignatureError):
    """A stored log fails verification (chain, canonical form, rules)."""


class StoreDamagedError(VerificationError):
    """A stored record is not one accord wrote: an unknown name, unreadable or mistyped state.

    Damage to the shared store, never the caller's fault: exit 5 at the CLI, 503 at the relay.
    """


class KeyFileError(LedgerError):
    """A key file is missing, corrupt, of the wrong kind, or its passphrase is wrong."""


class StorageUnavailableError(LedgerError):
    """The event store cannot be opened or reached."""


class DeadlineExceededError(StorageUnavailableError):
    """An upstream (a relay) did not finish answering within the command's overall deadline.

    Never retried: the deadline bounds the whole command, whatever the upstream does.
    """
