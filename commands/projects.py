"""``accord init``, ``accord project ...`` and ``accord close``.

(Longer than ~500 lines: the whole life of a project as one noun, from init and propose
through join, decline and cancel to show, list and close; each command is short.)
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import click

from commands.errors import ExitCode
from commands.options import AppContext, fresh_read, ledger_option, pass_ledger, signer_option
from commands.output import echo, output_options, render, render_object, safe_json
from commands.receipts import render_receipt
from commands.reporting import DEFAULT_REPORT_DIR, write_close_report
from commands.reports import as_of_options
from ledger import keys as key_store
from ledger import storage
from ledger.errors import UsageError
from ledger.normalise import normalise_slug
from ledger.rules.membership import new_invites
from projections import views
from projections.replay import AsOf, Replay

if TYPE_CHECKING:
    from ledger.application import Ledger
    from ledger.keys import Signer


@click.command(name="init")
@ledger_option
@click.pass_obj
def init(app: AppContext) -> None:
    """Create an empty ledger (default ./accord.db, or --ledger PATH|URL).

    \b
        accord init --ledger ./campaign.db
    """
    ledger = app.ledger(create=True)
    count = len(ledger.list_slugs())
    where = storage.redact(app.url or storage.default_url())
    click.echo(f"ledger ready at {where} ({count} project{'s' if count != 1 else ''})")


@click.group(name="project")
def projects() -> None:
    """Propose, join, decline and inspect projects (collaborations).

    \b
        accord project show spring-campaign
    """


def _parse_members(values: tuple[str, ...]) -> dict[str, str | None]:
    """``--member HANDLE[=FINGERPRINT]`` values as a dict; identical repeats are merged.

    Raises:
        UsageError: an empty fingerprint after ``=``, or one handle given twice with
            different pins (``bob=SHA256:...`` and ``bob``), which would silently drop one.
    """
    invited: dict[str, str | None] = {}
    for value in values:
        handle, equals, pinned = value.partition("=")
        handle, pinned = handle.strip(), pinned.strip()
        if equals and not pinned:
            raise UsageError(
                f"--member {value!r} has an empty fingerprint after '='",
                hint=f"write --member {handle} (unpinned) or --member {handle}=SHA256:... "
                f"(from `accord key show {handle}`)",
            )
        pin = pinned or None
        if handle in invited and invited[handle] != pin:
            shown = [f"{handle}={p}" if p else handle for p in (invited[handle], pin)]
            raise UsageError(
                f"member {handle!r} is given twice with different pins "
                f"(--member {shown[0]} and --member {shown[1]})",
                hint=f"give --member {handle} once, pinned with its fingerprint",
            )
        invited[handle] = pin
    return invited


def _print_invites(invites: dict[str, str]) -> None:
    """Print each invite secret once (stdout), and a note to send them secretly (stderr)."""
    for handle, token in invites.items():
        echo(f"invite for {handle}: {token}")
        echo(f"  send it to {handle} by a channel you trust; it is shown only this once")
    if invites:
        click.echo(
            "\nNote: each unpinned seat is protected by its invite: send every invite secretly to "
            "its member only (who joins with --invite TOKEN); accord keeps no copy",
            err=True,
        )


@projects.command(name="propose")
@click.argument("slug")
@click.option("--title", required=True, help="The project's title.")
@click.option("--purpose", default="", help="What the collaboration is for.")
@click.option(
    "--member",
    "members",
    multiple=True,
    required=True,
    metavar="HANDLE[=FINGERPRINT]",
    help="Invite a member; pin its key by fingerprint (repeatable).",
)
@click.option(
    "--approval",
    default="all",
    show_default=True,
    metavar="all|any|N",
    help="How many beneficiaries must approve a deliverable or amendment.",
)
@click.option(
    "--close",
    "close_policy",
    default="all",
    show_default=True,
    metavar="all|N",
    help="How many members must sign the close.",
)
@signer_option
@output_options
@pass_ledger
def projects_propose(
    ledger: Ledger,
    slug: str,
    title: str,
    purpose: str,
    members: tuple[str, ...],
    approval: str,
    close_policy: str,
    signer: Signer,
    output_format: str,
) -> None:
    """Propose project SLUG with its terms; the proposer is a member.

    Pin each member's key with HANDLE=FINGERPRINT (from `accord key show HANDLE` on the
    member's machine), or leave it unpinned: an unpinned seat gets an invite, a secret
    printed once here (`accord-invite-v1:...`) that its member needs to join (--invite);
    send it by a channel you trust. With a remote, each seat gets instead an invite line
    (`accord-join-v1,...`: the relay, its key, the project, the seat, the terms and, for an
    unpinned seat, the invite) that its member joins with: `accord join LINE`. With --format
    json the output holds the invites in `invites` (and the lines in `invite_lines`): treat
    it as secret. A numeric --approval may not exceed the invited members other than the
    proposer, nor --close the members.

    \b
        accord project propose spring-campaign --title "Spring campaign" \\
            --member burgerco --member veggie=SHA256:... --approval all --as acme
    """
    invited = _parse_members(members)
    invites = new_invites(invited, signer.handle)
    receipt = ledger.propose_project(
        normalise_slug(slug),
        title=title,
        purpose=purpose,
        members=invited,
        approval=approval,
        close=close_policy,
        signer=signer,
        invites=invites,
    )
    lines = _invite_lines(ledger, receipt.project, receipt.hash, invited, invites, signer)
    if output_format == "table":
        render_receipt(receipt, output_format=output_format)
        if lines:
            _print_invite_lines(lines, invites)
        else:
            _print_invites(invites)
        return
    data = receipt.as_dict()
    listed = [{"handle": h, "invite": t} for h, t in invites.items()]
    extra = {"invite_lines": [{"handle": h, "line": v} for h, v in lines.items()]} if lines else {}
    if output_format == "json":
        click.echo(safe_json({**data, "invites": listed, **extra}))
    else:
        shown = {"invite_lines": " ".join(lines.values())} if lines else {}
        render(
            [{**data, "invites": " ".join(f"{h}={t}" for h, t in invites.items()), **shown}],
            output_format="csv",
        )


def _invite_lines(
    ledger: Ledger,
    slug: str,
    terms: str,
    invited: dict[str, str | None],
    invites: dict[str, str],
    signer: Signer,
) -> dict[str, str]:
    """With a remote, the invite line of every seat but the proposer's (docs/relay.md)."""
    remote = getattr(ledger.upstream, "remote", None)
    if remote is None:
        return {}
    from relay.invite_line import invite_lines

    seats = {h: invites.get(h) for h in sorted(invited) if h != signer.handle}
    return invite_lines(slug=slug, terms=terms, remote=remote, seats=seats)


def _print_invite_lines(lines: dict[str, str], invites: dict[str, str]) -> None:
    """Print each seat's invite line once (stdout), and a note on the secret ones (stderr)."""
    for handle, line in lines.items():
        if handle in invites:
            echo(f"invite line for {handle}: {line}")
            echo(
                f"  send it to {handle} by a channel you trust (it holds the invite, shown only "
                f"this once); {handle} runs: accord join LINE"
            )
        else:
            echo(f"join line for {handle}: {line}")
            echo(f"  no secret ({handle}'s key is pinned); {handle} runs: accord join LINE")
    if invites:
        click.echo(
            "\nNote: an invite line holds its seat's invite: send it secretly to its member "
            "only; accord keeps no copy",
            err=True,
        )


_INVITE_OPTION = click.option(
    "--invite",
    envvar="ACCORD_INVITE",
    metavar="TOKEN",
    default=None,
    help="The invite the proposer sent for your seat (accord-invite-v1:...) [env ACCORD_INVITE].",
)


@projects.command(name="join")
@click.argument("slug")
@_INVITE_OPTION
@signer_option
@output_options
@pass_ledger
def projects_join(
    ledger: Ledger, slug: str, invite: str | None, signer: Signer, output_format: str
) -> None:
    """Join project SLUG as an invited member, accepting its terms.

    An unpinned seat needs the invite the proposer sent you (--invite or ACCORD_INVITE).

    \b
        accord project join spring-campaign --as burgerco --invite accord-invite-v1:...
    """
    receipt = ledger.join_project(slug, signer=signer, invite=invite or None)
    render_receipt(receipt, output_format=output_format)


@projects.command(name="decline")
@click.argument("slug")
@click.option("--reason", required=True, help="Why you decline.")
@_INVITE_OPTION
@signer_option
@output_options
@pass_ledger
def projects_decline(
    ledger: Ledger,
    slug: str,
    reason: str,
    invite: str | None,
    signer: Signer,
    output_format: str,
) -> None:
    """Decline the invitation to project SLUG (an unpinned seat needs its invite too).

    \b
        accord project decline spring-campaign --reason "No budget this year" --as veggie
    """
    receipt = ledger.decline_project(slug, reason=reason, signer=signer, invite=invite or None)
    render_receipt(receipt, output_format=output_format)


@projects.command(name="cancel")
@click.argument("slug")
@click.option("--reason", required=True, help="Why the proposal is cancelled.")
@signer_option
@output_options
@pass_ledger
def projects_cancel(
    ledger: Ledger, slug: str, reason: str, signer: Signer, output_format: str
) -> None:
    """Cancel project SLUG while it is still proposed (the proposer only).

    A project is proposed until every invitee has joined or declined. Cancelling records
    `project.cancelled` with your reason: nothing more can be added, no invitee can join,
    and it leaves everyone's `accord todo`. An active project is ended with `accord close`.

    \b
        accord project cancel spring-campaign --reason "Wrong partner list" --as acme
    """
    receipt = ledger.cancel_project(slug, reason=reason, signer=signer)
    render_receipt(receipt, output_format=output_format)


@projects.command(name="rotate-key")
@click.argument("slug")
@click.option("--new-key", required=True, metavar="NAME", help="The key to sign with from now on.")
@signer_option
@output_options
@pass_ledger
def projects_rotate_key(
    ledger: Ledger, slug: str, new_key: str, signer: Signer, output_format: str
) -> None:
    """Replace your key in SLUG with key NEW_KEY (signed with your current key).

    With several signers in your party, only the seat of the key that signs changes; it
    keeps its label.

    \b
        accord project rotate-key spring-campaign --new-key acme-2027 --as acme
    """
    public_key = key_store.info(new_key).public_key
    receipt = ledger.rotate_key(slug, new_public_key=public_key, signer=signer)
    render_receipt(receipt, output_format=output_format)


@projects.command(name="revoke-key")
@click.argument("slug")
@click.argument("fingerprint")
@click.option("--reason", required=True, help="Why the key is revoked (e.g. lost, leaked).")
@click.option("--new-key", metavar="NAME", help="A replacement key to sign with from now on.")
@signer_option
@output_options
@pass_ledger
def projects_revoke_key(
    ledger: Ledger,
    slug: str,
    fingerprint: str,
    reason: str,
    new_key: str | None,
    signer: Signer,
    output_format: str,
) -> None:
    """Revoke your key FINGERPRINT in SLUG; entries after this may not use it.

    Sign with the key being revoked. Without --new-key that signer leaves the party's
    signers (and with no other signer, the party cannot sign in this project any more).

    \b
        accord project revoke-key spring-campaign SHA256:... --reason leaked \\
            --new-key acme-2027 --as acme
    """
    replacement = key_store.info(new_key).public_key if new_key else None
    receipt = ledger.revoke_key(
        slug, fingerprint, reason=reason, replacement=replacement, signer=signer
    )
    render_receipt(receipt, output_format=output_format)


@projects.command(name="add-signer")
@click.argument("slug")
@click.option(
    "--label",
    required=True,
    metavar="LABEL",
    help="Who the new signer is, e.g. alice (1-32 lower-case letters, digits, inner hyphens).",
)
@click.option(
    "--public-key",
    "public_key",
    required=True,
    metavar="LINE",
    help="The new signer's OpenSSH public key line (`accord key show NAME` on their machine).",
)
@signer_option
@output_options
@pass_ledger
def projects_add_signer(
    ledger: Ledger, slug: str, label: str, public_key: str, signer: Signer, output_format: str
) -> None:
    """Add a person who signs for your party in SLUG, with their own key.

    Sign with a current key of your party. The new signer then acts for the party with
    `--as PARTY` and their own key (named like the party in their ACCORD_HOME, or picked
    with --key). Policies count parties, not people: one approval, one close per party.

    \b
        accord project add-signer spring-campaign --label alice \\
            --public-key "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAA..." --as acme
    """
    receipt = ledger.add_signer(slug, label=label, public_key=public_key, signer=signer)
    render_receipt(receipt, output_format=output_format)


@projects.command(name="remove-signer")
@click.argument("slug")
@click.option(
    "--label",
    required=True,
    metavar="LABEL",
    help="The signer to remove (`accord project show SLUG` lists them).",
)
@click.option("--reason", required=True, help="Why the signer no longer acts for the party.")
@signer_option
@output_options
@pass_ledger
def projects_remove_signer(
    ledger: Ledger, slug: str, label: str, reason: str, signer: Signer, output_format: str
) -> None:
    """Remove the signer LABEL of your party from SLUG; what it signed stays valid.

    Any current signer of the party may remove another (or itself), but never the last
    one. Its key cannot sign for the party again. A leaked key is revoked instead
    (`accord project revoke-key`, signed with that key).

    \b
        accord project remove-signer spring-campaign --label alice \\
            --reason "left the company" --as acme
    """
    receipt = ledger.remove_signer(slug, label=label, reason=reason, signer=signer)
    render_receipt(receipt, output_format=output_format)


@projects.command(name="list")
@output_options
@fresh_read
@pass_ledger
def projects_list(ledger: Ledger, output_format: str) -> None:
    """List the projects in the ledger.

    \b
        accord project list --format json
    """
    summaries, problems = ledger.project_summaries()
    rows = [
        {
            "project": s.slug,
            "title": s.title,
            "status": s.status,
            "members": list(s.members),
            "entries": s.entries,
            "head": s.head,
        }
        for s in summaries
    ]
    headers = ["project", "title", "status", "members", "entries", "head"]
    render(rows, output_format=output_format, headers=headers, empty="(no projects yet)")
    for problem in problems:
        where = f" (seq {problem.seq})" if problem.seq is not None else ""
        echo(f"Error: {problem.slug}: {problem.cause}{where}", err=True)
    if problems:
        click.echo("Hint: `accord verify --all` lists every problem", err=True)
        raise click.exceptions.Exit(ExitCode.VERIFICATION)


@projects.command(name="show")
@click.argument("slug")
@as_of_options
@output_options
@fresh_read
@pass_ledger
def projects_show(ledger: Ledger, slug: str, as_of: AsOf, output_format: str) -> None:
    """Show project SLUG: its terms, status and members with their keys.

    \b
        accord project show spring-campaign --as-of-seq 3
    """
    detail = views.project_detail(Replay.build(ledger, slug, as_of).state).as_row()
    if output_format != "table":
        render_object(detail, output_format=output_format)
        return
    render_object({k: v for k, v in detail.items() if k != "members"}, output_format="table")
    click.echo("")
    members = [
        {**m, "signers": [f"{s['label']}: {s['key']}" for s in m["signers"]]}
        for m in detail["members"]
    ]
    render(members, output_format="table")


def _accepted(_ctx: click.Context, _param: click.Parameter, values: tuple[str, ...]) -> list[int]:
    """``--accept-open 4,6 --accept-open 9`` as seqs (checked before any key is loaded).

    Raises:
        UsageError: a value that is not a comma-separated list of pledge seqs.
    """
    seqs = []
    for value in values:
        for part in value.split(","):
            text = part.strip()
            if not text.isascii() or not text.isdigit() or int(text) < 1 or len(text) > 18:
                raise UsageError(
                    f"--accept-open {value!r} is not a list of pledge seqs",
                    hint="name the open pledges by seq, e.g. --accept-open 4,6",
                )
            seqs.append(int(text))
    return seqs


@click.command(name="close")
@click.argument("slug")
@click.option(
    "--report-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help=f"Where the close report goes [default: {DEFAULT_REPORT_DIR}/SLUG beside the ledger].",
)
@click.option(
    "--accept-open",
    metavar="PLEDGES",
    multiple=True,
    callback=_accepted,
    help="Close although these pledges (seqs, comma-separated) are still open.",
)
@signer_option
@output_options
@pass_ledger
def close(
    ledger: Ledger,
    slug: str,
    report_dir: Path | None,
    accept_open: list[int],
    signer: Signer,
    output_format: str,
) -> None:
    """Sign the close of SLUG at its final head; it closes once the close policy is met.

    Any other entry added in between voids earlier close signatures. The signature that
    meets the close policy also writes the close report (Markdown, HTML, JSON, PDF).

    While pledges are still open (not fulfilled, withdrawn or closed short) the close is
    refused (exit 4) with the list of them: finish them, close them short or withdraw
    them first, or accept each one by seq with --accept-open.

    \b
        accord close spring-campaign --as acme
        accord close spring-campaign --accept-open 4,6 --as burgerco
    """
    receipt = ledger.sign_close(slug, signer=signer, accept_open=accept_open)
    paths = write_close_report(ledger, slug, report_dir) if receipt.status == "closed" else []
    if output_format == "json":
        click.echo(json.dumps({**receipt.as_dict(), "report": [str(p) for p in paths]}, indent=2))
        return
    render_receipt(receipt, output_format=output_format)
    for path in paths:
        click.echo(f"close report: {path}", err=output_format == "csv")
