"""Output that cannot attack its reader: terminals, CSV, JSON, Markdown, error messages."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path
from typing import Any

import pytest
from markdown_it import MarkdownIt
from markdown_it.token import Token

from commands.errors import report
from commands.output import csv_cell, render, render_object, safe_json, safe_text
from commands.reporting import md_align, md_escape, render_html, render_markdown
from ledger import storage
from ledger.application import Evidence, Ledger
from ledger.errors import RuleViolationError
from ledger.keys import Signer
from projections.replay import Replay
from projections.report import report_data

ANSI = "\x1b[31m"
OSC = "\x1b]0;pwned\x07"
HOSTILE = f"Evil{ANSI} red{OSC}\rX\u202eabc"
SAFE = "Evil\\x1b[31m red\\x1b]0;pwned\\x07\\rX\\u202eabc"

# --- terminals -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        (HOSTILE, SAFE),
        ("a\nb", "a\\nb"),
        ("a\r\nb", "a\\r\\nb"),
        ("tab\there", "tab\\there"),
        ("bell\x07 back\x08 nul\x00 del\x7f", "bell\\x07 back\\x08 nul\\x00 del\\x7f"),
        ("c1 csi\x9b31m nel\x85", "c1 csi\\x9b31m nel\\x85"),
        ("bidi \u202a\u202b\u202c\u202d\u202e", "bidi \\u202a\\u202b\\u202c\\u202d\\u202e"),
        ("isolates \u2066\u2067\u2068\u2069", "isolates \\u2066\\u2067\\u2068\\u2069"),
        ("marks \u200e\u200f\u061c", "marks \\u200e\\u200f\\u061c"),
        ("lines \u2028\u2029", "lines \\u2028\\u2029"),
        ("Café 日本 — «ok» \\x1b", "Café 日本 — «ok» \\x1b"),
    ],
)
def test_safe_text_shows_every_dangerous_character_as_a_visible_escape(
    text: str, shown: str
) -> None:
    assert safe_text(text) == shown


def test_safe_text_can_keep_newlines_of_a_block_of_text() -> None:
    assert safe_text(f"line 1\nline 2{ANSI}\r", keep_newlines=True) == (
        "line 1\nline 2\\x1b[31m\\r"
    )


def test_a_table_shows_cells_escaped_and_a_newline_cannot_forge_a_row(
    capsys: pytest.CaptureFixture[str],
) -> None:
    rows = [{"seq": 4, "title": "Posters\n5      forged"}, {"seq": 6, "title": HOSTILE}]
    render(rows, output_format="table", headers=["seq", "title"])
    assert capsys.readouterr().out == (
        f"seq    title\n-----  {'-' * len(SAFE)}\n4      Posters\\n5      forged\n6      {SAFE}\n"
    )


def test_one_record_shows_its_values_escaped(capsys: pytest.CaptureFixture[str]) -> None:
    render_object({"title": HOSTILE, "members": ["a\nb"]}, output_format="table")
    assert capsys.readouterr().out == f"title    {SAFE}\nmembers  a\\nb\n"


def test_json_stays_exact_but_never_carries_a_raw_control_or_bidi_character(
    capsys: pytest.CaptureFixture[str],
) -> None:
    data = {"title": HOSTILE + "\x9b\x7f\u2028"}
    render_object(data, output_format="json")
    out = capsys.readouterr().out
    assert json.loads(out) == data
    assert safe_text(out, keep_newlines=True) == out
    assert out == safe_json(data) + "\n"


def test_an_error_and_its_hint_are_printed_safely(capsys: pytest.CaptureFixture[str]) -> None:
    report(RuleViolationError(f"no {HOSTILE}\nError: forged", hint=f"try {OSC}"))
    assert capsys.readouterr().err == (
        f"Error: no {SAFE}\\nError: forged\nHint: try \\x1b]0;pwned\\x07\n"
    )


# --- CSV ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "field"),
    [
        ("=1+2", '"\'=1+2"'),
        ("+1", '"\'+1"'),
        ("-1", '"\'-1"'),
        ("@SUM(A1:A9)", '"\'@SUM(A1:A9)"'),
        ("\t=1", '"\'\t=1"'),
        ("\r=1", '"\'\r=1"'),
        ('=HYPERLINK("http://x","y")', '"\'=HYPERLINK(""http://x"",""y"")"'),
        ("-", "-"),
        ("a=b", "a=b"),
        ("a, b", '"a, b"'),
        ('say "hi"', '"say ""hi"""'),
        ("two\nlines", '"two\nlines"'),
        ("ring\x07 \x1b[31mred\x9b", "ring\\x07 \\x1b[31mred\\x9b"),
        ("\x1b=1", "\\x1b=1"),
        (None, ""),
        (12, "12"),
    ],
)
def test_a_csv_cell_is_never_read_as_a_formula(value: Any, field: str) -> None:
    assert csv_cell(value) == field


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_csv_rows_quote_and_prefix_every_cell_that_starts_like_a_formula(
    start: str, capsys: pytest.CaptureFixture[str]
) -> None:
    title = f"{start}cmd|' /C calc'!A0"
    render([{"seq": 4, "title": title}], output_format="csv", headers=["seq", "title"])
    out = capsys.readouterr().out
    assert out == f'seq,title\n4,"\'{title}"\n'
    assert list(csv.reader(io.StringIO(out, newline=""))) == [["seq", "title"], ["4", f"'{title}"]]


# --- Markdown -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "escaped"),
    [
        ("plain text 100.0%", "plain text 100.0%"),
        ("# heading", "\\# heading"),
        ("## Close", "\\#\\# Close"),
        ("> quote", "&gt; quote"),
        ("- item", "\\- item"),
        ("+ item", "\\+ item"),
        ("* item", "\\* item"),
        ("1. item", "1\\. item"),
        ("12) item", "12\\) item"),
        ("---", "\\---"),
        ("===", "\\==="),
        ("-5 and 1.5", "-5 and 1.5"),
        ("    code", "&#32;&#32;&#32;&#32;code"),
        ("<script>a & b</script>", "&lt;script&gt;a &amp; b&lt;/script&gt;"),
        ("a | b", "a \\| b"),
        ("*em* _em_ `code` ~del~ $x$", "\\*em\\* \\_em\\_ \\`code\\` \\~del\\~ \\$x\\$"),
        ("[link](http://x) ![img](y)", "\\[link\\](http://x) !\\[img\\](y)"),
        ("back\\slash", "back\\\\slash"),
        ("one\ntwo\r\nthree\rfour\u2028five", "one two three four five"),
        (f"esc{ANSI}", "esc\\x1b\\[31m"),
        ("```", "\\`\\`\\`"),
    ],
)
def test_md_escape_makes_any_text_plain_inline_markdown(text: str, escaped: str) -> None:
    assert md_escape(text) == escaped


def test_md_align_pads_a_table_and_keeps_escaped_pipes_in_their_cell() -> None:
    table = "| a | bb |\n|-|-|\n| x \\| y | \\\\ |\n"
    assert md_align(table) == "| a      | bb |\n|--------|----|\n| x \\| y | \\\\ |"


# --- the Markdown and HTML reports of a hostile log ------------------------------------------

MARKDOWN = MarkdownIt("commonmark").enable(["table", "strikethrough"])
FORGERY = "Fair\n## Close\n<script>alert(1)</script>"
NASTY = "x\n# h1\n- item\n1. one\n<b>b</b> & | *e* [l](http://evil.example) `c` ~s~ \x1b[31m"


class Clock:
    def __init__(self) -> None:
        from datetime import UTC, datetime

        self.now = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)

    def __call__(self) -> Any:
        from datetime import timedelta

        self.now += timedelta(minutes=1)
        return self.now


@pytest.fixture
def hostile(tmp_path: Path, signers: dict[str, Signer]) -> dict[str, Any]:
    """A closed project with hostile text in every field a partner writes."""
    acme, burgerco = signers["acme"], signers["burgerco"]
    ledger = Ledger(storage.settings(str(tmp_path / "accord.db")), clock=Clock())
    try:
        ledger.propose_project(
            "hostile", title=FORGERY, purpose=NASTY, members={"burgerco": None},
            approval="all", close="all", signer=acme,
        )  # fmt: skip
        ledger.join_project("hostile", signer=burgerco)
        ledger.add_pledge(
            "hostile", title=NASTY, weight="2", unit="hours", due="2026-12-01",
            beneficiaries=None, signer=acme,
        )  # fmt: skip  # 3
        files = [Evidence(name="<img src=x>|#.pdf", sha256="0" * 64, size=1)]
        ledger.deliver("hostile", 3, summary=NASTY, quantity="1", evidence=files, signer=acme)
        ledger.reject("hostile", 4, reason=NASTY, signer=burgerco)  # 5
        ledger.deliver("hostile", 3, summary="ok", quantity="1", evidence=[], signer=acme)
        ledger.approve("hostile", 6, comment=NASTY, signer=burgerco)  # 7
        ledger.amend_pledge(
            "hostile", 3, title=FORGERY, weight=None, due=None, reason=NASTY, signer=acme
        )  # 8
        ledger.propose_statement(
            "hostile", title=NASTY, text=f"{NASTY}\n\n    indented\n---\n> quoted", signer=acme
        )  # 9
        ledger.sign_statement("hostile", 9, signer=acme)
        ledger.sign_close("hostile", signer=acme, accept_open=[3])
        ledger.sign_close("hostile", signer=burgerco, accept_open=[3])
        return report_data(Replay.build(ledger, "hostile"))
    finally:
        ledger.close()


def walk(tokens: list[Token]) -> list[Token]:
    found = []
    for token in tokens:
        found.append(token)
        found.extend(walk(token.children or []))
    return found


def shown(inline: Token) -> str:
    """The text an inline token shows (escapes and entities resolved)."""
    return "".join(c.content for c in inline.children or [])


def test_a_title_cannot_forge_a_section_or_a_tag_in_the_markdown_report(
    hostile: dict[str, Any],
) -> None:
    text = render_markdown(hostile)
    assert "<script" not in text
    assert "&lt;script&gt;" in text
    assert [line for line in text.splitlines() if line.startswith("## Close")] == ["## Close"]
    assert text.splitlines()[0] == (
        "# Close report: Fair \\#\\# Close &lt;script&gt;alert(1)&lt;/script&gt; (hostile)"
    )


def test_hostile_text_in_every_field_adds_no_markdown_structure(hostile: dict[str, Any]) -> None:
    text = render_markdown(hostile)
    blocks = MARKDOWN.parse(text)
    headings = [shown(blocks[i + 1]) for i, t in enumerate(blocks) if t.type == "heading_open"]
    tokens = walk(blocks)
    assert headings == [
        "Close report: Fair ## Close <script>alert(1)</script> (hostile)",
        "Terms", "Parties", "Contributions", "Pledges",
        "Pledge 3: x # h1 - item 1. one <b>b</b> & | *e* [l](http://evil.example) `c` ~s~ "
        "\\x1b[31m",
        "Obligations open at close", "Statements",
        "Statement 9: x # h1 - item 1. one <b>b</b> & | *e* [l](http://evil.example) `c` ~s~ "
        "\\x1b[31m (version 1, pending)",
        "Timeline", "Close",
    ]  # fmt: skip
    kinds = {t.type for t in tokens}
    assert not kinds & {"html_block", "html_inline", "link_open", "image", "code_block",
                        "fence", "em_open", "s_open", "hr", "ordered_list_open"}  # fmt: skip
    codes = {t.content for t in tokens if t.type == "code_inline"}
    assert codes and all(re.fullmatch("[0-9a-f]{64}", c) for c in codes)  # only the hashes
    strong = [tokens[i + 1].content for i, t in enumerate(tokens) if t.type == "strong_open"]
    assert strong
    assert all(re.fullmatch("[a-z-]+", s) for s in strong)  # statuses, never partner text
    quote = text.split("### Statement 9", 1)[1].split("Signed by", 1)[0]
    assert "> &#32;&#32;&#32;&#32;indented\n> \\---\n> &gt; quoted\n" in quote
    html = MARKDOWN.render(text)
    assert "<script" not in html and "<b>" not in html and "<img" not in html


def test_every_markdown_table_row_keeps_its_columns(hostile: dict[str, Any]) -> None:
    text = render_markdown(hostile)
    tokens = MARKDOWN.parse(text)
    widths: list[int] = []
    cells = 0
    for token in tokens:
        if token.type == "tr_open":
            cells = 0
        elif token.type in ("th_open", "td_open"):
            cells += 1
        elif token.type == "tr_close":
            widths.append(cells)
        elif token.type == "table_close":
            assert len(set(widths)) == 1, widths
            widths = []


def test_the_html_report_of_a_hostile_log_is_escaped(hostile: dict[str, Any]) -> None:
    page = render_html(hostile)
    assert "<script" not in page and "<b>" not in page and "<img" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "\x1b" not in page and "\\x1b[31m" in page
