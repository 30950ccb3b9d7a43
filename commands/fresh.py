"""Fresh reads: with a remote, a read first pulls what the relay holds (docs/relay.md).

A read command (``@fresh_read``) installs a :class:`FreshReads` on its ledger; the ledger
calls it before it first reads each project (``Ledger.before_read``). It pulls the project
from the remote exactly as ``accord sync`` does (the relay's signed checkpoint against the
pinned key and the checkpoints kept, every entry through the rules, the root of this
replica), within a short time (``ACCORD_READ_TIMEOUT``, default 3 s, for all the pulls of
the command). It never cosigns or posts: a read only asks (``GET``).

- The relay unreachable, slow or failing (exit 6 for a sync), a project the relay does
  not serve to this home (404), no passphrase for the key: the read answers from this
  replica and prints one line at the end, ``Note: offline: ...; showing this replica as
  synced at T``, with the exit code it would have anyway.
- A verification failure (a fork, a bad signature or entry, a root that differs) fails the
  read with exit 5, as it fails a sync: an attack is never hidden behind an answer.
- ``--offline`` (on the command or before it, or ``ACCORD_OFFLINE=1``) skips the pull.

The key that signs the reads is the one of this home that the project's log names for a
joined member (or pins for an invitee); ``--as`` / ``ACCORD_PARTY`` is preferred. Its
passphrase comes from ``ACCORD_PASSPHRASE``, or a prompt on a terminal (Enter skips).

When a pull (here, in a sync or status, or before a write) brings in the close signature
that meets the close policy, the command writes the close report on this replica too
(:func:`write_pulled_reports`), where ``accord close`` writes it (``commands/reports.py``).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from commands.files import REPORT_FILES
from commands.output import echo
from ledger import keys as key_store
from ledger import rules
from ledger.errors import DeadlineExceededError, KeyFileError, LedgerError, SignatureError
from ledger.state_file import DamagedStateError
from relay.remotes import RemoteStore

if TYPE_CHECKING:
    from commands.options import AppContext
    from ledger.application import Ledger
    from ledger.keys import Signer
    from relay.client import Deadline
    from relay.remotes import Remote

F = TypeVar("F", bound=Callable[..., Any])

READ_TIMEOUT_ENV = "ACCORD_READ_TIMEOUT"
DEFAULT_READ_TIMEOUT = 3.0  # seconds all the pulls of one read may take together
PASSPHRASE_ENV = "ACCORD_PASSPHRASE"  # noqa: S105 - the variable's name


def read_deadline() -> Deadline:
    """The deadline shared by the pulls of one read (``ACCORD_READ_TIMEOUT`` seconds).

    Raises:
        UsageError: the variable is not a number of seconds in (0, 86400].
    """
    from relay.client import Deadline

    return Deadline(Deadline.from_env(READ_TIMEOUT_ENV, DEFAULT_READ_TIMEOUT))


class _NoPassphrase(Exception):
    """No passphrase to decrypt the key that signs the relay's reads."""


class FreshReads:
    """A ledger's ``before_read``: pull each project once before it is first read.

    Args:
        app: the command's context (the remote named, the party preferred).
        ledger: the ledger the command reads.
        store: this ledger's remotes in the home.
        deadline: shared by every pull of the command.
    """

    def __init__(self, app: AppContext, ledger: Ledger, store: RemoteStore, deadline: Deadline):
        self.app = app
        self.ledger = ledger
        self.store = store
        self.deadline = deadline
        self.seen: set[str] = set()
        self.closed: list[str] = []  # projects a pull closed
        self.missed: dict[str, str | None] = {}  # not refreshed: slug -> last synced at
        self.reason: str | None = None  # why the first one was not refreshed
        self.offline = False  # ... because the relay did not answer
        self._remote: Remote | None = None
        self._chosen = False
        self._signers: dict[str, Signer] = {}
        self._keys: list[key_store.KeyInfo] | None = None  # this home's usable keys

    @classmethod
    def install(cls, app: AppContext, ledger: Ledger) -> FreshReads | None:
        """Hook fresh reads into ``ledger`` when it has remotes (else None).

        Raises:
            UsageError: ``ACCORD_READ_TIMEOUT`` is malformed (before any request).
        """
        store = RemoteStore(ledger.verified.source, memory=ledger.verified.path is None)
        click.get_current_context().call_on_close(store.close)
        if ledger.verified.path is None or not store.exists():
            return None
        fresh = cls(app, ledger, store, read_deadline())
        ledger.before_read = fresh
        return fresh

    def __call__(self, slug: str) -> None:
        """Pull ``slug`` from the remote once (a project this replica holds).

        Raises:
            ForkError: the relay's checkpoint contradicts one kept (both notes printed).
            SignatureError: any other verification failure (exit 5).
            KeyFileError: the key that signs the reads cannot be decrypted.
        """
        if slug in self.seen:
            return
        self.seen.add(slug)
        if self.ledger.rows.last(slug) is None:
            return  # not in this replica: `accord sync SLUG` fetches a project by its slug
        remote = self._choose(slug)
        if remote is None:
            return
        try:
            signer = self._signer(self.ledger.verified_state(slug), remote)
        except _NoPassphrase as reason:
            self._miss(slug, remote, str(reason), offline=False)
            return
        if signer is None:
            return  # no key of this home reads the project: the relay would show it nothing
        self._pull(slug, remote, signer)

    def _pull(self, slug: str, remote: Remote, signer: Signer) -> None:
        from commands.upstream import print_fork_evidence
        from relay.client import RelayClient
        from relay.session import RemoteSession
        from relay.sync import ForkError

        try:
            with RelayClient(remote.url, signer, deadline=self.deadline) as client:
                pulled = RemoteSession(self.ledger, client, remote, self.store).pull(slug)
        except ForkError as fork:
            print_fork_evidence(fork)
            raise
        except (SignatureError, KeyFileError, DamagedStateError):
            raise  # never hidden: a verification failure is exit 5
        except DeadlineExceededError:
            seconds = self.deadline.seconds or DEFAULT_READ_TIMEOUT
            reason = f"relay {remote.name} did not answer within {seconds:g} s"
            self._miss(slug, remote, reason, offline=True)
            return
        except LedgerError as error:
            from ledger.errors import StorageUnavailableError

            offline = isinstance(error, StorageUnavailableError)
            self._miss(slug, remote, error.message, offline=offline)
            return
        if pulled.closed:
            self.closed.append(slug)

    def _choose(self, slug: str) -> Remote | None:
        """The remote to pull from (chosen once); a choice that fails is noted."""
        if not self._chosen:
            self._chosen = True
            try:
                self._remote = self.store.choose(self.app.remote)
            except LedgerError as error:
                self.reason = error.message
        if self._remote is None and self.reason is not None:
            self.missed[slug] = None
        return self._remote

    def _miss(self, slug: str, remote: Remote, reason: str, *, offline: bool) -> None:
        try:
            self.missed[slug] = self.store.synced(remote.name, slug)
        except LedgerError:
            self.missed[slug] = None
        if self.reason is None:
            self.reason, self.offline = reason, offline

    def _signer(self, state: rules.ProjectState, remote: Remote) -> Signer | None:
        """The key of this home that the relay lets read the project, decrypted (or None).

        A joined member's current key, or the key an invitation pins; the party named
        with ``--as`` / ``ACCORD_PARTY`` first.

        Raises:
            _NoPassphrase: its passphrase is not set and cannot be asked for.
            KeyFileError: the key cannot be decrypted (a wrong passphrase).
        """
        readers: dict[str, str] = {}  # fingerprint -> handle
        for member in state.members.values():
            if member.status == rules.JOINED:
                for key in member.current_keys():
                    readers.setdefault(key, member.handle)
            elif member.status == rules.INVITED and member.pinned:
                readers.setdefault(member.pinned, member.handle)
        if self._keys is None:
            self._keys = [info for info in key_store.list_keys() if info.problem is None]
        mine = [info for info in self._keys if info.fingerprint in readers]
        if not mine:
            return None
        info = min(mine, key=lambda i: (readers[i.fingerprint] != self.app.party, i.name))
        handle = readers[info.fingerprint]
        if info.name not in self._signers:
            passphrase = self._passphrase(info.name, Path(info.path), remote)
            self._signers[info.name] = key_store.load_signer(handle, info.name, passphrase)
        return self._signers[info.name]

    @staticmethod
    def _passphrase(name: str, path: Path, remote: Remote) -> str:
        if not key_store.needs_passphrase(path):
            return ""
        value = os.environ.get(PASSPHRASE_ENV)
        if value is not None:
            return value
        if sys.stdin is not None and sys.stdin.isatty():
            try:
                typed: str = click.prompt(
                    f"Passphrase for key {name!r} to read what is new from relay {remote.name} "
                    "(Enter: answer from this replica)",
                    hide_input=True,
                    default="",
                    show_default=False,
                    err=True,
                )
            except click.Abort:
                click.echo(err=True)
                typed = ""
            if typed:
                return typed
            raise _NoPassphrase(f"no passphrase was given for key {name!r}")
        raise _NoPassphrase(
            f"no passphrase for key {name!r} to sign the relay's reads "
            f"(set {PASSPHRASE_ENV}, or run `accord sync`)"
        )

    def note(self, stale: str = "") -> str | None:
        """The one line saying that part of the answer comes from this replica alone."""
        if not self.missed or self.reason is None:
            return None
        label = "offline" if self.offline else "not refreshed"
        times = list(self.missed.values())
        synced = sorted(t for t in times if t is not None)
        never = len(times) - len(synced)
        if self._remote is None:
            when = "showing this replica alone"
        elif not synced:
            when = f"showing this replica, never synced with relay {self._remote.name}"
        elif never:
            when = (
                f"showing this replica as synced at {synced[0]} "
                f"({never} of {len(times)} projects never)"
            )
        else:
            when = f"showing this replica as synced at {synced[0]}"
        return f"Note: {label}: {self.reason}; {when}{stale}"


def report_note(slug: str, paths: list[Path]) -> str:
    """The line saying where the close report of a project closed by a pull was written."""
    names = ", ".join(p.name for p in paths)
    return f"Note: {slug} is closed: wrote its close report to {paths[0].parent}/ ({names})"


def write_pulled_reports(ledger: Ledger, slugs: list[str]) -> None:
    """Write the close report of each project a pull closed, where ``accord close`` would.

    The report is a pure function of the log: the same bytes as on the closer's replica.
    A failure to write is a warning: the entries are recorded, and `accord report` writes it
    again.
    """
    from commands.reporting import write_close_report

    for slug in dict.fromkeys(slugs):
        try:
            paths = write_close_report(ledger, slug, None, tuple(REPORT_FILES))
        except LedgerError as error:
            echo(
                f"Warning: {slug} is closed, but its close report was not written: "
                f"{error.message}; `accord report {slug}` writes it",
                err=True,
            )
            continue
        echo(report_note(slug, paths), err=True)
