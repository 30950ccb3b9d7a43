"""``accord remote``, ``accord sync``, ``accord status``: this ledger's relays (docs/relay.md)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from commands.options import AppContext, pass_ledger, signer_option
from commands.output import echo, output_options, render, render_object
from commands.upstream import offline_error, print_fork_evidence, remote_store
from ledger import ed25519, rules
from ledger.errors import UsageError, VerificationError, WeakKeyError
from ledger.normalise import normalise_slug
from relay.remotes import RemoteStore, check_relay_url

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    from ledger.application import Ledger
    from ledger.keys import Signer
    from relay.remotes import Remote


def _refuse_offline(what: str) -> None:
    """Refuse a command that must reach the relay when ``--offline`` was given (exit 2)."""
    app = click.get_current_context().find_object(AppContext)
    if app is not None and app.offline:
        raise offline_error(what)


@click.group(name="remote")
def remote() -> None:
    """The relays this ledger syncs with, and their pinned keys.

    \b
        accord remote add hub https://relay.example.org
        accord remote list
    """


@remote.command(name="add")
@click.argument("name")
@click.argument("url")
@click.option(
    "--relay-key",
    metavar="LINE",
    help='The relay\'s public key ("ssh-ed25519 AAAA..."); default: fetched and pinned now.',
)
@pass_ledger
def remote_add(ledger: Ledger, name: str, url: str, relay_key: str | None) -> None:
    """Add the relay at URL as remote NAME, pinning its key (trust on first use).

    Without --relay-key the key is fetched from the relay and printed with its fingerprint:
    compare it with the one the relay's operator gives you (`accord relay key`).

    \b
        accord remote add hub http://127.0.0.1:8470
    """
    from relay.client import RelayClient

    if not name or not name.replace("-", "").replace("_", "").isalnum() or len(name) > 40:
        raise UsageError(f"remote name {name!r} is not valid", hint="use letters, digits, - and _")
    url = check_relay_url(url)
    fetched = relay_key is None
    if relay_key is None:
        _refuse_offline("without --relay-key the relay's key is fetched from it")
        with RelayClient(url) as client:
            relay_key = client.relay_key()
    public = _relay_public_key(url, relay_key, fetched=fetched)
    line = ed25519.public_key_line(public)
    remote_store(ledger).add(name, url, line)
    how = "fetched and pinned (trust on first use)" if fetched else "pinned"
    echo(f"Added remote {name} {url}: relay key {how}")
    echo(f"  {line}")
    echo(f"  {ed25519.fingerprint(public)}")


def _relay_public_key(url: str, line: str, *, fetched: bool) -> Ed25519PublicKey:
    """The relay key to pin: a usable OpenSSH Ed25519 line, never a weak key.

    Raises:
        UsageError: the --relay-key given is malformed or weak.
        VerificationError: the key the relay sent is malformed or weak (exit 5).
    """
    try:
        return ed25519.parse_public_key_line(line.strip())
    except (VerificationError, WeakKeyError) as exc:
        if fetched:
            raise VerificationError(
                f"the relay at {url} sent an unusable key: {exc.message}",
                hint="do not use this relay; ask its operator for the key "
                "(`accord relay key`) and give it with --relay-key",
            ) from None
        raise UsageError(
            f"--relay-key is not usable: {exc.message}",
            hint="give the line `accord relay key` prints on the relay (ssh-ed25519 AAAA...)",
        ) from None


@remote.command(name="list")
@output_options
@pass_ledger
def remote_list(ledger: Ledger, output_format: str) -> None:
    """List this ledger's remotes with their pinned relay keys.

    \b
        accord remote list --format json
    """
    rows = [
        {
            "name": r.name,
            "url": r.url,
            "fingerprint": ed25519.fingerprint(ed25519.parse_public_key_line(r.relay_key)),
            "relay_key": r.relay_key,
        }
        for r in remote_store(ledger).list()
    ]
    render(rows, output_format=output_format, headers=["name", "url", "fingerprint", "relay_key"])


@remote.command(name="remove")
@click.argument("name")
@pass_ledger
def remote_remove(ledger: Ledger, name: str) -> None:
    """Remove remote NAME (the checkpoints kept from it stay, as evidence).

    \b
        accord remote remove hub
    """
    remote_store(ledger).remove(name)
    echo(f"Removed remote {name}")


def _chosen(ledger: Ledger) -> tuple[RemoteStore, Remote]:
    store = remote_store(ledger)
    app = click.get_current_context().find_object(AppContext)
    found = store.choose(app.remote if app else None)
    if found is None:
        raise UsageError("this ledger has no remote", hint="`accord remote add NAME URL` first")
    return store, found


@click.command(name="sync")
@click.argument("slug", required=False)
@click.option("--all", "every", is_flag=True, help="Sync every project this ledger holds.")
@signer_option
@output_options
@pass_ledger
def sync_command(
    ledger: Ledger, slug: str | None, every: bool, signer: Signer, output_format: str
) -> None:
    """Pull SLUG from the remote, verify the relay's checkpoint, and cosign it.

    Only a joined member cosigns (an invitee syncs to read the proposal, then joins).
    Every new entry is verified (signatures, chain, rules) and appended; a project you were
    invited to is fetched by its slug. The relay's checkpoint must verify with the pinned
    key, cover exactly this replica's entries and extend every checkpoint kept before; a
    relay that shows another history fails with exit 5 and both signed notes. With --all,
    a `Note:` line on stderr names each invitation waiting for your key at the remote
    (see `accord invitations`).

    \b
        accord sync no-whopper-day --as burgerco
        accord sync --all --as burgerco
    """
    from relay.client import RelayClient
    from relay.session import RemoteSession
    from relay.sync import ForkError

    if (slug is None) == (not every):
        raise UsageError("name a project or give --all")
    _refuse_offline("a sync asks the relay")
    store, remote = _chosen(ledger)
    app = click.get_current_context().find_object(AppContext)
    slugs = ledger.list_slugs() if every else [normalise_slug(str(slug))]
    rows: list[dict[str, Any]] = []
    with RelayClient(remote.url, signer) as client:
        session = RemoteSession(ledger, client, remote, store)
        for name in slugs:
            try:
                pulled = session.pull(name)
            except ForkError as fork:
                print_fork_evidence(fork)
                raise
            if pulled.closed and app is not None:
                app.pulled_closed.append(name)  # its close report is written here too
            member = ledger.verified_state(name).members.get(signer.handle)
            signs = (  # a joined member, and this key one of its current signers
                member is not None
                and member.status == rules.JOINED
                and signer.fingerprint in member.current_keys()
            )
            if signs:
                try:
                    cosigned = session.own_cosignature(pulled, signer=signer)
                except ForkError as fork:
                    print_fork_evidence(fork)
                    raise
                if cosigned < pulled.checkpoint.size:  # else the party cosigned this tree already
                    session.cosign(pulled, signer=signer)
                store.set_confirmed(remote.name, name, session.status(name).confirmed)
            rows.append(
                {
                    "project": name,
                    "appended": pulled.appended,
                    "size": pulled.checkpoint.size,
                    "cosigned": signs,
                }
            )
    render(rows, output_format=output_format, headers=["project", "appended", "size", "cosigned"])
    if every:  # and the invitations waiting at the remote for this key (commands/invitations.py)
        from commands.invitations import note_invitations

        note_invitations(store, signer, remote.name)


@click.command(name="status")
@click.argument("slug")
@signer_option
@output_options
@pass_ledger
def status_command(ledger: Ledger, slug: str, signer: Signer, output_format: str) -> None:
    """Show SLUG's local head, the relay's head, and what every joined member confirmed.

    A read: it first pulls what is new, verified as `accord sync` does (it never
    cosigns). An entry is confirmed when every joined member has cosigned a checkpoint
    covering it (each cosignature verified with the member's current key).

    \b
        accord status no-whopper-day --as acme --format json
    """
    from relay.client import RelayClient
    from relay.session import RemoteSession
    from relay.sync import ForkError

    _refuse_offline("status asks the relay")
    store, remote = _chosen(ledger)
    app = click.get_current_context().find_object(AppContext)
    with RelayClient(remote.url, signer) as client:
        session = RemoteSession(ledger, client, remote, store)
        try:
            slug = normalise_slug(slug)
            # A project not in this replica is not found: `accord sync` fetches it.
            held = ledger.rows.last(slug) is not None
            pulled = session.pull(slug) if held else None
            if pulled is not None and pulled.closed and app is not None:
                app.pulled_closed.append(slug)
            found = session.status(slug)
        except ForkError as fork:
            print_fork_evidence(fork)
            raise
    store.set_confirmed(remote.name, slug, found.confirmed)
    data = found.as_dict()
    if output_format == "table":
        lagging = ", ".join(
            f"{m['party']} (at {m['cosigned_size']} since {m['since'] or 'never'})"
            for m in data["not_cosigned"]
        )
        data = {
            "project": slug,
            "local_head": found.local_head,
            "relay_head": found.relay_head,
            "confirmed": found.confirmed,
            "not_cosigned": lagging or "-",
        }
    render_object(data, output_format=output_format)
