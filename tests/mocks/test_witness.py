"""The witness mock over HTTP: it keeps every head, and refuses forgeries and contradictions."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from gateway.audit.signed_head import TreeHead, sign_head
from mocks.witness import RunningWitness, create_app, start_witness

KEY = Ed25519PrivateKey.generate()
PEM = KEY.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
T0 = datetime(2026, 12, 5, 8, 0, tzinfo=UTC)


def head(size: int, root: str = "", at: int = 0, chain: str = "w1", key: Any = KEY) -> Any:
    root = root or f"{size:064x}"
    return sign_head(TreeHead(chain, size, root, T0 + timedelta(seconds=at)), key).to_json()


@pytest.fixture
async def running() -> AsyncIterator[RunningWitness]:
    served = await start_witness(create_app([PEM]))
    try:
        yield served
    finally:
        await served.aclose()


async def post(url: str, body: Any) -> tuple[int, Any]:
    async with aiohttp.ClientSession() as s, s.post(f"{url}/heads", json=body) as resp:
        return resp.status, await resp.json()


async def get(url: str, **params: str) -> Any:
    async with aiohttp.ClientSession() as s, s.get(f"{url}/heads", params=params) as resp:
        assert resp.status == 200
        return await resp.json()


async def test_every_head_is_kept_and_the_newest_is_listed(running: RunningWitness) -> None:
    for n, size in enumerate((3, 7, 7, 12)):
        status, _ = await post(running.url, head(size, at=n))
        assert status == 201
    assert (await post(running.url, head(7, at=1)))[0] == 200  # the same head again
    await post(running.url, head(1, chain="w2"))
    every = (await get(running.url, chain="w1"))["heads"]
    assert [(h["size"], h["time"][-9:]) for h in every] == [
        (3, "0.000000Z"), (7, "1.000000Z"), (7, "2.000000Z"), (12, "3.000000Z")
    ]  # fmt: skip
    newest = (await get(running.url))["heads"]
    assert [(h["chain"], h["size"]) for h in newest] == [("w1", 12), ("w2", 1)]
    assert running.state.kept() == 5 and running.state.counts["duplicates"] == 1


@pytest.mark.parametrize(
    ("later", "why"),
    [
        (head(7, root="ee" * 32, at=9), "same size, another root"),
        (head(5, at=9), "smaller, but later"),
        (head(9, at=-9), "larger, but earlier"),
    ],
)
async def test_a_contradicting_head_is_refused_with_409(
    running: RunningWitness, later: Any, why: str
) -> None:
    assert (await post(running.url, head(7, at=0)))[0] == 201
    status, body = await post(running.url, later)
    assert status == 409, why
    assert body["held"]["size"] == 7
    assert len((await get(running.url, chain="w1"))["heads"]) == 1


async def test_forged_and_untrusted_heads_are_refused(running: RunningWitness) -> None:
    forged = head(4)
    forged["root"] = "ff" * 32
    assert (await post(running.url, forged))[0] == 403
    assert (await post(running.url, head(4, key=Ed25519PrivateKey.generate())))[0] == 403
    assert (await post(running.url, {"chain": "w1"}))[0] == 400
    assert running.state.kept() == 0
    assert running.state.counts["refused_403"] == 2


async def test_keys_dropped_in_the_trusted_folder_are_picked_up(tmp_path: Path) -> None:
    served = await start_witness(create_app(trusted_dir=tmp_path))
    try:
        assert (await post(served.url, head(2)))[0] == 403
        (tmp_path / "gateway.pub").write_bytes(PEM)
        assert (await post(served.url, head(2)))[0] == 201
    finally:
        await served.aclose()
