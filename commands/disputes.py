"""``accord dispute`` and ``accord resolve``: disputing the decision on a deliverable."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from commands.options import pass_ledger, signer_option
from commands.output import output_options
from commands.receipts import render_receipt
from ledger.format import OUTCOMES

if TYPE_CHECKING:
    from ledger.application import Ledger
    from ledger.keys import Signer


@click.command(name="dispute")
@click.argument("slug")
@click.argument("seq", type=click.IntRange(min=1))
@click.option("--reason", required=True, help="Why the decision is wrong (required).")
@signer_option
@output_options
@pass_ledger
def dispute(
    ledger: Ledger, slug: str, seq: int, reason: str, signer: Signer, output_format: str
) -> None:
    """Dispute an accepted deliverable, an approval of it or a rejection, by its SEQ.

    The promisor or a beneficiary of the pledge may dispute, never its own entry. While the
    dispute is open an accepted deliverable counts for nothing in the approved totals, and
    the project cannot close. `accord resolve` settles it.

    \b
        accord dispute spring-campaign 7 --reason "The posters use the old logo" --as veggie
    """
    receipt = ledger.open_dispute(slug, seq, reason=reason, signer=signer)
    render_receipt(receipt, output_format=output_format)


@click.command(name="resolve")
@click.argument("slug")
@click.argument("dispute_seq", metavar="DISPUTE", type=click.IntRange(min=1))
@click.option(
    "--outcome",
    required=True,
    type=click.Choice(OUTCOMES),
    help="upheld reverses the disputed decision; dismissed lets it stand.",
)
@click.option("--reason", required=True, help="Why (required).")
@signer_option
@output_options
@pass_ledger
def resolve(
    ledger: Ledger,
    slug: str,
    dispute_seq: int,
    outcome: str,
    reason: str,
    signer: Signer,
    output_format: str,
) -> None:
    """Sign an outcome of dispute DISPUTE; it takes effect when its parties all sign it.

    The parties to a dispute are the disputing party, the author of the disputed entry and
    the promisor of the pledge. Upheld: an accepted deliverable becomes rejected; a
    rejected one goes back to pending for the beneficiaries to decide again. Dismissed: the
    decision stands. A party may sign again with the other outcome to change its mind.

    \b
        accord resolve spring-campaign 9 --outcome upheld --reason "Logo confirmed old" --as acme
    """
    receipt = ledger.resolve_dispute(
        slug, dispute_seq, outcome=outcome, reason=reason, signer=signer
    )
    render_receipt(receipt, output_format=output_format)
