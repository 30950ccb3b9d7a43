"""Shell completion (click's, for bash, zsh and fish): project slugs, handles and key names.

Completion runs on every press of Tab, so it must be quick, quiet and harmless:

* the ledger is opened read-only (SQLite ``mode=ro``, PostgreSQL with a short connect
  timeout and without creating tables) and its verified state is kept in memory, so
  completing never writes to the ledger or to the home;
* it reads only the first entry of each project (its proposal names the slug, the proposer
  and the invited members), never the history, and verifies nothing: the suggestions are
  only suggestions, the command itself still verifies everything;
* any failure (no ledger, a damaged one, an unreachable server) gives no suggestions, never
  a message or a traceback;
* only well-formed slugs and handles are offered, so nothing stored can inject text into
  the shell.

:func:`attach` gives every ``SLUG`` argument (and ``relay key --project``), every ``--as``,
``--party`` and ``--to`` option and every ``--key`` option of the command tree its
completion, by the parameter's name, so a new command gets it without asking.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

import click
from click.shell_completion import CompletionItem

from ledger.format import HANDLE_RE, SLUG_RE

if TYPE_CHECKING:
    from ledger.application import Ledger

Completer = Callable[[click.Context, click.Parameter, str], list[CompletionItem]]
CONNECT_TIMEOUT = "2"  # seconds: a server that does not answer must not hang the shell


def _ledger_url(ctx: click.Context) -> str:
    from commands.options import AppContext
    from ledger.storage import default_url

    app = ctx.find_object(AppContext)
    return (app.url if app is not None else None) or default_url()


def _open_read_only(url: str) -> Ledger | None:
    """The ledger at ``url`` opened for reading only, or None when there is none."""
    from ledger import storage
    from ledger.application import Ledger

    env = storage.settings(url, create=False)
    if storage.is_postgres(url):
        env["POSTGRES_CONNECT_TIMEOUT"] = CONNECT_TIMEOUT
        env["POSTGRES_POOL_SIZE"] = "1"
        env["POSTGRES_MAX_OVERFLOW"] = "0"
    else:
        path = Path(env["SQLITE_DBNAME"]).resolve()
        if not path.is_file():
            return None
        # Without a write-ahead log beside it the file holds everything: read it as
        # immutable, which creates no -wal or -shm file; with one, read it read-only.
        wal = path.with_name(path.name + "-wal").exists()
        env["SQLITE_DBNAME"] = f"file:{quote(str(path))}?mode=ro" + ("" if wal else "&immutable=1")
        env["CREATE_TABLE"] = "n"
    return Ledger(env, source=None)  # no source: the verified state stays in memory


def _proposal(text: str) -> tuple[str, list[str]] | None:
    """The slug and the parties (proposer and invited members) of a proposal entry's text."""
    data = json.loads(text)
    if not isinstance(data, dict) or data.get("type") != "project.proposed":
        return None
    slug, by, body = data.get("project"), data.get("by"), data.get("body")
    if not isinstance(slug, str) or not SLUG_RE.fullmatch(slug):
        return None
    members = body.get("members") if isinstance(body, dict) else None
    handles = [by] + [m.get("handle") for m in members or [] if isinstance(m, dict)]
    return slug, sorted({h for h in handles if isinstance(h, str) and HANDLE_RE.fullmatch(h)})


def ledger_projects(url: str, slug: str | None = None) -> dict[str, list[str]]:
    """The projects of the ledger at ``url`` and their parties, by slug (read-only).

    With ``slug``, only that project is read. Anything that goes wrong gives ``{}``.
    """
    with contextlib.suppress(Exception):
        ledger = _open_read_only(url)
        if ledger is None:
            return {}
        try:
            from ledger.project import project_id

            found: dict[str, list[str]] = {}
            streams = [project_id(slug)] if slug is not None else ledger.rows.stream_ids()
            for stream in streams:
                row = ledger.rows.stream_slug(stream)
                proposal = _proposal(row.text) if row is not None and row.position == 1 else None
                if proposal is not None and project_id(proposal[0]) == stream:
                    found[proposal[0]] = proposal[1]
            return found
        finally:
            ledger.close()
    return {}


def _items(values: list[str], incomplete: str) -> list[CompletionItem]:
    return [CompletionItem(v) for v in sorted(set(values)) if v.startswith(incomplete)]


def _quiet(completer: Completer) -> Completer:
    """Make a completer give no suggestions, silently, whatever goes wrong."""

    def run(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
        try:
            return completer(ctx, param, incomplete)
        except Exception:
            return []

    run.__name__ = completer.__name__
    run.__doc__ = completer.__doc__
    return run


@_quiet
def complete_slug(
    ctx: click.Context, _param: click.Parameter, incomplete: str
) -> list[CompletionItem]:
    """The slugs of the ledger's projects that start with ``incomplete``."""
    return _items(list(ledger_projects(_ledger_url(ctx))), incomplete)


def _named_slug(ctx: click.Context) -> object:
    """The SLUG given on the command line being completed, if any.

    While an option's value is completed, click's parse of the words before it stops at
    that option, leaving the positional words unassigned in ``ctx.args``: parse them again.
    """
    slug = ctx.params.get("slug")
    if slug is None and ctx.args and ctx.info_name is not None:
        with ctx.command.make_context(
            ctx.info_name, list(ctx.args), parent=ctx.parent, resilient_parsing=True
        ) as again:
            slug = again.params.get("slug")
    return slug


@_quiet
def complete_party(
    ctx: click.Context, _param: click.Parameter, incomplete: str
) -> list[CompletionItem]:
    """The parties of the project named before (of every project when none is yet)."""
    slug = _named_slug(ctx)
    if isinstance(slug, str) and not SLUG_RE.fullmatch(slug):
        return []
    projects = ledger_projects(_ledger_url(ctx), slug if isinstance(slug, str) else None)
    return _items([h for handles in projects.values() for h in handles], incomplete)


def key_names() -> list[str]:
    """The names of the keys in the keyring (ACCORD_HOME), without reading any key file."""
    from ledger.keys import keys_dir

    directory = keys_dir()
    if not directory.is_dir():
        return []
    return [p.name[: -len(".key")] for p in directory.iterdir() if p.name.endswith(".key")]


@_quiet
def complete_signer(
    _ctx: click.Context, _param: click.Parameter, incomplete: str
) -> list[CompletionItem]:
    """The handles of the keyring's keys (a key named like the party signs for it)."""
    return _items([n for n in key_names() if HANDLE_RE.fullmatch(n)], incomplete)


@_quiet
def complete_key(
    _ctx: click.Context, _param: click.Parameter, incomplete: str
) -> list[CompletionItem]:
    """The names of the keyring's keys."""
    from ledger.keys import KEY_NAME_RE

    return _items([n for n in key_names() if KEY_NAME_RE.match(n)], incomplete)


# What completes what, by the parameter's name (as the command receives it): a SLUG
# argument or option (relay key --project), the handle options, the key name option.
COMPLETERS: dict[str, Completer] = {
    "slug": complete_slug,
    "as_": complete_signer,
    "party": complete_party,
    "beneficiaries": complete_party,  # pledge add --to
    "key_name": complete_key,
}


def attach_params(command: click.Command) -> None:
    """Give the parameters of ``command`` itself (not its subcommands) their completion."""
    for param in command.params:
        completer = COMPLETERS.get(param.name or "")
        if completer is not None and param._custom_shell_complete is None:
            param._custom_shell_complete = completer


def attach(command: click.Command) -> None:
    """Give the parameters of ``command`` and its subcommands their completion.

    A parameter that already has its own completion keeps it.
    """
    attach_params(command)
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            attach(sub)
