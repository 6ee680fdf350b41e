"""``liandong demo`` as a user runs it: a real process, then the README's first query."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp
import pytest

from tests.harness import PROFILE, PROFILE_VARIABLES

AGENCIES = ("public_security", "civil_affairs", "land_registry", "market_regulation")


def free_ports(n: int) -> list[int]:
    socks = [socket.socket() for _ in range(n)]
    try:
        for s in socks:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def liandong() -> list[str]:
    return [sys.executable, "-m", "gateway.cli.main"]


@pytest.fixture
async def demo(tmp_path: Path) -> AsyncIterator[tuple[str, dict[str, str]]]:
    async with running_demo(tmp_path / "data") as running:
        yield running


@asynccontextmanager
async def running_demo(data_dir: Path) -> AsyncIterator[tuple[str, dict[str, str]]]:
    """``liandong demo`` on ``data_dir`` and free ports: its GraphQL URL and environment."""
    gw_port, *agency_ports = free_ports(5)
    env = dict(os.environ, LIANDONG_DATA_DIR=str(data_dir))
    for name, port in zip(AGENCIES, agency_ports, strict=True):
        env[f"LIANDONG_AGENCIES__{name.upper()}__BASE_URL"] = f"http://127.0.0.1:{port}"
    proc = await asyncio.create_subprocess_exec(
        *liandong(),
        "demo",
        "--port",
        str(gw_port),
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    assert proc.stdout is not None
    try:
        async with asyncio.timeout(60):
            while True:
                line = (await proc.stdout.readline()).decode()
                assert line, "the demo exited before printing its token"
                if line.startswith("Dev token"):
                    token = (await proc.stdout.readline()).decode().strip()
                    break
        yield f"http://127.0.0.1:{gw_port}/graphql", env | {"TOKEN": token}
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            async with asyncio.timeout(20):
                await proc.wait()
        except TimeoutError:
            proc.kill()
            await proc.wait()


async def test_demo_serves_the_example_profile_with_the_cli_token(
    demo: tuple[str, dict[str, str]],
) -> None:
    url, env = demo
    # `liandong token` must print a token the running demo accepts (same local secret).
    proc = await asyncio.create_subprocess_exec(
        *liandong(), "token", env=env, stdout=asyncio.subprocess.PIPE
    )
    out, _ = await proc.communicate()
    assert proc.returncode == 0
    cli_token = out.decode().strip()
    async with aiohttp.ClientSession() as session:
        for token in (env["TOKEN"], cli_token):
            async with session.post(
                url,
                json={"query": PROFILE, "variables": PROFILE_VARIABLES},
                headers={"Authorization": f"Bearer {token}"},
            ) as resp:
                assert resp.status == 200
                body = await resp.json()
            assert "errors" not in body, body["errors"]
            debtor = body["data"]["debtor"]
            assert debtor["identity"]["name"]
            assert debtor["marriage"]["spouse"]["identity"]["name"]
            agencies = {a["provenance"]["agency"] for a in debtor["assets"]}
            assert agencies == {"LAND_REGISTRY", "PUBLIC_SECURITY", "MARKET_REGULATION"}
            assert debtor["restrictions"]["edges"]
        async with session.get(url, headers={"Accept": "text/html"}) as resp:
            assert resp.status == 200
            assert "graphiql" in (await resp.text()).lower()


async def test_demo_brings_an_older_data_dir_up_to_date(tmp_path: Path) -> None:
    # A data dir made before the store had assistance_requests.reason (revision store_0002).
    from gateway.migrations.runner import upgrade

    data_dir = tmp_path / "data"
    await upgrade(f"sqlite+aiosqlite:///{data_dir / 'liandong.db'}", "store", "store_0002")
    async with running_demo(data_dir) as (url, env), aiohttp.ClientSession() as session:
        query = """query($n: String!) { case(number: $n) {
          assistanceRequests { edges { node { id reason } } } } }"""
        async with session.post(
            url,
            json={"query": query, "variables": {"n": PROFILE_VARIABLES["caseNumber"]}},
            headers={"Authorization": f"Bearer {env['TOKEN']}"},
        ) as resp:
            body = await resp.json()
    assert "errors" not in body, body["errors"]
    assert body["data"]["case"]["assistanceRequests"]["edges"] == []
