"""How a command that records an entry reports what it recorded."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import click

from commands.output import render

if TYPE_CHECKING:
    from ledger.application import Receipt


def render_receipt(receipt: Receipt, *, output_format: str) -> None:
    """Print the seq, type and hash of a recorded entry (and a project status change)."""
    data = receipt.as_dict()
    if output_format == "json":
        click.echo(json.dumps(data, indent=2))
        return
    if output_format == "csv":
        render([data], output_format="csv")
        return
    click.echo(f"recorded {receipt.project} seq {receipt.seq} {receipt.type}")
    click.echo(f"hash {receipt.hash}")
    if receipt.type == "close.signed" or receipt.status != "active":
        click.echo(f"project {receipt.project} is {receipt.status}")
    if receipt.closes is not None and receipt.status == "active":
        signed, needed = receipt.closes
        click.echo(f"close signatures on the final head: {signed} of {needed} needed")
