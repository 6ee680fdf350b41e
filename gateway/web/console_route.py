"""``/console`` in this gateway: the console's routes, and the demo users' tokens.

Tokens for the demo users are signed here, with the gateway's own secret, only when
``console.demo_court`` is set (``liandong demo`` sets it; a prod gateway refuses it).
"""

from __future__ import annotations

from starlette.routing import BaseRoute

from gateway.auth import issue_token
from gateway.console.console_page import DemoUser, console_routes
from gateway.settings import Settings

__all__ = ["DEMO_USERS", "console_routes_for", "demo_users"]

# role -> (subject, roles, display name). ``liandong demo`` assigns the officer and the judge
# to every demo case, under these subjects.
DEMO_USERS: dict[str, tuple[str, tuple[str, ...], str]] = {
    "officer": ("demo-officer", ("officer",), "演示执行员"),
    "judge": ("demo-judge", ("judge",), "演示执行法官"),
    "auditor": ("demo-auditor", ("auditor",), "演示审计员"),
    "agency": ("demo-agency", ("agency",), "演示联合惩戒单位"),
}


def demo_users(settings: Settings, secret: bytes) -> list[DemoUser]:
    """A fresh token for each demo user of the demo court; none outside the demo."""
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


def console_routes_for(settings: Settings) -> list[BaseRoute]:
    """The console's routes, if this gateway serves it (on in dev, a setting in prod)."""
    if not settings.console.serves(settings.profile):
        return []
    secret = settings.jwt_secret() if settings.console.demo_court else b""
    return console_routes(lambda: demo_users(settings, secret), settings.console.page_size)
