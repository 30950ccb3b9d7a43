"""The root ``accord`` command group."""

from __future__ import annotations

import traceback
from typing import Any

import click

from commands.errors import ExitCode, exit_code_for, report
from commands.options import LEDGER_HELP, AppContext, remember_url
from commands.output import echo
from ledger import __version__
from ledger.errors import LedgerError
from ledger.state_file import DamagedStateError

CONTEXT_SETTINGS = {
    "help_option_names": ["-h", "--help"],
    "max_content_width": 100,
    "terminal_width": 100,
}


class AccordGroup(click.Group):
    """A click group that turns ledger errors into one line, a hint and an exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        """Run the command; report ledger errors and unexpected ones briefly.

        A verified-state item found damaged while the command ran (items are read lazily)
        makes the command start again once on a state rebuilt by a full verification; it
        failed before anything was recorded, since items are read before a write is saved.
        """
        arguments = (list(ctx._protected_args), list(ctx.args))  # consumed by an invocation
        try:
            return self._invoke_once(ctx)
        except DamagedStateError as error:
            app = ctx.find_object(AppContext)
            if app is None or app.rebuilt:
                report(error)
                ctx.exit(ExitCode.VERIFICATION)
            app.rebuild_state(error.slug)
            echo(f"Warning: {error.message}; rebuilding it by a full verification", err=True)
            ctx._protected_args, ctx.args = arguments
            try:
                return self._invoke_once(ctx)
            except DamagedStateError as again:
                report(again)
                ctx.exit(ExitCode.VERIFICATION)

    def _invoke_once(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except DamagedStateError:
            raise
        except LedgerError as error:
            if _debug(ctx):
                traceback.print_exc()
            report(error)
            ctx.exit(exit_code_for(error))
        except (click.exceptions.Exit, click.ClickException, click.Abort, KeyboardInterrupt):
            raise
        except Exception as error:
            if _debug(ctx):
                raise
            echo(f"Error: unexpected {type(error).__name__}: {error}", err=True)
            click.echo("Hint: rerun with --debug for the traceback, and report it", err=True)
            ctx.exit(ExitCode.UNEXPECTED)


def _debug(ctx: click.Context) -> bool:
    app = ctx.find_object(AppContext)
    return bool(app and app.debug)


@click.group(cls=AccordGroup, context_settings=CONTEXT_SETTINGS)
@click.version_option(__version__, "--version", prog_name="accord")
@click.option("--debug", is_flag=True, help="Show tracebacks for unexpected errors.")
@click.option(
    "--ledger",
    metavar="PATH|URL",
    envvar="ACCORD_LEDGER",
    expose_value=False,
    callback=remember_url,
    help=LEDGER_HELP,
)
@click.option(
    "--remote",
    metavar="NAME",
    envvar="ACCORD_REMOTE",
    help="Write through (and sync with) remote NAME [env ACCORD_REMOTE; default: the only one].",
)
@click.option(
    "--offline",
    is_flag=True,
    envvar="ACCORD_OFFLINE",
    help="Send nothing to the relay: reads answer from this replica without pulling first "
    "[env ACCORD_OFFLINE=1].",
)
@click.pass_context
def cli(ctx: click.Context, debug: bool, remote: str | None, offline: bool) -> None:
    """accord: a signed, hash-chained ledger of who promised, delivered and approved what.

    \b
    Exit codes: 0 ok, 1 unexpected, 2 usage, 3 not found, 4 rule violation or conflict,
    5 signature or verification failure, 6 storage unavailable, 7 key file problem,
    8 overdue obligations (obligations --fail-if-overdue).

    \b
        accord init
        accord key new acme
        accord project propose spring-campaign --title "Spring campaign" --member burgerco --as acme
    """
    app = ctx.ensure_object(AppContext)
    app.debug = debug
    app.remote = remote
    app.offline = offline
    ctx.call_on_close(app.close)


def _register() -> None:
    from commands import (
        audit,
        calendar,
        completion,
        demo,
        disputes,
        invitations,
        keys,
        pledges,
        projects,
        relay,
        remote,
        reports,
        show,
        state,
        statements,
        todo,
        values,
    )
    from commands.web.command import web_command

    cli.add_command(projects.init)
    cli.add_command(keys.keys)
    cli.add_command(projects.projects)
    projects.projects.add_command(values.project_value)
    projects.projects.add_command(values.project_values)
    cli.add_command(pledges.pledges)
    cli.add_command(pledges.deliver)
    cli.add_command(pledges.approve)
    cli.add_command(pledges.reject)
    cli.add_command(disputes.dispute)
    cli.add_command(disputes.resolve)
    cli.add_command(statements.statements)
    cli.add_command(projects.close)
    cli.add_command(reports.obligations_command)
    cli.add_command(reports.contributions_command)
    cli.add_command(reports.trail_command)
    cli.add_command(show.show_command)
    cli.add_command(reports.report_command)
    cli.add_command(todo.todo_command)
    cli.add_command(calendar.calendar_command)
    cli.add_command(audit.verify_command)
    cli.add_command(audit.export_command)
    cli.add_command(audit.import_command)
    cli.add_command(state.state)
    cli.add_command(demo.demo)
    cli.add_command(relay.relay)
    cli.add_command(remote.remote)
    cli.add_command(remote.sync_command)
    cli.add_command(remote.status_command)
    cli.add_command(invitations.join_command)
    cli.add_command(invitations.invitations_command)
    cli.add_command(web_command)
    completion.attach(cli)


_register()


def main() -> None:
    """Console entry point."""
    cli.main(prog_name="accord")


if __name__ == "__main__":  # pragma: no cover
    main()
