"""``accord web``: the collaboration in a browser, served from this machine (docs/web.md)."""

from __future__ import annotations

import ipaddress
import secrets
import socket
from typing import TYPE_CHECKING

import click

from commands.options import AppContext, default_party, read_passphrase
from commands.output import echo
from ledger import keys as key_store
from ledger import storage
from ledger.errors import KeyFileError, LedgerNotFoundError, NotFoundError, UsageError
from ledger.normalise import normalise_handle

if TYPE_CHECKING:
    from commands.web.access import WebConfig
    from ledger.keys import Signer

DEFAULT_PORT = 8480
LOOPBACK = ("127.0.0.1", "localhost", "::1")


@click.command(name="web")
@click.option(
    "--as",
    "as_",
    metavar="HANDLE",
    envvar="ACCORD_PARTY",
    help="The party the pages are for [env ACCORD_PARTY; default: the home's one key].",
)
@click.option("--key", "key_name", metavar="NAME", help="The key to unlock [default: the party's].")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=DEFAULT_PORT,
    show_default=True,
    help="Port to listen on (0: any free port).",
)
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on; other than loopback only with --allow-remote.",
)
@click.option(
    "--allow-remote",
    is_flag=True,
    help="Allow listening on an address other machines can reach (prints a warning).",
)
@click.option(
    "--sign",
    is_flag=True,
    help="Let the pages sign decisions with your key (each through a confirmation page).",
)
def web_command(
    as_: str | None, key_name: str | None, port: int, host: str, allow_remote: bool, sign: bool
) -> None:
    """Serve the projects of this ledger as a local web app (read-only unless --sign).

    Prints an address with a one-time token: open it in your browser. The pages show what
    waits for you, obligations, contributions, statements, disputes, values, the trail,
    each entry, the sync state and the report; they pull from the relay as reads do and
    refresh when something new arrives. With --sign every decision the CLI signs can be
    taken from its page, after a confirmation page shows exactly what will be signed; the
    key is unlocked here at start (ACCORD_PASSPHRASE or a prompt) and never reaches the
    browser. With --sign on a home that holds no ledger yet, an empty one is created and
    the dashboard offers to join a project with the invite line you were sent (as `accord
    join LINE`). Stop it with Ctrl-C.

    \b
        accord web --as burgerco
        accord web --as burgerco --sign --port 8481
    """
    import uvicorn

    from commands.web.server import create_app

    app = click.get_current_context().ensure_object(AppContext)
    handle = normalise_handle(as_ or key_name or default_party(), "party")
    key_name = key_name or handle
    hosts = _hosts(host, allow_remote)
    signer = _unlock(handle, key_name, sign=sign)
    config = _config(app, handle, signer, sign=sign)
    listener = _listen(host, port)
    bound = listener.getsockname()[1]
    config.hosts = (
        None
        if hosts is None
        else frozenset(f"{name}:{bound}" for name in hosts)
        | frozenset(f"[{name}]:{bound}" for name in hosts if ":" in name)
    )
    shown = f"[{host}]" if ":" in host else host
    if hosts is None:
        echo(
            f"Warning: listening on {host}, reachable from other machines: anyone holding "
            "the address below can read these projects" + (" and sign as you" if sign else ""),
            err=True,
        )
    mode = "signing: decisions are signed only after a confirmation page" if sign else "read-only"
    echo(f"accord web for {handle} ({mode}); Ctrl-C stops it. Open:")
    click.echo(f"  http://{shown}:{bound}/?token={config.token}", nl=True)
    server = uvicorn.Server(
        uvicorn.Config(create_app(config), log_level="warning", access_log=False, lifespan="off")
    )
    server.run(sockets=[listener])


def _hosts(host: str, allow_remote: bool) -> tuple[str, ...] | None:
    """The host names the Host header may carry (None: any, with --allow-remote).

    Raises:
        UsageError: a non-loopback address without --allow-remote.
    """
    loopback = host in LOOPBACK
    if not loopback:
        try:
            loopback = ipaddress.ip_address(host).is_loopback
        except ValueError:
            loopback = False
    if loopback:
        return ("127.0.0.1", "localhost", "::1", host)
    if not allow_remote:
        raise UsageError(
            f"--host {host} lets other machines reach your projects",
            hint="add --allow-remote if that is what you want (the token still guards it)",
        )
    return None


def _unlock(handle: str, key_name: str, *, sign: bool) -> Signer | None:
    """The party's key, decrypted once (it signs the relay's reads, and with --sign, entries).

    Read-only, a home without that key serves this replica as it is (nothing is pulled).

    Raises:
        NotFoundError: --sign and no such key.
        KeyFileError: a wrong passphrase or a damaged key file.
    """
    try:
        key_store.info(key_name)
    except (NotFoundError, KeyFileError):
        if sign:
            raise
        echo(
            f"Note: no key {key_name!r} in this home: showing this replica without pulling "
            "from the relay",
            err=True,
        )
        return None
    passphrase = read_passphrase(f"Passphrase for key {key_name!r}")
    return key_store.load_signer(handle, key_name, passphrase)


def _config(app: AppContext, handle: str, signer: Signer | None, *, sign: bool) -> WebConfig:
    from commands.web.access import Replica, WebConfig

    config = WebConfig(
        url=app.url,
        party=handle,
        signer=signer,
        sign=sign,
        remote=app.remote,
        offline=app.offline,
        token=secrets.token_urlsafe(32),
        cookie=secrets.token_urlsafe(32),
        csrf=secrets.token_urlsafe(32),
    )
    try:
        Replica(config).run(lambda opened: opened.ledger.list_slugs(), fresh=False)  # or fails
    except LedgerNotFoundError:
        if not sign:
            raise
        # A newcomer joins from the page: the ledger is created as `accord join` creates it.
        storage.open_ledger(app.url, create=True).close()
        where = storage.redact(app.url or storage.default_url())
        echo(
            f"Created an empty ledger at {where}: join a project from the page with the "
            "invite line you were sent",
            err=True,
        )
    return config


def _listen(host: str, port: int) -> socket.socket:
    """A listening socket on ``host``:``port`` (port 0: a free one, printed).

    Raises:
        UsageError: the address is taken or cannot be used.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind((host, port))
    except OSError as error:
        listener.close()
        raise UsageError(
            f"cannot listen on {host}:{port}: {error.strerror}",
            hint="pick another --port (0: any free port)",
        ) from None
    listener.listen(64)
    return listener
