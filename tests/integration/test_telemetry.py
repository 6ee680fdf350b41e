"""Traces of a look-up, exported over OTLP to a real receiver, and trace ids in errors."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from mocks.records import CaseRecord
from mocks.runner import RunningMocks
from tests.audit_reading import one_record
from tests.harness import PROFILE, PROFILE_VARIABLES, Gateway, open_stack
from tests.servers.otlp_receiver import otlp_receiver

CLEAR_ID = PROFILE_VARIABLES["id"]


async def _post(
    gw: Gateway, query: str, variables: dict[str, Any], headers: dict[str, str] | None = None
) -> tuple[dict[str, Any], str]:
    """The body and the gateway's request id of one POST."""
    sent = {"Authorization": f"Bearer {gw.token()}", **(headers or {})}
    payload = {"query": query, "variables": variables}
    async with gw.session.post(gw.url, json=payload, headers=sent) as resp:
        assert resp.status == 200
        return await resp.json(), resp.headers["X-Request-Id"]


async def test_a_profile_lookup_exports_one_request_span_and_one_child_per_agency_call(
    tmp_path: Path, mocks: RunningMocks, cases: list[CaseRecord]
) -> None:
    async with otlp_receiver() as receiver:
        telemetry = {"otlp_endpoint": receiver.url + "/v1/traces", "service_name": "court-gw"}
        async with open_stack(tmp_path, cases, mocks=mocks, telemetry=telemetry) as gw:
            await gw.reset_stats()
            body, request_id = await _post(gw, PROFILE, PROFILE_VARIABLES)
            assert "errors" not in body
            record = await one_record(gw.settings, request_id)
            sent = {a: sum((await gw.stats(a))["requests"].values()) for a in gw.mocks.urls}
        # Stopping the gateway exports what it has not sent yet.
        spans = receiver.spans

    servers = [s for s in spans if s.is_server]
    assert len(servers) == 1
    root = servers[0]
    assert root.trace_id == request_id  # one id finds the record, the logs and the trace
    assert root.parent_span_id == ""
    assert root.service == "court-gw"
    assert root.attributes["http.response.status_code"] == 200
    assert root.attributes["liandong.request_id"] == request_id

    children = [s for s in spans if not s.is_server]
    assert all(s.parent_span_id == root.span_id for s in children)
    assert all(s.trace_id == root.trace_id for s in children)
    # One child per agency call: the same batches the audit record lists, no more.
    assert sorted(
        (c.attributes["liandong.agency"], c.attributes["liandong.facet"]) for c in children
    ) == sorted((a["agency"], a["facet"]) for a in record.agencies)
    assert {c.attributes["liandong.agency"] for c in children} == set(gw.mocks.urls)
    for child in children:
        assert child.attributes["liandong.status"] == "ok"
        assert child.attributes["liandong.cache_hit"] is False
        assert child.attributes["liandong.keys"] == child.attributes["liandong.keys_sent"]
        assert child.attributes["liandong.retries"] == 0
    attempts: Counter[str] = Counter()
    for child in children:
        attempts[str(child.attributes["liandong.agency"])] += int(
            child.attributes["liandong.attempts"]
        )
    assert attempts == Counter(sent)  # every request the mocks received is on a span
    # Counts and codes only: no personal number anywhere in a span.
    for span in spans:
        assert all(CLEAR_ID not in str(v) for v in span.attributes.values())
        assert CLEAR_ID not in span.name


async def test_a_cached_lookup_has_cache_hit_children_and_sends_nothing(
    tmp_path: Path, mocks: RunningMocks, cases: list[CaseRecord]
) -> None:
    async with otlp_receiver() as receiver:
        telemetry = {"otlp_endpoint": receiver.url + "/v1/traces"}
        async with open_stack(tmp_path, cases, mocks=mocks, telemetry=telemetry) as gw:
            await _post(gw, PROFILE, PROFILE_VARIABLES)
            _, second = await _post(gw, PROFILE, PROFILE_VARIABLES)
        again = [s for s in receiver.spans if s.trace_id == second and not s.is_server]
    # The second look-up is answered from the cache (or from the request's facts at hand,
    # which make no batch at all): whatever batch it made sent nothing.
    assert all(s.attributes["liandong.cache_hit"] is True for s in again)
    assert all(s.attributes["liandong.attempts"] == 0 for s in again)


async def test_an_agency_error_carries_the_trace_id(
    tmp_path: Path, mocks: RunningMocks, cases: list[CaseRecord]
) -> None:
    caller_trace = "4bf92f3577b34da6a3ce929d0e0e4736"
    traceparent = f"00-{caller_trace}-00f067aa0ba902b7-01"
    async with otlp_receiver() as receiver:
        telemetry = {"otlp_endpoint": receiver.url + "/v1/traces"}
        async with open_stack(tmp_path, cases, mocks=mocks, telemetry=telemetry) as gw:
            await gw.set_faults("civil_affairs", {"outage": True})
            body, _ = await _post(gw, PROFILE, PROFILE_VARIABLES, {"traceparent": traceparent})
        failed = [
            s for s in receiver.spans if s.attributes.get("liandong.agency") == "civil_affairs"
        ]
    errors = body["errors"]
    assert errors and all(e["extensions"]["traceId"] == caller_trace for e in errors)
    assert any(e["extensions"].get("agency") == "CIVIL_AFFAIRS" for e in errors)
    # The request joined the caller's trace, and the failing call is marked on its span.
    assert failed and all(s.trace_id == caller_trace for s in failed)
    assert all(s.attributes["liandong.status"] != "ok" for s in failed)


async def test_without_tracing_errors_carry_the_request_id_as_trace_id(
    tmp_path: Path, mocks: RunningMocks, cases: list[CaseRecord]
) -> None:
    async with open_stack(tmp_path, cases, mocks=mocks) as gw:
        await gw.set_faults("civil_affairs", {"outage": True})
        body, request_id = await _post(gw, PROFILE, PROFILE_VARIABLES)
        async with gw.session.post(gw.url, json={"query": "{ __typename }"}) as resp:
            refused = await resp.json()
            assert resp.status == 401
            refused_id = resp.headers["X-Request-Id"]
    assert body["errors"] and all(e["extensions"]["traceId"] == request_id for e in body["errors"])
    assert refused["errors"][0]["extensions"]["traceId"] == refused_id
