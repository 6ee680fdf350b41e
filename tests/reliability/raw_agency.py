"""A stand-in agency that speaks raw HTTP/1.1 bytes on 127.0.0.1, as the test scripts them.

Unlike ``agency_server.AgencyServer`` (aiohttp), it can answer with anything at all (a broken
status line, a body cut short, a connection closed between two calls), and it counts
connections as well as requests, so that keep-alive reuse is proven by its counts.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

__all__ = ["RawAgency", "RawRequest", "ok"]


@dataclass(frozen=True)
class RawRequest:
    """One request as received, and its place on its connection (1 for the first)."""

    method: str
    target: str
    headers: dict[str, str]
    body: bytes
    nth_on_connection: int
    # The connection's reader: ``await request.closed()`` waits for the client to hang up.
    reader: asyncio.StreamReader = field(repr=False, compare=False)

    async def closed(self) -> None:
        """Return once the client closed its end (bytes sent meanwhile are dropped)."""
        with contextlib.suppress(ConnectionError):
            while await self.reader.read(65536):
                pass


# Writes the answer to ``RawRequest`` itself; returns False to close the connection after.
Answer = Callable[[RawRequest, asyncio.StreamWriter], Awaitable[bool]]


def ok(body: bytes = b'{"ok": true}', *, extra: str = "") -> bytes:
    """A complete 200 reply with a Content-Length."""
    head = f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n{extra}"
    return f"{head}Content-Length: {len(body)}\r\n\r\n".encode() + body


async def _answer_ok(_request: RawRequest, writer: asyncio.StreamWriter) -> bool:
    writer.write(ok())
    return True


@dataclass
class RawAgency:
    """The server, what it answers and what it saw."""

    answer: Answer = _answer_ok
    connections: int = 0
    closed_connections: int = 0
    requests: list[RawRequest] = field(default_factory=list)
    url: str = ""
    _server: asyncio.Server | None = None
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)

    async def start(self) -> RawAgency:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        port = self._server.sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def aclose(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self.connections += 1
        nth = 0
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, ConnectionError):
                    return
                lines = head.decode("latin-1").split("\r\n")
                method, target, _version = lines[0].split(" ", 2)
                headers = {}
                for line in lines[1:]:
                    if line:
                        name, value = line.split(":", 1)
                        headers[name.strip().lower()] = value.strip()
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                nth += 1
                request = RawRequest(method, target, headers, body, nth, reader)
                self.requests.append(request)
                keep = await self.answer(request, writer)
                await writer.drain()
                if not keep:
                    return
        except (ConnectionError, asyncio.CancelledError):
            return
        finally:
            self.closed_connections += 1
            writer.close()
            self._tasks.discard(task)
