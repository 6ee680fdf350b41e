"""``/metrics``, ``agencies`` and the health routes, checked against the mocks' own counts."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from mocks.records import CaseRecord
from mocks.runner import AGENCIES
from mocks.world import World
from tests.assertions import metric, metric_sum
from tests.harness import PROFILE, Gateway, open_stack

pytestmark = pytest.mark.asyncio(loop_scope="module")

FIGURES = """{ agencies { name health circuitState
  stats { requests errors timeouts retries shortCircuited inFlight p50Ms p95Ms } } }"""


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def gw(
    tmp_path_factory: pytest.TempPathFactory, world: World, cases: list[CaseRecord]
) -> AsyncIterator[Gateway]:
    async with open_stack(
        tmp_path_factory.mktemp("metrics"),
        cases,
        world=world,
        cache={"enabled": False},
        limits={"deadline_s": 5.0},
        agencies={
            "land_registry": {"backoff_base_s": 0.01, "breaker_threshold": 100},
            "market_regulation": {"backoff_base_s": 0.01, "breaker_threshold": 100},
            "civil_affairs": {"max_retries": 1},
        },
    ) as running:
        yield running


async def profiles(gw: Gateway, cases: list[CaseRecord], count: int) -> None:
    for case in cases[:count]:
        status, _ = await gw.post(PROFILE, {"id": case.debtor_ids[0], "caseNumber": case.number})
        assert status == 200


async def test_metrics_match_the_mocks_counts(gw: Gateway, cases: list[CaseRecord]) -> None:
    await profiles(gw, cases, 5)
    await gw.set_faults("land_registry", {"error_rate": 0.5})
    await profiles(gw, cases, 6)
    await gw.set_faults("market_regulation", {"outage": True})
    await gw.set_faults("civil_affairs", {"status_storm_429": True})
    await profiles(gw, cases, 2)
    await gw.clear_faults()

    samples = await gw.scrape()
    _, figures = await gw.post(FIGURES, token=gw.token(roles=["admin"]))
    by_name = {row["name"]: row for row in figures["data"]["agencies"]}
    for agency in AGENCIES:
        log = await gw.mock_log(agency)
        sent = await gw.mock_requests(agency)
        failed_5xx = sum(1 for e in log if e["status"] is not None and e["status"] >= 500)
        limited = sum(1 for e in log if e["status"] == 429)
        assert len(log) == sent > 0

        assert metric(samples, "liandong_agency_requests_total", agency=agency) == sent
        assert (
            metric(
                samples, "liandong_agency_errors_total", agency=agency, code="AGENCY_UNAVAILABLE"
            )
            == failed_5xx
        )
        assert (
            metric(samples, "liandong_agency_errors_total", agency=agency, code="AGENCY_REJECTED")
            == limited
        )
        errors = metric_sum(samples, "liandong_agency_errors_total", agency=agency)
        assert errors == failed_5xx + limited
        hist = "liandong_agency_request_duration_seconds"
        assert metric(samples, hist + "_count", agency=agency) == sent
        assert metric(samples, hist + "_bucket", agency=agency, le="+Inf") == sent
        assert metric(samples, hist + "_sum", agency=agency) > 0

        stats = by_name[agency.upper()]["stats"]
        assert (stats["requests"], stats["errors"], stats["inFlight"]) == (sent, errors, 0)
        assert 0 < stats["p50Ms"] <= stats["p95Ms"]

    # The faults left their marks where they were set, and only there.
    assert metric(samples, "liandong_agency_retries_total", agency="land_registry") > 0
    assert metric(samples, "liandong_agency_retries_total", agency="public_security") == 0
    assert metric_sum(samples, "liandong_agency_errors_total", agency="public_security") == 0
    assert metric(samples, "liandong_cache_entries") == 0  # the cache is off here
    for agency in AGENCIES:
        states = [
            s
            for s in ("CLOSED", "OPEN", "HALF_OPEN")
            if metric(samples, "liandong_agency_circuit_state", agency=agency, state=s) == 1
        ]
        assert states == ["CLOSED"]


@pytest.mark.parametrize("role", ["officer", "judge", "court_system", "admin", "auditor"])
async def test_court_roles_see_agency_figures(gw: Gateway, role: str) -> None:
    status, body = await gw.post(FIGURES, token=gw.token(roles=[role]))
    assert status == 200 and "errors" not in body, body
    names = [row["name"] for row in body["data"]["agencies"]]
    assert names == [a.upper() for a in AGENCIES]
    for row in body["data"]["agencies"]:
        assert row["health"] in {"UNKNOWN", "UP", "DEGRADED", "DOWN"}
        assert row["circuitState"] == "CLOSED"


@pytest.mark.parametrize("role", ["agency", "subject"])
async def test_outside_roles_do_not(gw: Gateway, role: str) -> None:
    status, body = await gw.post(FIGURES, token=gw.token(roles=[role]))
    assert status == 200
    assert body["data"] is None
    (error,) = body["errors"]
    assert error["extensions"]["code"] == "FORBIDDEN"


async def test_health_routes(gw: Gateway) -> None:
    async with gw.session.get(gw.base_url + "/healthz") as resp:
        assert resp.status == 200 and (await resp.json()) == {"status": "ok"}
    async with gw.session.get(gw.base_url + "/readyz") as resp:
        ready: dict[str, Any] = await resp.json()
    assert resp.status == 200
    assert ready["status"] == "ok" and ready["store"] == "ok" and ready["audit"] == "ok"
    assert set(ready["agencies"]) == set(AGENCIES)
    assert set(ready["agenciesUp"]) == set(AGENCIES)
    for agency in ready["agencies"].values():
        assert agency["circuit"] == "CLOSED"


async def test_audit_figures_count_records_and_commits(
    gw: Gateway, cases: list[CaseRecord]
) -> None:
    before = await gw.scrape()
    await profiles(gw, cases, 4)
    after = await gw.scrape()
    records = metric_sum(after, "liandong_audit_records_total") - metric_sum(
        before, "liandong_audit_records_total"
    )
    commits = metric_sum(after, "liandong_audit_commits_total") - metric_sum(
        before, "liandong_audit_commits_total"
    )
    assert records == 4  # one record per look-up; scrapes are not recorded
    assert 1 <= commits <= records  # one after another: at most one commit each
    assert metric_sum(after, "liandong_audit_lock_waits_total") == 0  # one process, no rival
    # The series names the process's chain (one process: one chain, writer index 0).
    [labels] = [dict(ls) for n, ls in after if n == "liandong_audit_records_total"]
    assert labels.keys() == {"chain"} and labels["chain"].endswith("-0")
