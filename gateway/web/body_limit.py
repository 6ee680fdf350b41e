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

__all__ = [
    "BodyCount",
    "check_declared",
    "declared_over",
    "limited_receive",
    "read_body",
    "too_large",
]


def too_large(limit: int) -> LimitExceeded:
    """The refusal of a body over ``limit`` bytes."""
    return LimitExceeded(f"request body over {limit} bytes", field="body", limit=limit)


def declared_over(content_length: str | None, limit: int) -> bool:
    """Whether a ``Content-Length`` value declares a body over ``limit`` bytes."""
    return content_length is not None and content_length.isdigit() and int(content_length) > limit


def check_declared(headers: Headers, limit: int) -> None:
    """Raise ``LimitExceeded`` if the request declares a body over ``limit`` bytes."""
    if declared_over(headers.get("content-length"), limit):
        raise too_large(limit)


class BodyCount:
    """Counts a body as its ASGI messages arrive: the one place a body's size is checked
    while it is read (the normal path's ``limited_receive`` and the response cache's fast
    path both count through it, so they refuse exactly the same bodies)."""

    __slots__ = ("limit", "size")

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.size = 0

    def add(self, message: Message) -> None:
        """Count ``message``; raise ``LimitExceeded`` once the body passes the limit."""
        if message["type"] == "http.request":
            self.size += len(message.get("body", b""))
            if self.size > self.limit:
                raise too_large(self.limit)


def limited_receive(receive: Receive, limit: int) -> Receive:
    """``receive`` that raises ``LimitExceeded`` once the body passes ``limit`` bytes.

    Every other message (a disconnect, say) passes through unchanged, so that a response
    that listens for the client going away still hears it.
    """
    count = BodyCount(limit)

    async def bounded() -> Message:
        message = await receive()
        count.add(message)
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
