"""``accord obligations``, ``contributions``, ``trail`` and ``report``: the read side."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from datetime import UTC, datetime
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from commands.errors import ExitCode
from commands.files import REPORT_FILES
from commands.options import fresh_read, pass_ledger
from commands.output import echo, output_options, render
from commands.reporting import DEFAULT_REPORT_DIR, write_close_report
from ledger.errors import UsageError
from ledger.rules.schema import ENTRY_TYPES
from ledger.sealing import evidence_of
from projections import audit
from projections.contributions import contributions
from projections.obligations import STATUSES, obligations
from projections.replay import AsOf, Replay

if TYPE_CHECKING:
    from ledger.application import Ledger

F = TypeVar("F", bound=Callable[..., Any])
MAX_WITHIN_DAYS = 36_500


def as_of_options(func: F) -> F:
    """Add ``--as-of DATE`` and ``--as-of-seq N``; pass ``as_of`` (an :class:`AsOf`)."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        kwargs["as_of"] = AsOf.parse(kwargs.pop("as_of_day"), kwargs.pop("as_of_seq"))
        return func(*args, **kwargs)

    wrapper = click.option(
        "--as-of-seq",
        type=int,
        metavar="N",
        help="Answer as the ledger stood after its first N entries.",
    )(wrapper)
    wrapper = click.option(
        "--as-of",
        "as_of_day",
        metavar="YYYY-MM-DD",
        help="Answer as the ledger stood at the end of that day (by the entries' claimed times).",
    )(wrapper)
    return wrapper  # type: ignore[return-value]


def today_utc() -> Any:
    """Today's date in UTC (the default "today" for due dates)."""
    return datetime.now(UTC).date()


def _days(value: str) -> int:
    match = re.fullmatch(r"([0-9]{1,9})\s*([dw]?)", value.strip())
    if not match:
        raise UsageError(f"--within {value!r} is not a number of days", hint="write 14d or 2w")
    days = int(match.group(1)) * (7 if match.group(2) == "w" else 1)
    if days > MAX_WITHIN_DAYS:
        raise UsageError(
            f"--within {value!r} is more than {MAX_WITHIN_DAYS} days",
            hint="look at most 100 years ahead",
        )
    return days


OBLIGATION_HEADERS = [
    "seq", "party", "to", "title", "weight", "unit", "delivered", "approved", "short", "due",
    "status", "days_late",
]  # fmt: skip


@click.command(name="obligations")
@click.argument("slug")
@click.option("--party", metavar="HANDLE", help="Only pledges made by or to HANDLE.")
@click.option("--status", type=click.Choice(STATUSES), help="Only pledges with this status.")
@click.option("--within", metavar="DAYS", help="Only unfinished pledges due within DAYS (14d, 2w).")
@click.option(
    "--fail-if-overdue",
    is_flag=True,
    help=f"Exit {int(ExitCode.OVERDUE)} when anything is overdue (for cron).",
)
@as_of_options
@output_options
@fresh_read
@pass_ledger
def obligations_command(
    ledger: Ledger,
    slug: str,
    party: str | None,
    status: str | None,
    within: str | None,
    fail_if_overdue: bool,
    as_of: AsOf,
    output_format: str,
) -> None:
    """Show who owes what to whom: open, overdue, fulfilled, disputed, closed short, withdrawn.

    \b
        accord obligations spring-campaign --within 14d
        accord obligations spring-campaign --fail-if-overdue --format json   # in a cron line
    """
    replay = Replay.build(ledger, slug, as_of)
    today = replay.today(as_of, today_utc())
    rows = obligations(
        replay, today, party=party, status=status,
        within=_days(within) if within is not None else None,
    )  # fmt: skip
    render(
        [r.as_row() for r in rows],
        output_format=output_format,
        headers=OBLIGATION_HEADERS,
        empty="(no matching obligations)",
    )
    if fail_if_overdue:
        overdue = obligations(replay, today, party=party, status="overdue")
        if overdue:
            echo(
                f"Error: {len(overdue)} overdue obligation{'s' if len(overdue) != 1 else ''} "
                f"in {slug}: " + ", ".join(f"seq {r.seq} ({r.party})" for r in overdue),
                err=True,
            )
            raise click.exceptions.Exit(ExitCode.OVERDUE)


@click.command(name="contributions")
@click.argument("slug")
@click.option(
    "--threshold",
    default="0.5",
    show_default=True,
    help="Guest star below this fraction of an equal share in every unit it works in.",
)
@as_of_options
@output_options
@fresh_read
@pass_ledger
def contributions_command(
    ledger: Ledger, slug: str, threshold: str, as_of: AsOf, output_format: str
) -> None:
    """Show who carried the collaboration: shares per party and unit, guest stars.

    Shares compare only the parties working in a unit (`alone`: the only one); a party is
    a guest star when, in every unit it works in with approved work, it had less than
    THRESHOLD of an equal share. `short` is what pledges closed short fell short by.
    Once the members agreed what units are worth (`accord project value`), one more row
    per party, unit `overall REF`, adds up its work in the reference unit REF over the
    units with an agreed value, among the parties with such work (`not valued`: none of
    its work has a value); its shares are rounded so that they add up to 100%.

    \b
        accord contributions spring-campaign --threshold 0.3
    """
    number = r"(?:[0-9]{1,20}(?:\.[0-9]{0,20})?|\.[0-9]{1,20})"
    try:
        if not re.fullmatch(rf"\s*-?{number}(?:/{number})?\s*", threshold):
            raise ValueError(threshold)
        limit = Fraction(threshold.strip())
    except (ValueError, ZeroDivisionError):
        raise UsageError(f"--threshold {threshold!r} is not a number", hint="e.g. 0.5") from None
    if not 0 <= limit <= 1:
        raise UsageError("--threshold must be between 0 and 1", hint="e.g. 0.5")
    replay = Replay.build(ledger, slug, as_of)
    rows = contributions(replay, replay.today(as_of, today_utc()), threshold=limit)
    data = [r.as_row() for r in rows]
    headers = [
        "party", "unit", "pledged", "delivered", "approved", "disputed", "short",
        "pledged_share", "approved_share", "fulfilment", "on_time", "guest_star", "peers",
        "valued",
    ]  # fmt: skip
    if output_format == "table":
        from commands.figures import contribution_view, judgement  # loaded when used

        for row, item in zip(data, rows, strict=True):
            view = contribution_view(item)
            row.update(
                pledged=view.pledged,
                delivered=view.delivered,
                approved=view.approved,
                disputed=view.disputed,
                short=view.short,
                pledged_share=view.pledged_share,
                approved_share=view.approved_share,
                fulfilment=view.fulfilment,
                on_time=view.on_time,
                guest_star="GUEST STAR" if item.guest_star else judgement(item),
            )
        headers = headers[:-2]
    render(data, output_format=output_format, headers=headers, empty="(no pledges yet)")


@click.command(name="trail")
@click.argument("slug")
@click.option("--party", metavar="HANDLE", help="Only entries signed by HANDLE.")
@click.option("--type", "kind", type=click.Choice(ENTRY_TYPES), help="Only entries of this type.")
@as_of_options
@output_options
@fresh_read
@pass_ledger
def trail_command(
    ledger: Ledger,
    slug: str,
    party: str | None,
    kind: str | None,
    as_of: AsOf,
    output_format: str,
) -> None:
    """Show the audit trail: every entry, who signed it, when, and whether it verifies.

    `at` is the time the signer claims; `received_at` is when this store received it.
    The party column names the person too when a party has several signers: `acme (alice)`.

    \b
        accord trail spring-campaign --party acme --type approval.given
    """
    rows = [r.as_row() for r in audit.trail(ledger, slug, as_of=as_of, party=party, kind=kind)]
    if output_format == "json":  # issue 16 (evidence): each deliverable's files
        state = ledger.verified_state(slug)
        for row in rows:
            if row["type"] == "deliverable.submitted":
                row["evidence"] = [
                    {"name": f.name, "size": f.size, "sha256": f.sha256}
                    for f in evidence_of(state, int(row["seq"]))
                ]
    ledger.shown_upto[slug] = max((int(r["seq"]) for r in rows), default=0)  # what is shown
    headers = [
        "seq", "at", "received_at", "party", "signer", "key", "type", "summary", "hash", "verdict",
    ]  # fmt: skip
    if output_format == "table":
        headers = ["seq", "at", "received_at", "party", "type", "summary", "hash", "verdict"]
        for row in rows:
            row["party"] = audit.signed_by(row["party"], row["signer"])
            row["hash"] = row["hash"][:12]
            row["received_at"] = row["received_at"][:19] + "Z"
    render(rows, output_format=output_format, headers=headers, empty="(no matching entries)")


@click.command(name="report")
@click.argument("slug")
@click.option(
    "--format",
    "formats",
    type=click.Choice(tuple(REPORT_FILES)),
    multiple=True,
    help="md, html, json or pdf (repeatable) [default: all four].",
)
@click.option(
    "-o",
    "--output",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    help=f"Directory to write into [default: {DEFAULT_REPORT_DIR}/SLUG beside the ledger].",
)
@fresh_read
@pass_ledger
def report_command(
    ledger: Ledger, slug: str, formats: tuple[str, ...], directory: Path | None
) -> None:
    """Write the close report of SLUG (marked interim while the project is open).

    The report is a pure function of the log: the same entries give the same bytes. By
    default it goes where `accord close` writes it: accord-reports/SLUG/ beside the ledger.
    The PDF (PDF/A-3b) carries the JSON report and the project's bundle as attachments:
    `accord verify --pdf close-report.pdf` checks it on its own.

    \b
        accord report spring-campaign --format html -o ./out
        accord report spring-campaign --format pdf
    """
    for path in write_close_report(ledger, slug, directory, formats or tuple(REPORT_FILES)):
        click.echo(f"wrote {path}")
