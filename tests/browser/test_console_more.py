"""Lists longer than a page in the console: "加载更多" walks a case's and a debtor's
assistance requests page by page, by the cursor of the last page shown, appending each page
to the same table until all are shown, each once, newest first.

The page size is set to one item, so that four requests make four pages.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import quote

import pytest
from playwright.async_api import Page, expect

from gateway.cli.demo import DEMO_OFFICER
from mocks.records import CaseRecord
from tests.browser.conftest import Browser
from tests.browser.console_stack import ConsoleStack, console_stack

REQUEST = """mutation($input: AssistanceRequestInput!) {
  requestAssistance(input: $input) { request { id } } }"""


@pytest.fixture
async def stack(tmp_path: Path, cases: list[CaseRecord]) -> AsyncIterator[ConsoleStack]:
    async for running in console_stack(tmp_path, cases, console={"page_size": 1}):
        yield running


async def file_requests(stack: ConsoleStack) -> list[str]:
    """Four requests of the case, one per target of its debtor, awaiting approval; their
    ids, oldest first."""
    case, world = stack.case, stack.world
    debtor = case.debtor_ids[0]
    flat = next(p.certificate_no for p in world.properties_of(debtor) if not p.seizures)
    targets = [
        ("EXIT_BAN", debtor),
        ("SEIZE_VEHICLE", world.vehicles_of(debtor)[0].vin),
        ("FREEZE_EQUITY", world.roles_of(debtor)[0].company_code),
        ("SEIZE_REAL_ESTATE", flat),
    ]
    token = stack.gw.token(officer=DEMO_OFFICER)
    filed = []
    for n, (action, target) in enumerate(targets):
        order = {
            "caseNumber": case.number,
            "debtorId": debtor,
            "action": action,
            "target": target,
            "documentNumber": f"（2026）苏0311执4214号之{n + 1}",
        }
        status, body = await stack.gw.post(REQUEST, {"input": order}, token=token)
        assert status == 200 and "errors" not in body, body
        filed.append(body["data"]["requestAssistance"]["request"]["id"])
    return filed


async def shown(page: Page, table: str) -> list[str]:
    """The ids of the requests in ``table``, in the order shown."""
    hrefs = await page.locator(f"{table} tbody a").evaluate_all(
        "links => links.map(a => decodeURIComponent(a.getAttribute('href')))"
    )
    return [str(h).removeprefix("#/request/") for h in hrefs]


async def walk(page: Page, table: str, filed: list[str]) -> None:
    """One page shown; each click appends the next; at the end the button gives way."""
    newest_first = filed[::-1]
    more = page.locator("#more-requests")
    for count in range(1, len(filed)):
        await expect(page.locator(f"{table} tbody tr")).to_have_count(count)
        assert await shown(page, table) == newest_first[:count]
        await expect(more).to_be_enabled()
        await more.click()
    await expect(page.locator(f"{table} tbody tr")).to_have_count(len(filed))
    assert await shown(page, table) == newest_first
    await expect(more).to_have_count(0)
    await expect(page.locator("main")).to_contain_text(f"已全部显示，共 {len(filed)} 条。")


async def test_load_more_walks_a_cases_and_a_debtors_requests_to_the_end(
    browser: Browser, stack: ConsoleStack
) -> None:
    expect.set_options(timeout=30_000)
    filed = await file_requests(stack)
    page = await browser.context.new_page()
    await page.goto(stack.console)
    await page.locator('button[data-role="officer"]').click()
    await expect(page.locator("h1")).to_have_text("我的案件")

    await page.goto(f"{stack.console}#/case/{quote(stack.case.number)}")
    await expect(page.locator("h1")).to_have_text(f"案件 {stack.case.number}")
    await walk(page, "#case-requests", filed)

    await page.locator("table a").first.click()  # the debtor, from the case's parties
    await expect(page.locator("h1")).to_contain_text("被执行人")
    await walk(page, "#debtor-requests", filed)
