"""The evidence page of ``accord web``: a deliverable's files, fetched, checked, offered.

The files are issue 16's (``commands/evidence.py``, ``commands/evidence_files.py``): each is
listed with where it is (a checked local copy, sealed on the relay, or missing); a download
serves the checked local copy, fetching it first through the relay when there is none
(decrypted with the party's key and checked against the signed size and SHA-256, as ``accord
evidence get``). Nothing unchecked is ever served, and a file is always a download (never
shown inline, under a sandboxing Content-Security-Policy).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.responses import FileResponse, Response
from starlette.routing import Route

from commands.evidence import evidence_client, fetch_all, has_remote
from commands.evidence_files import evidence_dir, local_copy
from commands.web.app import ledger_error_page
from commands.web.pages import project_context, render, today
from ledger.errors import LedgerError, NotFoundError
from ledger.normalise import normalise_slug
from ledger.sealing import evidence_of
from projections.entry_view import entry_view

if TYPE_CHECKING:
    from pathlib import Path

    from starlette.requests import Request

    from commands.web.access import Opened, Replica
    from ledger.keys import Signer

DOWNLOAD_CSP = "default-src 'none'; sandbox"


def _stored(opened: Opened, slug: str, seq: int, signer: Signer | None) -> dict[int, int]:
    """The relay's listing of the deliverable's sealed files for this key (index -> size).

    Raises:
        LedgerError: the relay cannot be reached or refuses (not a missing listing).
    """
    if signer is None or not has_remote(opened.ledger):
        return {}
    try:
        with evidence_client(opened.ledger, signer) as client:
            return client.listing(slug, seq)
    except NotFoundError:
        return {}


async def evidence_page(request: Request) -> Response:
    """The files of deliverable SEQ: name, size, SHA-256, where each is, a download link."""
    signer: Signer | None = request.app.state.config.signer

    def work(opened: Opened) -> dict[str, Any]:
        slug = normalise_slug(str(request.path_params["slug"]))
        replay, context = project_context(opened, slug)
        seq = int(request.path_params["seq"])
        files = evidence_of(replay.state, seq)
        problem = None
        try:
            stored = _stored(opened, slug, seq, signer) if files else {}
        except LedgerError as error:
            stored, problem = {}, error.message
        rows = []
        for signed in files:
            copy = local_copy(opened.ledger, slug, seq, signed)
            where = "local" if copy else "relay" if signed.index in stored else "missing"
            rows.append({"file": signed, "where": where})
        return {
            **context,
            "tab": "trail",
            "seq": seq,
            "files": rows,
            "view": entry_view(replay, seq, today()),
            "relay_problem": problem,
        }

    return await render(request, "evidence.html.j2", work)


async def evidence_file(request: Request) -> Response:
    """Evidence file INDEX of deliverable SEQ as a download: the checked local copy.

    Fetched through the relay first when there is none (decrypted, checked; all the
    deliverable's files, as ``accord evidence get`` writes them beside the ledger).
    """
    replica: Replica = request.app.state.replica
    signer: Signer | None = request.app.state.config.signer
    slug = normalise_slug(str(request.path_params["slug"]))
    seq, index = int(request.path_params["seq"]), int(request.path_params["index"])

    def work(opened: Opened) -> tuple[Path, str]:
        ledger = opened.ledger
        files = {f.index: f for f in evidence_of(ledger.verified_state(slug), seq)}
        signed = files.get(index)
        if signed is None:
            raise NotFoundError(
                f"deliverable {seq} of {slug!r} has no evidence file {index}",
                hint=f"its files are listed on /p/{slug}/evidence/{seq}",
            )
        copy = local_copy(ledger, slug, seq, signed)
        if copy is None:
            if signer is None:
                raise NotFoundError(
                    f"no checked copy of {signed.name!r} here, and no key to fetch it with",
                    hint="start accord web with the party's key to fetch it from the relay",
                )
            fetch_all(ledger, slug, seq, evidence_dir(ledger, slug) / str(seq), signer=signer)
            copy = local_copy(ledger, slug, seq, signed)
            if copy is None:  # pragma: no cover - fetch_all checked and wrote it
                raise NotFoundError(f"{signed.name!r} could not be kept here")
        return copy, signed.disk_name

    try:
        path, name = await run_in_threadpool(replica.run, work, fresh=False)
    except LedgerError as error:
        return ledger_error_page(request, error)
    response = FileResponse(path, media_type="application/octet-stream")
    response.headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(name)}"
    response.headers["Content-Security-Policy"] = DOWNLOAD_CSP
    return response


def routes() -> list[Route]:
    """The evidence routes."""
    return [
        Route("/p/{slug}/evidence/{seq:int}", evidence_page, methods=["GET"]),
        Route("/p/{slug}/evidence/{seq:int}/{index:int}", evidence_file, methods=["GET"]),
    ]
