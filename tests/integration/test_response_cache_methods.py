"""A GET and a POST that ask the same thing share one kept answer (gateway/response_cache/
request_key.py); anything that asks something else, or in another scope, never does.

Counts, never timings: the cache's ``/metrics`` series, the mocks' request counters and the
audit records.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mocks.records import CaseRecord
from mocks.runner import RunningMocks
from tests.harness import PROFILE, Stack, StackFactory
from tests.integration.response_cache_support import cache_figures

pytestmark = pytest.mark.usefixtures("mocks")


def _variables(case: CaseRecord, i: int = 0) -> dict[str, Any]:
    return {"id": case.debtor_ids[i], "caseNumber": case.number}


async def _ask(
    gw: Stack, method: str, variables_text: str, token: str, request_id: str = ""
) -> tuple[int, bytes]:
    """``PROFILE`` with ``variables_text`` (JSON, as written) by GET or by a JSON POST."""
    headers = {"Authorization": f"Bearer {token}"}
    if request_id:
        headers["X-Request-Id"] = request_id
    if method == "GET":
        query = urlencode({"query": PROFILE, "variables": variables_text})
        async with gw.session.get(f"{gw.url}?{query}", headers=headers) as resp:
            return resp.status, await resp.read()
    body = f'{{"variables": {variables_text}, "query": {json.dumps(PROFILE)}}}'
    headers["Content-Type"] = "application/json"
    async with gw.session.post(gw.url, data=body.encode(), headers=headers) as resp:
        return resp.status, await resp.read()


async def _served(gw: Stack, method: str, variables_text: str, token: str, rid: str = "") -> bool:
    """Ask, and say whether the answer was a response-cache hit (by the cache's own count:
    a built answer says ``cached`` too when its facts came from the fact cache)."""
    before = (await cache_figures(gw)).get("hits", 0.0)
    status, body = await _ask(gw, method, variables_text, token, rid)
    assert status == 200 and b'"errors"' not in body, body[:300]
    return (await cache_figures(gw)).get("hits", 0.0) == before + 1


@pytest.mark.parametrize("fast_path", [True, False], ids=["at the door", "normal path"])
async def test_a_get_is_served_the_answer_a_post_built(
    make_stack: StackFactory, mocks: RunningMocks, cases: list[CaseRecord], fast_path: bool
) -> None:
    gw = await make_stack(cases, mocks=mocks, response_cache={"fast_path": fast_path})
    case = next(c for c in cases if len(c.debtor_ids) > 1)
    token = gw.token()
    posted = orjson.dumps(_variables(case)).decode()
    assert not await _served(gw, "POST", posted, token, "built-by-post")
    upstream = await gw.total_requests()

    # The same variables written another way: keys in another order, spaces, \u escapes.
    written = json.dumps(dict(reversed(_variables(case).items())), indent=1, ensure_ascii=True)
    assert written != posted
    assert await _served(gw, "GET", written, token, "served-to-get")
    assert (await cache_figures(gw))["hits"] == 1
    assert await gw.total_requests() == upstream  # no agency asked again

    records = {r.client_request_id: r for r in await gw.audit_records(case_number=case.number)}
    built, served = records["built-by-post"], records["served-to-get"]
    assert "servedFrom" not in built.detail
    assert served.detail["servedFrom"] == "responseCache"
    assert served.outcome == "ok" and served.http_status == 200
    assert served.request_id != built.request_id
    assert served.document_hash == built.document_hash
    assert served.debtor_keys == built.debtor_keys

    # Another debtor, or the same one asked with the unmask scope: each built on its own.
    other = orjson.dumps(_variables(case, 1)).decode()
    assert not await _served(gw, "GET", other, token)
    assert not await _served(gw, "GET", written, gw.token(scopes=["unmask"]))
    assert (await cache_figures(gw))["hits"] == 1
    # The way back: a POST is served what a GET built.
    assert await _served(gw, "POST", other, token)
    assert (await cache_figures(gw))["hits"] == 2


_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**53), max_value=2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(alphabet='ab 执行"\\/\n\u00e9\U0001f600', max_size=4)
)
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.sampled_from(["k", "l", "执"]), inner, max_size=3)
    ),
    max_leaves=6,
)


@st.composite
def _written(draw: st.DrawFn, value: Any) -> str:
    """``value`` as JSON text in one of many spellings: key order, spaces, escapes."""

    def shuffled(item: Any) -> Any:
        if isinstance(item, dict):
            keys = draw(st.permutations(list(item)))
            return {k: shuffled(item[k]) for k in keys}
        if isinstance(item, list):
            return [shuffled(x) for x in item]
        return item

    separators = draw(st.sampled_from([(",", ":"), (", ", ": "), (" ,", " : ")]))
    indent = draw(st.sampled_from([None, 0, 2, "\t"]))
    ascii_only = draw(st.booleans())
    return json.dumps(
        shuffled(value), separators=separators, indent=indent, ensure_ascii=ascii_only
    )


async def test_requests_share_an_answer_exactly_when_their_variables_are_equal_as_json(
    make_stack: StackFactory, mocks: RunningMocks, cases: list[CaseRecord]
) -> None:
    # Variables beyond those the document declares are not used by execution, but they are
    # part of what was asked: equal as JSON must share, any other value must not.
    gw = await make_stack(cases, mocks=mocks)
    token = gw.token()
    base = _variables(cases[2])
    assert not await _served(gw, "POST", orjson.dumps(base).decode(), token)
    seen = {orjson.dumps(base, option=orjson.OPT_SORT_KEYS)}
    loop = asyncio.get_running_loop()
    tally = {"hits": 0, "misses": 0}

    @settings(
        max_examples=30,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(extra=_VALUES, first=st.sampled_from(["GET", "POST"]), data=st.data())
    def one(extra: Any, first: str, data: st.DataObject) -> None:
        variables: Mapping[str, Any] = {**base, "extra": extra}
        canonical = orjson.dumps(variables, option=orjson.OPT_SORT_KEYS)
        # Asked once in one spelling, then again in another by the other method.
        for method in (first, "GET" if first == "POST" else "POST"):
            text = data.draw(_written(variables))
            asked = _served(gw, method, text, token)
            hit = asyncio.run_coroutine_threadsafe(asked, loop).result()
            assert hit == (canonical in seen), (method, text)
            seen.add(canonical)
            tally["hits" if hit else "misses"] += 1

    await asyncio.to_thread(one)
    figures = await cache_figures(gw)
    assert figures["hits"] == tally["hits"] and tally["hits"] > 0 and tally["misses"] > 0
