"""The web app's access to the party's replica: the CLI's own ledger, opened per request.

Each request opens the ledger the way a CLI command does (:class:`~commands.options.AppContext`
in a click context of its own, so the remote is attached, reads pull first as ``accord``'s
fresh reads do, and everything is closed at the end), one request at a time. The key unlocked
at start signs the relay's reads and, with ``--sign``, the entries; it never leaves this
process.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

import click

from commands.options import AppContext
from ledger import keys as key_store
from ledger.errors import LedgerError
from ledger.state_file import DamagedStateError
from relay.remotes import RemoteStore

if TYPE_CHECKING:
    from ledger import rules
    from ledger.application import Ledger
    from ledger.keys import Signer

T = TypeVar("T")

_COMMAND = click.Command("web")  # the click context each request runs in


@dataclass
class WebConfig:
    """How the server was started: the ledger, the party, its key and the secrets.

    ``token`` is the one-time secret of the printed URL, ``cookie`` the session cookie's
    value it is exchanged for, ``csrf`` the token every form carries; ``hosts`` the Host
    headers accepted (None: any, only with ``--allow-remote``).
    """

    url: str | None
    party: str
    signer: Signer | None = field(default=None, repr=False)
    sign: bool = False
    remote: str | None = None
    offline: bool = False
    token: str = field(default="", repr=False)
    cookie: str = field(default="", repr=False)
    csrf: str = field(default="", repr=False)
    hosts: frozenset[str] | None = None


class ViewCache:
    """Views computed from a verified head, kept while the head stays the same.

    A projection is a pure function of the verified state (and the day and party asked
    about), and the verified state of a project is named by its head (seq and hash): the
    same key is the same answer. Every request still checks the store against the verified
    head first (``Replay.build``); only the fold over the state is saved. At most
    :data:`SIZE` views are kept, the oldest dropped first.
    """

    SIZE = 64

    def __init__(self) -> None:
        self._views: dict[tuple[Any, ...], Any] = {}

    def get(self, key: tuple[Any, ...], compute: Callable[[], T]) -> T:
        """The view under ``key``, computed now if it is not kept."""
        if key in self._views:
            found: T = self._views[key]
            return found
        value = compute()
        self._views[key] = value
        while len(self._views) > self.SIZE:
            del self._views[next(iter(self._views))]
        return value


@dataclass
class Opened:
    """A ledger opened for one request, and the command context around it."""

    app: AppContext
    ledger: Ledger
    views: ViewCache = field(default_factory=ViewCache)

    def view(
        self, name: str, state: rules.ProjectState, compute: Callable[[], T], *extra: Any
    ) -> T:
        """A view of a project at its verified head (``extra``: what else it depends on)."""
        return self.views.get((name, state.slug, state.seq, state.head, *extra), compute)

    def note(self) -> str | None:
        """The line saying the answer comes from this replica alone (offline), or None."""
        fresh = self.app.fresh_reads
        return fresh.note() if fresh is not None else None

    def remotes(self) -> RemoteStore:
        """This ledger's remotes in the home (closed with the request)."""
        ledger = self.ledger
        store = RemoteStore(ledger.verified.source, memory=ledger.verified.path is None)
        click.get_current_context().call_on_close(store.close)
        return store

    def confirmed(self, slug: str) -> tuple[int, str | None] | None:
        """The seq every member confirmed, as last checked, and when (None: no remote)."""
        store = self.remotes()
        try:
            if not store.exists():
                return None
            remote = store.choose(self.app.remote)
            if remote is None:
                return None
            found = store.confirmed(remote.name, slug)
        except LedgerError:
            return None
        return (found[0], found[1]) if found is not None else (0, None)


class Replica:
    """The party's replica, opened per request as a CLI command opens it (one at a time)."""

    def __init__(self, config: WebConfig) -> None:
        self.config = config
        self.lock = threading.Lock()
        self.views = ViewCache()

    @contextlib.contextmanager
    def opened(self, *, fresh: bool = True) -> Iterator[Opened]:
        """Open the ledger for one request (reads pull from the remote first when ``fresh``)."""
        config = self.config
        app = AppContext(url=config.url, remote=config.remote, offline=config.offline)
        app.party = config.party
        app.fresh = fresh
        app.stale = "; what it shows may have been decided since"
        with self.lock, click.Context(_COMMAND, obj=app):
            ledger = app.ledger()
            self._lend_key(app)
            yield Opened(app, ledger, self.views)

    def _lend_key(self, app: AppContext) -> None:
        """Let the fresh reads sign the relay's reads with the key unlocked at start only."""
        fresh = app.fresh_reads
        if fresh is None:
            return
        signer = self.config.signer
        if signer is None:
            fresh._keys = []  # no key unlocked: nothing is pulled, nothing is prompted
            return
        fresh._keys = [
            info
            for info in key_store.list_keys()
            if info.problem is None and info.name == signer.key_name
        ]
        fresh._signers[signer.key_name] = signer

    def run(self, work: Callable[[Opened], T], *, fresh: bool = True) -> T:
        """Run ``work`` on the opened ledger; a damaged verified state is rebuilt once.

        Raises:
            LedgerError: what the work raised (the route shows it as an error page).
        """
        try:
            with self.opened(fresh=fresh) as opened:
                return work(opened)
        except DamagedStateError as error:
            self._rebuild(error.slug)
            with self.opened(fresh=fresh) as opened:
                return work(opened)

    def _rebuild(self, slug: str | None) -> None:
        app = AppContext(url=self.config.url, remote=self.config.remote, offline=True)
        with self.lock, click.Context(_COMMAND, obj=app):
            app.rebuild_state(slug)
