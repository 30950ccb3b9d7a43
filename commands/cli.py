"""The root ``accord`` command group."""

from __future__ import annotations

import traceback
from collections.abc import Iterator
from typing import Any, cast

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


# Each top-level command by name: the module that defines it and its attribute there. A
# command's module is imported the first time the command is looked up (to run it, or for
# --help and completion, which list them all), so `accord todo` does not import the relay
# server, the report's renderer or the demo.
COMMANDS: dict[str, tuple[str, str]] = {
    "init": ("commands.projects", "init"),
    "key": ("commands.keys", "keys"),
    "project": ("commands.projects", "projects"),
    "pledge": ("commands.pledges", "pledges"),
    "deliver": ("commands.pledges", "deliver"),
    "approve": ("commands.pledges", "approve"),
    "evidence": ("commands.evidence", "evidence"),
    "reject": ("commands.pledges", "reject"),
    "dispute": ("commands.disputes", "dispute"),
    "resolve": ("commands.disputes", "resolve"),
    "statement": ("commands.statements", "statements"),
    "close": ("commands.projects", "close"),
    "obligations": ("commands.reports", "obligations_command"),
    "contributions": ("commands.reports", "contributions_command"),
    "trail": ("commands.reports", "trail_command"),
    "show": ("commands.show", "show_command"),
    "report": ("commands.reports", "report_command"),
    "todo": ("commands.todo", "todo_command"),
    "notify": ("commands.notify", "notify"),
    "calendar": ("commands.calendar", "calendar_command"),
    "verify": ("commands.audit", "verify_command"),
    "export": ("commands.audit", "export_command"),
    "import": ("commands.audit", "import_command"),
    "state": ("commands.state", "state"),
    "demo": ("commands.demo", "demo"),
    "relay": ("commands.relay", "relay"),
    "remote": ("commands.remote", "remote"),
    "sync": ("commands.remote", "sync_command"),
    "status": ("commands.remote", "status_command"),
    "join": ("commands.invitations", "join_command"),
    "invitations": ("commands.invitations", "invitations_command"),
    "web": ("commands.web.command", "web_command"),
}


def _load(name: str) -> click.Command:
    """Import the command ``name`` (with its subcommands and their completion)."""
    import importlib

    from commands import completion

    module, attribute = COMMANDS[name]
    command = cast("click.Command", getattr(importlib.import_module(module), attribute))
    if name == "project":  # `project value` and `project values` live with the values
        from commands import values

        group = cast("click.Group", command)
        group.add_command(values.project_value)
        group.add_command(values.project_values)
    completion.attach(command)
    return command


class _Commands(dict[str, click.Command]):
    """The root group's commands, each imported when it is first looked up."""

    def __missing__(self, name: str) -> click.Command:
        if name not in COMMANDS:
            raise KeyError(name)
        command = self[name] = _load(name)
        return command

    def get(self, name: str, default: Any = None) -> Any:
        """The command ``name``, imported on first use (``default`` when there is none)."""
        try:
            return self[name]
        except KeyError:
            return default

    def __contains__(self, name: object) -> bool:
        return dict.__contains__(self, name) or name in COMMANDS

    def __iter__(self) -> Iterator[str]:
        return iter(sorted({*dict.keys(self), *COMMANDS}))

    def __len__(self) -> int:
        return len({*dict.keys(self), *COMMANDS})

    def keys(self) -> Any:
        """Every command's name (none is imported)."""
        return list(self)

    def values(self) -> Any:
        """Every command, each imported now."""
        return [self[name] for name in self]

    def items(self) -> Any:
        """Every (name, command), each imported now."""
        return [(name, self[name]) for name in self]


def _register() -> None:
    from commands import completion

    cli.commands = _Commands()
    completion.attach_params(cli)  # the root's own options; each command's when it is loaded


_register()


def main() -> None:
    """Console entry point."""
    cli.main(prog_name="accord")


if __name__ == "__main__":  # pragma: no cover
    main()
