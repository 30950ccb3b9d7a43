"""``accord web``'s Starlette app: the routes of each page family behind one guard."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

from commands.web import actions, evidence, joining, pages
from commands.web.access import Replica, WebConfig
from commands.web.app import Guard


def create_app(config: WebConfig, replica: Replica | None = None) -> Starlette:
    """Build the app over the party's replica (``replica``: given by tests)."""
    static = StaticFiles(packages=[("commands.web", "static")])
    app = Starlette(
        routes=[
            *pages.routes(),
            *evidence.routes(),
            *actions.routes(),
            *joining.routes(),
            Mount("/static", static, name="static"),
        ],
        middleware=[Middleware(Guard)],
    )
    app.state.config = config
    app.state.replica = replica if replica is not None else Replica(config)
    return app
