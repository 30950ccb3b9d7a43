"""``accord state show|forget``: what this home has verified, and starting again."""

from __future__ import annotations

import click

from commands.audit import BUNDLE_SOURCE
from commands.options import AppContext, ledger_option
from commands.output import output_options, render
from ledger import storage
from ledger.errors import UsageError
from ledger.normalise import normalise_slug
from ledger.state_file import VerifiedStore, source_path

_BUNDLES_HELP = "The heads remembered from verified bundles instead of this ledger's projects."


def _store(app: AppContext, bundles: bool) -> VerifiedStore:
    if bundles:
        return VerifiedStore(BUNDLE_SOURCE)
    return VerifiedStore(storage.source_of(app.url or storage.default_url()))


@click.group(name="state")
def state() -> None:
    """See or forget what this home has verified (the verified state under ACCORD_HOME).

    \b
        accord state show
        accord state forget spring-campaign
    """


@state.command(name="show")
@click.option("--bundles", is_flag=True, help=_BUNDLES_HELP)
@ledger_option
@output_options
@click.pass_obj
def state_show(app: AppContext, bundles: bool, output_format: str) -> None:
    """Show each project's verified head: the seq and hash every command checks first.

    \b
        accord state show --format json
    """
    store = _store(app, bundles)
    rows = [
        {"project": h.project, "seq": h.seq, "head": h.head, "verified_at": h.verified_at}
        for h in store.heads()
    ]
    store.close()
    if output_format == "table":
        click.echo(f"verified state of {store.source} ({source_path(store.source)})")
    render(
        rows,
        output_format=output_format,
        headers=["project", "seq", "head", "verified_at"],
        empty="(nothing verified yet)",
    )


@state.command(name="forget")
@click.argument("slug", required=False)
@click.option("--all", "all_projects", is_flag=True, help="Forget every project of the ledger.")
@click.option("--bundles", is_flag=True, help=_BUNDLES_HELP)
@ledger_option
@click.pass_obj
def state_forget(app: AppContext, slug: str | None, all_projects: bool, bundles: bool) -> None:
    """Forget what this home verified of SLUG (or --all), so the next command starts again.

    The next command then verifies the project from its first entry, and whatever history
    the store holds then becomes what this home has verified. Use it after verifying a
    forged bundle or copy by mistake, never to silence a failure you have not understood.

    \b
        accord state forget spring-campaign
        accord state forget --all --bundles
    """
    if (slug is None) == (not all_projects):
        raise UsageError("give SLUG or --all", hint="accord state forget spring-campaign")
    store = _store(app, bundles)
    count = store.forget(normalise_slug(slug) if slug is not None else None)
    store.close()
    what = "every project" if slug is None else repr(slug)
    click.echo(
        f"forgot {what} ({count} verified head{'s' if count != 1 else ''}) of {store.source}"
    )
