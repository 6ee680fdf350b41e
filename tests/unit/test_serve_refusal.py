"""A refusal to start is one line; any other start-up failure keeps its traceback
(gateway/cli/serve_refusal.py)."""

from __future__ import annotations

import contextlib
import io
import logging
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.types import Message

from gateway.cli.serve_refusal import StartRefusal, refusal_line
from gateway.errors import AuditChainContradicted


def _failing_at_start(error: BaseException) -> Starlette:
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        raise error
        yield  # pragma: no cover - never reached

    return Starlette(lifespan=lifespan)


async def _start(app: Any) -> list[Message]:
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "lifespan.startup"}

    async def send(message: Message) -> None:
        sent.append(message)

    await app({"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}, receive, send)
    return sent


@pytest.fixture(autouse=True)
def _uvicorn_filters() -> Iterator[None]:
    # A refusal quiets uvicorn's logger for the rest of the process: not for other tests.
    uvicorn = logging.getLogger("uvicorn.error")
    before = list(uvicorn.filters)
    yield
    uvicorn.filters[:] = before


async def test_a_refusal_is_one_line_and_a_failure_without_a_message() -> None:
    err = AuditChainContradicted("the audit chain gw-0 existed before:\n  do this")
    stream = io.StringIO()
    sent = await _start(StartRefusal(_failing_at_start(err), stream))
    assert sent == [{"type": "lifespan.startup.failed", "message": ""}]
    assert stream.getvalue() == (
        "liandong: refusing to start: AUDIT_CHAIN_CONTRADICTED: "
        "the audit chain gw-0 existed before: do this\n"
    )
    assert refusal_line(err) == stream.getvalue().rstrip("\n")
    # uvicorn's own "startup failed" line is not said after it either.
    said = logging.LogRecord("uvicorn.error", logging.ERROR, "", 0, "x", None, None)
    said.msg = "Application startup failed. Exiting."
    assert not logging.getLogger("uvicorn.error").filter(said)


async def test_any_other_start_up_failure_keeps_its_traceback() -> None:
    stream = io.StringIO()
    app = StartRefusal(_failing_at_start(RuntimeError("a bug")), stream)
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "lifespan.startup"}

    async def send(message: Message) -> None:
        sent.append(message)

    with pytest.raises(RuntimeError, match="a bug"):
        await app({"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}, receive, send)
    [failed] = sent
    assert failed["type"] == "lifespan.startup.failed"
    assert "Traceback" in failed["message"] and "a bug" in failed["message"]
    assert stream.getvalue() == ""
