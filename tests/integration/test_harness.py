"""The stack factory stops everything it started, and only that, however the test ends."""

from __future__ import annotations

from pathlib import Path

import aiohttp
import pytest

from mocks.records import CaseRecord
from mocks.runner import RunningMocks
from tests.harness import OFFICER, PROFILE, PROFILE_VARIABLES, Stack, StackFactory, open_stack


class Boom(Exception):
    pass


async def answers(url: str) -> bool:
    """Whether anything still answers HTTP at ``url``."""
    async with aiohttp.ClientSession() as session:
        try:
            async with session.get(url + "/healthz") as resp:
                await resp.read()
                return True
        except aiohttp.ClientConnectionError:
            return False


async def test_open_stack_stops_what_it_started_when_the_body_raises(
    tmp_path: Path, cases: list[CaseRecord]
) -> None:
    seen: list[Stack] = []
    with pytest.raises(Boom):
        async with open_stack(tmp_path, cases) as gw:
            seen.append(gw)
            data = await gw.graphql(PROFILE, PROFILE_VARIABLES)
            assert data["debtor"]["identity"]["provenance"]["agency"] == "PUBLIC_SECURITY"
            assert await gw.mock_requests("public_security") > 0
            raise Boom
    (gw,) = seen
    assert gw.session.closed
    assert not await answers(gw.base_url)
    for url in gw.mocks.urls.values():  # the mocks it started itself
        assert not await answers(url)


async def test_mocks_a_test_brings_outlive_its_stacks(
    tmp_path: Path, make_stack: StackFactory, mocks: RunningMocks, cases: list[CaseRecord]
) -> None:
    async with open_stack(tmp_path / "first", cases, mocks=mocks) as first:
        pass
    assert not await answers(first.base_url)
    second = await make_stack(cases, mocks=mocks)
    third = await make_stack(cases, mocks=mocks)
    assert second.settings.data_dir != third.settings.data_dir  # a data dir each
    for url in mocks.urls.values():
        assert await answers(url)
    status, _ = await third.post("{ __typename }")
    assert status == 200


async def test_a_child_process_gateway_is_stopped_and_its_cases_registered(
    tmp_path: Path, cases: list[CaseRecord]
) -> None:
    async with open_stack(tmp_path, cases, process=True) as stack:
        child = stack.process
        assert child is not None and child.proc is not None
        status, body = await stack.post(
            "query($c: String!) { case(number: $c) { number } }", {"c": cases[0].number}
        )
        assert status == 200 and body["data"]["case"]["number"] == cases[0].number, body
        assert stack.token(OFFICER)
    assert child.proc.returncode is not None
    assert not await answers(child.url)
