"""``accord todo``: what waits for one party, with the command to run next."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from commands.errors import ExitCode
from commands.options import AppContext, default_party, fresh_read, pass_ledger
from commands.output import echo, output_options, render
from commands.reports import _days, today_utc
from ledger.errors import ProjectNotFoundError
from ledger.normalise import normalise_handle
from projections.replay import Replay
from projections.todo import DEFAULT_WITHIN_DAYS, Todo, todo

if TYPE_CHECKING:
    from ledger.application import Ledger

HEADERS = ["project", "seq", "waiting", "about", "due", "overdue", "next"]


@click.command(name="todo")
@click.argument("slug", required=False)
@click.option(
    "--as",
    "as_",
    metavar="HANDLE",
    envvar="ACCORD_PARTY",
    help="The party whose to-do list this is [env ACCORD_PARTY; default: the home's one key].",
)
@click.option(
    "--within",
    metavar="DAYS",
    default=f"{DEFAULT_WITHIN_DAYS}d",
    show_default=True,
    help="List your own pledges due within DAYS (14d, 2w); overdue ones always.",
)
@click.option(
    "--fail-if-overdue",
    is_flag=True,
    help=f"Exit {int(ExitCode.OVERDUE)} when one of your pledges is overdue (for cron).",
)
@output_options
@fresh_read
@pass_ledger
def todo_command(
    ledger: Ledger,
    slug: str | None,
    as_: str | None,
    within: str,
    fail_if_overdue: bool,
    output_format: str,
) -> None:
    """List what waits for you: decisions, signatures, joins and your work due.

    Every project of the ledger when SLUG is omitted. Each row names the command to run
    next: deliverables and amendments to approve or reject, statements to sign, a close
    others have signed, an invitation to join, and your own pledges due within --within
    days or overdue. A read: with a remote it first pulls what is new (with this home's key
    of the project), so nothing already decided elsewhere is listed; offline it says so.

    \b
        accord todo --as burgerco
        accord todo spring-campaign --as acme --within 2w --format json
        accord todo --as acme --fail-if-overdue   # in a cron line: exit 8 when late
    """
    handle = normalise_handle(as_ or default_party(), "party")
    app = click.get_current_context().ensure_object(AppContext)
    app.party = handle
    app.stale = "; what it lists may have been decided since"
    days = _days(within)
    today = today_utc()
    slugs = [slug] if slug is not None else ledger.list_slugs()
    rows: list[Todo] = []
    for name in slugs:
        try:
            replay = Replay.build(ledger, name)
        except ProjectNotFoundError:
            if slug is not None:
                raise
            continue  # listed a moment ago, gone now: nothing waits there
        rows.extend(todo(replay, handle, today, days))
    app.showing = {r.project for r in rows}  # the note on unconfirmed entries: these only
    render(
        [r.as_row() for r in rows],
        output_format=output_format,
        headers=HEADERS,
        empty=f"(nothing waits for {handle})",
    )
    overdue = [r for r in rows if r.overdue]
    if fail_if_overdue and overdue:
        echo(
            f"Error: {len(overdue)} overdue pledge{'s' if len(overdue) != 1 else ''} of "
            f"{handle}: " + ", ".join(f"{r.project} seq {r.seq}" for r in overdue),
            err=True,
        )
        raise click.exceptions.Exit(ExitCode.OVERDUE)
