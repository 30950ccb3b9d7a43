"""``accord project value`` and ``accord project values``: what units are worth."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from commands.options import fresh_read, pass_ledger, signer_option
from commands.output import output_options, render
from commands.receipts import render_receipt
from commands.reports import as_of_options
from projections.replay import AsOf, Replay
from projections.values import VALUE_HEADERS, value_rows

if TYPE_CHECKING:
    from ledger.application import Ledger
    from ledger.keys import Signer


@click.command(name="value")
@click.argument("slug")
@click.option("--unit", required=True, help="The unit valued (hours, person-days...).")
@click.option(
    "--worth", required=True, metavar="NUMBER", help="What one UNIT is worth in the --in unit."
)
@click.option(
    "--in",
    "reference",
    required=True,
    metavar="UNIT",
    help="The reference unit (one per project, e.g. EUR; it is worth 1).",
)
@click.option("--reason", required=True, help="Why this value (required).")
@signer_option
@output_options
@pass_ledger
def project_value(
    ledger: Ledger,
    slug: str,
    unit: str,
    worth: str,
    reference: str,
    reason: str,
    signer: Signer,
    output_format: str,
) -> None:
    """Propose what one UNIT is worth; in force once every other member approves it.

    The other joined members approve it with `accord approve SLUG SEQ` (or refuse it
    with `accord reject`), SEQ being the proposal's seq. A later agreed value for the
    same unit replaces it, and a newer proposal voids one still pending. Every value of
    a project is given in one reference unit (--in). `accord contributions` then adds
    each party's overall share in that unit.

    \b
        accord project value spring-campaign --unit hours --worth 80 --in EUR \\
            --reason "Agency day rate / 8" --as acme
    """
    receipt = ledger.propose_value(
        slug, unit=unit, worth=worth, reference=reference, reason=reason, signer=signer
    )
    render_receipt(receipt, output_format=output_format)


@click.command(name="values")
@click.argument("slug")
@as_of_options
@output_options
@fresh_read
@pass_ledger
def project_values(ledger: Ledger, slug: str, as_of: AsOf, output_format: str) -> None:
    """List the value proposals of SLUG: agreed, pending, replaced, rejected, superseded.

    \b
        accord project values spring-campaign --format json
    """
    rows = [r.as_row() for r in value_rows(Replay.build(ledger, slug, as_of).state)]
    if output_format != "json":
        for row in rows:
            row["approved_by"] = [f"{a['party']} (seq {a['seq']})" for a in row["approved_by"]]
            refusal = row["refused_by"]
            row["refused_by"] = (
                f"{refusal['party']} (seq {refusal['seq']}): {refusal['reason']}" if refusal else ""
            )
    render(rows, output_format=output_format, headers=VALUE_HEADERS, empty="(no values yet)")
