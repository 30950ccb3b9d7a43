"""The invite line: the one message that onboards an invitee (docs/relay.md, "Invite lines").

``accord-join-v1,project=SLUG,seat=HANDLE,terms=HASH,relay=URL,relay-key=FINGERPRINT`` and,
for a seat protected by an invite (ADR 0007), ``,invite=accord-invite-v1:...``: parsed
strictly, and never quoted in a message (it may hold the invite token, a secret). What the
invitee does with it is in ``relay/invitee.py``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ledger import ed25519
from ledger import entry as entry_mod
from ledger.errors import UsageError, VerificationError
from ledger.format import FINGERPRINT_RE, HANDLE_RE, SLUG_RE
from relay.remotes import check_relay_url

if TYPE_CHECKING:
    from relay.remotes import Remote

LINE_PREFIX = "accord-join-v1"
LINE_FIELDS = ("project", "seat", "terms", "relay", "relay-key", "invite")
MAX_LINE = 1000
LINE_HINT = (
    "copy the whole line the proposer sent you: accord-join-v1,project=...,seat=...,"
    "terms=...,relay=...,relay-key=SHA256:...[,invite=accord-invite-v1:...]"
)
_HEX64 = re.compile(r"[0-9a-f]{64}\Z")


@dataclass(frozen=True)
class InviteLine:
    """One line that onboards an invitee (docs/relay.md, "Invite lines").

    ``accord-join-v1,project=SLUG,seat=HANDLE,terms=HASH,relay=URL,relay-key=FINGERPRINT``
    and, for a seat with an invite, ``,invite=accord-invite-v1:...``: these fields in this
    order, each once, no spaces (so a shell or a chat client does not split it).
    """

    project: str
    seat: str
    terms: str
    relay: str
    relay_key: str
    invite: str | None = None

    def text(self) -> str:
        """The line (it holds the invite token, when there is one: a secret)."""
        fields = [
            ("project", self.project),
            ("seat", self.seat),
            ("terms", self.terms),
            ("relay", self.relay.replace("%", "%25").replace(",", "%2C")),
            ("relay-key", self.relay_key),
        ]
        if self.invite is not None:
            fields.append(("invite", self.invite))
        return ",".join([LINE_PREFIX, *(f"{name}={value}" for name, value in fields)])

    @classmethod
    def parse(cls, text: str) -> InviteLine:
        """Parse an invite line (surrounding white space is ignored).

        Raises:
            UsageError: it is not an invite line of this form (the message never quotes the
                line, which may hold a secret).
        """
        line = text.strip()
        if len(line) > MAX_LINE or not line.isascii() or not line.isprintable() or " " in line:
            raise _malformed("it is not one line of printable ASCII without spaces")
        parts = line.split(",")
        if parts[0] != LINE_PREFIX:
            raise _malformed(f"it does not start with {LINE_PREFIX},")
        values: dict[str, str] = {}
        for part in parts[1:]:
            name, equals, value = part.partition("=")
            if not equals or name not in LINE_FIELDS or name in values:
                raise _malformed(f"field {name[:20]!r} is unknown or repeated")
            values[name] = value
        names = list(values)
        expected = list(LINE_FIELDS[:5]) + (["invite"] if "invite" in values else [])
        if names != expected:
            raise _malformed(f"its fields must be {', '.join(expected)}, in that order")
        if not SLUG_RE.match(values["project"]):
            raise _malformed("the project is not a slug")
        if not HANDLE_RE.match(values["seat"]):
            raise _malformed("the seat is not a handle")
        if not _HEX64.match(values["terms"]):
            raise _malformed("the terms are not a 64-character hex hash")
        if not FINGERPRINT_RE.match(values["relay-key"]):
            raise _malformed("the relay key is not a SHA256 fingerprint")
        invite = values.get("invite")
        if invite is not None:
            try:
                entry_mod.parse_invite_token(invite)
            except VerificationError as exc:
                raise _malformed(exc.message) from None
        try:
            url = check_relay_url(_unescape_relay(values["relay"]))
        except UsageError as exc:
            raise _malformed(exc.message) from None
        return cls(
            project=values["project"],
            seat=values["seat"],
            terms=values["terms"],
            relay=url,
            relay_key=values["relay-key"],
            invite=invite,
        )


def _unescape_relay(value: str) -> str:
    """The relay URL of a line: ``%2C`` stands for a comma and ``%25`` for ``%`` there."""
    return re.sub(r"%(2C|25)", lambda m: "," if m.group(1) == "2C" else "%", value)


def _malformed(why: str) -> UsageError:
    return UsageError(f"the invite line is malformed: {why}", hint=LINE_HINT)


def invite_lines(
    *, slug: str, terms: str, remote: Remote, seats: dict[str, str | None]
) -> dict[str, str]:
    """The invite line of each seat (``seats``: handle -> its invite token or None)."""
    relay_key = ed25519.fingerprint(ed25519.parse_public_key_line(remote.relay_key))
    return {
        handle: InviteLine(slug, handle, terms, remote.url, relay_key, token).text()
        for handle, token in seats.items()
    }
