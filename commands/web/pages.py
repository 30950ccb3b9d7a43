"""The reading pages of ``accord web``: thin routes over the projections, one per view.

Each route opens the replica (pulling first, as the CLI's fresh reads do), calls the same
projections the CLI renders, and lays the rows out in a template. Nothing here decides.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date
from typing import TYPE_CHECKING, Any

from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from commands.reports import today_utc
from commands.web.app import REPORT_CSP, error_page, ledger_error_page, page
from ledger import rules
from ledger.errors import LedgerError, ProjectNotFoundError, UsageError
from ledger.normalise import normalise_slug
from ledger.rules.schema import ENTRY_TYPES
from projections.contributions import Contribution, contributions
from projections.entry_view import entry_view
from projections.obligations import FINISHED, obligation, obligations, pledge_seqs
from projections.replay import Replay
from projections.statements import statement_detail, statement_seqs
from projections.todo import DEFAULT_WITHIN_DAYS, todo
from projections.values import value_rows
from projections.views import member_rows

if TYPE_CHECKING:
    from collections.abc import Callable

    from starlette.requests import Request

    from commands.web.access import Opened, Replica

TRAIL_PAGE = 50  # trail rows per page
STATEMENTS_PAGE = 20  # statements per page (each with its whole text)
OBLIGATIONS_PAGE = 100  # obligations per page when every pledge is listed


def replica_of(request: Request) -> Replica:
    """The replica the app serves."""
    replica: Replica = request.app.state.replica
    return replica


async def render(
    request: Request, template: str, work: Callable[[Opened], dict[str, Any]]
) -> Response:
    """Run ``work`` on the opened replica in the threadpool and render its context."""
    replica = replica_of(request)

    def run(opened: Opened) -> dict[str, Any]:
        context = work(opened)
        context["offline"] = opened.note()
        return context

    try:
        context = await run_in_threadpool(replica.run, run)
    except LedgerError as error:
        return ledger_error_page(request, error)
    return page(request, template, context)


def _page_number(request: Request) -> int:
    """The ``page`` asked for (1 when absent or not a number)."""
    try:
        return max(1, int(request.query_params.get("page", "1")))
    except ValueError:
        return 1


def _slug(request: Request) -> str:
    return normalise_slug(str(request.path_params["slug"]))


def today() -> date:
    """Today in UTC: the day due dates are judged against, as the CLI judges them."""
    return today_utc()  # type: ignore[no-any-return]


def project_card(opened: Opened, slug: str, party: str) -> dict[str, Any]:
    """What the dashboard shows of one project: status, head, what waits for the party."""
    replay = Replay.build(opened.ledger, slug)
    state = replay.state
    confirmed = opened.confirmed(slug)
    return {
        "slug": slug,
        "title": state.title,
        "status": state.status,
        "seq": state.seq,
        "members": state.joined(),
        "todo": todo_rows(opened, replay, party),
        "confirmed": confirmed[0] if confirmed is not None else None,
        "member": party in state.members,
    }


def todo_rows(opened: Opened, replay: Replay, party: str) -> list[Any]:
    """What waits for ``party`` in the project (`accord todo`), kept while the head stays."""
    day = today()
    return opened.view(
        "todo", replay.state, lambda: todo(replay, party, day, DEFAULT_WITHIN_DAYS), party, day
    )


def open_obligation_rows(opened: Opened, replay: Replay) -> list[Any]:
    """The unfinished obligations (open pledges only), kept while the head stays."""
    day = today()
    return opened.view(
        "open obligations",
        replay.state,
        lambda: obligations(replay, day, unfinished=True),
        day,
    )


def obligation_page(opened: Opened, replay: Replay, page_no: int) -> tuple[list[Any], int]:
    """A page of every pledge as an obligation, newest first, and how many pledges there are.

    Only the pledges of the page are read (their seqs come from the verified state's keys).
    """
    day = today()
    state = replay.state
    seqs = pledge_seqs(state)
    seqs.reverse()
    shown = seqs[(page_no - 1) * OBLIGATIONS_PAGE : page_no * OBLIGATIONS_PAGE]
    rows = opened.view(
        "obligations page",
        state,
        lambda: [obligation(replay, state.pledges[seq], day) for seq in shown],
        day,
        page_no,
    )
    return rows, len(seqs)


async def dashboard(request: Request) -> Response:
    """The projects of the replica and what waits for this party in each."""
    party = request.app.state.config.party

    def work(opened: Opened) -> dict[str, Any]:
        cards = []
        for slug in opened.ledger.list_slugs():
            try:
                cards.append(project_card(opened, slug, party))
            except ProjectNotFoundError:
                continue
        waiting = [row for card in cards for row in card["todo"]]
        return {"cards": cards, "waiting": waiting, "heads": _heads(cards)}

    return await render(request, "dashboard.html.j2", work)


def _heads(cards: list[dict[str, Any]]) -> str:
    """A digest of every project's head: the pages reload when it changes."""
    text = json.dumps({c["slug"]: c["seq"] for c in cards}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def project_context(opened: Opened, slug: str) -> tuple[Replay, dict[str, Any]]:
    """The replay of ``slug`` and what every project page shows in its header."""
    replay = Replay.build(opened.ledger, slug)
    state = replay.state
    heads = _heads([{"slug": slug, "seq": state.seq}])
    return replay, {"slug": slug, "state": state, "heads": heads, "tab": ""}


async def project_page(request: Request) -> Response:
    """One project: its terms, members, what waits for this party, and its obligations."""
    party = request.app.state.config.party

    def work(opened: Opened) -> dict[str, Any]:
        replay, context = project_context(opened, _slug(request))
        confirmed = opened.confirmed(replay.slug)
        return {
            **context,
            "tab": "overview",
            "todo": todo_rows(opened, replay, party),
            "members": member_rows(replay.state),
            "obligations": open_obligation_rows(opened, replay),
            "confirmed": confirmed,
        }

    return await render(request, "project.html.j2", work)


async def obligations_page(request: Request) -> Response:
    """Who owes what to whom: the open obligations, or every pledge a page at a time."""
    show_all = request.query_params.get("show") == "all"

    def work(opened: Opened) -> dict[str, Any]:
        replay, context = project_context(opened, _slug(request))
        page_no, total = _page_number(request), 0
        if show_all:
            rows, total = obligation_page(opened, replay, page_no)
        else:
            rows = open_obligation_rows(opened, replay)
        return {
            **context,
            "tab": "obligations",
            "obligations": rows,
            "finished": FINISHED,
            "show_all": show_all,
            "page": page_no,
            "pages": max(1, -(-total // OBLIGATIONS_PAGE)),
            "total": total,
        }

    return await render(request, "obligations.html.j2", work)


async def contributions_page(request: Request) -> Response:
    """Shares per party and unit, with the close report's charts (its own SVG code)."""

    def work(opened: Opened) -> dict[str, Any]:
        replay, context = project_context(opened, _slug(request))
        day = today()

        def compute() -> tuple[list[Contribution], Any]:
            rows = contributions(replay, day)
            return rows, chart_view(replay, rows)

        rows, chart = opened.view("contributions", replay.state, compute, day)
        return {**context, "tab": "contributions", "rows": rows, "report": chart}

    return await render(request, "contributions.html.j2", work)


def chart_view(replay: Replay, rows: list[Contribution]) -> Any:
    """The report's share chart and contribution rows, formatted by the report's own code.

    Only what the contributions page shows (the whole report view reads every deliverable
    and the timeline, which the report page gives); the colours are the report's.
    """
    from types import SimpleNamespace

    from commands.charts import PALETTE, share_chart
    from commands.figures import contribution_view

    handles = sorted(replay.state.members)  # the report's order of parties, hence its colours
    colours = {handle: PALETTE[i % len(PALETTE)] for i, handle in enumerate(handles)}
    return SimpleNamespace(
        share_chart=share_chart(rows, colours),
        contributions=tuple(contribution_view(row) for row in rows),
    )


async def statements_page(request: Request) -> Response:
    """The statements, newest first, a page at a time: text, version, and who signed it."""

    def work(opened: Opened) -> dict[str, Any]:
        replay, context = project_context(opened, _slug(request))
        page_no = _page_number(request)
        state = replay.state
        seqs = statement_seqs(state)
        seqs.reverse()
        shown = seqs[(page_no - 1) * STATEMENTS_PAGE : page_no * STATEMENTS_PAGE]
        rows = opened.view(
            "statements", state, lambda: [statement_detail(state, seq) for seq in shown], page_no
        )
        return {
            **context,
            "tab": "statements",
            "statements": rows,
            "page": page_no,
            "pages": max(1, -(-len(seqs) // STATEMENTS_PAGE)),
            "total": len(seqs),
        }

    return await render(request, "statements.html.j2", work)


async def disputes_page(request: Request) -> Response:
    """Every dispute, in words, with where it stands (as `accord show` gives it)."""

    def work(opened: Opened) -> dict[str, Any]:
        replay, context = project_context(opened, _slug(request))
        day = today()
        views = [entry_view(replay, seq, day) for seq in replay.state.disputes]
        return {**context, "tab": "disputes", "disputes": views}

    return await render(request, "disputes.html.j2", work)


async def values_page(request: Request) -> Response:
    """The agreed values of the project (what a unit is worth) and who decided them."""

    def work(opened: Opened) -> dict[str, Any]:
        replay, context = project_context(opened, _slug(request))
        rows = opened.view(
            "values", replay.state, lambda: [row.as_row() for row in value_rows(replay.state)]
        )
        return {**context, "tab": "values", "values": rows}

    return await render(request, "values.html.j2", work)


def _trail_filters(request: Request) -> dict[str, str]:
    """The trail's filters from the query (party, type, from, to), checked."""
    params = request.query_params
    found = {name: params.get(name, "").strip() for name in ("party", "type", "from", "to")}
    if found["type"] and found["type"] not in ENTRY_TYPES:
        raise UsageError(
            f"entry type {found['type']!r} is not one accord knows",
            hint="pick one from the list (pledge.made, approval.given, ...)",
        )
    for name in ("from", "to"):
        if found[name]:
            try:
                date.fromisoformat(found[name])
            except ValueError:
                raise UsageError(
                    f"{name} date {found[name]!r} is not a date", hint="use YYYY-MM-DD"
                ) from None
    return found


async def trail_page(request: Request) -> Response:
    """The audit trail, newest first, with filters (party, type, claimed date) and pages."""

    def work(opened: Opened) -> dict[str, Any]:
        replay, context = project_context(opened, _slug(request))
        filters = _trail_filters(request)
        page_no = _page_number(request)
        state = replay.state
        index = opened.ledger.verified  # the verified index: type, time, party, summary
        if any(filters.values()):

            def compute() -> list[Any]:
                found = [
                    r
                    for r in index.timeline(replay.slug, upto=state.seq)
                    if (not filters["party"] or r.by == filters["party"])
                    and (not filters["type"] or r.type == filters["type"])
                    and (not filters["from"] or r.at[:10] >= filters["from"])
                    and (not filters["to"] or r.at[:10] <= filters["to"])
                ]
                found.reverse()
                return found

            rows = opened.view("trail", state, compute, *sorted(filters.items()))
            total = len(rows)
            shown = rows[(page_no - 1) * TRAIL_PAGE : page_no * TRAIL_PAGE]
        else:
            total = state.seq
            top = max(0, state.seq - (page_no - 1) * TRAIL_PAGE)
            after = max(0, top - TRAIL_PAGE)
            shown = list(index.timeline(replay.slug, upto=top, after=after))
            shown.reverse()
        return {
            **context,
            "tab": "trail",
            "rows": shown,
            "filters": filters,
            "types": ENTRY_TYPES,
            "parties": sorted(state.members),
            "page": page_no,
            "pages": max(1, -(-total // TRAIL_PAGE)),
            "total": total,
        }

    return await render(request, "trail.html.j2", work)


async def entry_page(request: Request) -> Response:
    """One entry in full, in words (what `accord show` gives), with the decisions on it."""
    config = request.app.state.config

    def work(opened: Opened) -> dict[str, Any]:
        replay, context = project_context(opened, _slug(request))
        seq = int(request.path_params["seq"])
        view = entry_view(replay, seq, today())
        item = opened.ledger.verified_entry(replay.slug, seq)
        waits = [w for w in view.standing.waiting if w.party == config.party]
        decision = replay.state.decisions.get(seq)
        evidence = (
            len(decision.evidence)
            if isinstance(decision, rules.Deliverable) and decision.seq == seq
            else 0
        )
        return {
            **context,
            "tab": "trail",
            "view": view,
            "canonical": item.text,
            "waits": waits,
            "evidence": evidence,
            "offers": offers_for(replay.state, view.type, seq, config.party, item.by),
        }

    return await render(request, "entry.html.j2", work)


def offers_for(state: rules.ProjectState, kind: str, seq: int, party: str, by: str) -> list[str]:
    """The actions a party may take from an entry's page (the rules still decide)."""
    if state.status == rules.CLOSED or party not in state.members:
        return []
    if kind == "project.proposed" and state.members[party].status == rules.INVITED:
        return ["join", "decline"]
    decidable = ("deliverable.submitted", "pledge.amended", "pledge.closed-short", "value.proposed")
    if kind in decidable and by != party:
        return ["approve", "reject"]
    if kind in ("statement.proposed", "statement.revised"):
        return ["statement-sign"]
    if kind == "dispute.opened":
        return ["resolve"]
    if kind in ("approval.given", "approval.refused") and by != party:
        return ["dispute"]
    if kind == "pledge.made" and by == party:
        return ["deliver", "amend", "close-short"]
    return []


async def sync_page(request: Request) -> Response:
    """Confirmed vs pending: the local head, the relay's, who has not cosigned yet."""
    signer = request.app.state.config.signer

    def work(opened: Opened) -> dict[str, Any]:
        from commands.web.syncing import sync_status

        replay, context = project_context(opened, _slug(request))
        status = sync_status(opened, replay.slug, signer)
        return {
            **context,
            "tab": "sync",
            "sync": status,
            "synced_now": request.query_params.get("synced") == "1",
        }

    return await render(request, "sync.html.j2", work)


async def report_page(request: Request) -> Response:
    """The interim or close report of the project: HTML, Markdown or JSON (the CLI's bytes)."""
    replica = replica_of(request)
    kind = str(request.path_params.get("kind", "html"))

    def work(opened: Opened) -> str:
        from commands.reporting import render_html, render_json, render_markdown
        from projections.report import report_data

        replay = Replay.build(opened.ledger, _slug(request))
        data = report_data(replay, stream=True)  # rendered here, while the replica is open
        renderer = {"html": render_html, "md": render_markdown, "json": render_json}[kind]
        return renderer(data)

    if kind not in ("html", "md", "json"):
        return error_page(request, f"no report format {kind!r}", "html, md or json", 404)
    try:
        text = await run_in_threadpool(replica.run, work)
    except LedgerError as error:
        return ledger_error_page(request, error)
    if kind == "html":
        response: Response = Response(text, media_type="text/html; charset=utf-8")
        response.headers["Content-Security-Policy"] = REPORT_CSP
        return response
    media = "text/markdown" if kind == "md" else "application/json"
    response = PlainTextResponse(text, media_type=f"{media}; charset=utf-8")
    return response


async def api_head(request: Request) -> Response:
    """The digest of the heads a page was drawn at (pulling first): the pages poll it."""
    replica = replica_of(request)
    slug = request.query_params.get("project")

    def work(opened: Opened) -> str:
        slugs = [normalise_slug(slug)] if slug else opened.ledger.list_slugs()
        cards = []
        for name in slugs:
            try:
                cards.append({"slug": name, "seq": opened.ledger.verified_state(name).seq})
            except ProjectNotFoundError:
                continue
        return _heads(cards)

    try:
        heads = await run_in_threadpool(replica.run, work)
    except LedgerError as error:
        return JSONResponse({"error": error.message, "hint": error.hint}, status_code=503)
    return JSONResponse({"heads": heads})


def routes() -> list[Route]:
    """The reading routes."""
    return [
        Route("/", dashboard, methods=["GET"]),
        Route("/api/head", api_head, methods=["GET"]),
        Route("/p/{slug}", project_page, methods=["GET"]),
        Route("/p/{slug}/obligations", obligations_page, methods=["GET"]),
        Route("/p/{slug}/contributions", contributions_page, methods=["GET"]),
        Route("/p/{slug}/statements", statements_page, methods=["GET"]),
        Route("/p/{slug}/disputes", disputes_page, methods=["GET"]),
        Route("/p/{slug}/values", values_page, methods=["GET"]),
        Route("/p/{slug}/trail", trail_page, methods=["GET"]),
        Route("/p/{slug}/entry/{seq:int}", entry_page, methods=["GET"]),
        Route("/p/{slug}/sync", sync_page, methods=["GET"]),
        Route("/p/{slug}/report.{kind}", report_page, methods=["GET"]),
    ]
