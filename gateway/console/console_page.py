"""The enforcement console at ``/console``: one page, plain ES modules, no build step.

The page and its modules (``static/console/``) are served by this gateway alone, so the
console works on a court intranet with no internet. It talks to the gateway only through the
public GraphQL API at ``/graphql`` (queries, mutations, graphql-transport-ws subscriptions).
In the demo (``console.demo_court``) the page carries a fresh token for each demo user, signed
as it is served; the browser keeps the chosen one in the tab's session storage only.
"""

from __future__ import annotations

import json
from pathlib import Path

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from gateway.auth import issue_token
from gateway.settings import Settings

__all__ = ["CONSOLE_PATH", "DEMO_USERS", "console_html", "console_routes"]

CONSOLE_PATH = "/console"
STATIC_DIR = Path(__file__).parent / "static" / "console"

# role -> (subject, roles, display name). ``liandong demo`` assigns the officer and the judge
# to every demo case, under these subjects.
DEMO_USERS: dict[str, tuple[str, tuple[str, ...], str]] = {
    "officer": ("demo-officer", ("officer",), "演示执行员"),
    "judge": ("demo-judge", ("judge",), "演示执行法官"),
    "auditor": ("demo-auditor", ("auditor",), "演示审计员"),
    "agency": ("demo-agency", ("agency",), "演示联合惩戒单位"),
}


def _demo_users(settings: Settings, secret: bytes) -> list[dict[str, str]]:
    court = settings.console.demo_court
    if not court or settings.profile != "dev":
        return []
    return [
        {
            "role": role,
            "name": name,
            "token": issue_token(
                secret, settings=settings.auth, subject=subject, court=court, roles=roles, name=name
            ),
        }
        for role, (subject, roles, name) in DEMO_USERS.items()
    ]


def console_html(settings: Settings, template: str, secret: bytes) -> str:
    """The page, with its configuration (the demo users, if any) inlined as JSON."""
    config = {"graphql": "/graphql", "demoUsers": _demo_users(settings, secret)}
    # "<" escaped so that no value can close the script element it sits in.
    inline = json.dumps(config, ensure_ascii=False).replace("<", "\\u003c")
    return template.replace("{{CONFIG}}", inline)


def console_routes(settings: Settings) -> list[BaseRoute]:
    """``/console``, its modules, and ``/`` sending a browser there."""
    # Read once, at start-up: no file is read on the event loop while serving.
    template = (STATIC_DIR / "index.html").read_text(encoding="utf-8")
    secret = settings.jwt_secret() if settings.console.demo_court else b""

    async def page(request: Request) -> Response:
        # Demo tokens are signed afresh for each page, which is therefore never cached.
        html = console_html(settings, template, secret)
        return HTMLResponse(html, headers={"Cache-Control": "no-store"})

    async def root(request: Request) -> Response:
        return RedirectResponse(CONSOLE_PATH, status_code=307)

    return [
        Route(CONSOLE_PATH, page, methods=["GET"]),
        Mount(f"{CONSOLE_PATH}/static", StaticFiles(directory=STATIC_DIR), name="console"),
        Route("/", root, methods=["GET"]),
    ]
