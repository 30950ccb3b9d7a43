"""Render every command's ``--help`` as Markdown (for docs/cli.md, via cog)."""

from __future__ import annotations

from typing import cast

import click

from commands.cli import cli


def _walk(command: click.Command, path: list[str]) -> list[tuple[list[str], click.Command]]:
    found = [(path, command)]
    if isinstance(command, click.Group):
        for name in sorted(command.commands):
            found.extend(_walk(command.commands[name], [*path, name]))
    return found


def all_commands() -> list[tuple[str, click.Command]]:
    """Return ``(full name, command)`` for the root and every command below it."""
    return [(" ".join(["accord", *path]), cmd) for path, cmd in _walk(cli, [])]


def help_text(name: str, command: click.Command) -> str:
    """Return the ``--help`` output of one command, as a user sees it."""
    parts = name.split()[1:]
    with click.Context(cli, info_name="accord", **cli.context_settings) as root:
        ctx = root
        current: click.Command = cli
        for part in parts:
            current = cast("click.Group", current).commands[part]
            ctx = click.Context(current, info_name=part, parent=ctx)
        return current.get_help(ctx)


def markdown() -> str:
    """Return the Markdown reference of every command."""
    sections = []
    for name, command in all_commands():
        summary = command.get_short_help_str(limit=100)
        sections.append(f"## `{name}`\n\n{summary}\n\n```text\n{help_text(name, command)}\n```\n")
    return "\n".join(sections)
