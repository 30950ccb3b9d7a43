"""The words of a reminder digest, escaped for each medium.

One digest per recipient lists the items due (see :mod:`projections.reminders`): for each,
the project (title and slug), the item in words (the to-do list's ``about``, as ``accord
show`` phrases it), who waits and since when, the exact command to run, and the ``accord
web`` link when a base URL is given. Titles, summaries and reasons are partner text, made
safe for the medium they go into:

- plain text (the e-mail body, JSON's ``text``): control, bidi and line-separator
  characters as visible escapes (:func:`commands.output.safe_text`), so a title can forge no
  line;
- e-mail headers: line breaks become spaces before anything else (no header injection), the
  rest as in plain text, and the Subject is RFC 2047-encoded by :mod:`email` when it is not
  ASCII;
- Slack mrkdwn: ``&``, ``<`` and ``>`` as ``&amp;``, ``&lt;``, ``&gt;`` (no ``<!channel>``,
  no link, no mention), as Slack's documentation asks;
- Teams (Adaptive Card ``TextBlock``): Markdown punctuation gets a backslash;
- JSON: :func:`json.dumps` (ASCII only), so the payload is exact data.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from commands.output import safe_text

if TYPE_CHECKING:
    from datetime import datetime

    from projections.reminders import Waiting

_LINE_BREAK = re.compile("\r\n|[\n\r\v\f\x1c-\x1e\x85\u2028\u2029]")
_TEAMS_MARKDOWN = re.compile(r"([\\`*_\[\]()#~>|!-])")
_WAITING_WORDS = {
    "join": "Join",
    "decide": "Decide",
    "resolve": "Resolve a dispute",
    "rejected": "Answer a rejection",
    "sign statement": "Sign a statement",
    "sign close": "Sign the close",
    "deliver": "Deliver",
}
SUBJECT_LIMIT = 150


@dataclass(frozen=True)
class Digest:
    """What one recipient is sent: the items, and the words in plain text."""

    recipient: str
    party: str
    items: list[Waiting]
    now: datetime
    web_url: str | None = None

    @property
    def projects(self) -> list[str]:
        """The slugs of the projects the items belong to, in order of first appearance."""
        return list(dict.fromkeys(w.item.project for w in self.items))

    def subject(self) -> str:
        """The one-line subject (partner text made safe for a header)."""
        count = len(self.items)
        what = f"{count} item{'s' if count != 1 else ''} wait{'s' if count == 1 else ''}"
        text = f"accord: {what} for {self.party}"
        if len(self.projects) == 1:
            text += f" in {self.items[0].title!r}"
        return header_text(text)[:SUBJECT_LIMIT]

    def link(self, item: Waiting) -> str | None:
        """The ``accord web`` page of ``item`` (``BASE/projects/SLUG/SEQ``), if a base is set."""
        if self.web_url is None:
            return None
        return f"{self.web_url.rstrip('/')}/projects/{quote(item.item.project)}/{item.item.seq}"

    def lines(self) -> list[tuple[str, str]]:
        """The digest as (kind, text) lines, the text raw (each medium escapes and styles it).

        Kinds: ``head``, ``project``, ``item``, ``detail``, ``command``, ``link``, ``foot``.
        """
        out = [("head", f"{self.subject_words()}, as of {self.now:%Y-%m-%d %H:%M} UTC.")]
        for slug in self.projects:
            items = [w for w in self.items if w.item.project == slug]
            out.append(("project", f"Project {items[0].title!r} ({slug})"))
            for entry in items:
                todo = entry.item
                out.append(("item", f"{_WAITING_WORDS.get(todo.waiting, todo.waiting)}: "
                                    f"{todo.about}"))  # fmt: skip
                days = (self.now - entry.since).days
                waits = f"{entry.waits} waits" if entry.waits else "waiting"
                detail = f"{waits} for {entry.party} since {entry.since:%Y-%m-%d} ({days} d)"
                if todo.due is not None:
                    detail += f"; due {todo.due.isoformat()}" + (
                        " (OVERDUE)" if todo.overdue else ""
                    )
                out.append(("detail", detail))
                out.append(("command", todo.next))
                link = self.link(entry)
                if link is not None:
                    out.append(("link", link))
        out.append(("foot", "Sent by `accord notify`; `accord todo --as "
                            f"{self.party}` lists everything that waits."))  # fmt: skip
        return out

    def subject_words(self) -> str:
        """The first line: how many items wait for whom."""
        count = len(self.items)
        verb = "waits" if count == 1 else "wait"
        return f"{count} item{'s' if count != 1 else ''} of accord {verb} for {self.party}"

    def text(self) -> str:
        """The digest as plain text (the e-mail body)."""
        out = []
        for kind, raw in self.lines():
            line = safe_text(raw)
            if kind == "project":
                out.append("")
                out.append(line)
            elif kind == "item":
                out.append(f"  - {line}")
            elif kind in ("detail", "link"):
                out.append(f"    {line}")
            elif kind == "command":
                out.append(f"    run: {line}")
            elif kind == "foot":
                out.extend(["", line])
            else:
                out.append(line)
        return "\n".join(out) + "\n"


def header_text(value: str) -> str:
    """``value`` made safe for one e-mail header: one line, no control characters."""
    return safe_text(_LINE_BREAK.sub(" ", value))


def slack_escape(value: str) -> str:
    """Escape ``value`` for Slack mrkdwn: ``&``, ``<``, ``>`` (and control characters)."""
    return safe_text(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def teams_escape(value: str) -> str:
    """Escape ``value`` for a Teams Adaptive Card TextBlock (Markdown punctuation)."""
    return _TEAMS_MARKDOWN.sub(r"\\\1", safe_text(value))


def email_message(digest: Digest, *, sender: str, to: str) -> EmailMessage:
    """The digest as an e-mail (plain text, UTF-8). ``sender`` and ``to`` are checked addresses."""
    message = EmailMessage()
    message["From"] = header_text(sender)
    message["To"] = header_text(to)
    message["Subject"] = digest.subject()
    message["Date"] = formatdate(digest.now.timestamp(), usegmt=True)
    domain = sender.rpartition("@")[2] or "accord.invalid"
    message["Message-ID"] = make_msgid("accord-notify", domain=header_text(domain))
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(digest.text(), charset="utf-8", cte="quoted-printable")
    return message


def webhook_payload(digest: Digest, form: str) -> bytes:
    """The digest as the JSON body of a webhook POST, in ``form`` (json, slack or teams)."""
    data: dict[str, Any]
    if form == "slack":
        data = {"text": _slack_text(digest)}
    elif form == "teams":
        blocks = [
            {
                "type": "TextBlock",
                "text": teams_escape(raw),
                "wrap": True,
                **({"weight": "Bolder"} if kind in ("head", "project") else {}),
                **({"fontType": "Monospace"} if kind == "command" else {}),
            }
            for kind, raw in digest.lines()
        ]
        data = {
            "type": "message",
            "attachments": [
                {
                    "contentType": "application/vnd.microsoft.card.adaptive",
                    "content": {
                        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                        "type": "AdaptiveCard",
                        "version": "1.4",
                        "body": blocks,
                    },
                }
            ],
        }
    else:
        data = {
            "text": digest.text(),
            "recipient": digest.recipient,
            "party": digest.party,
            "at": digest.now.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "items": [{**w.as_row(), "url": digest.link(w)} for w in digest.items],
        }
    return json.dumps(data, ensure_ascii=True, sort_keys=True).encode("ascii")


def _slack_text(digest: Digest) -> str:
    out = []
    for kind, raw in digest.lines():
        line = slack_escape(raw)
        if kind in ("head", "project"):
            out.append(f"*{line}*")
        elif kind == "item":
            out.append(f"• {line}")
        elif kind == "command":
            code = line.replace("`", "'")
            out.append(f"    `{code}`")
        elif kind == "link":
            out.append(f"    <{line}|open in accord web>")
        else:
            out.append(f"    {line}" if kind == "detail" else line)
    return "\n".join(out)
