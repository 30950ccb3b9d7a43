"""A ledger's link to its remote: the remotes file, the upstream writes go through.

Below the commands that use them (``remote.py``, ``invitations.py``, ``options.py``,
``fresh.py``), so that none of them imports another back.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from commands.output import safe_text
from ledger import entry as entry_mod
from ledger.errors import StorageUnavailableError, UsageError
from relay.remotes import RemoteStore

if TYPE_CHECKING:
    from ledger.application import Ledger
    from ledger.keys import Signer
    from ledger.upstream import Upstream


def remote_store(ledger: Ledger) -> RemoteStore:
    """The remotes of ``ledger`` in this home (in memory for an in-memory ledger)."""
    store = RemoteStore(ledger.verified.source, memory=ledger.verified.path is None)
    click.get_current_context().call_on_close(store.close)
    return store


def upstream_for(
    source: str, name: str | None, *, offline: bool = False
) -> Upstream[Ledger] | None:
    """The upstream a ledger with a remote writes through (the one remote, or the one named).

    ``source`` is the ledger's identity (``storage.source_of``), whose remotes this home
    keeps. ``--offline`` sends nothing: a write that would go through a remote is refused
    (exit 2). None when the ledger has no remote.
    """
    from relay.session import RelayUpstream

    store = RemoteStore(source)
    if name is None and not store.exists():
        return None
    click.get_current_context().call_on_close(store.close)
    try:
        remote = store.choose(name)
    except (UsageError, StorageUnavailableError) as error:
        # Reads still answer from the verified replica; writes fail with the error.
        return _Refused(error)
    if remote is not None and offline:
        return _Refused(offline_error("a write goes through the relay"))
    if remote is not None:
        return RelayUpstream(remote, store)
    return None


def offline_error(what: str) -> UsageError:
    """The usage error of something that must reach the relay under ``--offline``."""
    return UsageError(
        f"--offline (or ACCORD_OFFLINE) sends nothing to the relay, and {what}",
        hint="drop --offline (unset ACCORD_OFFLINE) to reach the relay; reads answer from "
        "this replica with --offline",
    )


class _Refused:
    """An upstream that cannot be chosen (several remotes, none named): writes fail."""

    def __init__(self, error: UsageError | StorageUnavailableError) -> None:
        self.error = error

    def pull(self, ledger: Ledger, slug: str, *, signer: Signer) -> None:
        raise self.error

    def submit(self, ledger: Ledger, slug: str, entry: entry_mod.SignedEntry) -> None:
        raise self.error


def print_fork_evidence(fork: Any) -> None:
    """Print both signed notes of a fork, each line indented and made safe for a terminal.

    The relay signed them, but a note's text may hold any character but C0 controls (DEL,
    C1, bidi controls, line separators) and any line (``Error: ...``): each line goes
    through :func:`~commands.output.safe_text` and is indented by two spaces, so that none
    can drive the terminal or pose as a line of accord's own. The notes are kept whole in
    the home's remotes file.
    """
    for label, text in zip(("kept", "served"), fork.evidence, strict=True):
        click.echo(f"--- the {label} signed note ---", err=True)
        for line in text.removesuffix("\n").split("\n") if text else ["(none kept)"]:
            click.echo(f"  {safe_text(line)}" if line else "", err=True)
