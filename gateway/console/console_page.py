"""The enforcement console at ``/console``: one page, plain ES modules, no build step.

The page and its modules (``static/console/``) are served by this gateway alone, so the
console works on a court intranet with no internet. It talks to the gateway only through the
public GraphQL API at ``/graphql`` (queries, mutations, graphql-transport-ws subscriptions).
In the demo the page carries a fresh token for each demo user (made by
``gateway/web/console_route.py``); the browser keeps the chosen one in the tab's session
storage only.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

__all__ = ["CONSOLE_PATH", "STATIC_DIR", "DemoUser", "console_html", "console_routes"]

CONSOLE_PATH = "/console"
STATIC_DIR = Path(__file__).parent / "static" / "console"

DemoUser = dict[str, str]  # {"role", "name", "token"}


def console_html(template: str, demo_users: Sequence[DemoUser], page_size: int = 100) -> str:
    """The page, with its configuration (the demo users, if any; how many items of a list
    to ask for at a time) inlined as JSON."""
    config = {"graphql": "/graphql", "demoUsers": list(demo_users), "pageSize": page_size}
    # "<" escaped so that no value can close the script element it sits in.
    inline = json.dumps(config, ensure_ascii=False).replace("<", "\\u003c")
    return template.replace("{{CONFIG}}", inline)


def console_routes(
    demo_users: Callable[[], Sequence[DemoUser]], page_size: int = 100
) -> list[BaseRoute]:
    """``/console``, its modules, and ``/`` sending a browser there."""
    # Read once, at start-up: no file is read on the event loop while serving.
    template = (STATIC_DIR / "index.html").read_text(encoding="utf-8")

    async def page(request: Request) -> Response:
        # Demo tokens are signed afresh for each page, which is therefore never cached.
        html = console_html(template, demo_users(), page_size)
        return HTMLResponse(html, headers={"Cache-Control": "no-store"})

    async def root(request: Request) -> Response:
        return RedirectResponse(CONSOLE_PATH, status_code=307)

    return [
        Route(CONSOLE_PATH, page, methods=["GET"]),
        Mount(f"{CONSOLE_PATH}/static", StaticFiles(directory=STATIC_DIR), name="console"),
        Route("/", root, methods=["GET"]),
    ]
