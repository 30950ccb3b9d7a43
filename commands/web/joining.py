"""Joining a project from the browser with the invite line its proposer sent (`accord join LINE`).

The dashboard of ``accord web --sign`` offers it even on a home that holds no project yet:
a newcomer makes a key (``accord key new``), starts ``accord web --as SEAT --sign``, pastes
the line, reads the terms and exactly what will be signed, and joins (or declines). The
same checks as the CLI's run on both pages: the relay's key must have the fingerprint the
line names, the proposal must be the one the line names, and the answer must pass the
rules; only once the relay holds the answer (its receipt verified) are the remote added,
the project pulled and its checkpoint cosigned. Nothing is kept on a refusal.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from starlette.concurrency import run_in_threadpool
from starlette.responses import Response
from starlette.routing import Route

from commands.web.app import error_page, ledger_error_page, page, read_form, signer_of
from ledger import ed25519
from ledger import entry as entry_mod
from ledger.errors import ConflictError, LedgerError, UsageError

if TYPE_CHECKING:
    from starlette.requests import Request

    from commands.web.access import Opened, Replica
    from commands.web.app import Form
    from ledger.keys import Signer
    from ledger.records import Receipt
    from relay.client import Deadline
    from relay.invite_line import InviteLine
    from relay.invitee import Invitation
    from relay.remotes import Remote, RemoteStore

MAX_FORM_LINE = 4096  # characters of a pasted line the form accepts (InviteLine bounds it too)


@dataclass(frozen=True)
class Offer:
    """An invitation read through the relay and checked, with the answer it would sign."""

    line: InviteLine
    found: tuple[Remote, bool]  # the remote, and whether it is new to this home
    terms: dict[str, Any]
    entry: dict[str, Any]  # the join or decline, unsigned
    invitation: Invitation | None  # an unpinned seat's invitation (None: a pinned seat)

    @property
    def digest(self) -> str:
        """The SHA-256 of the answer's canonical body: the page shown and the signature agree."""
        return hashlib.sha256(entry_mod.canonical_bytes(self.entry["body"])).hexdigest()


def parse_line(text: str, party: str) -> InviteLine:
    """The invite line pasted, for this server's party's seat.

    Raises:
        UsageError: a malformed line, or a line for another seat.
    """
    from relay.invite_line import InviteLine

    line = InviteLine.parse(text.strip()[:MAX_FORM_LINE])
    if line.seat != party:
        raise UsageError(
            f"this invite line is for the seat {line.seat!r}; accord web runs as {party!r}",
            hint=f"start it for that seat: accord web --as {line.seat} --sign",
        )
    return line


def read_offer(
    store: RemoteStore, line: InviteLine, signer: Signer, reason: str | None, deadline: Deadline
) -> Offer:
    """Read the invitation through the relay the line names and build the answer (unsigned).

    Raises:
        LedgerError: as ``accord join LINE``: the relay's key is not the one the line names
            (exit 5), the invite is wrong or used (exit 3), the proposal is not the line's
            (exit 5), or the rules refuse the answer (exit 4).
    """
    from commands.invitations import pinned_answer_entry, pinned_proposal
    from ledger import rules
    from ledger.writes import seat_answer_entry
    from relay.client import RelayClient
    from relay.invitee import fetch_invitation, find_remote, proposal_terms

    kind = "member.joined" if reason is None else "member.declined"
    remote, new = find_remote(store, line, deadline=deadline)
    if line.invite is None:
        proposal = pinned_proposal(remote, line, signer, deadline)
        terms = proposal_terms(proposal, rules.replay(line.project, [proposal]))
        with RelayClient(remote.url, signer, deadline=deadline) as client:
            entry = pinned_answer_entry(client, remote, line, proposal, signer, reason)
        return Offer(line, (remote, new), terms, entry, None)
    invitation = fetch_invitation(remote, line, signer.handle, deadline=deadline)
    entry = seat_answer_entry(
        invitation.proposal,
        head=invitation.head,
        kind=kind,
        signer=signer,
        invite=line.invite,
        reason=reason,
        at=datetime.now(UTC),
    )
    return Offer(line, (remote, new), invitation.terms(), entry, invitation)


def answer_offer(opened: Opened, offer: Offer, signer: Signer, reason: str | None) -> Receipt:
    """Sign the answer and send it as ``accord join LINE`` does; the receipt.

    Raises:
        LedgerError: as ``accord join LINE`` (nothing is kept on a refusal).
    """
    from commands.invitations import answer, pull_and_cosign, saved
    from commands.options import AppContext
    from relay.client import Deadline
    from relay.session import RelayUpstream

    store = opened.remotes()
    if offer.invitation is not None:
        return answer(opened.app, store, offer.found, offer.invitation, signer, reason, "json")
    remote = saved(store, offer.found, "json")
    deadline = Deadline()
    joining = AppContext(url=opened.app.url, offline=False)
    ledger = joining.ledger(create=True, upstream=RelayUpstream(remote, store, deadline=deadline))
    slug = offer.line.project
    expected = offer.entry["body"]

    def same_body(entry: dict[str, Any], _state: Any) -> None:
        if entry["body"] != expected:
            raise ConflictError(
                "what would be signed changed since you reviewed it; nothing was signed",
                hint="paste the invite line again and review the new page",
            )

    with ledger.reviewed(same_body):
        if reason is not None:
            return ledger.decline_project(slug, reason=reason, signer=signer)
        receipt = ledger.join_project(slug, signer=signer)
    pull_and_cosign(ledger, store, remote, signer, slug, deadline)
    return receipt


def _refused_read_only(request: Request) -> Response | None:
    if request.app.state.config.sign:
        return None
    return error_page(
        request,
        "accord web was started read-only: it signs nothing",
        "restart it with --sign to join from the browser",
        403,
    )


def _reason(value: str) -> str | None:
    text = value.strip()
    return text or None


async def join_form(request: Request) -> Response:
    """The form: paste the invite line (and a reason, to decline)."""
    refused = _refused_read_only(request)
    if refused is not None:
        return refused
    return page(request, "join.html.j2", {"line": "", "reason": "", "tab": ""})


async def _signing_form(request: Request) -> Form | Response:
    """The posted form of a server that signs (CSRF checked), or the page refusing it."""
    refused = _refused_read_only(request)
    if refused is not None:
        return refused
    return await read_form(request)


async def join_preview(request: Request) -> Response:
    """The invitation's terms and exactly what will be signed, before anything is signed."""
    form = await _signing_form(request)
    if isinstance(form, Response):
        return form
    text, reason = form.get("line"), _reason(form.get("reason"))
    replica: Replica = request.app.state.replica
    signer = signer_of(request)

    def work(opened: Opened) -> dict[str, Any]:
        from relay.client import Deadline

        line = parse_line(text, signer.handle)
        offer = read_offer(opened.remotes(), line, signer, reason, Deadline())
        remote = offer.found[0]
        return {
            "offer": offer,
            "entry": offer.entry,
            "canonical": entry_mod.canonical_bytes(offer.entry).decode("utf-8"),
            "relay": remote.url,
            "relay_key": ed25519.fingerprint(ed25519.parse_public_key_line(remote.relay_key)),
        }

    try:
        built = await run_in_threadpool(replica.run, work, fresh=False)
    except LedgerError as error:
        return ledger_error_page(request, error)
    context = {"line": text.strip(), "reason": reason or "", "tab": "", **built}
    return page(request, "join-confirm.html.j2", context)


async def join_sign(request: Request) -> Response:
    """Sign the answer the confirmation page showed, if it is still exactly that one."""
    form = await _signing_form(request)
    if isinstance(form, Response):
        return form
    text, reason, digest = form.get("line"), _reason(form.get("reason")), form.get("digest")
    if len(digest) != 64:
        return error_page(
            request, "this answer was not reviewed", "paste the line and review it first", 400
        )
    replica: Replica = request.app.state.replica
    signer = signer_of(request)

    def work(opened: Opened) -> dict[str, Any]:
        from relay.client import Deadline

        line = parse_line(text, signer.handle)
        offer = read_offer(opened.remotes(), line, signer, reason, Deadline())
        if offer.digest != digest:
            raise ConflictError(
                "what would be signed changed since you reviewed it; nothing was signed",
                hint="paste the invite line again and review the new page",
            )
        receipt = answer_offer(opened, offer, signer, reason)
        return {"receipt": receipt, "terms": offer.terms}

    try:
        done = await run_in_threadpool(replica.run, work, fresh=False)
    except LedgerError as error:
        return ledger_error_page(request, error)
    return page(request, "joined.html.j2", {"tab": "", **done})


def routes() -> list[Route]:
    """Joining with an invite line: the form, its confirmation, the signature."""
    return [
        Route("/join", join_form, methods=["GET"]),
        Route("/join/preview", join_preview, methods=["POST"]),
        Route("/join/sign", join_sign, methods=["POST"]),
    ]
