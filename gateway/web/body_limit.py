"""Request bodies have a size limit, checked before and while they are read.

Without one, a client with a token could make a worker hold gigabytes: starlette and
strawberry read a whole body into memory before parsing it. A declared ``Content-Length``
over the limit is refused before anything is read; a body without one (chunked) is counted
as it arrives and refused at the first byte past the limit. Either way the refusal is
``LIMIT_EXCEEDED`` with ``field: body`` and the limit, answered as HTTP 413.
"""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.types import Message, Receive

from gateway.errors import LimitExceeded

__all__ = ["check_declared", "limited_receive", "read_body", "too_large"]


def too_large(limit: int) -> LimitExceeded:
    """The refusal of a body over ``limit`` bytes."""
    return LimitExceeded(f"request body over {limit} bytes", field="body", limit=limit)


def check_declared(headers: Headers, limit: int) -> None:
    """Raise ``LimitExceeded`` if the request declares a body over ``limit`` bytes."""
    declared = headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise too_large(limit)


def limited_receive(receive: Receive, limit: int) -> Receive:
    """``receive`` that raises ``LimitExceeded`` once the body passes ``limit`` bytes.

    Every other message (a disconnect, say) passes through unchanged, so that a response
    that listens for the client going away still hears it.
    """
    size = 0

    async def bounded() -> Message:
        nonlocal size
        message = await receive()
        if message["type"] == "http.request":
            size += len(message.get("body", b""))
            if size > limit:
                raise too_large(limit)
        return message

    return bounded


async def read_body(request: Request, limit: int) -> bytes:
    """The whole body of ``request``, refused with ``LimitExceeded`` past ``limit`` bytes."""
    check_declared(request.headers, limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)
