"""How a command that records an entry reports what it recorded."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from commands.output import echo, render, safe_json

if TYPE_CHECKING:
    from ledger.application import Receipt


def render_receipt(receipt: Receipt, *, output_format: str) -> None:
    """Print the seq, type and hash of a recorded entry (and a project status change)."""
    data = receipt.as_dict()
    if output_format == "json":
        click.echo(safe_json(data))
        return
    if output_format == "csv":
        render([data], output_format="csv")
        return
    echo(f"recorded {receipt.project} seq {receipt.seq} {receipt.type}")
    echo(f"hash {receipt.hash}")
    if receipt.type == "close.signed" or receipt.status != "active":
        echo(f"project {receipt.project} is {receipt.status}")
    if receipt.closes is not None and receipt.status == "active":
        signed, needed = receipt.closes
        echo(f"close signatures on the final head: {signed} of {needed} needed")
