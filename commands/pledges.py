"""``accord pledge ...``, ``accord deliver``, ``accord approve`` and ``accord reject``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from commands.evidence import after_delivery
from commands.options import fresh_read, pass_ledger, signer_option
from commands.output import output_options, render
from commands.receipts import render_receipt
from commands.reports import OBLIGATION_HEADERS, as_of_options, today_utc
from ledger.application import Evidence
from projections.obligations import obligations
from projections.replay import AsOf, Replay

if TYPE_CHECKING:
    from ledger.application import Ledger
    from ledger.keys import Signer


@click.group(name="pledge")
def pledges() -> None:
    """Make, amend, withdraw, close short and list pledges.

    \b
        accord pledge add spring-campaign "Design the posters" --weight 30 --unit hours \\
            --due 2026-12-15 --as acme
    """


@pledges.command(name="add")
@click.argument("slug")
@click.argument("title")
@click.option(
    "--weight", required=True, help="How much is promised (a positive number such as 1500)."
)
@click.option(
    "--unit",
    required=True,
    help="The unit of the weight, kept as typed: hours, EUR, €, person-days... "
    "(one spelling per project).",
)
@click.option("--due", required=True, metavar="YYYY-MM-DD", help="When it is due.")
@click.option(
    "--to",
    "beneficiaries",
    multiple=True,
    metavar="HANDLE",
    help="A beneficiary (repeatable) [default: every other member].",
)
@signer_option
@output_options
@pass_ledger
def pledges_add(
    ledger: Ledger,
    slug: str,
    title: str,
    weight: str,
    unit: str,
    due: str,
    beneficiaries: tuple[str, ...],
    signer: Signer,
    output_format: str,
) -> None:
    """Pledge TITLE in project SLUG to the other members (or to --to HANDLE only).

    A due date in the past is recorded with a warning.

    \b
        accord pledge add spring-campaign "Design the posters" --weight 30 --unit hours \\
            --due 2026-12-15 --to burgerco --as acme
    """
    receipt = ledger.add_pledge(
        slug,
        title=title,
        weight=weight,
        unit=unit,
        due=due,
        beneficiaries=list(beneficiaries),
        signer=signer,
    )
    render_receipt(receipt, output_format=output_format)


@pledges.command(name="amend")
@click.argument("slug")
@click.argument("pledge", type=click.IntRange(min=1))
@click.option("--weight", help="The new weight.")
@click.option("--due", metavar="YYYY-MM-DD", help="The new due date.")
@click.option("--title", help="The new title.")
@click.option("--reason", required=True, help="Why the pledge changes.")
@signer_option
@output_options
@pass_ledger
def pledges_amend(
    ledger: Ledger,
    slug: str,
    pledge: int,
    weight: str | None,
    due: str | None,
    title: str | None,
    reason: str,
    signer: Signer,
    output_format: str,
) -> None:
    """Propose a change to your pledge PLEDGE; it takes effect once approved.

    The beneficiaries approve or reject the amendment like a deliverable, by its seq.

    \b
        accord pledge amend spring-campaign 4 --due 2026-12-22 --reason "Print shop delay" --as acme
    """
    receipt = ledger.amend_pledge(
        slug, pledge, title=title, weight=weight, due=due, reason=reason, signer=signer
    )
    render_receipt(receipt, output_format=output_format)


@pledges.command(name="withdraw")
@click.argument("slug")
@click.argument("pledge", type=click.IntRange(min=1))
@click.option("--reason", required=True, help="Why the pledge is withdrawn.")
@signer_option
@output_options
@pass_ledger
def pledges_withdraw(
    ledger: Ledger, slug: str, pledge: int, reason: str, signer: Signer, output_format: str
) -> None:
    """Withdraw your pledge PLEDGE, giving a reason (it stays in the record).

    \b
        accord pledge withdraw spring-campaign 4 --reason "Covered by burgerco" --as acme
    """
    receipt = ledger.withdraw_pledge(slug, pledge, reason=reason, signer=signer)
    render_receipt(receipt, output_format=output_format)


@pledges.command(name="close-short")
@click.argument("slug")
@click.argument("pledge", type=click.IntRange(min=1))
@click.option("--reason", required=True, help="Why the pledge ends with what was approved.")
@signer_option
@output_options
@pass_ledger
def pledges_close_short(
    ledger: Ledger, slug: str, pledge: int, reason: str, signer: Signer, output_format: str
) -> None:
    """Propose to end your pledge PLEDGE with what was approved so far.

    It takes effect when the beneficiaries approve it by its seq (`accord approve`), like an
    amendment. The pledge is then closed-short: nothing more is owed or delivered, and
    contributions count only what was approved.

    \b
        accord pledge close-short spring-campaign 4 --reason "Print run cancelled" --as acme
    """
    receipt = ledger.close_pledge_short(slug, pledge, reason=reason, signer=signer)
    render_receipt(receipt, output_format=output_format)


@pledges.command(name="list")
@click.argument("slug")
@as_of_options
@output_options
@fresh_read
@pass_ledger
def pledges_list(ledger: Ledger, slug: str, as_of: AsOf, output_format: str) -> None:
    """List the pledges of SLUG with delivered and approved quantities.

    The same rows as `accord obligations`, without its filters.

    \b
        accord pledge list spring-campaign --format csv
    """
    replay = Replay.build(ledger, slug, as_of)
    rows = [r.as_row() for r in obligations(replay, replay.today(as_of, today_utc()))]
    render(rows, output_format=output_format, headers=OBLIGATION_HEADERS, empty="(no pledges yet)")


@click.command(name="deliver")
@click.argument("slug")
@click.argument("pledge", type=click.IntRange(min=1))
@click.option("--summary", required=True, help="What was delivered.")
@click.option(
    "--quantity",
    help="How much of the pledge this delivers [default: all that remains].",
)
@click.option(
    "--evidence",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, readable=True, path_type=Path),
    help="A file recorded as name, SHA-256 and size (repeatable); with a remote, also "
    "uploaded sealed for the members.",
)
@signer_option
@output_options
@pass_ledger
def deliver(
    ledger: Ledger,
    slug: str,
    pledge: int,
    summary: str,
    quantity: str | None,
    evidence: tuple[Path, ...],
    signer: Signer,
    output_format: str,
) -> None:
    """Submit a deliverable against your pledge PLEDGE; partial deliveries add up.

    Without --quantity it delivers exactly what remains of the weight. A quantity beyond
    the weight is recorded with a warning. Evidence must be regular files.

    \b
        accord deliver spring-campaign 4 --summary "Poster drafts" --quantity 12 \\
            --evidence posters.pdf --as acme
    """
    files = [Evidence.of_file(path) for path in evidence]
    receipt = ledger.deliver(
        slug, pledge, summary=summary, quantity=quantity, evidence=files, signer=signer
    )
    render_receipt(receipt, output_format=output_format)
    # issue 16 (evidence): keep the deliverer's copies; with a remote, upload them sealed
    after_delivery(ledger, slug, receipt.seq, evidence, signer=signer)


@click.command(name="approve")
@click.argument("slug")
@click.argument("seq", type=click.IntRange(min=1))
@click.option("--comment", default="", help="An optional comment.")
@signer_option
@output_options
@pass_ledger
def approve(
    ledger: Ledger, slug: str, seq: int, comment: str, signer: Signer, output_format: str
) -> None:
    """Approve deliverable, amendment, close-short or value proposal SEQ (signing its hash).

    \b
        accord approve spring-campaign 7 --comment "Looks great" --as burgerco
    """
    receipt = ledger.approve(slug, seq, comment=comment, signer=signer)
    render_receipt(receipt, output_format=output_format)


@click.command(name="reject")
@click.argument("slug")
@click.argument("seq", type=click.IntRange(min=1))
@click.option("--reason", required=True, help="Why it is refused (required).")
@signer_option
@output_options
@pass_ledger
def reject(
    ledger: Ledger, slug: str, seq: int, reason: str, signer: Signer, output_format: str
) -> None:
    """Refuse deliverable, amendment, close-short or value proposal SEQ, giving a reason.

    \b
        accord reject spring-campaign 7 --reason "Wrong logo colours" --as burgerco
    """
    receipt = ledger.reject(slug, seq, reason=reason, signer=signer)
    render_receipt(receipt, output_format=output_format)
