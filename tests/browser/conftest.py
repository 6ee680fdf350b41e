"""A real Chromium (Debian's ``chromium``) driven by Playwright, with the outside cut off.

Every page a test opens may reach only 127.0.0.1: any other request is aborted and listed
in ``Browser.outside``, so a test shows the page works on an intranet with no internet.
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import pytest
from playwright.async_api import Browser as PwBrowser
from playwright.async_api import BrowserContext, Route, async_playwright

INSTALL = "apt-get install chromium"


@dataclass
class Browser:
    """A fresh browser context whose requests may reach loopback only."""

    context: BrowserContext
    outside: list[str] = field(default_factory=list)  # requests aborted: not loopback
    served: list[str] = field(default_factory=list)  # requests let through


def chromium_path() -> str:
    path = shutil.which("chromium")
    if path is None:
        pytest.fail(f"no chromium on PATH: install it with `{INSTALL}`", pytrace=False)
    return path


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as pw:
        launched: PwBrowser = await pw.chromium.launch(
            executable_path=chromium_path(),
            # Below the routing too (websockets are not routed): no name resolves but
            # loopback, so nothing outside 127.0.0.1 can even be reached.
            args=[
                "--no-sandbox",
                "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1",
            ],
        )
        # The machine's zone must not decide a test: pages run on UTC, as a server room would.
        context = await launched.new_context(
            viewport={"width": 1366, "height": 768}, timezone_id="UTC"
        )
        seen = Browser(context)

        async def only_loopback(route: Route) -> None:
            url = route.request.url
            host = urlsplit(url).hostname or ""
            if url.startswith(("data:", "blob:")) or host in ("127.0.0.1", "localhost"):
                seen.served.append(url)
                await route.continue_()
            else:
                seen.outside.append(url)
                await route.abort("internetdisconnected")

        await context.route("**/*", only_loopback)
        try:
            yield seen
        finally:
            await context.close()
            await launched.close()
