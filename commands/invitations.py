"""``accord join LINE`` and ``accord invitations``: onboarding through a relay (docs/relay.md)."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import click

from commands.options import AppContext, ledger_option, read_passphrase, signer_option
from commands.output import echo, output_options, render, render_object
from commands.receipts import render_receipt
from ledger import ed25519, rules, storage
from ledger import entry as entry_mod
from ledger import keys as key_store
from ledger.errors import LedgerError, NotFoundError, UsageError, VerificationError
from ledger.normalise import normalise_handle
from ledger.records import Receipt
from ledger.subjects import subject_of
from relay.remotes import RemoteStore

if TYPE_CHECKING:
    from ledger.application import Ledger
    from ledger.keys import Signer
    from relay.client import Deadline, RelayClient
    from relay.invite_line import InviteLine
    from relay.invitee import Invitation
    from relay.remotes import Remote


def _line_text(value: str) -> str:
    """The invite line given, or read from standard input for ``-`` (one line, bounded).

    At most :data:`relay.invite_line.MAX_LINE` characters and a little white space are read:
    a longer line (or an endless stream) is malformed, never read whole into memory.
    """
    from relay.invite_line import MAX_LINE

    if value != "-":
        return value
    text = sys.stdin.readline(MAX_LINE + 64)
    if not text.strip():
        raise UsageError(
            "no invite line on standard input", hint="paste the line the proposer sent you"
        )
    return text


def _signer(handle: str, key_name: str | None) -> Signer:
    """The key to join with: --key, else the key named like the seat, else the home's one key.

    Raises:
        KeyFileError: no such key, or it cannot be decrypted.
        UsageError: no key is named like the seat and the home holds several (or none).
    """
    if key_name is None:
        usable = [info.name for info in key_store.list_keys() if info.problem is None]
        if handle in usable:
            key_name = handle
        elif len(usable) == 1:
            key_name = usable[0]
        else:
            raise UsageError(
                f"this home holds no key named {handle!r}"
                + (f" and {len(usable)} others" if usable else ""),
                hint="make one with `accord key new NAME`, or name it with --key NAME",
            )
    key_store.info(key_name)  # a missing key is reported before any prompt
    passphrase = read_passphrase(f"Passphrase for key {key_name!r}")
    return key_store.load_signer(handle, key_name, passphrase)


def _show_terms(terms: dict[str, Any], handle: str, output_format: str) -> None:
    if output_format != "table":
        return
    members = ", ".join(
        f"{m['handle']} ({'you, ' if m['handle'] == handle else ''}{m['seat']})"
        for m in terms["members"]
    )
    echo(f"invitation to {terms['project']}: {terms['title']!r} from {terms['proposer']}")
    if terms["purpose"]:
        echo(f"  purpose: {terms['purpose']}")
    echo(f"  members: {members}")
    echo(
        f"  approval {terms['approval']}, close {terms['close']}; proposed at "
        f"{terms['proposed_at']}; terms {terms['terms']}"
    )


@click.command(name="join")
@click.argument("line", metavar="INVITE-LINE")
@click.option("--as", "as_", metavar="HANDLE", help="The seat to take [default: the line's].")
@click.option(
    "--key",
    "key_name",
    metavar="NAME",
    help="Sign with the key NAME [default: the key named like the seat, or the home's one key].",
)
@click.option("--decline", is_flag=True, help="Decline the invitation instead (with --reason).")
@click.option("--reason", help="Why you decline (with --decline).")
@click.option("--show", is_flag=True, help="Only show the invitation's terms; sign nothing.")
@ledger_option
@output_options
@click.pass_obj
def join_command(
    app: AppContext,
    line: str,
    as_: str | None,
    key_name: str | None,
    decline: bool,
    reason: str | None,
    show: bool,
    output_format: str,
) -> None:
    """Join (or decline) a project with the invite line its proposer sent you.

    The line (`accord-join-v1,project=...`; `-` reads it from standard input, out of your
    shell history) names the project, your seat, the terms, the relay and its key
    fingerprint, and for an unpinned seat your invite. The relay's key must have that
    fingerprint; the invitation is read with the invite, checked against the line and shown
    (--show stops there); then your join is signed with your key, posted, and only once the
    relay holds it are the remote added, the ledger created if need be, the project pulled
    and its checkpoint cosigned. A wrong, used or other seat's invite, or a cancelled
    proposal, gets the relay's 404 (exit 3) and nothing is kept.

    \b
        accord key new veggie
        accord join 'accord-join-v1,project=spring-campaign,seat=veggie,...'
        accord join - --decline --reason "No budget this year"
    """
    from relay.client import Deadline
    from relay.invite_line import InviteLine
    from relay.invitee import fetch_invitation, find_remote

    parsed = InviteLine.parse(_line_text(line))
    handle = normalise_handle(as_ or parsed.seat, "party")
    if decline != (reason is not None):
        raise UsageError(
            "--decline needs --reason, and --reason goes with --decline",
            hint="accord join LINE --decline --reason 'why'",
        )
    store = RemoteStore(storage.source_of(app.url or storage.default_url()))
    click.get_current_context().call_on_close(store.close)
    # One deadline for the relay traffic before the passphrase is asked, one after it.
    before = Deadline()
    remote, new = find_remote(store, parsed, deadline=before)  # nothing kept before the answer
    if parsed.invite is None:
        _join_pinned(
            app, store, (remote, new), parsed, handle, key_name, reason, show, output_format
        )
        return
    invitation = fetch_invitation(remote, parsed, handle, deadline=before)
    terms = invitation.terms()
    _show_terms(terms, handle, output_format)
    if show:
        if output_format != "table":
            render_object({"invitation": terms}, output_format=output_format)
        return
    signer = _signer(handle, key_name)
    receipt = answer(app, store, (remote, new), invitation, signer, reason, output_format)
    _render(receipt, terms, output_format)


def saved(store: RemoteStore, found: tuple[Remote, bool], output_format: str) -> Remote:
    """The remote, added to the store now if it is new (the relay took the answer)."""
    from relay.invitee import save_remote

    remote, new = found
    if not new:
        return remote
    remote = save_remote(store, remote)
    if output_format == "table":
        fingerprint = ed25519.fingerprint(ed25519.parse_public_key_line(remote.relay_key))
        echo(
            f"Added remote {remote.name} {remote.url}: relay key {fingerprint} "
            "(the one the line names)"
        )
    return remote


def answer(
    app: AppContext,
    store: RemoteStore,
    found: tuple[Remote, bool],
    invitation: Invitation,
    signer: Signer,
    reason: str | None,
    output_format: str,
) -> Receipt:
    """Post the join (then pull and cosign) or the decline; the receipt of the answer."""
    from relay.client import Deadline
    from relay.invitee import keep_answer, post_answer

    kind = "member.declined" if reason is not None else "member.joined"
    deadline = Deadline()  # the passphrase was typed: the rest of the traffic has its own
    posted = post_answer(
        found[0], invitation, kind=kind, signer=signer, clock=lambda: datetime.now(UTC),
        reason=reason, deadline=deadline,
    )  # fmt: skip
    remote = saved(store, found, output_format)
    entry = posted.entry
    slug = invitation.line.project
    status, subject = "", None  # a decliner does not read the log: its status is unknown here
    if kind == "member.declined":
        keep_answer(None, remote, store, posted)
    else:
        ledger = app.ledger(create=True)
        pull_and_cosign(ledger, store, remote, signer, slug, deadline)
        keep_answer(ledger, remote, store, posted)
        state = ledger.verified_state(slug)
        status, subject = state.status, subject_of(state, entry)
        ledger.wrote = True
    return Receipt(
        project=slug,
        seq=entry.seq,
        type=entry.type,
        hash=entry.hash,
        by=entry.by,
        key=entry.key,
        at=str(entry.data["at"]),
        status=status,
        attempts=posted.attempts,
        subject=subject,
    )


def pull_and_cosign(
    ledger: Ledger,
    store: RemoteStore,
    remote: Remote,
    signer: Signer,
    slug: str,
    deadline: Deadline,
) -> None:
    """Pull ``slug`` as the member ``signer`` now is, and cosign the checkpoint (as sync)."""
    from relay.client import RelayClient
    from relay.session import RemoteSession

    with RelayClient(remote.url, signer, deadline=deadline) as client:
        session = RemoteSession(ledger, client, remote, store)
        session.cosign_and_confirm(session.pull(slug), signer=signer)


def _join_pinned(
    app: AppContext,
    store: RemoteStore,
    found: tuple[Remote, bool],
    line: InviteLine,
    handle: str,
    key_name: str | None,
    reason: str | None,
    show: bool,
    output_format: str,
) -> None:
    """A pinned seat: read the proposal with the invitee's own key, check it, join as usual."""
    from relay.client import Deadline, RelayClient
    from relay.invitee import proposal_terms
    from relay.session import RelayUpstream

    signer = _signer(handle, key_name)
    deadline = Deadline()  # after the passphrase: every request of the join shares it
    proposal = pinned_proposal(found[0], line, signer, deadline)
    terms = proposal_terms(proposal, rules.replay(line.project, [proposal]))
    _show_terms(terms, handle, output_format)
    if show:
        if output_format != "table":
            render_object({"invitation": terms}, output_format=output_format)
        return
    with RelayClient(found[0].url, signer, deadline=deadline) as client:
        pinned_answer_entry(client, found[0], line, proposal, signer, reason)
    remote = saved(store, found, output_format)
    ledger = app.ledger(create=True, upstream=RelayUpstream(remote, store, deadline=deadline))
    if reason is not None:
        receipt = ledger.decline_project(line.project, reason=reason, signer=signer)
    else:
        receipt = ledger.join_project(line.project, signer=signer)
        pull_and_cosign(ledger, store, remote, signer, line.project, deadline)
    _render(receipt, terms, output_format)


def pinned_proposal(
    remote: Remote, line: InviteLine, signer: Signer, deadline: Deadline
) -> entry_mod.SignedEntry:
    """The proposal of a pinned seat, read with the invitee's own key and checked.

    Raises:
        NotFoundError: the relay does not show the proposal to this key (not invited).
        VerificationError: the relay serves a proposal other than the one the line names.
    """
    from relay.client import RelayClient
    from relay.invitee import NOT_INVITED_HINT

    with RelayClient(remote.url, signer, deadline=deadline) as client:
        try:
            proposal = client.entries(line.project, after=0, upto=1)[0]
        except NotFoundError as exc:
            raise NotFoundError(exc.message, hint=NOT_INVITED_HINT) from None
    if proposal.hash != line.terms or proposal.type != "project.proposed":
        raise VerificationError(
            f"the relay at {remote.url} serves a proposal of {line.project!r} that is not the "
            f"one the invite line names (terms {line.terms[:12]}...)",
            hint="do not join: the relay (or someone) shows other terms; tell the proposer",
        )
    return proposal


def pinned_answer_entry(
    client: RelayClient,
    remote: Remote,
    line: InviteLine,
    proposal: entry_mod.SignedEntry,
    signer: Signer,
    reason: str | None,
) -> dict[str, Any]:
    """The answer, unsigned, checked against the relay's log before anything is kept.

    The log up to the relay's signed checkpoint is read page by page and replayed through
    the rules (signatures included), and the answer, built after its head, must pass them
    (:func:`ledger.rules.check_unsigned`): a cancelled proposal, a seat already answered or
    another key is refused here, not after the remote was added and the replica created.
    The join then pulls the log as usual.

    Raises:
        LedgerError: the rules refuse the answer, or the log or checkpoint does not verify.
    """
    from ledger.writes import seat_answer_entry
    from relay.note import origin_for
    from relay.sync import verified_note

    slug = line.project
    _, checkpoint = verified_note(remote, client.checkpoint(slug), origin=origin_for(proposal.hash))
    state, head = rules.new_state(slug), proposal.hash
    for page in client.pages(slug, after=0, upto=checkpoint.size):
        for item in page:
            rules.apply(state, item)
            head = item.hash
    answer = seat_answer_entry(
        proposal,
        head=(state.seq, head),
        kind="member.joined" if reason is None else "member.declined",
        signer=signer,
        invite=None,
        reason=reason,
        at=datetime.now(UTC),
    )
    rules.check_unsigned(state, answer)
    return answer


def _render(receipt: Receipt, terms: dict[str, Any], output_format: str) -> None:
    data = receipt.as_dict()
    if not receipt.status:  # declined with the invite: the log stays unread
        data["project_status"] = None
    if output_format == "json":
        render_object({**data, "invitation": terms}, output_format="json")
    elif output_format == "csv":
        render([data], output_format="csv")
    elif not receipt.status:
        echo(f"recorded {receipt.project} seq {receipt.seq} {receipt.type}")
        echo(f"hash {receipt.hash}")
        echo(f"you declined {receipt.project}; the relay holds it (its receipt verified)")
    else:
        render_receipt(receipt, output_format=output_format)
        if receipt.type == "member.joined":
            echo(f"joined {receipt.project}: `accord todo` shows what waits for you")


@click.command(name="invitations")
@signer_option
@output_options
@click.pass_obj
def invitations_command(app: AppContext, signer: Signer, output_format: str) -> None:
    """List the proposals waiting for you at each remote: seats pinned to your key.

    Each relay answers a request signed by your key with the proposals that pin its
    fingerprint and still wait for you (nobody else learns who is invited). Every proposal
    is verified before it is listed, with the command to join or decline. An unpinned seat
    is not found this way: its invite line is.

    \b
        accord invitations --as veggie
    """
    from commands.upstream import remote_store

    ledger = app.ledger()
    store = remote_store(ledger)
    rows = invitation_rows(store, signer, app.remote)
    headers = ["remote", "project", "title", "from", "seat", "join", "decline"]
    render(rows, output_format=output_format, headers=headers, empty="(no invitations)")


def invitation_rows(store: RemoteStore, signer: Signer, only: str | None) -> list[dict[str, Any]]:
    """The verified pinned invitations of ``signer`` at every remote (or the one named).

    Raises:
        UsageError: the ledger has no remote (or no remote of that name).
        LedgerError: a relay cannot be reached or answers badly.
    """
    from relay.client import Deadline
    from relay.invitee import pinned_invitations

    remotes = [store.get(only)] if only else store.list()
    if not remotes:
        raise UsageError("this ledger has no remote", hint="`accord remote add NAME URL` first")
    rows = []
    deadline = Deadline()  # one for every remote asked
    for remote in remotes:
        prefix = f"accord --remote {remote.name} " if len(remotes) > 1 else "accord "
        for handle, proposal, state in pinned_invitations(remote, signer, deadline=deadline):
            slug = state.slug
            rows.append(
                {
                    "remote": remote.name,
                    "project": slug,
                    "title": state.title,
                    "from": state.proposer,
                    "seat": handle,
                    "proposed_at": str(proposal.data["at"]),
                    "terms": proposal.hash,
                    "join": f"{prefix}project join {slug} --as {handle}",
                    "decline": f"{prefix}project decline {slug} --reason R --as {handle}",
                }
            )
    return rows


def note_invitations(store: RemoteStore, signer: Signer, only: str | None) -> None:
    """After ``accord sync --all``: one line on stderr per pinned invitation waiting."""
    try:
        rows = invitation_rows(store, signer, only)
    except LedgerError as error:
        echo(f"Note: could not list your invitations: {error.message}", err=True)
        return
    for row in rows:
        echo(
            f"Note: {row['from']} invites {row['seat']} to {row['project']} "
            f"({row['title']!r}): `{row['join']}` (or decline)",
            err=True,
        )
