"""The console with all outbound network blocked: every request it makes goes to the gateway."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.async_api import expect

from gateway.console.console_page import STATIC_DIR
from mocks.records import CaseRecord
from tests.browser.conftest import Browser
from tests.browser.console_stack import ConsoleStack, console_stack

# Any absolute URL or protocol-relative one: a file that names one could load from outside.
OUTSIDE_URL = re.compile(r"""(?:https?:|wss?:)?//[a-z0-9.-]+\.[a-z]{2,}""", re.IGNORECASE)


@pytest.fixture
async def stack(tmp_path: Path, cases: list[CaseRecord]) -> AsyncIterator[ConsoleStack]:
    async for running in console_stack(tmp_path, cases):
        yield running


def test_no_console_file_names_an_outside_address() -> None:
    files = sorted(p for p in STATIC_DIR.rglob("*") if p.is_file())
    assert {p.suffix for p in files} == {".html", ".css", ".js"}
    for file in files:
        found = OUTSIDE_URL.findall(file.read_text(encoding="utf-8"))
        assert found == [], f"{file.name} names {found}"


async def test_every_page_works_with_all_outbound_network_blocked(
    browser: Browser, stack: ConsoleStack
) -> None:
    expect.set_options(timeout=30_000)
    page = await browser.context.new_page()
    sockets: list[str] = []
    problems: list[str] = []
    page.on("websocket", lambda ws: sockets.append(ws.url))
    page.on("pageerror", lambda err: problems.append(str(err)))
    page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)

    await page.goto(stack.console)
    # By keyboard alone: Tab reaches the officer's button, Enter signs in.
    for _ in range(12):
        await page.keyboard.press("Tab")
        if await page.evaluate("document.activeElement.dataset.role") == "officer":
            break
    outline = await page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline == "solid"  # the focus is visible
    await page.keyboard.press("Enter")
    await expect(page.locator("h1")).to_have_text("我的案件")
    await expect(page.locator("#case-results tbody tr")).to_have_count(3)  # the seeded cases
    await page.get_by_role("link", name=stack.case.number).click()
    await expect(page.locator("h1")).to_have_text(f"案件 {stack.case.number}")
    await page.get_by_role("link", name="指挥中心").click()
    await expect(page.locator("#agencies tbody tr")).to_have_count(4)
    await page.get_by_role("button", name="退出").click()
    await page.locator('button[data-role="auditor"]').click()
    await expect(page.locator("#audit tbody tr").first).to_be_visible()
    await page.get_by_role("button", name="退出").click()
    await page.locator('button[data-role="agency"]').click()
    await expect(page.locator("h1")).to_have_text("联合惩戒单位")

    gateway = urlsplit(stack.gw.base_url).netloc
    assert browser.outside == []
    assert browser.served and {urlsplit(u).netloc for u in browser.served} == {gateway}
    assert sockets and {urlsplit(u).netloc for u in sockets} == {gateway}
    assert problems == []
