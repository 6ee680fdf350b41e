"""Plain JSON POSTs answered at the door of the app (gateway/web/plain_post.py).

The door must answer exactly as the normal path does (status, headers, codes, data) and
record exactly what it records; whatever is not plain must reach the normal path intact.
Counts, never timings: the path's own counters (``served``, ``passed``) and the records.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Any

import orjson
import pytest

from connectors.tracing import REQUEST_ID
from gateway.errors import AuditUnavailable
from gateway.web.plain_post import PlainPost
from mocks.records import CaseRecord
from mocks.runner import RunningMocks
from tests.harness import OUTSIDER, PROFILE, Stack, StackFactory

pytestmark = pytest.mark.usefixtures("mocks", "_shortcuts_on")


@pytest.fixture
def _shortcuts_on(monkeypatch: pytest.MonkeyPatch) -> None:
    # The door is one of the execution shortcuts; the suite may run with them off.
    monkeypatch.setenv("LIANDONG_EXECUTION_SHORTCUTS", "true")


NAME_ONLY = (
    "query Name($id: ID!, $caseNumber: String!) "
    "{ debtor(id: $id, caseNumber: $caseNumber) { identity { name } } }"
)
TWO_OPERATIONS = "query A { __typename } query B { __typename }"
SUBSCRIBE = "subscription($c: String!) { assetDiscovered(caseNumber: $c) { debtorId } }"


def _door(gw: Stack) -> PlainPost:
    door = gw.app.plain_post
    assert isinstance(door, PlainPost)
    return door


async def _post(
    gw: Stack, body: Any, token: str | None, headers: Mapping[str, str] | None = None
) -> tuple[int, bytes, Mapping[str, str]]:
    sent = {"Content-Type": "application/json", **(headers or {})}
    if token is not None:
        sent["Authorization"] = f"Bearer {token}"
    async with gw.session.post(gw.url, data=body, headers=sent) as resp:
        return resp.status, await resp.read(), resp.headers


def _shape(status: int, body: bytes, headers: Mapping[str, str]) -> tuple[Any, ...]:
    """What must agree between the two paths: everything but ids, times and trace ids."""
    parsed = orjson.loads(body)
    errors = [
        (e.get("message"), e.get("path"), e.get("extensions", {}).get("code"))
        for e in parsed.get("errors") or []
    ]
    return (
        status,
        headers["Content-Type"],
        sorted(k.lower() for k in headers if k.lower() not in {"date", "server"}),
        errors,
        _facts(parsed.get("data")),
        "data" in parsed,
    )


_OWN = {"fetchedAt", "expiresAt", "id"}  # times of the build; handles under each gateway's key


def _facts(data: Any) -> Any:
    # What two builds by two gateways must agree on: the facts.
    if isinstance(data, dict):
        return {k: _facts(v) for k, v in data.items() if k not in _OWN}
    if isinstance(data, list):
        return [_facts(v) for v in data]
    return data


def _record(record: Any) -> tuple[Any, ...]:
    return (
        record.outcome,
        record.code,
        record.http_status,
        record.case_number,
        record.operation,
        record.document_hash,
        record.variables,
        record.debtors,
        [(a["agency"], a["facet"], a["keys"], a["status"]) for a in record.agencies],
        {k: v for k, v in record.detail.items() if k not in {"client", "errors"}},
        record.client_request_id,
    )


@pytest.fixture
async def stacks(
    make_stack: StackFactory, mocks: RunningMocks, cases: list[CaseRecord]
) -> AsyncIterator[tuple[Stack, Stack]]:
    """The same gateway twice, the response cache off: plain POSTs at the door, and every
    request through starlette and strawberry's view."""
    door = await make_stack(cases, mocks=mocks, response_cache={"enabled": False})
    normal = await make_stack(cases, mocks=mocks, response_cache={"enabled": False})
    assert isinstance(door.app.plain_post, PlainPost)
    normal.app.plain_post = None
    yield door, normal


def _requests(
    cases: list[CaseRecord], token: str, bad: str
) -> list[tuple[bytes, str | None, dict[str, str], bool]]:
    """(body, token, headers, plain): what a client might send, and whether it is plain."""
    case = cases[0]
    asked = {"id": case.debtor_ids[0], "caseNumber": case.number}
    other = {"id": case.debtor_ids[0], "caseNumber": cases[1].number}
    js = orjson.dumps
    return [
        (js({"query": PROFILE, "variables": asked}), token, {"X-Request-Id": "mine-1"}, True),
        (js({"query": NAME_ONLY, "variables": asked, "operationName": "Name"}), token, {}, True),
        (js({"query": PROFILE, "variables": other}), token, {}, True),  # not on that case
        (js({"query": PROFILE, "variables": asked}), bad, {}, True),  # not on the case
        (js({"query": "{ debtor(id: ", "variables": asked}), token, {}, True),  # no parse
        (js({"query": "{ nothing }"}), token, {}, True),  # no validation
        (js({"query": TWO_OPERATIONS}), token, {}, True),  # no operation name
        (js({"query": TWO_OPERATIONS, "operationName": "C"}), token, {}, True),  # no such op
        (js({"query": SUBSCRIBE, "variables": {"c": case.number}}), token, {}, True),
        (js({"query": NAME_ONLY, "variables": {"id": 5, "caseNumber": "x"}}), token, {}, True),
        (js({"query": NAME_ONLY, "variables": asked, "extensions": {"a": 1}}), token, {}, True),
        (b'{"query": "{ __typename }", "variables": {"id": "\\ud800"}}', token, {}, False),
        (js([{"query": PROFILE, "variables": asked}]), token, {}, False),  # a batch
        (js({"variables": asked}), token, {}, False),  # no query
        (js({"query": 5}), token, {}, False),  # not a string
        (b"{not json", token, {}, False),
        (js({"query": PROFILE, "variables": asked}), None, {}, False),  # no token
        (js({"query": PROFILE, "variables": asked}), token + "x", {}, False),  # bad token
        (
            js({"query": "{ nothing }"}),
            token,
            {"Accept": "application/graphql-response+json"},
            False,
        ),
        (js({"query": PROFILE, "variables": asked}), token, {"Accept": "multipart/mixed"}, True),
        # No HTTP stream is served (subscriptions are graphql-transport-ws only): asked for
        # one, a request is answered as any other, on either path.
        (
            js({"query": SUBSCRIBE, "variables": {"c": case.number}}),
            token,
            {"Accept": 'multipart/mixed;subscriptionSpec="1.0"'},
            True,
        ),
        (
            js({"query": NAME_ONLY, "variables": asked}),
            token,
            {"Accept": "text/event-stream"},
            True,
        ),
        (js({"query": PROFILE, "variables": asked}), token, {"Accept": "*/*"}, True),
        (
            js({"query": PROFILE, "variables": asked}),
            token,
            {"Content-Type": "text/plain"},
            False,
        ),
    ]


async def test_the_door_answers_and_records_as_the_normal_path_does(
    stacks: tuple[Stack, Stack], cases: list[CaseRecord]
) -> None:
    heard: list[list[tuple[Any, ...]]] = []
    recorded: list[list[tuple[Any, ...]]] = []
    for gw in stacks:
        sent = _requests(cases, gw.token(), gw.token(officer=OUTSIDER))
        answers = []
        door = gw.app.plain_post
        for i, (body, token, headers, plain) in enumerate(sent):
            before = door.served if door is not None else 0
            answers.append(_shape(*await _post(gw, body, token, headers)))
            if door is not None:
                assert door.served - before == plain, f"request {i}"
        heard.append(answers)
        records = sorted(await gw.audit_records(), key=lambda r: r.seq)
        assert len(records) == len(sent)  # every request on the record
        recorded.append([_record(r) for r in records])
    door, normal = heard
    for i, (a, b) in enumerate(zip(door, normal, strict=True)):
        assert a == b, f"request {i}"
    assert recorded[0] == recorded[1]
    plains = sum(1 for *_, is_plain in _requests(cases, "", "") if is_plain)
    assert _door(stacks[0]).served == plains
    assert _door(stacks[0]).passed == len(door) - plains
    # Spot checks that the comparison compared something.
    assert door[0][0] == 200 and door[0][3] == [] and door[0][4]["debtor"] is not None
    assert door[2][3][0][2] == "FORBIDDEN" and door[7][0] == 400


async def test_a_kept_answer_is_built_at_the_door_and_served_from_the_cache(
    make_stack: StackFactory, mocks: RunningMocks, cases: list[CaseRecord]
) -> None:
    gw = await make_stack(cases, mocks=mocks)
    body = orjson.dumps(
        {
            "query": PROFILE,
            "variables": {"id": cases[0].debtor_ids[0], "caseNumber": cases[0].number},
        }
    )
    token = gw.token()
    first = await _post(gw, body, token)
    upstream = await gw.total_requests()
    second = await _post(gw, body, token)
    assert first[0] == second[0] == 200 and b'"cached":true' in second[1]
    assert _door(gw).served == 1  # the build; the hit was the hit path's
    hit_path = gw.app.hit_path
    assert hit_path is not None and hit_path.served == 1
    assert await gw.total_requests() == upstream
    records = await gw.audit_records(case_number=cases[0].number)
    assert len(records) == 2 and all(r.outcome == "ok" for r in records)


async def test_a_failure_at_the_door_is_a_recorded_500_and_a_failed_record_a_503(
    stacks: tuple[Stack, Stack], cases: list[CaseRecord], monkeypatch: pytest.MonkeyPatch
) -> None:
    body = orjson.dumps(
        {
            "query": PROFILE,
            "variables": {"id": cases[0].debtor_ids[0], "caseNumber": cases[0].number},
        }
    )
    seen = []
    for gw in stacks:
        view = gw.app.hit_path.view() if gw.app.hit_path is not None else None
        assert view is not None
        with monkeypatch.context() as patch:

            def broken(*_args: object) -> None:
                raise RuntimeError("context")

            patch.setattr(view, "context_for", broken)
            status, sent, _ = await _post(gw, body, gw.token())
        failed = orjson.loads(sent)["errors"][0]["extensions"]["code"]
        records = await gw.audit_records()
        seen.append((status, failed, [(r.outcome, r.code, r.http_status) for r in records]))
    assert seen[0] == seen[1] == (500, "INTERNAL", [("error", "INTERNAL", 500)])

    gw = stacks[0]
    view = gw.app.hit_path.view() if gw.app.hit_path is not None else None
    assert view is not None
    tried: list[str] = []

    async def failing(entry: object) -> int:
        tried.append(REQUEST_ID.get())
        raise AuditUnavailable("the audit log cannot be written")

    monkeypatch.setattr(view.services.audit, "append", failing)
    status, sent, headers = await _post(gw, body, gw.token())
    assert status == 503 and b"AUDIT_UNAVAILABLE" in sent and b'"debtor"' not in sent
    assert tried == [headers["X-Request-Id"]]
    assert _door(gw).served == 2
