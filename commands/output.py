"""Rendering: tables for people (tabulate), JSON and CSV for scripts.

Everything a partner can sign (titles, summaries, reasons, statement texts, evidence names)
reaches the reader through this module, and is made safe for the medium here:

- terminals: :func:`safe_text` shows control characters (C0, DEL, C1: ESC, OSC, BEL, CR,
  backspace...) and the characters that reorder or break lines (bidi overrides and isolates,
  line and paragraph separators) as visible escapes such as ``\\x1b`` or ``\\u202e``;
- JSON: exact (``json.loads`` gives back the same strings), with those characters written as
  ``\\uXXXX`` escapes (:func:`safe_json`);
- CSV: exact, except that a cell a spreadsheet would take for a formula (it starts with
  ``=``, ``+``, ``-``, ``@``, a tab or a carriage return) gets a leading ``'`` and is quoted
  (:func:`csv_cell`), as OWASP recommends against CSV injection, and that the controls that
  drive a terminal (ESC, BEL, C1...) are shown as ``\\xNN`` there too.

Messages (``Error:``, ``Warning:``, receipts) are printed with :func:`echo`, which applies
:func:`safe_text` to the whole line.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

import click
from tabulate import tabulate

F = TypeVar("F", bound=Callable[..., Any])
FORMATS = ("table", "json", "csv")

# The characters that reorder or break text: the bidi marks, embeddings, overrides and
# isolates, and the Unicode line and paragraph separators.
_BIDI_AND_BREAKS = "\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069"
# C0 controls, DEL and C1 controls, and those: any of them can move the cursor, recolour or
# retitle a terminal, forge a line, or make text read differently from what was signed.
_UNSAFE = re.compile(f"[\x00-\x1f\x7f-\x9f{_BIDI_AND_BREAKS}]")
_UNSAFE_BUT_NEWLINE = re.compile(f"[\x00-\x09\x0b-\x1f\x7f-\x9f{_BIDI_AND_BREAKS}]")
# The characters that drive a terminal and are never text: C0 controls but for tab, line feed
# and carriage return, DEL and C1 controls (escaped in CSV cells, which keep the others).
_TERMINAL_CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# What json.dumps leaves unescaped (it escapes C0 itself; the newlines left are its own).
_UNSAFE_IN_JSON = re.compile(f"[\x7f-\x9f{_BIDI_AND_BREAKS}]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def safe_text(text: str, *, keep_newlines: bool = False) -> str:
    r"""Return ``text`` safe to print on a terminal: dangerous characters as visible escapes.

    Control characters become ``\n``, ``\r``, ``\t`` or ``\xNN``; bidi controls and line or
    paragraph separators become ``\uNNNN``. Everything else is left as it is (a backslash
    too, so a literal ``\x1b`` typed by a partner reads the same as an escaped ESC).

    Args:
        text: the text to show.
        keep_newlines: keep ``\n`` as a line break (for multi-line text shown as a block,
            such as a statement); a table cell or a message never keeps it.
    """
    pattern = _UNSAFE_BUT_NEWLINE if keep_newlines else _UNSAFE
    return pattern.sub(_escape, text)


def echo(text: str, *, err: bool = False) -> None:
    """Print one message made safe by :func:`safe_text` (stdout, or stderr with ``err``)."""
    click.echo(safe_text(text), err=err)


def _json_escape(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"


def safe_json(data: Any) -> str:
    """Return ``data`` as indented JSON, exact, with terminal-dangerous characters escaped.

    ``json.dumps`` already escapes C0 controls; DEL, C1 controls and bidi controls are
    written as ``\\uXXXX`` too (they can only occur inside strings, so this stays valid JSON
    that decodes to the same data).
    """
    return _UNSAFE_IN_JSON.sub(_json_escape, json.dumps(data, indent=2, ensure_ascii=False))


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


def _shown(value: Any) -> Any:
    """A table cell as shown on a terminal (a yes/no flag in words, not True/False)."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    cell = _cell(value)
    return safe_text(cell) if isinstance(cell, str) else cell


def csv_cell(value: Any) -> str:
    """Return one CSV field: quoted when needed, and never read as a formula.

    A cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a
    leading ``'`` and is always quoted (OWASP's advice against CSV injection). The lone
    ``-`` accord writes for "no unit" is no formula and is left alone. Text stays exact,
    tabs, line breaks and bidi characters included, except the control characters that
    drive a terminal and never belong in text (ESC, BEL, C1...), shown as ``\\xNN``.
    """
    text = _TERMINAL_CONTROLS.sub(_escape, str(_cell(value)))
    if text.startswith(FORMULA_START) and text != "-":
        return '"' + ("'" + text).replace('"', '""') + '"'
    if any(c in text for c in ',"\r\n'):
        return '"' + text.replace('"', '""') + '"'
    return text


def csv_rows(rows: Iterable[Sequence[Any]]) -> str:
    """Return ``rows`` as CSV text, one ``\\n``-terminated line per row."""
    return "".join(",".join(csv_cell(c) for c in row) + "\n" for row in rows)


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
        click.echo(safe_json([dict(r) for r in rows]))
        return
    if output_format == "csv":
        lines: list[Sequence[Any]] = [columns, *([row.get(c) for c in columns] for row in rows)]
        click.echo(csv_rows(lines), nl=False)
        return
    if title:
        echo(title)
    if not rows:
        echo(empty)
        return
    table = [[_shown(row.get(c)) for c in columns] for row in rows]
    click.echo(
        tabulate(
            table,
            headers=[safe_text(c) for c in columns],
            tablefmt="simple",
            disable_numparse=True,
        )
    )


def render_object(data: dict[str, Any], *, output_format: str) -> None:
    """Print one record: ``key: value`` lines for people, a JSON object or a CSV row."""
    if output_format == "json":
        click.echo(safe_json(data))
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
        shown = ("yes" if value else "no") if isinstance(value, bool) else _cell(value)
        echo(f"{key.ljust(width)}  {shown}")
