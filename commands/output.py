"""Rendering: tables for people (tabulate), JSON and CSV for scripts."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import click
from tabulate import tabulate

F = TypeVar("F", bound=Callable[..., Any])
FORMATS = ("table", "json", "csv")


def output_options(func: F) -> F:
    """Add ``--format table|json|csv`` to a command (passed on as ``output_format``)."""
    return click.option(
        "--format",
        "output_format",
        type=click.Choice(FORMATS),
        default="table",
        show_default=True,
        help="Output format: a table for people, JSON or CSV for scripts.",
    )(func)


def _cell(value: Any) -> Any:
    if isinstance(value, list | tuple) and all(not isinstance(v, dict | list) for v in value):
        return ", ".join(str(v) for v in value)
    if isinstance(value, dict | list | tuple):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    if value is None:
        return ""
    return value


def render(
    rows: Sequence[dict[str, Any]],
    *,
    output_format: str,
    headers: Sequence[str] | None = None,
    title: str | None = None,
    empty: str = "(nothing yet)",
) -> None:
    """Print ``rows`` (dicts with the same keys) as a table, JSON array or CSV."""
    columns = list(headers or (rows[0].keys() if rows else []))
    if output_format == "json":
        click.echo(json.dumps([dict(r) for r in rows], indent=2, ensure_ascii=False))
        return
    if output_format == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(columns)
        for row in rows:
            writer.writerow([_cell(row.get(c)) for c in columns])
        click.echo(buffer.getvalue(), nl=False)
        return
    if title:
        click.echo(title)
    if not rows:
        click.echo(empty)
        return
    table = [[_cell(row.get(c)) for c in columns] for row in rows]
    click.echo(tabulate(table, headers=columns, tablefmt="simple", disable_numparse=True))


def render_object(data: dict[str, Any], *, output_format: str) -> None:
    """Print one record: ``key: value`` lines for people, a JSON object or a CSV row."""
    if output_format == "json":
        click.echo(json.dumps(data, indent=2, ensure_ascii=False))
        return
    if output_format == "csv":
        render([data], output_format="csv")
        return
    flat = {
        k: v
        for k, v in data.items()
        if not isinstance(v, dict)
        and not (isinstance(v, list) and any(isinstance(i, dict | list) for i in v))
    }
    width = max(len(k) for k in flat) if flat else 0
    for key, value in flat.items():
        click.echo(f"{key.ljust(width)}  {_cell(value)}")
