"""The error answers of a response-cache hit are the normal path's, byte for byte but the ids.

A hit answered at the door (gateway/web/hit_path.py) whose audit record cannot be written
gets a 503 ``AUDIT_UNAVAILABLE`` built there; it must carry exactly the status, content type
and body the normal path gives for the same failure, whether the normal path served a hit
or built the answer, in either response media type.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
import pytest

from gateway.errors import AuditUnavailable
from gateway.web.hit_path import HitPath
from gateway.web.media_types import GRAPHQL_RESPONSE, JSON, content_type
from mocks.records import CaseRecord
from mocks.runner import RunningMocks
from tests.harness import PROFILE, Stack, StackFactory

pytestmark = pytest.mark.usefixtures("mocks")

_ACCEPTS = (None, JSON, GRAPHQL_RESPONSE)


def _hit_path(gw: Stack) -> HitPath:
    path = gw.app.hit_path
    assert isinstance(path, HitPath)
    return path


def _body(case: CaseRecord, i: int, n: int = 0) -> bytes:
    # ``n``, a variable the document does not use, makes another key: a build each time.
    variables = {"id": case.debtor_ids[i], "caseNumber": case.number, "n": n}
    return orjson.dumps({"query": PROFILE, "variables": variables})


async def _answer(gw: Stack, body: bytes, accept: str | None) -> tuple[int, str, dict[str, Any]]:
    """Status, content type and body, with the ids that differ on every request taken out."""
    headers = {"Authorization": f"Bearer {gw.token()}", "Content-Type": "application/json"}
    if accept is not None:
        headers["Accept"] = accept
    async with gw.session.post(gw.url, data=body, headers=headers) as resp:
        sent: dict[str, Any] = orjson.loads(await resp.read())
        assert len(resp.headers["X-Request-Id"]) == 32
        for error in sent.get("errors", []):
            error["extensions"].pop("traceId", None)
        return resp.status, resp.headers["Content-Type"], sent


def _failing(error: Exception) -> Any:
    async def append(entry: object) -> int:
        raise error

    return append


@pytest.mark.parametrize(
    "error",
    [AuditUnavailable("the audit log cannot be written"), RuntimeError("disk gone")],
    ids=["audit unavailable", "unexpected"],
)
async def test_a_hit_whose_record_fails_answers_as_the_normal_path_does(
    make_stack: StackFactory,
    mocks: RunningMocks,
    cases: list[CaseRecord],
    monkeypatch: pytest.MonkeyPatch,
    error: Exception,
) -> None:
    case = next(c for c in cases if len(c.debtor_ids) > 1)
    kept = _body(case, 0)
    heard: dict[str, list[tuple[int, str, dict[str, Any]]]] = {}
    for fast_path in (True, False):
        gw = await make_stack(cases, mocks=mocks, response_cache={"fast_path": fast_path})
        assert (await _answer(gw, kept, None))[0] == 200  # built and kept
        view = _hit_path(gw).view()
        assert view is not None
        served = _hit_path(gw).served
        with monkeypatch.context() as patch:
            patch.setattr(view.services.audit, "append", _failing(error))
            hits = [await _answer(gw, kept, accept) for accept in _ACCEPTS]
            builds = [await _answer(gw, _body(case, 1, n), a) for n, a in enumerate(_ACCEPTS)]
        # The hits went where this stack sends them: at the door, or the normal path.
        assert _hit_path(gw).served == served + (len(_ACCEPTS) if fast_path else 0)
        name = "door" if fast_path else "normal"
        heard[f"{name} hit"], heard[f"{name} build"] = hits, builds

    expected = [
        (
            503,
            content_type(GRAPHQL_RESPONSE if accept == GRAPHQL_RESPONSE else JSON),
            {
                **({} if accept == GRAPHQL_RESPONSE else {"data": None}),
                "errors": [
                    {
                        "message": "the audit log cannot be written",
                        "extensions": {"code": "AUDIT_UNAVAILABLE"},
                    }
                ],
            },
        )
        for accept in _ACCEPTS
    ]
    for path, answers in heard.items():
        assert answers == expected, path


async def test_the_door_s_503_is_shaped_as_the_refusal_of_a_log_known_down(
    make_stack: StackFactory,
    mocks: RunningMocks,
    cases: list[CaseRecord],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Known down before the request: the door passes it on and the normal path refuses it
    # (its refusal's record is the probe). Failing while a hit is recorded: the door's 503.
    gw = await make_stack(cases, mocks=mocks, response_cache={"fast_path": True})
    body = _body(cases[0], 0)
    assert (await _answer(gw, body, None))[0] == 200
    view = _hit_path(gw).view()
    assert view is not None
    audit = view.services.audit
    for accept in _ACCEPTS:
        served = _hit_path(gw).served
        with monkeypatch.context() as patch:
            patch.setattr(audit, "_healthy", False)
            refused = await _answer(gw, body, accept)
        assert _hit_path(gw).served == served
        with monkeypatch.context() as patch:
            patch.setattr(audit, "append", _failing(AuditUnavailable("the audit log is down")))
            failed = await _answer(gw, body, accept)
        assert _hit_path(gw).served == served + 1
        assert refused[:2] == failed[:2] and refused[0] == 503
        assert _shape(refused[2]) == _shape(failed[2])
        assert refused[2]["errors"][0]["extensions"]["code"] == "AUDIT_UNAVAILABLE"


def _shape(body: Mapping[str, Any]) -> tuple[Any, ...]:
    errors = body["errors"]
    return (
        sorted(body),
        body.get("data", "absent"),
        [(sorted(e), sorted(e["extensions"]), e["extensions"]["code"]) for e in errors],
    )


@pytest.mark.parametrize("door", [True, False], ids=["at the door", "normal path"])
async def test_an_answer_whose_record_failed_is_not_kept(
    make_stack: StackFactory,
    mocks: RunningMocks,
    cases: list[CaseRecord],
    monkeypatch: pytest.MonkeyPatch,
    door: bool,
) -> None:
    # Built while the log still counted as healthy, its record then failing: the 503 goes
    # out, and the answer, whose build is not on the record, must not be served later.
    gw = await make_stack(cases, mocks=mocks)
    if not door:
        gw.app.plain_post = None
    view = _hit_path(gw).view()
    assert view is not None and view.services.responses is not None
    answers = view.services.responses.answers
    body = _body(cases[0], 0)
    with monkeypatch.context() as patch:
        patch.setattr(view.services.audit, "append", _failing(AuditUnavailable("down")))
        status, _, sent = await _answer(gw, body, None)
    assert status == 503 and sent["errors"][0]["extensions"]["code"] == "AUDIT_UNAVAILABLE"
    assert answers.stored == 0
    status, _, sent = await _answer(gw, body, None)
    assert status == 200 and "errors" not in sent
    assert answers.hits == 0 and answers.stored == 1  # built again (from the fact cache)
    status, _, sent = await _answer(gw, body, None)
    assert status == 200 and answers.hits == 1  # kept once its record was written
    assert _hit_path(gw).served == 1
