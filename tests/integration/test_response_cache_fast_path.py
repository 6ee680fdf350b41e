"""Response-cache hits answered at the door of the app (gateway/web/hit_path.py).

Counts, never timings: the fast path's own counters (``served``, ``passed``), the cache's
``/metrics`` series, the mocks' request counters and the audit records. Every request that
is not a plain hit must get exactly the answer the normal path gives it (the same status and
code), with its record; every hit served here must have its own record.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator, Mapping
from typing import Any
from urllib.parse import urlencode

import orjson
import pytest

from connectors.tracing import REQUEST_ID
from gateway.cli.demo import seed_cases
from gateway.errors import AuditUnavailable
from gateway.store.cases import Store
from gateway.web.hit_path import HitPath
from mocks.records import CaseRecord
from mocks.runner import RunningMocks
from tests.harness import JUDGE, OFFICER, OUTSIDER, PROFILE, Stack, StackFactory
from tests.integration.response_cache_support import cache_figures

pytestmark = pytest.mark.usefixtures("mocks")

FAST = {"fast_path": True}
SLOW = {"fast_path": False}


def _hit_path(gw: Stack) -> HitPath:
    path = gw.app.hit_path
    assert isinstance(path, HitPath)
    return path


def _body(case: CaseRecord, i: int = 0, number: str | None = None) -> bytes:
    variables = {"id": case.debtor_ids[i], "caseNumber": number or case.number}
    return orjson.dumps({"query": PROFILE, "variables": variables})


async def _post(
    gw: Stack, body: Any, token: str | None, headers: dict[str, str] | None = None
) -> tuple[int, bytes, Mapping[str, str]]:
    sent = {"Content-Type": "application/json", **(headers or {})}
    if token is not None:
        sent["Authorization"] = f"Bearer {token}"
    async with gw.session.post(gw.url, data=body, headers=sent) as resp:
        return resp.status, await resp.read(), resp.headers  # any case of a name


def _code(status: int, body: bytes) -> tuple[int, str | None]:
    parsed = orjson.loads(body)
    errors = parsed.get("errors") or []
    return status, errors[0]["extensions"]["code"] if errors else None


async def _served_records(gw: Stack, case: str) -> list[Any]:
    return [r for r in await gw.audit_records(case_number=case) if "servedFrom" in r.detail]


@pytest.fixture
async def stacks(
    make_stack: StackFactory, mocks: RunningMocks, cases: list[CaseRecord]
) -> AsyncIterator[tuple[Stack, Stack]]:
    """The same gateway twice: hits at the door, and hits through the normal path."""
    fast = await make_stack(cases, mocks=mocks, response_cache=FAST)
    slow = await make_stack(cases, mocks=mocks, response_cache=SLOW)
    yield fast, slow


async def test_a_hit_is_answered_at_the_door_with_its_own_record(
    stacks: tuple[Stack, Stack], cases: list[CaseRecord]
) -> None:
    fast, _ = stacks
    body, token = _body(cases[0]), fast.token()
    status, built, _ = await _post(fast, body, token)
    assert status == 200 and b'"errors"' not in built
    upstream = await fast.total_requests()
    path = _hit_path(fast)
    assert path.served == 0 and path.passed == 1  # the build went the normal way

    answers = []
    for n in range(4):
        status, hit, headers = await _post(fast, body, token, {"X-Request-Id": f"door-{n}"})
        assert status == 200
        assert headers["Content-Type"] == "application/json"
        assert len(headers["X-Request-Id"]) == 32  # ours, not the client's
        answers.append(hit)
    assert path.served == 4 and path.passed == 1
    assert len(set(answers)) == 1 and b'"cached":true' in answers[0]
    assert (await cache_figures(fast))["hits"] == 4
    assert await fast.total_requests() == upstream

    records = await _served_records(fast, cases[0].number)
    assert len(records) == path.served  # one record for every hit served here
    assert sorted(r.client_request_id for r in records) == [f"door-{n}" for n in range(4)]
    assert len({r.request_id for r in records}) == 4
    built_record = next(
        r for r in await fast.audit_records(case_number=cases[0].number) if r not in records
    )
    for record in records:
        assert record.outcome == "ok" and record.http_status == 200
        assert record.debtor_keys == built_record.debtor_keys
        assert record.document_hash == built_record.document_hash
        assert record.principal == built_record.principal


async def test_the_door_refuses_exactly_what_the_normal_path_refuses(
    stacks: tuple[Stack, Stack], cases: list[CaseRecord]
) -> None:
    case = cases[0]
    seen: dict[str, list[tuple[int, str | None]]] = {}
    for gw in stacks:
        body = _body(case)
        status, _, _ = await _post(gw, body, gw.token())
        assert status == 200
        wrong_case = _body(case, number=cases[1].number)
        await _post(gw, wrong_case, gw.token(officer=OUTSIDER, roles=["officer"]))
        outcomes = [
            _code(*(await _post(gw, body, None))[:2]),  # no token
            _code(*(await _post(gw, body, gw.token() + "x"))[:2]),  # bad signature
            _code(*(await _post(gw, body, gw.token(officer=OUTSIDER)))[:2]),  # not on the case
            _code(*(await _post(gw, wrong_case, gw.token()))[:2]),  # a case it was not asked by
        ]
        # Taken off the case after the answer was kept: the same token is refused now.
        store = await Store.open(gw.settings.database_url)
        try:
            await seed_cases(store, [dataclasses.replace(case)], ["officer-9"], [JUDGE])
        finally:
            await store.close()
        outcomes.append(_code(*(await _post(gw, body, gw.token()))[:2]))
        seen["fast" if gw is stacks[0] else "slow"] = outcomes
        assert (await cache_figures(gw))["hits"] == 0
        refused = [r for r in await gw.audit_records() if r.outcome == "refused"]
        assert len(refused) >= 5  # each refusal on the record
        assert not await _served_records(gw, case.number)
    assert seen["fast"] == seen["slow"]
    assert seen["fast"] == [
        (401, "UNAUTHENTICATED"),
        (401, "UNAUTHENTICATED"),
        (200, "FORBIDDEN"),
        (200, "FORBIDDEN"),
        (200, "FORBIDDEN"),
    ]
    assert _hit_path(stacks[0]).served == 0
    assert _hit_path(stacks[1]).served == 0 and _hit_path(stacks[1]).passed == 0


async def test_bodies_read_at_the_door_reach_the_normal_path_intact(
    make_stack: StackFactory, mocks: RunningMocks, cases: list[CaseRecord]
) -> None:
    body = _body(cases[0])
    gw = await make_stack(cases, mocks=mocks, limits={"max_body_bytes": len(body) + 10})
    token = gw.token()
    path = _hit_path(gw)

    async def chunks() -> AsyncIterator[bytes]:  # sent chunked: no Content-Length
        for start in range(0, len(body), 100):
            yield body[start : start + 100]

    # A miss read in chunks at the door is built from the same bytes by the normal path.
    status, built, _ = await _post(gw, chunks(), token)
    assert status == 200 and b'"errors"' not in built and path.passed == 1
    status, hit, _ = await _post(gw, chunks(), token)
    assert status == 200 and path.served == 1 and b'"cached":true' in hit
    # Over the limit, declared or not: refused by the normal path as before (413).
    padded = body + b" " * 20

    async def padded_chunks() -> AsyncIterator[bytes]:
        yield padded

    for sent in (padded, padded_chunks()):
        status, refused, _ = await _post(gw, sent, token)
        assert _code(status, refused) == (413, "LIMIT_EXCEEDED")
    assert path.served == 1 and path.passed == 3


async def test_get_hits_and_the_response_media_type(
    stacks: tuple[Stack, Stack], cases: list[CaseRecord]
) -> None:
    variables = orjson.dumps({"id": cases[3].debtor_ids[0], "caseNumber": cases[3].number})
    url_query = urlencode({"query": PROFILE, "variables": variables.decode()})
    heard: dict[str, list[tuple[int, str, bytes]]] = {}
    for gw in stacks:
        got = []
        for accept in ("application/json", "application/graphql-response+json", "*/*"):
            for _ in range(2):
                async with gw.session.get(
                    f"{gw.url}?{url_query}",
                    headers={"Authorization": f"Bearer {gw.token()}", "Accept": accept},
                ) as resp:
                    got.append((resp.status, resp.headers["Content-Type"], await resp.read()))
        heard["fast" if gw is stacks[0] else "slow"] = got
        assert (await cache_figures(gw))["hits"] == 5
    assert [g[:2] for g in heard["fast"]] == [g[:2] for g in heard["slow"]]
    assert heard["fast"][1][1] == "application/json"
    assert heard["fast"][3][1] == "application/graphql-response+json; charset=utf-8"
    assert _hit_path(stacks[0]).served == 5


async def test_a_spent_rate_limit_is_refused_by_the_normal_path(
    make_stack: StackFactory, mocks: RunningMocks, cases: list[CaseRecord]
) -> None:
    gw = await make_stack(cases, mocks=mocks, limits={"rate_per_minute": 3})
    body, token = _body(cases[0]), gw.token()
    outcomes = [_code(*(await _post(gw, body, token))[:2]) for _ in range(5)]
    assert outcomes[:3] == [(200, None)] * 3
    assert outcomes[3:] == [(429, "RATE_LIMITED")] * 2
    path = _hit_path(gw)
    assert path.served == 2 and path.passed == 3
    records = await gw.audit_records()
    assert sum(1 for r in records if r.code == "RATE_LIMITED") == 2
    assert len(await _served_records(gw, cases[0].number)) == 2


async def test_concurrent_hits_each_have_their_record(
    stacks: tuple[Stack, Stack], cases: list[CaseRecord]
) -> None:
    fast, _ = stacks
    token = fast.token()
    bodies = [_body(case) for case in cases[:4]]
    for body in bodies:
        status, _, _ = await _post(fast, body, token)
        assert status == 200
    path = _hit_path(fast)
    sent = [bodies[i % len(bodies)] for i in range(40)]
    answers = await asyncio.gather(
        *(_post(fast, b, token, {"X-Request-Id": f"many-{i}"}) for i, b in enumerate(sent))
    )
    assert all(status == 200 for status, _, _ in answers)
    assert path.served == 40 and (await cache_figures(fast))["hits"] == 40
    served = [r for r in await fast.audit_records() if "servedFrom" in r.detail]
    assert sorted(r.client_request_id or "" for r in served) == sorted(
        f"many-{i}" for i in range(40)
    )
    assert len({r.request_id for r in served}) == 40


async def test_the_party_check_is_redone_only_when_a_case_changes(
    stacks: tuple[Stack, Stack], cases: list[CaseRecord]
) -> None:
    fast, _ = stacks
    case = cases[0]
    body, token = _body(case), fast.token()
    assert (await _post(fast, body, token))[0] == 200
    view = _hit_path(fast).view()
    assert view is not None and view.services.responses is not None
    gate = view.services.responses
    for _ in range(3):
        assert (await _post(fast, body, token))[0] == 200
    assert (await cache_figures(fast))["hits"] == 3
    assert gate.party_checks == 1  # the rows did not change: their parties were not rebuilt

    # The debtor is no longer a party to the case: the very next request is not served
    # from the kept answer but refused by the normal path, and so on the record.
    store = await Store.open(fast.settings.database_url)
    try:
        others = [d for d in case.debtor_ids if d != case.debtor_ids[0]]
        await seed_cases(store, [dataclasses.replace(case, debtor_ids=others)], [OFFICER], [JUDGE])
    finally:
        await store.close()
    assert _code(*(await _post(fast, body, token))[:2]) == (200, "FORBIDDEN")
    assert (await cache_figures(fast))["hits"] == 3
    assert len(await _served_records(fast, case.number)) == 3


async def test_a_hit_whose_record_fails_is_a_503_not_the_answer(
    stacks: tuple[Stack, Stack], cases: list[CaseRecord], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The plain JSON hit sends the kept bytes without building a response; when its record
    # cannot be written after the health check passed, the 503 must go out instead.
    fast, _ = stacks
    body, token = _body(cases[0]), fast.token()
    assert (await _post(fast, body, token))[0] == 200
    path = _hit_path(fast)
    view = path.view()
    assert view is not None
    audit = view.services.audit
    tried: list[str] = []

    async def failing(entry: object) -> int:
        tried.append(REQUEST_ID.get())  # the id its log lines carry while it is recorded
        raise AuditUnavailable("the audit log cannot be written")

    monkeypatch.setattr(audit, "append", failing)
    status, sent, headers = await _post(fast, body, token)
    assert _code(status, sent) == (503, "AUDIT_UNAVAILABLE")
    assert b'"cached"' not in sent
    assert headers["Content-Type"].startswith("application/json")
    assert len(headers["X-Request-Id"]) == 32
    assert path.served == 1 and tried == [headers["X-Request-Id"]]


async def _request_counts(gw: Stack) -> dict[str, float]:
    # The HTTP and GraphQL-duration counts as scraped (durations themselves differ by run).
    async with gw.session.get(gw.base_url + "/metrics") as resp:
        assert resp.status == 200
        text = await resp.text()
    wanted = ("liandong_http_requests_total{", "liandong_graphql_operation_duration_seconds_count{")
    return {
        line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith(wanted) and 'route="/metrics"' not in line
    }


async def test_metrics_count_hits_at_the_door_as_the_normal_path_does(
    stacks: tuple[Stack, Stack], cases: list[CaseRecord]
) -> None:
    # Hits at the door are tallied without prometheus-client's locks and added when
    # scraped: the same requests must show the same counts as on the normal path.
    seen = []
    for gw in stacks:
        body, token = _body(cases[0]), gw.token()
        for _ in range(5):
            assert (await _post(gw, body, token))[0] == 200
        query = urlencode(
            {
                "query": PROFILE,
                "variables": orjson.dumps(
                    {"id": cases[0].debtor_ids[0], "caseNumber": cases[0].number}
                ).decode(),
            }
        )
        for _ in range(2):
            async with gw.session.get(
                f"{gw.url}?{query}", headers={"Authorization": f"Bearer {token}"}
            ) as resp:
                assert resp.status == 200
        seen.append(await _request_counts(gw))
    fast, slow = seen
    # Four POST hits, and both GETs: they ask what the POSTs asked, so they share its answer.
    assert _hit_path(stacks[0]).served == 6
    assert fast == slow
    assert fast['liandong_http_requests_total{method="POST",route="/graphql",status="200"}'] == 5
    assert fast['liandong_http_requests_total{method="GET",route="/graphql",status="200"}'] == 2
