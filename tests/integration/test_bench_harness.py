"""The bench's own parts, checked by counts (never by time): ``make bench`` stands on them."""

from __future__ import annotations

import asyncio
import os
import sys
import tomllib
from pathlib import Path

import orjson
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bench.audit_batches import measure as measure_audit_batches
from bench.fixtures import PROFILE_MANY, GatewayConfig, person_cases
from bench.inprocess import call, running
from bench.load import encode_requests, run
from bench.plain import create_app as plain_app
from bench.processes import Proc
from bench.report import rows as report_rows
from bench.scenarios import BatchLimits, batch_expectations
from gateway.settings import load_settings
from gateway.web.server import start_server
from mocks.runner import RunningMocks
from mocks.world import World
from tests.harness import OFFICER, open_stack

N = 120  # more than one batch at every agency: 2 × 100, 3 × 50


async def test_batch_scenario_expects_exactly_what_the_agencies_receive(
    tmp_path: Path, roomy_mocks: RunningMocks, world: World
) -> None:
    ids = list(world.person_ids()[:N])
    (case,) = person_cases(ids, N, 9001)
    case.officers = [OFFICER]
    async with open_stack(
        tmp_path, mocks=roomy_mocks, court=case.court, cache={"enabled": False}
    ) as gw:
        await gw.add_case(case)
        status, body = await gw.post(PROFILE_MANY, {"ids": ids, "caseNumber": case.number})
        assert status == 200 and "errors" not in body, body.get("errors")
        assert len(body["data"]["debtors"]) == N
        expected, pages = batch_expectations(world, ids, BatchLimits(20, 200.0, 50, 4))
        observed: dict[str, int] = {}
        for agency in roomy_mocks.urls:
            observed.update((await gw.stats(agency))["requests"])
    assert observed == expected
    assert expected["POST /ps/v1/vehicles/query"] == 2
    assert expected["POST /lr/query"] == 3
    assert len(pages) == 3


def test_lower_bound_is_the_civil_affairs_chain_plus_the_spouse_hop() -> None:
    limits = BatchLimits(latency_ms=20, ca_rate=200.0, ca_burst=50, ca_concurrency=4)
    expected = {
        "GET /ca/v2/marriage/{id}": 500,
        "POST /ps/v1/vehicles/query": 5,
        "POST /ps/v1/exit-bans/query": 5,
        "POST /lr/query": 10,
    }
    # 125 rounds of 4 at 20 ms (2.5 s) outlast the bucket's (500 - 50) / 200 = 2.25 s.
    assert limits.lower_bound_s(expected, [1] * 10) == pytest.approx(2.52)


def test_bench_config_is_read_by_the_gateway_settings(tmp_path: Path) -> None:
    urls = {
        name: f"http://127.0.0.1:{9000 + i}"
        for i, name in enumerate(
            ("public_security", "civil_affairs", "land_registry", "market_regulation")
        )
    }
    path = GatewayConfig(tmp_path / "data", urls, cache=False, ca_concurrency=3).write(
        tmp_path / "gw.toml"
    )
    tomllib.loads(path.read_text(encoding="utf-8"))
    settings = load_settings(path)
    assert settings.cache.enabled is False
    assert settings.agencies["civil_affairs"].max_concurrency == 3
    assert settings.agencies["land_registry"].base_url == urls["land_registry"]
    assert settings.data_dir == tmp_path / "data"


async def test_load_generator_sends_exactly_the_requests_it_counts() -> None:
    bodies = {str(i): orjson.dumps({"data": {"n": i}}) for i in range(7)}
    server = await start_server(plain_app(bodies))
    try:
        host, port = server.url.removeprefix("http://").split(":")
        requests = encode_requests(
            host,
            int(port),
            "/graphql",
            "",
            [orjson.dumps({"variables": {"id": key}}) for key in [*bodies, "missing"]],
        )
        result = await run(
            host, int(port), requests, concurrency=4, count=40, seconds=60, warmup_s=0
        )
    finally:
        await server.stop()
    figures = result.as_json()
    assert figures["requests"] == 40
    # Every eighth request asks for an id the app has no body for: 404, counted as such.
    assert figures["statuses"] == {"200": 35, "404": 5}
    assert figures["graphql_errors"] == 5
    assert figures["transport_errors"] == 0


async def test_audit_batches_commit_the_batch_size_it_names(tmp_path: Path) -> None:
    # Counts only: k concurrent appends make one commit of k records.
    row = await measure_audit_batches(tmp_path, batch=4, records=40)
    assert row["batch"] == 4 and row["commits"] == 10


async def test_inprocess_calls_the_app_as_a_server_would() -> None:
    seen: list[bytes] = []

    async def graphql(request: Request) -> Response:
        seen.append(await request.body())
        assert request.headers["authorization"] == "Bearer t0ken"
        return Response(b'{"data":{}}', media_type="application/json")

    app = Starlette(routes=[Route("/graphql", graphql, methods=["POST"])])
    async with running(app):
        sent = await call(app, b'{"query":"{ a }"}', "t0ken")
    assert sent[0]["status"] == 200 and sent[-1]["body"] == b'{"data":{}}'
    assert seen == [b'{"query":"{ a }"}']


async def test_worker_cpu_is_split_between_the_main_thread_and_the_others() -> None:
    # The main thread sleeps while a second thread burns 0.3 s of CPU: that CPU counts for
    # the process but not for its main thread (the split the audit rows of the table use).
    script = (
        "import threading, time\n"
        "def burn():\n"
        "    while time.thread_time() < 0.3: pass\n"
        "t = threading.Thread(target=burn); t.start(); t.join()\n"
        "print('done', flush=True)\n"
        "time.sleep(30)\n"
    )
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-c", script, stdout=asyncio.subprocess.PIPE
    )
    try:
        assert child.stdout is not None
        assert (await child.stdout.readline()).strip() == b"done"
        sample = Proc("burner", child).cpu()
    finally:
        child.kill()
        await child.wait()
    tick = 1 / os.sysconf("SC_CLK_TCK")  # /proc counts in ticks, each thread rounded apart
    assert sample.cpu_s >= 0.3 - tick
    assert sample.loop_cpu_s <= sample.cpu_s - 0.3 + 2 * tick


def test_audit_rows_split_the_audit_cost_by_thread() -> None:
    on = {
        "rps": 900.0,
        "p50_ms": 30.0,
        "p99_ms": 60.0,
        "server_cpu_ms_per_req": 0.93,
        "server_loop_cpu_ms_per_req": 0.86,
    }
    off = {
        "rps": 1200.0,
        "p50_ms": 20.0,
        "p99_ms": 40.0,
        "server_cpu_ms_per_req": 0.69,
        "server_loop_cpu_ms_per_req": 0.68,
    }
    audit = {"on": on, "off": off, "ratio": 0.75, "cpu_ratio": 0.742}
    split = [r for r in report_rows({"audit": audit}) if "other threads" in r.figure]
    assert [r.value for r in split] == ["0.240 ms = 0.180 + 0.060"]
