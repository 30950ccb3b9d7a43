"""Options shared by many commands: the ledger, the signing party and its key."""

from __future__ import annotations

import contextlib
import functools
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar, cast

import click

from commands.output import echo
from ledger import keys as key_store
from ledger import rules, storage
from ledger.errors import LedgerError, UsageError
from ledger.normalise import normalise_handle
from ledger.state_file import DamagedStateError, VerifiedStore
from relay.remotes import RemoteStore

if TYPE_CHECKING:
    from ledger.application import Ledger
    from ledger.upstream import Upstream

F = TypeVar("F", bound=Callable[..., Any])


@dataclass
class AppContext:
    """What the root command passes down: debug mode, the ledger URL, the open ledger.

    A read command (``commands/fresh.py``) sets ``fresh``: its ledger pulls each project from
    the remote before reading it, unless ``offline``. ``party`` is the party the command acts
    or reads as, when it names one; ``showing`` (when set) narrows the projects the command
    shows, for the note on what is not yet confirmed; ``stale`` ends the offline note;
    ``pulled_closed`` lists projects a pull closed (their close report is written here too).
    """

    debug: bool = False
    url: str | None = None
    rebuilt: bool = False
    remote: str | None = None
    offline: bool = False
    fresh: bool = False
    party: str | None = None
    showing: set[str] | None = None
    stale: str = ""
    failed: bool = False
    pulled_closed: list[str] = field(default_factory=list)
    fresh_reads: Any = field(default=None, repr=False)
    _ledger: Ledger | None = field(default=None, repr=False)

    def ledger(self, *, create: bool = False, upstream: Upstream[Ledger] | None = None) -> Ledger:
        """Open the ledger once (lazily) and close it when the command ends.

        Its upstream is the remote's (``commands/remote.py``), unless ``upstream`` is given.
        """
        if self._ledger is None:
            if upstream is None:
                from commands.upstream import upstream_for

                source = storage.source_of(self.url or storage.default_url())
                upstream = upstream_for(source, self.remote, offline=self.offline)
            self._ledger = storage.open_ledger(
                self.url, create=create, upstream=upstream, progress=progress_bar
            )
            click.get_current_context().call_on_close(self.close)
            if self.fresh and not self.offline:
                from commands.fresh import FreshReads

                self.fresh_reads = FreshReads.install(self, self._ledger)
        return self._ledger

    def rebuild_state(self, slug: str | None) -> None:
        """Set aside a damaged verified state so that the next read rebuilds it.

        With ``slug`` (only that project's state is damaged) its verified head is kept, for
        the rebuild to agree with; otherwise the file is removed.
        """
        store = (
            self._ledger.verified
            if self._ledger is not None
            else VerifiedStore(storage.source_of(self.url or storage.default_url()))
        )
        try:
            if slug is None:
                raise DamagedStateError("the whole file")
            store.keep_only_head(slug)
        except DamagedStateError:
            store.reset_file()
        self.rebuilt = True
        self.close()

    def close(self) -> None:
        """Print the ledger's notes and notices, and close its connections.

        First the one line of a read that could not pull (offline), then the close reports
        written for projects a pull closed, then what the command showed that is not yet
        confirmed, then the warnings.
        """
        if self._ledger is not None:
            ledger = self._ledger
            ledger.before_read = None  # nothing more is pulled once the command is done
            fresh = self.fresh_reads
            line = fresh.note(self.stale) if fresh is not None else None
            if line:
                echo(line, err=True)
            closed = [
                *self.pulled_closed,
                *(fresh.closed if fresh is not None else ()),
                *getattr(ledger.upstream, "closed", ()),
            ]
            self.pulled_closed = []
            if closed:
                from commands.fresh import write_pulled_reports

                write_pulled_reports(ledger, closed)
            self._note_unconfirmed(ledger)
            for notice in ledger.notices:
                echo(f"Warning: {notice}", err=True)
            ledger.close()
            self._ledger = None
            self.fresh_reads = None

    def _note_unconfirmed(self, ledger: Ledger) -> None:
        """After a read, say once what it showed that every member has not confirmed.

        Only projects the command showed (``showing``, and up to the last seq it showed)
        and that the party has joined (``party``, or a joined member one of this home's
        keys signs for) count; one line names them all.
        """
        if not ledger.shown or ledger.wrote or self.failed or ledger.verified.path is None:
            return  # a write's receipt already says what it recorded; a failure showed nothing
        store = RemoteStore(ledger.verified.source)
        try:
            if not store.exists():
                return
            remote = store.choose(self.remote)
            if remote is None:
                return
            mine = {k.fingerprint for k in key_store.list_keys() if k.problem is None}
            items = []
            for slug, head in sorted(ledger.shown.items()):
                seq = min(head, ledger.shown_upto.get(slug, head))
                if (self.showing is not None and slug not in self.showing) or seq < 1:
                    continue
                if not self._joined(ledger, slug, mine):
                    continue
                found = store.confirmed(remote.name, slug)
                confirmed, checked = found if found is not None else (0, None)
                if confirmed < seq:
                    items.append((slug, confirmed, seq, checked))
        except LedgerError:
            return
        finally:
            store.close()
        if items:
            echo(_unconfirmed_line(items), err=True)

    def _joined(self, ledger: Ledger, slug: str, mine: set[str]) -> bool:
        """Whether the party (named, or any of this home's keys) is a joined member."""
        members = ledger.verified_state(slug).members
        if self.party is not None:
            member = members.get(self.party)
            return member is not None and member.status == rules.JOINED
        return any(
            m.status == rules.JOINED and not mine.isdisjoint(m.current_keys())
            for m in members.values()
        )


def _unconfirmed_line(items: list[tuple[str, int, int, str | None]]) -> str:
    """One note for every shown project not yet confirmed: (slug, confirmed, seq, checked)."""

    def span(slug: str, confirmed: int, seq: int) -> str:
        if confirmed + 1 == seq:
            return f"entry {seq} of {slug}"
        return f"entries {confirmed + 1}-{seq} of {slug}"

    if len(items) == 1:
        slug, confirmed, seq, checked = items[0]
        when = f"as of {checked}" if checked else "never checked"
        which = span(slug, confirmed, seq) + (" is" if confirmed + 1 == seq else " are")
        return (
            f"Note: {which} not yet confirmed by every member ({when}); "
            f"`accord sync {slug}` cosigns, `accord status {slug}` checks again"
        )
    shown = [
        f"{span(slug, confirmed, seq)} ({f'as of {checked}' if checked else 'never checked'})"
        for slug, confirmed, seq, checked in items[:MAX_NOTED]
    ]
    more = f" and {len(items) - MAX_NOTED} more projects" if len(items) > MAX_NOTED else ""
    return (
        f"Note: not yet confirmed by every member: {', '.join(shown)}{more}; "
        "`accord sync --all` cosigns, `accord status SLUG` checks again"
    )


MAX_NOTED = 5  # projects named in the note on unconfirmed entries


PROGRESS_FROM = 5000


def progress_bar(slug: str, total: int) -> Callable[[int], None] | None:
    """A progress bar on stderr for a long verification, when stderr is a terminal."""
    if total < PROGRESS_FROM or not sys.stderr.isatty():
        return None
    bar = click.progressbar(length=total, label=f"verifying {slug}", file=sys.stderr)
    bar.__enter__()
    seen = 0

    def update(done: int) -> None:
        nonlocal seen
        bar.update(done - seen)
        seen = done
        if done >= total:
            bar.__exit__(None, None, None)

    return update


def remember_url(ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
    """Click callback: keep a ``--ledger`` value on the context object."""
    if value:
        ctx.ensure_object(AppContext).url = value


LEDGER_HELP = (
    "Ledger: a SQLite file path or a postgresql:// URL [env ACCORD_LEDGER; default ./accord.db]."
)


def ledger_option(func: F) -> F:
    """Accept ``--ledger PATH|URL`` on a command (also accepted before the command)."""
    return click.option(
        "--ledger",
        metavar="PATH|URL",
        expose_value=False,
        callback=remember_url,
        help=LEDGER_HELP,
    )(func)


def pass_ledger(func: F) -> F:
    """Open the ledger and pass it as the first argument (adds ``--ledger``)."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        app = click.get_current_context().ensure_object(AppContext)
        try:
            return func(app.ledger(), *args, **kwargs)
        except LedgerError:
            app.failed = True  # it showed nothing: no note on what is not confirmed
            raise

    return cast("F", ledger_option(wrapper))


def read_passphrase(prompt: str, *, env: str = "ACCORD_PASSPHRASE", confirm: bool = False) -> str:
    """Return the passphrase from ``env`` or prompt for it (hidden input).

    A new passphrase (``confirm``) is checked as it is typed: one shorter than the minimum is
    refused at the prompt, which asks again, as ``ACCORD_PASSPHRASE`` would be refused. An
    ended prompt (end of input, Ctrl-C, Ctrl-D) is a usage error, never exit 1.
    """
    value = os.environ.get(env)
    if value is not None:
        return value

    def long_enough(typed: str) -> str:
        try:
            return key_store.check_passphrase(typed)
        except LedgerError as error:
            raise click.UsageError(error.message) from None

    try:
        result: str = click.prompt(
            prompt,
            hide_input=True,
            confirmation_prompt=confirm,
            value_proc=long_enough if confirm else None,
        )
    except click.Abort:
        click.echo(err=True)  # end the prompt's line
        raise UsageError(
            "no passphrase was given (the prompt was ended)",
            hint=f"type it at the prompt, or set {env} for automation",
        ) from None
    return result


def default_party() -> str:
    """The party to act as when ``--as`` is not given: the home's one key, by name.

    Raises:
        UsageError: the home holds no usable key, or several.
    """
    names = [info.name for info in key_store.list_keys() if info.problem is None]
    if len(names) == 1:
        return names[0]
    if not names:
        hint = "this home holds no key: `accord key new NAME` creates one"
    else:
        shown = ", ".join(names[:5]) + (", ..." if len(names) > 5 else "")
        hint = f"this home holds {len(names)} keys ({shown}): name the one to act as"
    raise UsageError("name the party with --as HANDLE (or ACCORD_PARTY)", hint=hint)


def signer_option(func: F) -> F:
    """Add ``--as HANDLE`` and ``--key NAME``; load and decrypt the key; pass ``signer``."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        given = kwargs.pop("as_")
        key_name = kwargs.pop("key_name")
        handle = normalise_handle(given or key_name or default_party(), "party")
        key_name = key_name or handle
        click.get_current_context().ensure_object(AppContext).party = handle
        key_store.info(key_name)  # a missing key is reported before any prompt
        passphrase = read_passphrase(f"Passphrase for key {key_name!r}")
        kwargs["signer"] = key_store.load_signer(handle, key_name, passphrase)
        return func(*args, **kwargs)

    wrapper = click.option(
        "--key",
        "key_name",
        metavar="NAME",
        help="Sign with the key NAME [default: the key named like the party].",
    )(wrapper)
    wrapper = click.option(
        "--as",
        "as_",
        metavar="HANDLE",
        envvar="ACCORD_PARTY",
        help="The party that signs [env ACCORD_PARTY; default: the home's one key].",
    )(wrapper)
    return wrapper  # type: ignore[return-value]


OFFLINE_HELP = "Answer from this replica without asking the relay (see also ACCORD_OFFLINE)."


def fresh_read(func: F) -> F:
    """Make a read command pull from the remote first; add ``--offline``.

    Put it right above ``@pass_ledger`` (or ``@click.pass_obj``), so it runs before the
    ledger is opened.
    """

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        app = click.get_current_context().ensure_object(AppContext)
        app.fresh = True
        offline = bool(kwargs.pop("offline", False))
        app.offline = app.offline or offline
        given = kwargs.get("as_") or os.environ.get("ACCORD_PARTY")
        if isinstance(given, str) and given and app.party is None:
            with contextlib.suppress(LedgerError):  # a malformed --as is the command's to report
                app.party = normalise_handle(given, "party")
        try:
            return func(*args, **kwargs)
        except LedgerError:
            app.failed = True  # it showed nothing: no note on what is not confirmed
            raise

    return cast("F", click.option("--offline", is_flag=True, help=OFFLINE_HELP)(wrapper))
