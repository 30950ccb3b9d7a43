"""``accord key``: create, import, list and show signing keys."""

from __future__ import annotations

from pathlib import Path

import click

from commands.completion import complete_key
from commands.options import read_passphrase
from commands.output import output_options, render, render_object
from ledger import keys as key_store


@click.group(name="key")
def keys() -> None:
    """Create, import, list and show signing keys (Ed25519, encrypted at rest).

    \b
        accord key new acme
    """


def _info_row(info: key_store.KeyInfo) -> dict[str, str]:
    return {
        "name": info.name,
        "fingerprint": info.fingerprint,
        "public_key": info.public_key,
        "path": info.path,
    }


@keys.command(name="new")
@click.argument("name")
@output_options
def keys_new(name: str, output_format: str) -> None:
    """Create a new Ed25519 key NAME, encrypted with a passphrase (mode 0600).

    The passphrase is prompted twice, or read from ACCORD_PASSPHRASE. Keys live under
    ACCORD_HOME (default: your user config directory).

    \b
        accord key new acme
    """
    key_store.check_name_free(name)
    passphrase = key_store.check_passphrase(
        read_passphrase(f"Passphrase for the new key {name!r}", confirm=True)
    )
    info = key_store.new_key(name, passphrase)
    render_object(_info_row(info), output_format=output_format)


@keys.command(name="import")
@click.argument("name")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@output_options
def keys_import(name: str, path: Path, output_format: str) -> None:
    """Import an Ed25519 private key from PATH (OpenSSH or PKCS#8 PEM) as NAME.

    An encrypted source asks for its own passphrase (or ACCORD_IMPORT_PASSPHRASE); the
    imported copy is then encrypted with a new passphrase (or ACCORD_PASSPHRASE).

    \b
        accord key import acme ~/.ssh/id_ed25519
    """
    key_store.check_name_free(name)
    source_passphrase = None
    if key_store.needs_passphrase(path):
        source_passphrase = read_passphrase(f"Passphrase of {path}", env="ACCORD_IMPORT_PASSPHRASE")
    key_store.read_private_key(path, source_passphrase)  # fail before asking for more
    passphrase = key_store.check_passphrase(
        read_passphrase(f"New passphrase for key {name!r}", confirm=True)
    )
    info = key_store.import_key(
        name, path, source_passphrase=source_passphrase, passphrase=passphrase
    )
    render_object(_info_row(info), output_format=output_format)


@keys.command(name="list")
@output_options
def keys_list(output_format: str) -> None:
    """List your keys with their fingerprints.

    A key whose public key file is missing or damaged is listed as DAMAGED (with a
    warning on stderr) and the others as usual.

    \b
        accord key list --format json
    """
    listed = key_store.list_keys()
    rows = [_info_row(info) if info.problem is None else _damaged_row(info) for info in listed]
    if output_format == "table":
        for row in rows:
            if row.get("problem"):
                row["fingerprint"] = "DAMAGED (see the warning)"
    render(
        rows,
        output_format=output_format,
        headers=["name", "fingerprint", "public_key", "path"],
        empty=f"(no keys in {key_store.keys_dir()}; create one with `accord key new NAME`)",
    )
    for info in listed:
        if info.problem is not None:
            click.echo(f"Warning: key {info.name!r} cannot be used: {info.problem}", err=True)


def _damaged_row(info: key_store.KeyInfo) -> dict[str, str | None]:
    return {
        "name": info.name,
        "fingerprint": None,
        "public_key": None,
        "path": info.path,
        "problem": info.problem,
    }


@keys.command(name="show")
@click.argument("name", shell_complete=complete_key)
@output_options
def keys_show(name: str, output_format: str) -> None:
    """Show key NAME: the OpenSSH public key line and its fingerprint.

    The fingerprint is exactly what `ssh-keygen -lf` prints for the public key, so a
    partner can check it with tools they already have.

    \b
        accord key show acme
    """
    info = key_store.info(name)
    if output_format == "table":
        click.echo(f"{info.public_key} {info.name}")
        click.echo(f"256 {info.fingerprint} {info.name} (ED25519)")
        return
    render_object(_info_row(info), output_format=output_format)
