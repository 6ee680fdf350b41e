"""GraphiQL as a developer meets it, in a real browser with no internet."""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest

from mocks.records import CaseRecord
from mocks.runner import RunningMocks
from tests.browser.conftest import Browser
from tests.harness import Gateway, StackFactory


@pytest.fixture
async def dev_gateway(
    mocks: RunningMocks, cases: list[CaseRecord], make_stack: StackFactory
) -> Gateway:
    # No cases registered: the page needs none.
    return await make_stack(mocks=mocks, court=cases[0].court)


async def test_graphiql_loads_offline_and_says_where_the_token_goes(
    browser: Browser, dev_gateway: Gateway
) -> None:
    page = await browser.context.new_page()
    await page.goto(dev_gateway.url)
    await page.wait_for_selector(".graphiql-container", timeout=30_000)
    note = page.locator("#token-note")
    await note.wait_for(state="visible", timeout=30_000)
    assert "liandong token" in await note.inner_text()
    assert browser.outside == []
    assets = [u for u in browser.served if "/graphiql-assets/" in u]
    assert len(assets) == 6  # React, ReactDOM, GraphiQL (js, css), the explorer (js, css)


async def test_a_q_link_opens_graphiql_with_its_query_and_runs_with_a_token(
    browser: Browser, dev_gateway: Gateway
) -> None:
    headers = json.dumps({"Authorization": f"Bearer {dev_gateway.token()}"})
    # GraphiQL keeps the headers editor in local storage; a developer's earlier visit.
    await browser.context.add_init_script(
        f"window.localStorage.setItem('graphiql:headers', {json.dumps(headers)});"
    )
    page = await browser.context.new_page()
    await page.goto(f"{dev_gateway.url}?q={quote('{ __typename }')}")
    await page.wait_for_selector(".graphiql-container", timeout=30_000)
    await page.click(".graphiql-execute-button")
    result = page.locator(".result-window")
    await result.get_by_text('"Query"').wait_for(timeout=30_000)
    assert await page.locator("#token-note").is_hidden()
    assert browser.outside == []
