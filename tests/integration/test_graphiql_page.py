"""The GraphiQL page and its pinned files, over HTTP."""

from __future__ import annotations

import re
from urllib.parse import quote

from gateway.console.assets import integrity, pinned_assets, verify
from tests.harness import Gateway


def test_every_pinned_file_matches_its_checksum() -> None:
    assert verify() == []
    assert len(pinned_assets()) == 6


async def test_a_query_link_opened_by_a_browser_gets_graphiql(gateway: Gateway) -> None:
    link = f"{gateway.url}?query={quote('{ __typename }')}"
    async with gateway.session.get(link, headers={"Accept": "text/html"}) as resp:
        assert resp.status == 200
        assert resp.content_type == "text/html"
        page = await resp.text()
    # Everything the page loads is the gateway's own: no scheme, no other host.
    loaded = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert loaded, page[:500]
    for url in loaded:
        assert url.startswith(("/graphiql-assets/", "data:")), url
    for asset in pinned_assets():
        async with gateway.session.get(f"{gateway.base_url}/graphiql-assets/{asset.url_path}") as r:
            assert r.status == 200
            assert integrity(await r.read()) == asset.integrity
    # An API client asking the same link for JSON gets the query run (here: no token).
    async with gateway.session.get(link, headers={"Accept": "application/json"}) as resp:
        assert resp.status == 401


def test_the_pages_example_query_is_valid_against_the_schema() -> None:
    from graphql import parse, validate

    from gateway.console.page import graphiql_html
    from schema import build_schema

    found = re.search(r"const EXAMPLE_QUERY = `(.*?)`;", graphiql_html(), re.S)
    assert found is not None
    document = parse(found.group(1).replace("\\`", "`"))
    assert validate(build_schema()._schema, document) == []
