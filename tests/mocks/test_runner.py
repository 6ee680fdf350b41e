"""start_mocks / serve / the pytest plugin: loopback only, ephemeral ports, clean teardown."""

from __future__ import annotations

import asyncio
import io
import subprocess
import sys
import textwrap
from pathlib import Path
from urllib.parse import urlsplit

import aiohttp
import pytest

from mocks.runner import AGENCIES, RunningMocks, serve, start_mocks
from mocks.world import World
from tests.mocks.helpers import wait_in_flight


async def test_start_and_close(world: World) -> None:
    running = await start_mocks(world)
    try:
        assert tuple(running.urls) == AGENCIES
        parts = [urlsplit(url) for url in running.urls.values()]
        assert {p.hostname for p in parts} == {"127.0.0.1"}
        ports = {p.port for p in parts}
        assert len(ports) == 4 and 0 not in ports
        async with aiohttp.ClientSession() as http:
            for url in running.urls.values():
                async with http.get(url + "/_stats") as resp:
                    assert resp.status == 200
    finally:
        await running.aclose()
    async with aiohttp.ClientSession() as http:
        with pytest.raises(aiohttp.ClientConnectionError):
            await http.get(running.urls["civil_affairs"] + "/_stats")


async def test_loopback_only(world: World) -> None:
    for host in ("0.0.0.0", "192.168.1.10", "example.org", "::"):
        with pytest.raises(ValueError, match="loopback"):
            await start_mocks(world, host=host)


async def test_unknown_port_name(world: World) -> None:
    with pytest.raises(ValueError, match="publicsecurity"):
        await start_mocks(world, ports={"publicsecurity": 0})


async def test_close_releases_hung_requests(world: World) -> None:
    running = await start_mocks(world)
    base = running.urls["land_registry"]
    running.faults("land_registry").update({"hang": True})
    async with aiohttp.ClientSession() as http:
        body = b'<RealEstateQuery><Owner idNumber="1"/></RealEstateQuery>'
        pending = asyncio.create_task(http.post(base + "/lr/query", data=body))
        await wait_in_flight(http, base, 1)
        await running.aclose()
        # Released by shutdown: answered or cut off, but never left hanging.
        try:
            resp = await pending
            resp.release()
        except aiohttp.ClientError:
            pass
    assert running.stats("land_registry").in_flight == 0


async def test_serve_prints_urls_and_stops_on_cancel(world: World) -> None:
    out = io.StringIO()
    ports = dict.fromkeys(AGENCIES, 0)
    task = asyncio.create_task(serve(world, "127.0.0.1", ports, out=out))
    for _ in range(500):
        if out.getvalue().count("\n") == 4:
            break
        await asyncio.sleep(0.01)
    lines = out.getvalue().splitlines()
    assert [line.split()[0] for line in lines] == list(AGENCIES)
    url = lines[0].split()[1]
    async with aiohttp.ClientSession() as http:
        async with http.get(url + "/_stats") as resp:
            assert resp.status == 200
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        with pytest.raises(aiohttp.ClientConnectionError):
            await http.get(url + "/_stats")


async def test_plugin_fixture(liandong_mocks: RunningMocks, liandong_world: World) -> None:
    assert liandong_mocks.world is liandong_world
    assert len(liandong_world.person_ids()) == 1000
    pid = liandong_world.person_ids()[0]
    async with aiohttp.ClientSession() as http:
        url = f"{liandong_mocks.urls['civil_affairs']}/ca/v2/marriage/{pid}"
        async with http.get(url) as resp:
            assert resp.status == 200


def test_plugin_works_in_strict_mode(tmp_path: Path) -> None:
    (tmp_path / "pytest.ini").write_text(
        textwrap.dedent(
            """\
            [pytest]
            asyncio_mode = strict
            asyncio_default_fixture_loop_scope = function
            filterwarnings = error
            """
        )
    )
    (tmp_path / "test_strict.py").write_text(
        textwrap.dedent(
            """\
            import pytest

            @pytest.mark.asyncio
            async def test_uses_mocks(liandong_mocks):
                assert set(liandong_mocks.urls) == {
                    "public_security", "civil_affairs", "land_registry", "market_regulation"
                }
            """
        )
    )
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout
