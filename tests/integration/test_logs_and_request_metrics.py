"""JSON log lines with the request and trace ids, and the HTTP and GraphQL series of /metrics."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from gateway.log_setup import configure_logging
from gateway.telemetry_settings import LogSettings
from mocks.records import CaseRecord
from mocks.runner import RunningMocks
from tests.harness import PROFILE, PROFILE_VARIABLES, Gateway, open_stack
from tests.servers.otlp_receiver import otlp_receiver


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    """The root logger writing JSON lines into a buffer, as ``[log] format = "json"`` does."""
    root = logging.getLogger()
    level = root.level
    buffer = io.StringIO()
    handler = configure_logging(LogSettings(format="json", level="debug"), stream=buffer)
    try:
        yield buffer
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


async def _post(gw: Gateway, query: str, variables: dict[str, Any] | None = None) -> str:
    headers = {"Authorization": f"Bearer {gw.token()}"}
    payload = {"query": query, "variables": variables or {}}
    async with gw.session.post(gw.url, json=payload, headers=headers) as resp:
        await resp.read()
        return resp.headers["X-Request-Id"]


@pytest.mark.parametrize("traced", [False, True])
async def test_json_log_lines_carry_the_request_and_trace_ids(
    tmp_path: Path,
    mocks: RunningMocks,
    cases: list[CaseRecord],
    json_log: io.StringIO,
    traced: bool,
) -> None:
    async with otlp_receiver() as receiver:
        telemetry = {"otlp_endpoint": receiver.url + "/v1/traces"} if traced else {}
        async with open_stack(tmp_path, cases, mocks=mocks, telemetry=telemetry) as gw:
            await gw.set_faults("civil_affairs", {"outage": True})
            request_id = await _post(gw, PROFILE, PROFILE_VARIABLES)
    lines = [json.loads(line) for line in json_log.getvalue().splitlines()]
    ours = [line for line in lines if line["logger"] == "liandong.agency"]
    # The retries (logged without ids by the HTTP client) get them from the request.
    retries = [line for line in ours if line["message"].startswith("retrying civil_affairs")]
    assert retries and all(line["level"] == "DEBUG" for line in retries)
    assert all(line["request_id"] == line["trace_id"] == request_id for line in retries)
    failures = [line for line in ours if line["level"] == "WARNING"]
    assert failures, "the failing agency is logged"
    for line in failures:
        assert line["request_id"] == request_id
        assert line["trace_id"] == request_id  # a request's trace id is its request id
        assert line["agency"] == "civil_affairs"
        assert line["code"].startswith("AGENCY_")
    assert PROFILE_VARIABLES["id"] not in json_log.getvalue()


def _samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    out: dict[tuple[str, frozenset[tuple[str, str]]], float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return out


def _get(
    samples: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str
) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


async def test_metrics_count_http_requests_operations_errors_and_rate_limits(
    tmp_path: Path, mocks: RunningMocks, cases: list[CaseRecord]
) -> None:
    # The bucket holds 6 and refills one every 10 s: the 7th request of the officer is refused.
    limits = {"rate_per_minute": 6}
    async with open_stack(tmp_path, cases, mocks=mocks, limits=limits) as gw:
        await gw.set_faults("civil_affairs", {"outage": True})
        for _ in range(2):
            await _post(gw, PROFILE, PROFILE_VARIABLES)  # query Profile
        await _post(gw, "{ __typename }")
        for _ in range(4):  # 3 more are allowed, then the limit refuses
            await _post(gw, "query Ping { __typename }")
        async with gw.session.post(gw.url, json={"query": "{ __typename }"}) as resp:
            assert resp.status == 401  # no token: counted against the address, not the officer
        for _ in range(2):
            async with gw.session.get(gw.base_url + "/nowhere/" + "x" * 8) as resp:
                assert resp.status == 404
        async with gw.session.get(gw.base_url + "/metrics") as resp:
            samples = _samples(await resp.text())
    post = {"route": "/graphql", "method": "POST"}
    assert _get(samples, "liandong_http_requests_total", status="200", **post) == 6
    assert _get(samples, "liandong_http_requests_total", status="429", **post) == 1
    assert _get(samples, "liandong_http_requests_total", status="401", **post) == 1
    assert (
        _get(samples, "liandong_http_requests_total", route="other", method="GET", status="404")
        == 2
    )
    assert _get(samples, "liandong_rate_limited_total") == 1
    op = "liandong_graphql_operation_duration_seconds_count"
    assert _get(samples, op, operation="Profile") == 2
    assert _get(samples, op, operation="anonymous") == 1  # { __typename }
    assert _get(samples, op, operation="Ping") == 3
    assert _get(samples, op, operation="unknown") == 2  # refused before it ran: 429 and 401
    errors = "liandong_graphql_errors_total"
    assert _get(samples, errors, code="RATE_LIMITED") == 1
    assert _get(samples, errors, code="UNAUTHENTICATED") == 1
    agency = [v for (n, labels), v in samples.items() if n == errors and _agency_code(labels)]
    assert sum(agency) >= 2  # the civil-affairs outage, at least once per profile look-up


def _agency_code(labels: frozenset[tuple[str, str]]) -> bool:
    return any(k == "code" and v.startswith("AGENCY_") for k, v in labels)
