"""Rendering the close report as Markdown, a self-contained HTML page (inline SVG), and JSON.

Every renderer is a pure function of the report data, so the same log gives the same bytes.
"""

from __future__ import annotations

import json
from datetime import datetime
from fractions import Fraction
from html import escape
from pathlib import Path
from typing import Any

from tabulate import tabulate

from ledger.errors import StorageUnavailableError

PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f")
STATUS_COLOURS = {"accepted": "#2ca02c", "rejected": "#d62728", "pending": "#9e9e9e"}
CONTRIBUTION_HEADERS = [
    "party", "unit", "pledged", "delivered", "approved", "pledged share", "approved share",
    "fulfilment", "on time", "guest star",
]  # fmt: skip
FILES = {"md": "close-report.md", "html": "close-report.html", "json": "close-report.json"}


def percent(value: str | None) -> str:
    """Show a ratio string ("0.3333") as a percentage ("33.3%"), or n/a."""
    if value is None:
        return "n/a"
    tenths = round(Fraction(value) * 1000)
    return f"{tenths // 10}.{tenths % 10}%"


def render_json(data: dict[str, Any]) -> str:
    """The report as JSON: sorted keys, two-space indent, trailing newline."""
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def _table(rows: list[list[Any]], headers: list[str]) -> str:
    clean = [[str(c).replace("|", "\\|").replace("\n", " ") for c in row] for row in rows]
    return tabulate(clean, headers=headers, tablefmt="github", disable_numparse=True)


def _title(data: dict[str, Any]) -> str:
    kind = "Close report" if data["kind"] == "close" else "Interim report"
    return f"{kind}: {data['project']['title']} ({data['project']['slug']})"


def render_markdown(data: dict[str, Any]) -> str:
    """The report as Markdown."""
    project, close = data["project"], data["close"]
    out: list[str] = [f"# {_title(data)}", ""]
    if data["kind"] == "interim":
        out += [
            f"> **Interim**: the project is {project['status']}; this report shows the ledger "
            f"as of seq {data['as_of']['seq']} ({data['as_of']['at']}).",
            "",
        ]
    out += [
        f"- Status: **{project['status']}**",
        f"- Entries: {close['entries']}; head `{close['head']}`",
        f"- Final head (signed by the close): seq {close['final_head_seq']}, "
        f"`{close['final_head']}`",
        f"- As of: {data['as_of']['at']} (seq {data['as_of']['seq']})",
        "",
        "## Terms",
        "",
        f"- Title: {project['title']}",
        f"- Purpose: {project['purpose'] or '(none given)'}",
        f"- Proposed by: {project['proposer']}",
        f"- Approval policy: {project['approval']}; close policy: {project['close']}",
        f"- Terms hash (seq 1): `{project['terms_hash']}`",
        "",
        "## Parties",
        "",
        _table(
            [
                [p["handle"], p["status"], p["key"] or "(none)", ", ".join(p["keys"]) or "-"]
                for p in data["parties"]
            ],
            ["party", "status", "current key", "keys used"],
        ),
        "",
        "## Contributions",
        "",
        f"Per unit, never summed across units. Guest star: in every unit with approved work, "
        f"less than {percent(data['contributions']['threshold'])} of a fair share "
        "(1 / number of members) of the approved total.",
        "",
        _table(
            [
                [
                    r["party"],
                    r["unit"],
                    r["pledged"],
                    r["delivered"],
                    r["approved"],
                    percent(r["pledged_share"]),
                    percent(r["approved_share"]),
                    percent(r["fulfilment"]),
                    percent(r["on_time"]),
                    "yes" if r["guest_star"] else "no",
                ]
                for r in data["contributions"]["rows"]
            ],
            CONTRIBUTION_HEADERS,
        ),
        "",
        "## Pledges",
        "",
    ]
    for pledge in data["pledges"]:
        out += [
            f"### Pledge {pledge['seq']}: {pledge['title']}",
            "",
            f"{pledge['party']} to {', '.join(pledge['to'])}: {pledge['weight']} "
            f"{pledge['unit']}, due {pledge['due']}. Delivered {pledge['delivered']}, approved "
            f"{pledge['approved']}. Status: **{pledge['status']}**"
            + (f" ({pledge['days_late']} days late)" if pledge["days_late"] else "")
            + ".",
            "",
        ]
        if pledge["deliverables"]:
            out += [
                _table(
                    [
                        [
                            d["seq"],
                            d["at"],
                            d["quantity"],
                            d["summary"],
                            d["status"],
                            _decided_by(d),
                            "; ".join(
                                f"{e['name']} ({e['size']} B, sha256 {e['sha256']})"
                                for e in d["evidence"]
                            )
                            or "-",
                        ]
                        for d in pledge["deliverables"]
                    ],
                    ["seq", "at", "quantity", "summary", "status", "decided by", "evidence"],
                ),
                "",
            ]
        for a in pledge["amendments"]:
            changes = ", ".join(f"{k} {v}" for k, v in a["changes"].items())
            decided = f": {_decided_by(a)}" if _decided_by(a) else ""
            out += [
                f"- Amendment seq {a['seq']} ({changes}): {a['reason']}; {a['status']}{decided}",
                "",
            ]
    out += [
        "## Obligations open at close" if data["kind"] == "close" else "## Open obligations",
        "",
    ]
    if data["open_obligations"]:
        out += [
            _table(
                [
                    [
                        o["seq"],
                        o["party"],
                        o["title"],
                        f"{o['approved']} / {o['weight']} {o['unit']}",
                        o["due"],
                        o["status"],
                        o["days_late"],
                    ]
                    for o in data["open_obligations"]
                ],
                ["seq", "party", "title", "approved / weight", "due", "status", "days late"],
            ),
            "",
        ]
    else:
        out += ["None: every pledge was fulfilled or withdrawn.", ""]
    out += ["## Statements", ""]
    if not data["statements"]:
        out += ["No statements.", ""]
    for s in data["statements"]:
        signed = ", ".join(f"{x['party']} (seq {x['seq']})" for x in s["signatures"]) or "nobody"
        out += [
            f"### Statement {s['seq']}: {s['title']} (version {s['version']}, {s['status']})",
            "",
            *[f"> {line}" if line else ">" for line in s["text"].splitlines()],
            "",
            f"Signed by: {signed}."
            + (f" Waiting for: {', '.join(s['waiting_for'])}." if s["waiting_for"] else ""),
            "",
        ]
    out += [
        "## Timeline",
        "",
        _table(
            [[t["seq"], t["at"], t["party"], t["type"], t["summary"]] for t in data["timeline"]],
            ["seq", "at", "party", "type", "summary"],
        ),
        "",
        "## Close",
        "",
        f"- Close policy: {close['policy']}; closed: {'yes, at seq ' + str(close['closed_seq']) if close['closed'] else 'no'}",
        f"- Final head: seq {close['final_head_seq']}, `{close['final_head']}`",
        f"- Entries: {close['entries']}",
        "",
    ]
    if close["signatures"]:
        out += [
            _table(
                [
                    [c["party"], c["seq"], c["key"], c["hash"], c["signature"]]
                    for c in close["signatures"]
                ],
                ["party", "seq", "key", "entry hash", "signature (base64)"],
            ),
            "",
        ]
    else:
        out += ["No close signatures on the final head yet.", ""]
    return "\n".join(out)


def _decided_by(item: dict[str, Any]) -> str:
    if item["refused_by"]:
        r = item["refused_by"]
        return f"refused by {r['party']} (seq {r['seq']}): {r['reason']}"
    if item["approved_by"]:
        return "approved by " + ", ".join(
            f"{a['party']} (seq {a['seq']})" for a in item["approved_by"]
        )
    return ""


# --- HTML -----------------------------------------------------------------------------------

CSS = """
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #222;
       max-width: 1100px; margin: 2em auto; padding: 0 1em; }
h1 { font-size: 1.7em; margin-bottom: .2em; } h2 { margin-top: 1.8em; border-bottom: 1px solid #ccc; }
table { border-collapse: collapse; width: 100%; margin: .6em 0; font-size: .92em; }
th, td { border: 1px solid #ddd; padding: .3em .5em; text-align: left; vertical-align: top; }
th { background: #f3f3f3; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
code, .hash { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: .85em; word-break: break-all; }
.interim { background: #fff4d6; border: 1px solid #e0b84c; padding: .6em 1em; }
.flag { color: #b00020; font-weight: bold; }
blockquote { border-left: 4px solid #ccc; margin: .5em 0; padding: .2em 1em; color: #333; }
.legend span { display: inline-block; margin-right: 1.2em; }
.swatch { display: inline-block; width: .9em; height: .9em; margin-right: .3em; vertical-align: -.1em; }
@media print { body { margin: 0; max-width: none; font-size: 11px; } h2 { page-break-after: avoid; }
               table, svg, blockquote { page-break-inside: avoid; } }
"""


def _td(value: Any, *, num: bool = False, code: bool = False) -> str:
    text = escape(str(value))
    if code:
        text = f'<span class="hash">{text}</span>'
    return f'<td class="num">{text}</td>' if num else f"<td>{text}</td>"


def _html_table(headers: list[str], rows: list[str]) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _colours(data: dict[str, Any]) -> dict[str, str]:
    return {p["handle"]: PALETTE[i % len(PALETTE)] for i, p in enumerate(data["parties"])}


def share_chart(data: dict[str, Any]) -> str:
    """An SVG of pledged and approved shares per unit, one stacked bar pair per unit."""
    colours = _colours(data)
    rows = [r for r in data["contributions"]["rows"] if r["unit"] != "-"]
    units = sorted({r["unit"] for r in rows})
    width, left, bar = 760, 110, 600
    height = 30 + 62 * len(units)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="Contribution shares per unit">',
        "<title>Contribution shares per unit</title>",
    ]
    y = 20
    for unit in units:
        parts.append(
            f'<text x="0" y="{y + 22}" font-size="13" font-weight="bold">{escape(unit)}</text>'
        )
        for offset, field, label in (
            (0, "pledged_share", "pledged"),
            (26, "approved_share", "approved"),
        ):
            x = Fraction(left)
            parts.append(
                f'<text x="{left - 6}" y="{y + offset + 15}" font-size="11" text-anchor="end">{label}</text>'
            )
            parts.append(
                f'<rect x="{left}" y="{y + offset}" width="{bar}" height="20" fill="#f1f1f1" stroke="#ccc"/>'
            )
            for r in (r for r in rows if r["unit"] == unit):
                share = Fraction(r[field]) if r[field] is not None else Fraction(0)
                w = share * bar
                if w <= 0:
                    continue
                parts.append(
                    f'<rect x="{float(x):.2f}" y="{y + offset}" width="{float(w):.2f}" height="20" '
                    f'fill="{colours.get(r["party"], "#999")}"><title>{escape(r["party"])}: '
                    f"{percent(r[field])} {label}</title></rect>"
                )
                if w >= 60:
                    parts.append(
                        f'<text x="{float(x + w / 2):.2f}" y="{y + offset + 14}" font-size="11" '
                        f'fill="#fff" text-anchor="middle">{escape(r["party"])} {percent(r[field])}</text>'
                    )
                x += w
        y += 62
    parts.append("</svg>")
    return "".join(parts)


def delivery_chart(data: dict[str, Any]) -> str:
    """An SVG timeline of deliveries: one row per party, a dot per deliverable by status.

    The horizontal axis is the ledger's own order (seq), labelled with the claimed times of
    the first and last entries: claimed times may bunch up or even go backwards, seqs do not.
    """
    parties = [p["handle"] for p in data["parties"]]
    points = [(d, pledge) for pledge in data["pledges"] for d in pledge["deliverables"]]
    first, last = data["timeline"][0], data["timeline"][-1]
    span = max(last["seq"] - 1, 1)
    width, left, right = 760, 110, 30
    plot = width - left - right
    height = 50 + 34 * len(parties)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="Deliveries over time">',
        "<title>Deliveries over time</title>",
    ]
    for i, party in enumerate(parties):
        y = 20 + 34 * i
        parts.append(
            f'<text x="{left - 8}" y="{y + 4}" font-size="12" text-anchor="end">{escape(party)}</text>'
        )
        parts.append(f'<line x1="{left}" y1="{y}" x2="{left + plot}" y2="{y}" stroke="#ddd"/>')
    axis_y = 20 + 34 * len(parties)
    parts.append(
        f'<line x1="{left}" y1="{axis_y}" x2="{left + plot}" y2="{axis_y}" stroke="#999"/>'
    )
    parts.append(
        f'<text x="{left}" y="{axis_y + 16}" font-size="11">seq 1 · {_label(first["at"])}</text>'
    )
    parts.append(
        f'<text x="{left + plot}" y="{axis_y + 16}" font-size="11" text-anchor="end">'
        f"seq {last['seq']} · {_label(last['at'])}</text>"
    )
    for d, pledge in points:
        x = left + plot * (d["seq"] - 1) / span
        y = 20 + 34 * parties.index(pledge["party"])
        colour = STATUS_COLOURS.get(d["status"], "#999")
        parts.append(
            f'<circle cx="{x:.2f}" cy="{y}" r="7" fill="{colour}" stroke="#333" stroke-width=".5">'
            f"<title>seq {d['seq']}: {escape(pledge['party'])} delivered {escape(d['quantity'])} "
            f"{escape(pledge['unit'])} on pledge {pledge['seq']} ({escape(d['status'])})</title></circle>"
        )
    parts.append("</svg>")
    return "".join(parts)


def _label(text: str) -> str:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).strftime("%Y-%m-%d %H:%M UTC")


def render_html(data: dict[str, Any]) -> str:
    """The report as one self-contained HTML page: no scripts, no external resources."""
    project, close = data["project"], data["close"]
    colours = _colours(data)
    title = escape(_title(data))
    body: list[str] = [f"<h1>{title}</h1>"]
    if data["kind"] == "interim":
        body.append(
            f'<p class="interim"><strong>Interim report.</strong> The project is '
            f"{escape(project['status'])}; this shows the ledger as of seq {data['as_of']['seq']} "
            f"({escape(data['as_of']['at'])}).</p>"
        )
    body.append(
        f"<p>Status <strong>{escape(project['status'])}</strong> · {close['entries']} entries · "
        f'final head seq {close["final_head_seq"]} <span class="hash">{escape(close["final_head"])}</span></p>'
    )
    body.append("<h2>Terms</h2><table><tbody>")
    for label, value in (
        ("Title", project["title"]),
        ("Purpose", project["purpose"] or "(none given)"),
        ("Proposed by", project["proposer"]),
        ("Approval policy", project["approval"]),
        ("Close policy", project["close"]),
    ):
        body.append(f"<tr><th>{escape(label)}</th>{_td(value)}</tr>")
    body.append(
        f"<tr><th>Terms hash</th>{_td(project['terms_hash'], code=True)}</tr></tbody></table>"
    )
    body.append("<h2>Parties</h2>")
    body.append(
        _html_table(
            ["party", "status", "current key", "keys used"],
            [
                f'<tr><td><span class="swatch" style="background:{colours[p["handle"]]}"></span>'
                f"{escape(p['handle'])}</td>{_td(p['status'])}{_td(p['key'] or '(none)', code=True)}"
                f"{_td(', '.join(p['keys']), code=True)}</tr>"
                for p in data["parties"]
            ],
        )
    )
    body.append("<h2>Contributions</h2>")
    body.append(
        "<p>Per unit, never summed across units. A guest star has, in every unit with approved "
        f"work, less than {escape(percent(data['contributions']['threshold']))} of a fair share "
        "(1 / number of members) of the approved total.</p>"
    )
    body.append(share_chart(data))
    body.append(
        _html_table(
            CONTRIBUTION_HEADERS,
            [
                "<tr>"
                + _td(r["party"])
                + _td(r["unit"])
                + _td(r["pledged"], num=True)
                + _td(r["delivered"], num=True)
                + _td(r["approved"], num=True)
                + _td(percent(r["pledged_share"]), num=True)
                + _td(percent(r["approved_share"]), num=True)
                + _td(percent(r["fulfilment"]), num=True)
                + _td(percent(r["on_time"]), num=True)
                + ('<td class="flag">guest star</td>' if r["guest_star"] else "<td>no</td>")
                + "</tr>"
                for r in data["contributions"]["rows"]
            ],
        )
    )
    body.append("<h2>Deliveries over time</h2>")
    body.append(
        '<p class="legend">'
        + "".join(
            f'<span><span class="swatch" style="background:{c}"></span>{escape(s)}</span>'
            for s, c in STATUS_COLOURS.items()
        )
        + "</p>"
    )
    body.append(delivery_chart(data))
    body.append("<h2>Pledges</h2>")
    for pledge in data["pledges"]:
        late = f" ({pledge['days_late']} days late)" if pledge["days_late"] else ""
        body.append(
            f"<h3>Pledge {pledge['seq']}: {escape(pledge['title'])}</h3>"
            f"<p>{escape(pledge['party'])} to {escape(', '.join(pledge['to']))}: "
            f"{escape(pledge['weight'])} {escape(pledge['unit'])}, due {escape(pledge['due'])}. "
            f"Delivered {escape(pledge['delivered'])}, approved {escape(pledge['approved'])}. "
            f"Status: <strong>{escape(pledge['status'])}</strong>{escape(late)}.</p>"
        )
        if pledge["deliverables"]:
            body.append(
                _html_table(
                    ["seq", "at", "quantity", "summary", "status", "decided by", "evidence"],
                    [
                        "<tr>"
                        + _td(d["seq"], num=True)
                        + _td(d["at"])
                        + _td(d["quantity"], num=True)
                        + _td(d["summary"])
                        + _td(d["status"])
                        + _td(_decided_by(d))
                        + "<td>"
                        + "<br>".join(
                            f'{escape(e["name"])} ({e["size"]} B)<br><span class="hash">sha256 '
                            f"{escape(e['sha256'])}</span>"
                            for e in d["evidence"]
                        )
                        + "</td></tr>"
                        for d in pledge["deliverables"]
                    ],
                )
            )
        for a in pledge["amendments"]:
            changes = ", ".join(f"{k} {v}" for k, v in a["changes"].items())
            body.append(
                f"<p>Amendment seq {a['seq']} ({escape(changes)}): {escape(a['reason'])}; "
                f"{escape(a['status'])}{': ' + escape(_decided_by(a)) if _decided_by(a) else ''}</p>"
            )
    heading = "Obligations open at close" if data["kind"] == "close" else "Open obligations"
    body.append(f"<h2>{heading}</h2>")
    if data["open_obligations"]:
        body.append(
            _html_table(
                ["seq", "party", "title", "approved / weight", "due", "status", "days late"],
                [
                    "<tr>"
                    + _td(o["seq"], num=True)
                    + _td(o["party"])
                    + _td(o["title"])
                    + _td(f"{o['approved']} / {o['weight']} {o['unit']}")
                    + _td(o["due"])
                    + _td(o["status"])
                    + _td(o["days_late"], num=True)
                    + "</tr>"
                    for o in data["open_obligations"]
                ],
            )
        )
    else:
        body.append("<p>None: every pledge was fulfilled or withdrawn.</p>")
    body.append("<h2>Statements</h2>")
    if not data["statements"]:
        body.append("<p>No statements.</p>")
    for s in data["statements"]:
        signed = ", ".join(f"{x['party']} (seq {x['seq']})" for x in s["signatures"]) or "nobody"
        waiting = f" Waiting for: {', '.join(s['waiting_for'])}." if s["waiting_for"] else ""
        body.append(
            f"<h3>Statement {s['seq']}: {escape(s['title'])} (version {s['version']}, "
            f"{escape(s['status'])})</h3><blockquote>{escape(s['text']).replace(chr(10), '<br>')}"
            f"</blockquote><p>Signed by: {escape(signed)}.{escape(waiting)}</p>"
        )
    body.append("<h2>Timeline</h2>")
    body.append(
        _html_table(
            ["seq", "at", "party", "type", "summary"],
            [
                "<tr>"
                + _td(t["seq"], num=True)
                + _td(t["at"])
                + _td(t["party"])
                + _td(t["type"])
                + _td(t["summary"])
                + "</tr>"
                for t in data["timeline"]
            ],
        )
    )
    body.append("<h2>Close</h2>")
    closed = f"yes, at seq {close['closed_seq']}" if close["closed"] else "no"
    body.append(
        f"<p>Close policy {escape(close['policy'])}; closed: {escape(closed)}. Final head seq "
        f'{close["final_head_seq"]}: <span class="hash">{escape(close["final_head"])}</span>. '
        f"Entries: {close['entries']}.</p>"
    )
    if close["signatures"]:
        body.append(
            _html_table(
                ["party", "seq", "key", "entry hash", "signature (base64)"],
                [
                    "<tr>"
                    + _td(c["party"])
                    + _td(c["seq"], num=True)
                    + _td(c["key"], code=True)
                    + _td(c["hash"], code=True)
                    + _td(c["signature"], code=True)
                    + "</tr>"
                    for c in close["signatures"]
                ],
            )
        )
    else:
        body.append("<p>No close signatures on the final head yet.</p>")
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{title}</title><style>{CSS}</style></head>\n<body>\n"
        + "\n".join(body)
        + "\n</body></html>\n"
    )


RENDERERS = {"md": render_markdown, "html": render_html, "json": render_json}


def write_report(data: dict[str, Any], directory: Path, formats: tuple[str, ...]) -> list[Path]:
    """Write the report in ``formats`` into ``directory``; return the paths written.

    Raises:
        StorageUnavailableError: the directory cannot be created or written.
    """
    written = []
    try:
        directory.mkdir(parents=True, exist_ok=True)
        for name in formats:
            path = directory / FILES[name]
            path.write_text(RENDERERS[name](data), encoding="utf-8")
            written.append(path)
    except OSError as exc:
        raise StorageUnavailableError(
            f"cannot write the report to {directory}: {exc.strerror}",
            hint="choose a writable directory with -o DIR",
        ) from None
    return written
