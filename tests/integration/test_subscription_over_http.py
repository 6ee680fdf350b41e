"""A subscription sent over HTTP is the client's mistake: a recorded 400, not an error of ours."""

from __future__ import annotations

import logging

import orjson
import pytest

from mocks.records import CaseRecord
from mocks.runner import RunningMocks
from tests.harness import StackFactory

SUBSCRIBE = "subscription($c: String!) { assetDiscovered(caseNumber: $c) { debtorId } }"


async def test_a_subscription_over_post_is_refused_and_recorded(
    make_stack: StackFactory,
    mocks: RunningMocks,
    cases: list[CaseRecord],
    caplog: pytest.LogCaptureFixture,
) -> None:
    gw = await make_stack(cases, mocks=mocks)
    body = orjson.dumps({"query": SUBSCRIBE, "variables": {"c": cases[0].number}})
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {gw.token()}"}
    with caplog.at_level(logging.INFO, logger="liandong"):
        async with gw.session.post(gw.url, data=body, headers=headers) as resp:
            status, answer = resp.status, orjson.loads(await resp.read())
    assert status == 400
    error = answer["errors"][0]
    assert error["extensions"]["code"] == "BAD_REQUEST"
    assert "subscriptions are not allowed" in error["message"]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    records = await gw.audit_records()
    assert [(r.outcome, r.code, r.http_status) for r in records] == [
        ("refused", "BAD_REQUEST", 400)
    ]
