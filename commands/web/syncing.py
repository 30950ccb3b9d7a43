"""The sync page's work: what `accord status` and `accord sync` do, for one project.

The steps are the CLI's (``relay.session.RemoteSession``: pull and verify the relay's
checkpoint, cosign it as a joined member, check who confirmed what); a fork is a
verification error, shown as a page with both signed notes kept in the home.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ledger import rules
from ledger.errors import UsageError
from ledger.normalise import normalise_slug

if TYPE_CHECKING:
    from commands.web.access import Opened
    from ledger.keys import Signer
    from relay.remotes import Remote, RemoteStore


def _remote(opened: Opened) -> tuple[RemoteStore, Remote]:
    store = opened.remotes()
    found = store.choose(opened.app.remote)
    if found is None:
        raise UsageError("this ledger has no remote", hint="`accord remote add NAME URL` first")
    return store, found


def sync_status(opened: Opened, slug: str, signer: Signer | None) -> dict[str, Any]:
    """The local head, the relay's, what every joined member confirmed, and who lags.

    Raises:
        UsageError: no remote, or no key unlocked to read the relay with.
        ForkError: the relay's checkpoint contradicts one kept (a VerificationError).
        StorageUnavailableError: the relay cannot be reached.
    """
    from relay.client import RelayClient
    from relay.session import RemoteSession

    slug = normalise_slug(slug)
    store, remote = _remote(opened)
    if signer is None:
        raise UsageError(
            "no key was unlocked to read the relay with",
            hint="start accord web with --as HANDLE and the key's passphrase",
        )
    ledger = opened.ledger
    with RelayClient(remote.url, signer) as client:
        session = RemoteSession(ledger, client, remote, store)
        if ledger.rows.last(slug) is not None:
            session.pull(slug)
        found = session.status(slug)
    store.set_confirmed(remote.name, slug, found.confirmed)
    data: dict[str, Any] = found.as_dict()
    data["remote"] = remote.name
    data["url"] = remote.url
    data["synced"] = store.synced(remote.name, slug)
    return data


def sync_project(opened: Opened, slug: str, signer: Signer) -> dict[str, Any]:
    """Pull ``slug``, verify the relay's checkpoint and cosign it as a joined member.

    Raises:
        UsageError: no remote.
        ForkError: the relay showed another history (a VerificationError).
        StorageUnavailableError: the relay cannot be reached.
    """
    from relay.client import RelayClient
    from relay.session import RemoteSession

    slug = normalise_slug(slug)
    store, remote = _remote(opened)
    ledger = opened.ledger
    with RelayClient(remote.url, signer) as client:
        session = RemoteSession(ledger, client, remote, store)
        pulled = session.pull(slug)
        if pulled.closed:
            opened.app.pulled_closed.append(slug)  # its close report is written, as the CLI does
        member = ledger.verified_state(slug).members.get(signer.handle)
        signs = (
            member is not None
            and member.status == rules.JOINED
            and signer.fingerprint in member.current_keys()
        )
        if signs:
            cosigned = session.own_cosignature(pulled, signer=signer)
            if cosigned < pulled.checkpoint.size:
                session.cosign(pulled, signer=signer)
            store.set_confirmed(remote.name, slug, session.status(slug).confirmed)
    return {"project": slug, "appended": pulled.appended, "cosigned": signs}
