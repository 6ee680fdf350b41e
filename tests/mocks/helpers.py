"""Small HTTP helpers shared by the mock agency tests."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp
import pytest

from mocks.runner import RunningMocks
from mocks.signing import signed_headers


async def ps_post(
    http: aiohttp.ClientSession,
    mocks: RunningMocks,
    path: str,
    body: Any,
    *,
    secret: bytes | None = None,
    now: float | None = None,
) -> aiohttp.ClientResponse:
    """POST a signed JSON body to public security; the caller reads the response."""
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = signed_headers("test", secret or mocks.secret, "POST", path, raw, now=now)
    headers["Content-Type"] = "application/json"
    return await http.post(mocks.urls["public_security"] + path, data=raw, headers=headers)


async def stats(http: aiohttp.ClientSession, base_url: str) -> dict[str, Any]:
    async with http.get(base_url + "/_stats") as resp:
        assert resp.status == 200
        data: dict[str, Any] = await resp.json()
        return data


async def set_faults(http: aiohttp.ClientSession, base_url: str, **faults: Any) -> None:
    async with http.post(base_url + "/_faults", json=faults) as resp:
        assert resp.status == 200, await resp.text()


async def wait_in_flight(http: aiohttp.ClientSession, base_url: str, count: int) -> None:
    """Poll /_stats until ``count`` requests are in flight (bounded: fails after ~10 s)."""
    for _ in range(1000):
        if (await stats(http, base_url))["in_flight"] == count:
            return
        await asyncio.sleep(0.01)
    pytest.fail(f"in_flight never reached {count}")
