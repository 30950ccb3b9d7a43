"""Writing the close report as Markdown, a self-contained HTML page (inline SVG), JSON and PDF.

Markdown and HTML come from the Jinja2 templates in ``commands/templates/``, fed by one
view model (:func:`commands.report_view.report_view`, computed once per report). The HTML
environment autoescapes; the Markdown one escapes with the explicit ``md`` filter
(:func:`md_escape`), so text a partner signed can add neither markup nor structure. In both,
control and bidi characters are shown as visible escapes (``safe_text``). Every
renderer is a pure function of the report data, so the same log gives the same bytes. The JSON
is the report data's ``as_row()``, written by :func:`json_chunks`.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from commands.files import REPORT_FILES, beside_ledger, write_atomically, write_bytes_atomically
from commands.output import safe_text
from ledger.errors import StorageUnavailableError
from projections.replay import Replay
from projections.report import report_data

if TYPE_CHECKING:
    from collections.abc import Callable

    import jinja2

    from commands.report_view import Linker, ReportView
    from ledger.application import Ledger
    from projections.report import ReportData

__all__ = [
    "FILES",
    "md_align",
    "md_escape",
    "render_html",
    "render_json",
    "render_markdown",
    "write_close_report",
    "write_report",
]

FILES = {k: v for k, v in REPORT_FILES.items() if k != "pdf"}  # the text renderings
DEFAULT_REPORT_DIR = "accord-reports"
TEMPLATES = {"md": "close-report.md.j2", "html": "close-report.html.j2"}

# Line breaks of every kind, which would end the inline context a value is written in.
_LINE_BREAK = re.compile("\r\n|[\n\r\v\f\x1c-\x1e\x85\u2028\u2029]")
# ASCII punctuation that means something inline (emphasis, code, links, tables, headings,
# strikethrough, maths); a backslash makes each literal (CommonMark, "Backslash escapes").
_MD_PUNCTUATION = re.compile(r"([\\`*_\[\]|#~$])")
# What would open a block at the start of a line: a bullet list item ("- ", "+ "), a setext
# underline or thematic break ("---", "==="), an ordered list item ("1. ", "2) ").
_BLOCK_START = re.compile(r"^([-+](?=[ \t]|$)|[-=](?=[-=]*[ \t]*$))")
_ORDERED_ITEM = re.compile(r"^([0-9]{1,9})([.)])(?=[ \t]|$)")
_LEADING_SPACE = re.compile(r"^[ \t]+")
_TABLE_CELL = re.compile(r"(?:\\.|[^\\|])*")


def md_escape(value: Any) -> str:
    r"""Escape ``value`` for Markdown inline text: it shows as written, as plain text.

    - line breaks become spaces (a value never starts a new line, heading or table row);
    - ``&``, ``<`` and ``>`` become HTML entities (no raw HTML, no autolink, no quote);
    - ``\ ` * _ [ ] | # ~ $`` get a backslash (no emphasis, code, link, image, table cell,
      heading, strikethrough or maths);
    - a leading list marker (``- ``, ``+ ``, ``1. ``, ``1) ``) or underline (``---``,
      ``===``) is escaped and leading spaces become ``&#32;``, so a value at the start of a
      line (a statement line in a quote) opens no list, setext heading, thematic break or
      code block (``#``, ``>``, ``*``, ``_`` and fences are escaped wherever they are);
    - control and bidi characters are shown as visible escapes (:func:`safe_text`).
    """
    text = _LINE_BREAK.sub(" ", str(value))
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = _MD_PUNCTUATION.sub(r"\\\1", text)
    text = safe_text(text)
    text = _BLOCK_START.sub(r"\\\1", text)
    text = _ORDERED_ITEM.sub(r"\1\\\2", text)
    return _LEADING_SPACE.sub(lambda m: "&#32;" * len(m.group()), text)


def _cells(line: str) -> list[str]:
    """Split one ``| a | b |`` line into its cells (a ``\\|`` belongs to its cell)."""
    inner = line.strip()[1:-1]
    cells, position = [], 0
    while True:
        match = _TABLE_CELL.match(inner, position)
        assert match is not None  # noqa: S101 - the pattern matches the empty string
        cells.append(match.group().strip())
        position = match.end() + 1
        if position > len(inner):
            return cells


def md_align(table: str) -> str:
    """Pad the columns of a Markdown pipe table so it also reads well as plain text.

    The input is a header line, a delimiter line and the rows, each ``| a | b |`` (cells
    escaped with :func:`md_escape`); the output has the same cells, padded.
    """
    lines = [line for line in table.splitlines() if line.strip()]
    rows = [_cells(line) for line in (lines[:1] + lines[2:])]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]

    def line(cells: list[str]) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    delimiter = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(rows[0]), delimiter, *(line(r) for r in rows[1:])])


def _visible(value: Any) -> Any:
    """Show control and bidi characters of a value as escapes (markup from a macro aside)."""
    import markupsafe

    if isinstance(value, str) and not isinstance(value, markupsafe.Markup):
        return safe_text(value)
    return value


@functools.cache
def _environment(kind: str) -> jinja2.Environment:
    """The Jinja2 environment of ``kind`` (imported on first use: most commands need none)."""
    import jinja2

    autoescape = kind == "html"
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("commands", "templates"),
        autoescape=autoescape,  # noqa: S701 - Markdown escapes with the explicit `md` filter
        finalize=_visible,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["md"] = md_escape
    env.filters["md_align"] = md_align
    return env


def _view(data: ReportData, links: Linker | None = None) -> ReportView:
    """The view model of ``data`` (:func:`commands.report_view.report_view`, loaded when used)."""
    from commands.report_view import report_view as view_of

    return view_of(data, links)


def _render(kind: str, view: ReportView) -> str:
    return _environment(kind).get_template(TEMPLATES[kind]).render(report=view)


def render_markdown(data: ReportData) -> str:
    """The report as Markdown."""
    return _render("md", _view(data))


def render_html(data: ReportData) -> str:
    """The report as one self-contained HTML page: no scripts, no external resources."""
    return _render("html", _view(data))


def render_json(data: ReportData) -> str:
    """The report as compact JSON (sorted keys, no spaces) and a trailing newline.

    Compact, so the standard library's C encoder writes it: at 100,000 entries an indented
    rendering took seconds. ``python -m json.tool close-report.json`` pretty-prints it.
    """
    return "".join(json_chunks(data.as_row()))


JSON_PAGE = 2000  # rows of a streamed list encoded per call


def json_chunks(data: dict[str, Any]) -> Iterator[str]:
    """The compact JSON of ``data`` in pieces, streaming its long lists a page at a time.

    The text is exactly ``json.dumps(data, sort_keys=True, ...)`` with every collection
    read lazily (the timeline, the pledges: not a list, tuple or dict) written as a list:
    the keys in order, each lazily read collection a page of rows at a time, so a long
    project is never held in memory whole.
    """
    options: dict[str, Any] = {"sort_keys": True, "ensure_ascii": False, "separators": (",", ":")}
    yield "{"
    for number, key in enumerate(sorted(data)):
        value = data[key]
        yield ("," if number else "") + json.dumps(key, **options) + ":"
        if not _streamed(value):
            yield json.dumps(value, **options)
            continue
        yield "["
        page: list[Any] = []
        first = True
        for row in value:
            page.append(row)
            if len(page) == JSON_PAGE:
                yield ("" if first else ",") + json.dumps(page, **options)[1:-1]
                page, first = [], False
        if page:
            yield ("" if first else ",") + json.dumps(page, **options)[1:-1]
        yield "]"
    yield "}\n"


def _streamed(value: Any) -> bool:
    """Whether ``value`` is a collection read lazily (written as a list, a page at a time)."""
    return isinstance(value, Iterable) and not isinstance(value, list | tuple | dict | str)


def write_report(
    data: ReportData,
    directory: Path,
    formats: tuple[str, ...],
    *,
    bundle: Callable[[], str] | None = None,
    links: Linker | None = None,
) -> list[Path]:
    """Write the report in ``formats`` into ``directory``; return the paths written.

    The PDF (``pdf``, :mod:`commands.pdf`) lays out the HTML and attaches the JSON and the
    project's bundle, which ``bundle`` returns (required for ``pdf``).

    Each file is written to a fresh temporary file in ``directory`` and renamed into place
    (:func:`commands.files.replace_atomically`): nothing already there, a symlink included,
    is ever written through.

    Raises:
        StorageUnavailableError: the directory cannot be created or written.
    """
    view = _view(data, links)  # links: the party's local evidence copies (issue 16)
    html = functools.cache(lambda: _render("html", view))
    renderers: dict[str, Callable[[], str | Iterator[str]]] = {
        "md": lambda: _environment("md").get_template(TEMPLATES["md"]).generate(report=view),
        "html": html,
        "json": lambda: json_chunks(data.as_row()),
    }
    written = []
    try:
        directory.mkdir(parents=True, exist_ok=True)
        for name in formats:
            path = directory / REPORT_FILES[name]
            if name == "pdf":
                if bundle is None:  # pragma: no cover - a caller's mistake
                    raise ValueError("the PDF report needs the project's bundle")
                from commands.pdf import render_pdf  # WeasyPrint loads only when used

                row = data.as_row()
                json_text = "".join(json_chunks(row))
                pdf = render_pdf(row, html=html(), json_text=json_text, bundle=bundle())
                write_bytes_atomically(path, pdf)
            else:
                write_atomically(path, renderers[name]())
            written.append(path)
    except OSError as exc:
        raise StorageUnavailableError(
            f"cannot write the report to {directory}: {exc.strerror}",
            hint="choose a writable directory with -o DIR",
        ) from None
    return written


def report_dir(ledger: Ledger, slug: str) -> Path:
    """Where the report of ``slug`` goes unless a directory is given (docs/report.md).

    Beside the ledger file: ``<ledger's directory>/accord-reports/SLUG/`` (the shell's
    directory plays no part); for a PostgreSQL ledger, ``ACCORD_HOME/reports/<digest of the
    ledger>/SLUG/``. Shown relative to the current directory when it lies below it.
    """
    return beside_ledger(ledger, slug, DEFAULT_REPORT_DIR, "reports")


def write_close_report(
    ledger: Ledger,
    slug: str,
    directory: Path | None,
    formats: tuple[str, ...] = tuple(REPORT_FILES),
) -> list[Path]:
    """Write the report of ``slug`` (default: every format); return the paths written.

    Without ``directory`` it goes to :func:`report_dir`, the same place on every replica.
    """
    replay = Replay.build(ledger, slug)
    target = directory if directory is not None else report_dir(ledger, slug)
    from commands.evidence_files import evidence_links  # issue 16: link local evidence copies
    from commands.pdf import bundle_text  # loaded when used

    data = report_data(replay, stream=True)
    links = evidence_links(ledger, slug, target)
    return write_report(
        data, target, formats, bundle=lambda: bundle_text(ledger, slug), links=links
    )
