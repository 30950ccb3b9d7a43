"""``accord show SLUG SEQ``: one entry in full, in words, with where it stands."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from commands.options import fresh_read, pass_ledger
from commands.output import echo, safe_json
from commands.reports import as_of_options, today_utc
from projections.entry_view import EntryView, entry_view
from projections.replay import AsOf, Replay

if TYPE_CHECKING:
    from ledger.application import Ledger


@click.command(name="show")
@click.argument("slug")
@click.argument("seq", type=click.IntRange(min=1))
@as_of_options
@click.option(
    "--format",
    "output_format",
    type=click.Choice(("table", "json")),
    default="table",
    show_default=True,
    help="Output format: lines for people, or one JSON object for scripts.",
)
@fresh_read
@pass_ledger
def show_command(ledger: Ledger, slug: str, seq: int, as_of: AsOf, output_format: str) -> None:
    """Show entry SEQ of SLUG in full: who signed it, what it says, where it stands.

    Who signed (party, signer and key), the claimed time and hash, the body in words (an
    amendment's old and new values, a deliverable's quantity, summary and evidence files, a
    dispute's reason...), its status now, who it waits for and who has decided, with the seq
    of each decision. A read: no key or passphrase is needed.

    \b
        accord show spring-campaign 7
        accord show spring-campaign 7 --format json
    """
    replay = Replay.build(ledger, slug, as_of)
    view = entry_view(replay, seq, replay.today(as_of, today_utc()))
    if output_format == "json":
        click.echo(safe_json(view.as_dict()))
        return
    for line in table_lines(view):
        echo(line)


def table_lines(view: EntryView) -> list[str]:
    """The entry as ``label  text`` lines; a value of several lines is indented below."""
    standing = view.standing
    rows: list[tuple[str, tuple[str, ...]]] = [
        ("signed by", (f"{view.signed_by}, key {view.key}",)),
        ("claimed at", (view.at,)),
        ("hash", (view.hash,)),
        *((fact.name.replace("_", " "), fact.words) for fact in view.facts if fact.words),
        ("status", (standing.words,)),
    ]
    if standing.waiting:
        rows.append(("waiting for", tuple(f"{w.party} to {w.to}" for w in standing.waiting)))
    if standing.decisions:
        rows.append(("decided", tuple(d.words for d in standing.decisions)))
    width = max(len(label) for label, _ in rows)
    lines = [f"{view.project} seq {view.seq}: {view.noun} ({view.type})"]
    for label, texts in rows:
        first, *rest = texts or ("",)
        lines.append(f"{label.ljust(width)}  {first}".rstrip())
        lines.extend(f"{'':{width}}  {text}".rstrip() for text in rest)
    return lines
