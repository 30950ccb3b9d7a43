"""``accord statement ...``: shared-responsibility statements."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from commands.options import fresh_read, pass_ledger, signer_option
from commands.output import echo, output_options, render, render_object, safe_text
from commands.receipts import render_receipt, render_signed
from commands.reports import as_of_options
from ledger.errors import LedgerError, UsageError
from ledger.inputs import read_text_file
from projections.replay import AsOf, Replay
from projections.statements import statement_detail, statement_rows

if TYPE_CHECKING:
    from ledger.application import Ledger, Receipt
    from ledger.keys import Signer


@click.group(name="statement")
def statements() -> None:
    """Propose, sign, revise and read shared-responsibility statements.

    \b
        accord statement sign spring-campaign 12 --as burgerco
    """


def _text(text: str | None, text_file: Path | None) -> str:
    if (text is None) == (text_file is None):
        raise UsageError(
            "give exactly one of --text and --text-file",
            hint="--text TEXT for a short text, --text-file FILE for a long one",
        )
    if text_file is not None:
        return read_text_file(text_file, "text file")
    return str(text)


def _sign_own(
    ledger: Ledger,
    receipt: Receipt,
    statement: int,
    text: str,
    *,
    sign: bool,
    signer: Signer,
    output_format: str,
) -> None:
    """Sign the text just proposed or revised (unless ``--no-sign``) and print both receipts.

    Proposing or revising a text is agreeing to it, so its author signs it at once: a
    second entry, ``statement.signed``, through the same write path (a relay included),
    for exactly that text. If the signature fails, the first receipt is printed anyway,
    with a note on how to sign, and the command exits with the signature's error.
    """
    if not sign:
        render_receipt(receipt, output_format=output_format)
        return
    try:
        signature = ledger.sign_statement(
            receipt.project, statement, signer=signer, expected_text=text
        )
    except LedgerError:
        render_receipt(receipt, output_format=output_format)
        echo(
            f"Note: statement {statement} of {receipt.project} was recorded at seq "
            f"{receipt.seq} but not signed; sign it with `accord statement sign "
            f"{receipt.project} {statement} --as {signer.handle}`",
            err=True,
        )
        raise
    render_signed(receipt, signature, output_format=output_format)


NO_SIGN = click.option(
    "--no-sign",
    "no_sign",
    is_flag=True,
    help="Record the text without signing it (by default its author signs it at once).",
)
TEXT_FILE = click.Path(exists=True, dir_okay=False, readable=True, path_type=Path)


@statements.command(name="propose")
@click.argument("slug")
@click.option("--title", required=True, help="The statement's title.")
@click.option("--text", help="The statement's text.")
@click.option(
    "--text-file",
    type=TEXT_FILE,
    help="Read the text from a UTF-8 file (at most 100,000 characters).",
)
@NO_SIGN
@signer_option
@output_options
@pass_ledger
def statements_propose(
    ledger: Ledger,
    slug: str,
    title: str,
    text: str | None,
    text_file: Path | None,
    no_sign: bool,
    signer: Signer,
    output_format: str,
) -> None:
    """Propose a statement in SLUG for every member to sign; the proposer signs it too.

    Two entries: statement.proposed, then statement.signed by the proposer (unless
    --no-sign). JSON prints the proposal's receipt with the signature's under `signature`.

    \b
        accord statement propose spring-campaign --title "Joint statement" \\
            --text-file statement.md --as acme
    """
    body = _text(text, text_file)
    receipt = ledger.propose_statement(slug, title=title, text=body, signer=signer)
    _sign_own(
        ledger, receipt, receipt.seq, body,
        sign=not no_sign, signer=signer, output_format=output_format,
    )  # fmt: skip


@statements.command(name="sign")
@click.argument("slug")
@click.argument("statement", type=click.IntRange(min=1))
@signer_option
@output_options
@pass_ledger
def statements_sign(
    ledger: Ledger, slug: str, statement: int, signer: Signer, output_format: str
) -> None:
    """Sign the current version of statement STATEMENT of SLUG.

    \b
        accord statement sign spring-campaign 12 --as burgerco
    """
    receipt = ledger.sign_statement(slug, statement, signer=signer)
    render_receipt(receipt, output_format=output_format)


@statements.command(name="revise")
@click.argument("slug")
@click.argument("statement", type=click.IntRange(min=1))
@click.option("--text", help="The new text.")
@click.option(
    "--text-file",
    type=TEXT_FILE,
    help="Read the new text from a UTF-8 file (at most 100,000 characters).",
)
@click.option("--reason", required=True, help="Why the text changes.")
@NO_SIGN
@signer_option
@output_options
@pass_ledger
def statements_revise(
    ledger: Ledger,
    slug: str,
    statement: int,
    text: str | None,
    text_file: Path | None,
    reason: str,
    no_sign: bool,
    signer: Signer,
    output_format: str,
) -> None:
    """Revise statement STATEMENT; every earlier signature becomes void; the reviser signs.

    Two entries: statement.revised, then statement.signed of the new version by the
    reviser (unless --no-sign). JSON nests the signature's receipt under `signature`.

    \b
        accord statement revise spring-campaign 12 --text-file v2.md \\
            --reason "Legal review" --as acme
    """
    body = _text(text, text_file)
    receipt = ledger.revise_statement(slug, statement, text=body, reason=reason, signer=signer)
    _sign_own(
        ledger, receipt, statement, body,
        sign=not no_sign, signer=signer, output_format=output_format,
    )  # fmt: skip


@statements.command(name="list")
@click.argument("slug")
@as_of_options
@output_options
@fresh_read
@pass_ledger
def statements_list(ledger: Ledger, slug: str, as_of: AsOf, output_format: str) -> None:
    """List the statements of SLUG: version, who signed, in force or pending.

    \b
        accord statement list spring-campaign
    """
    rows = [r.as_row() for r in statement_rows(Replay.build(ledger, slug, as_of).state)]
    headers = ["seq", "title", "by", "version", "signed_by", "waiting_for", "status"]
    render(rows, output_format=output_format, headers=headers, empty="(no statements yet)")


@statements.command(name="show")
@click.argument("slug")
@click.argument("statement", type=click.IntRange(min=1))
@as_of_options
@output_options
@fresh_read
@pass_ledger
def statements_show(
    ledger: Ledger, slug: str, statement: int, as_of: AsOf, output_format: str
) -> None:
    """Show statement STATEMENT of SLUG: its text, signatures and revisions.

    \b
        accord statement show spring-campaign 12
    """
    detail = statement_detail(Replay.build(ledger, slug, as_of).state, statement).as_row()
    if output_format != "table":
        render_object(detail, output_format=output_format)
        return
    tables = ("text", "signatures", "revisions")  # printed on their own below
    render_object({k: v for k, v in detail.items() if k not in tables}, output_format="table")
    click.echo("")
    click.echo(safe_text(detail["text"], keep_newlines=True))
    click.echo("")
    render(detail["signatures"], output_format="table", empty="(no signatures yet)")
    click.echo("")
    render(detail["revisions"], output_format="table")
