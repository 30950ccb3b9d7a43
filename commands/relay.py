"""``accord relay``: run a relay server, show its key."""

from __future__ import annotations

import logging
import socket
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from commands.options import AppContext, ledger_option
from commands.output import echo, output_options, render_object
from ledger import storage
from ledger.errors import LedgerError

if TYPE_CHECKING:
    from types import FrameType

    from relay.keys import RelayKey
    from relay.store import RelayStore

HOME_HELP = "The relay's home: its key and verified state [default: ACCORD_HOME]."


@click.group(name="relay")
def relay() -> None:
    """Run a relay that orders and serves projects for partners (see docs/relay.md).

    \b
        accord relay serve --ledger postgresql://postgres@127.0.0.1/relay --port 8470
    """


def _url(ctx: click.Context) -> str:
    app = ctx.find_object(AppContext)
    return (app.url if app else None) or storage.default_url()


def _key(home: Path | None) -> RelayKey:
    from relay.keys import key_path, load_or_create

    created = not key_path(home).exists()
    key = load_or_create(home)
    if created:
        echo(f"Created the relay key {key.path} ({key.fingerprint})", err=True)
    return key


@relay.command(name="serve")
@ledger_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port",
    default=8470,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="Port to listen on (0: any free port, printed on stderr).",
)
@click.option("--home", type=click.Path(file_okay=False, path_type=Path), help=HOME_HELP)
@click.option("--threads", default=4, show_default=True, type=click.IntRange(1, 64))
@click.option(
    "--rate",
    default=20.0,
    show_default=True,
    type=click.FloatRange(0),
    help="Requests per second per client address (0: no limit).",
)
@click.option(
    "--burst", default=100, show_default=True, type=click.IntRange(1), help="Requests at once."
)
@click.option(  # issue 16 (evidence)
    "--max-evidence-size",
    default=100 << 20,
    show_default=True,
    type=click.IntRange(1),
    help="Bytes of one sealed evidence file.",
)
@click.option(
    "--evidence-quota",
    default=1 << 30,
    show_default=True,
    type=click.IntRange(1),
    help="Bytes of sealed evidence files per project.",
)
@click.pass_context
def relay_serve(
    ctx: click.Context,
    host: str,
    port: int,
    home: Path | None,
    threads: int,
    rate: float,
    burst: int,
    max_evidence_size: int,
    evidence_quota: int,
) -> None:
    """Serve the projects of a ledger over HTTP until stopped (Ctrl-C or SIGTERM).

    The relay's Ed25519 key is created on first start under HOME/relay/relay.key (PKCS#8 PEM,
    mode 0600, unencrypted so that it starts unattended; set ACCORD_RELAY_PASSPHRASE to
    encrypt it). Logs one line per request on stderr.

    \b
        accord relay serve --ledger relay.db --port 8470
    """
    import uvicorn

    from relay.cache import TrustCache
    from relay.commits import GroupCommit
    from relay.server import RelayConfig, create_app
    from relay.store import open_store

    url = _url(ctx)
    key = _key(home)
    cache = TrustCache()
    commits = GroupCommit()  # one per process: its worker threads' appends commit together
    with open_store(url, key=key, home=home, cache=cache, create=True) as store:  # tables
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
        logger = logging.getLogger("accord.relay")
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False
        _catch_up(store, logger)
    listener = _listen(host, port)
    app = create_app(
        lambda: open_store(url, key=key, home=home, cache=cache, commits=commits),
        key,
        RelayConfig(
            threads=threads,
            rate=rate,
            burst=burst,
            max_evidence_size=max_evidence_size,
            evidence_quota=evidence_quota,
        ),
    )
    bound_host, bound_port = listener.getsockname()[:2]
    echo(
        f"accord relay listening on http://{_netloc(bound_host, bound_port)} "
        f"(ledger {storage.redact(url)}, key {key.fingerprint})",
        err=True,
    )
    sys.stderr.flush()
    config = uvicorn.Config(
        app, log_level="warning", access_log=False, server_header=False, timeout_keep_alive=5
    )

    class Server(uvicorn.Server):
        def handle_exit(self, sig: int, frame: FrameType | None) -> None:
            super().handle_exit(sig, frame)
            self._captured_signals.clear()  # stopped gracefully: exit 0, not by the signal

    Server(config).run(sockets=[listener])
    echo("accord relay stopped", err=True)


def _catch_up(store: RelayStore, logger: logging.Logger) -> None:
    """Sign checkpoints for entries stored while the relay was not running (reads never do)."""
    try:
        signed = store.catch_up_all()
    except LedgerError as exc:
        logger.warning("cannot look for projects to sign checkpoints of: %s", exc.message)
        return
    if signed:
        logger.info(
            "signed checkpoints of %d projects whose entries were stored without it", signed
        )


def _listen(host: str, port: int) -> socket.socket:
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        listener = socket.socket(family, kind, proto)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(address)
        listener.listen(128)
    except OSError as exc:
        raise click.ClickException(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    return listener


def _netloc(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


@relay.command(name="key")
@ledger_option
@click.option("--home", type=click.Path(file_okay=False, path_type=Path), help=HOME_HELP)
@click.option("--project", "slug", metavar="SLUG", help="Also show the note verifier key for SLUG.")
@output_options
@click.pass_context
def relay_key(ctx: click.Context, home: Path | None, slug: str | None, output_format: str) -> None:
    """Show the relay's public key and fingerprint (creating the key if there is none).

    With --project, also the project's checkpoint origin and the relay's note verifier key for
    it (what partners pin to check the relay's checkpoints).

    \b
        accord relay key --project spring-campaign --ledger relay.db
    """
    from relay.store import open_store

    key = _key(home)
    data = {
        "public_key": key.public_key_line,
        "fingerprint": key.fingerprint,
        "path": str(key.path),
    }
    if slug is not None:
        store = open_store(_url(ctx), key=key, home=home)
        try:
            store.state(slug)
            origin = store.origin(slug)
        finally:
            store.close()
        data["origin"] = origin
        data["verifier_key"] = key.verifier_key(origin).encode()
    render_object(data, output_format=output_format)
