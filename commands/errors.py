"""Exit codes, and the one place that maps ledger errors to them.

| code | meaning |
|------|---------|
| 0 | success |
| 1 | unexpected error (a bug: rerun with --debug for the traceback) |
| 2 | usage: a malformed option or value (click's own code) |
| 3 | not found: a project, party, seq, key, file or ledger that does not exist |
| 4 | rule violation or conflict: the entry breaks a rule of the collaboration |
| 5 | signature or verification failure: a bad signature, key or stored log |
| 6 | storage unavailable: the ledger cannot be opened or reached |
| 7 | key file problem: wrong passphrase, corrupt or unreadable key file |
| 8 | check failed: `obligations --fail-if-overdue` found overdue obligations |
"""

from __future__ import annotations

from enum import IntEnum

from commands.output import echo
from ledger.errors import (
    KeyFileError,
    LedgerError,
    NotFoundError,
    RuleViolationError,
    SignatureError,
    StorageUnavailableError,
    UsageError,
)


class ExitCode(IntEnum):
    """The documented exit codes of every accord command."""

    OK = 0
    UNEXPECTED = 1
    USAGE = 2
    NOT_FOUND = 3
    RULE_VIOLATION = 4
    VERIFICATION = 5
    STORAGE_UNAVAILABLE = 6
    KEY_FILE = 7
    OVERDUE = 8


_CODES: tuple[tuple[type[LedgerError], ExitCode], ...] = (
    (UsageError, ExitCode.USAGE),
    (NotFoundError, ExitCode.NOT_FOUND),
    (RuleViolationError, ExitCode.RULE_VIOLATION),
    (SignatureError, ExitCode.VERIFICATION),
    (StorageUnavailableError, ExitCode.STORAGE_UNAVAILABLE),
    (KeyFileError, ExitCode.KEY_FILE),
)


def exit_code_for(error: LedgerError) -> ExitCode:
    """Return the exit code for a ledger error, by its cause."""
    for cls, code in _CODES:
        if isinstance(error, cls):
            return code
    return ExitCode.UNEXPECTED


def report(error: LedgerError) -> None:
    """Print ``Error: <message>`` and the hint to stderr, made safe for a terminal.

    Messages quote what the user or a partner wrote (a path, a title), so each line goes
    through :func:`commands.output.safe_text`: a newline or an escape sequence in them can
    neither forge a line nor drive the terminal.
    """
    where = f" (seq {error.seq})" if error.seq is not None and "seq" not in error.message else ""
    echo(f"Error: {error.message}{where}", err=True)
    if error.hint:
        echo(f"Hint: {error.hint}", err=True)
