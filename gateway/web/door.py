"""Reading a ``/graphql`` request at the door of the app, straight from the ASGI scope.

What answers there (a response-cache hit, ``hit_path.py``; a plain JSON POST,
``plain_post.py``) reads the same few headers, the body under the same limit and the same
token. Whatever it does not answer goes on to the app with the request exactly as it
arrived: ``replay`` hands back the messages already read.
"""

from __future__ import annotations

import time
from collections import deque
from datetime import UTC, datetime
from typing import Protocol

from starlette.types import Message, Receive, Scope, Send

from gateway.auth import Principal, bearer_token
from gateway.errors import LimitExceeded
from gateway.web.audit_pipeline import (
    PRINCIPAL_KEY,
    REQUEST_ID_KEY,
    AuditPipeline,
    Exchange,
    client_request_id_of,
    request_id_of,
)
from gateway.web.body_limit import BodyCount, declared_over
from gateway.web.media_types import JSON, negotiate
from gateway.web.services import Services

__all__ = [
    "GatewayGraphQL",
    "exchange_at_door",
    "headers_of",
    "principal_of",
    "read_body",
    "replay",
    "send_json",
]


class GatewayGraphQL(Protocol):
    """What the door needs of the GraphQL view (``gateway/web/app.py``)."""

    services: Services
    audited: AuditPipeline

    def wants_ide(self, scope: Scope) -> bool: ...


_WANTED = frozenset(
    {b"authorization", b"content-type", b"content-length", b"accept", b"x-request-id"}
)


def headers_of(scope: Scope) -> dict[bytes, str]:
    """The headers the door looks at: the first of each, as starlette's ``Headers.get``."""
    found: dict[bytes, str] = {}
    for name, value in scope["headers"]:
        if name in _WANTED and name not in found:
            found[name] = value.decode("latin-1")
    return found


def replay(messages: list[Message], receive: Receive) -> Receive:
    """``receive`` that first hands back what was already read."""
    pending = deque(messages)

    async def again() -> Message:
        return pending.popleft() if pending else await receive()

    return again


async def read_body(
    headers: dict[bytes, str], receive: Receive, read: list[Message], limit: int
) -> bytes | None:
    """The whole body, each message kept in ``read``; ``None`` for one the app must refuse
    (over the limit, declared or counted) or that never came whole (the client left)."""
    if declared_over(headers.get(b"content-length"), limit):
        return None  # refused (413) by the normal path, before it reads anything
    count = BodyCount(limit)
    chunks: list[bytes] = []
    while True:
        message = await receive()
        read.append(message)
        if message["type"] != "http.request":
            return None  # the client went away: the normal path hears it too
        try:
            count.add(message)
        except LimitExceeded:
            return None  # refused (413) by the normal path, which reads it again
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


async def principal_of(services: Services, header: str | None) -> Principal | None:
    """The caller of a valid bearer token, else ``None`` (refused by the normal path)."""
    try:
        return await services.verifier.averify(bearer_token(header))
    except Exception:  # Unauthenticated and all: refused, and recorded, by the normal path
        return None


def exchange_at_door(scope: Scope, headers: dict[bytes, str], principal: Principal) -> Exchange:
    """The exchange of a request answered at the door, named in the scope's state as the
    audit pipeline names it (``request_id``, ``principal``)."""
    client = scope.get("client")
    given = headers.get(b"x-request-id")
    ex = Exchange(
        request_id=request_id_of(),
        arrived=datetime.now(UTC),
        started=time.perf_counter(),
        client=str(client[0]) if client else "",
        client_request_id=client_request_id_of({} if given is None else {"x-request-id": given}),
        media=negotiate(headers.get(b"accept")),
        principal=principal,
    )
    state = scope.setdefault("state", {})
    state[REQUEST_ID_KEY] = ex.request_id
    state[PRINCIPAL_KEY] = principal
    return ex


_JSON_BYTES = JSON.encode()


async def send_json(send: Send, body: bytes, request_id: str) -> None:
    """A 200 JSON answer: one start message with the headers already as bytes (what
    starlette's ``Response`` and the audit pipeline would send, in their order), one body."""
    start = {
        "type": "http.response.start",
        "status": 200,
        "headers": [
            (b"content-length", b"%d" % len(body)),
            (b"content-type", _JSON_BYTES),
            (b"x-request-id", request_id.encode()),
        ],
    }
    await send(start)
    await send({"type": "http.response.body", "body": body})
