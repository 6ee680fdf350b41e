"""The lean agency transport: keep-alive HTTP/1.1 on asyncio protocols, parsed by httptools.

Agency calls are many small JSON round trips; aiohttp's client spends several times the CPU
of the exchange itself on them. This transport does only what ``AgencyHttp`` needs:

- one ``LeanPool`` per agency: at most ``limit`` connections, idle ones reused last-in
  first-out, one the agency closed (or left idle too long) dropped before use;
- a call is written once. When a reused connection turns out to be closed before any byte
  of the reply came back, a read (``resend``) goes once more on a fresh connection; any
  other call, a keyed write included, fails with ``AgencyUnavailable`` and the retry
  policy above decides (it counts the tries an agency that lost its answer has seen);
- timeouts: connect, read (the longest silence while a reply is awaited) and total (the end
  of the call as a loop time), all raising ``AgencyTimeout``;
- a call cancelled, failed or answered with ``Connection: close`` closes its connection
  instead of returning it to the pool.

Reading the reply (caps, decoding, headers) is ``connectors.lean_reply``.
"""

from __future__ import annotations

import asyncio
import functools
import ssl
from typing import cast

from multidict import CIMultiDictProxy
from yarl import URL

from connectors.lean_reply import ReplyReader
from connectors.slots import take_free
from gateway.errors import AgencyBadResponse, AgencyTimeout, AgencyUnavailable

__all__ = ["IDLE_TIMEOUT_S", "LeanPool", "LeanReply"]

# An idle connection older than this is closed rather than reused (aiohttp's keep-alive
# default): agencies' servers drop idle connections after a while, often without a word.
IDLE_TIMEOUT_S = 15.0

LeanReply = tuple[int, CIMultiDictProxy[str], bytes]


@functools.cache
def _tls() -> ssl.SSLContext:
    # The context aiohttp's default connector uses: the system's trust store, hostnames
    # checked, and HTTP/1.1 offered by ALPN. Built once: loading the store reads the disk.
    context = ssl.create_default_context()
    context.set_alpn_protocols(["http/1.1"])
    return context


class _ClosedBeforeReply(AgencyUnavailable):
    """The connection closed before a byte of the reply: a reused one may have been stale."""


class _Connection(asyncio.Protocol):
    """One connection to an agency, carrying one call at a time."""

    def __init__(self, agency: str, loop: asyncio.AbstractEventLoop) -> None:
        self._agency = agency
        self._loop = loop
        self._transport: asyncio.Transport | None = None
        self.closed = False
        self.idle_since = 0.0
        self._reader: ReplyReader | None = None
        self._waiter: asyncio.Future[None] | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._last_data = 0.0
        self._read_timeout = 0.0
        self._end = 0.0

    # -- asyncio.Protocol --------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        reader = self._reader
        if reader is None or reader.done:
            # Bytes nobody asked for (on an idle connection, or after the reply): what
            # follows on this connection can no longer be trusted to be in step.
            self.close()
            return
        self._last_data = self._loop.time()
        try:
            reader.feed(data)
        except AgencyBadResponse as exc:
            self._fail(exc)
            return
        if reader.done:
            self._settle(None)

    def eof_received(self) -> bool | None:
        return False  # the agency is done sending: close, and connection_lost follows

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        reader = self._reader
        if reader is None or self._waiter is None or self._waiter.done():
            return
        try:
            ended = reader.end_of_stream()
        except AgencyBadResponse as bad:
            self._fail(bad)
            return
        if ended:
            self._settle(None)
        elif reader.started:
            self._fail(AgencyBadResponse(self._agency, "truncated reply: connection closed"))
        else:
            why = f"connection closed before a reply ({type(exc).__name__ if exc else 'EOF'})"
            self._fail(_ClosedBeforeReply(self._agency, why))

    # -- one call ----------------------------------------------------------------------

    async def exchange(self, data: bytes, reader: ReplyReader, end: float, read_s: float) -> None:
        """Write ``data`` and wait until ``reader`` holds the whole reply (or raise)."""
        transport = self._transport
        if self.closed or transport is None or transport.is_closing():
            raise _ClosedBeforeReply(self._agency, "connection closed while idle")
        loop = self._loop
        waiter: asyncio.Future[None] = loop.create_future()
        self._reader, self._waiter = reader, waiter
        self._end, self._read_timeout = end, read_s
        now = self._last_data = loop.time()
        # One timer for both limits, moved on only when it fires: resetting it on every
        # chunk would cost more than the chunk.
        self._timer = loop.call_at(min(end, now + read_s), self._on_timer)
        try:
            transport.write(data)
            await waiter
        finally:
            self._timer.cancel()
            self._timer = None
            self._reader = self._waiter = None

    def _on_timer(self) -> None:
        now = self._loop.time()
        if now >= self._end:
            self._fail(AgencyTimeout(self._agency, "no answer within the timeout"))
        elif now - self._last_data >= self._read_timeout:
            self._fail(AgencyTimeout(self._agency, "no data within the read timeout"))
        else:
            when = min(self._end, self._last_data + self._read_timeout)
            self._timer = self._loop.call_at(when, self._on_timer)

    def _settle(self, exc: BaseException | None) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            if exc is None:
                waiter.set_result(None)
            else:
                waiter.set_exception(exc)

    def _fail(self, exc: BaseException) -> None:
        self._settle(exc)
        self.close()

    def close(self) -> None:
        self.closed = True
        if self._transport is not None:
            self._transport.close()


class LeanPool:
    """The keep-alive connections to one agency, at most ``limit`` of them at once."""

    def __init__(self, agency: str, base_url: str, *, limit: int) -> None:
        url = URL(base_url)
        if url.scheme not in ("http", "https") or not url.host:
            raise ValueError(f"{agency}: base_url must be an http(s) URL, not {base_url!r}")
        self.agency = agency
        self.base_url = base_url
        self.host = url.host
        self.port = url.port or (443 if url.scheme == "https" else 80)
        self.tls = url.scheme == "https"
        host = url.raw_host or url.host
        self.host_header = host if url.is_default_port() else f"{host}:{url.port}"
        self._slots = asyncio.Semaphore(limit)
        self._idle: list[_Connection] = []
        self._busy: set[_Connection] = set()
        self._closed = False
        self.opened = 0  # connections opened over the pool's life (for tests and figures)

    @property
    def idle(self) -> int:
        """Connections waiting in the pool now."""
        return len(self._idle)

    async def request(
        self,
        data: bytes,
        *,
        end: float,
        connect_s: float,
        read_s: float,
        max_body: int,
        resend: bool,
        head_only: bool = False,
    ) -> LeanReply:
        """Send the encoded request ``data``; return its reply, or raise ``AgencyError``.

        ``end`` is the loop time by which the whole call must be over; ``resend`` says the
        call may go once more when a reused connection proves stale.
        """
        slots = self._slots
        if not take_free(slots):
            try:
                async with asyncio.timeout_at(end):
                    await slots.acquire()
            except TimeoutError:
                raise AgencyTimeout(self.agency, "no free connection before the timeout") from None
        try:
            conn = self._take_idle()
            reused = conn is not None
            if conn is None:
                conn = await self._connect(end, connect_s)
            self._busy.add(conn)
            reader = ReplyReader(self.agency, max_body, head_only=head_only)
            try:
                await conn.exchange(data, reader, end, read_s)
            except _ClosedBeforeReply:
                conn.close()
                if not (reused and resend) or self._closed:
                    raise
                self._busy.discard(conn)
                conn = await self._connect(end, connect_s)
                self._busy.add(conn)
                reader = ReplyReader(self.agency, max_body, head_only=head_only)
                await conn.exchange(data, reader, end, read_s)
            self._busy.discard(conn)
            if reader.keep_alive and not conn.closed and not self._closed:
                conn.idle_since = asyncio.get_running_loop().time()
                self._idle.append(conn)
                conn = None
            return reader.status, reader.headers, reader.body()
        except BaseException:
            # Failed, timed out or cancelled mid-call: the connection is in an unknown state.
            if conn is not None:
                self._busy.discard(conn)
                conn.close()
            raise
        finally:
            slots.release()

    def _take_idle(self) -> _Connection | None:
        idle = self._idle
        if not idle:
            return None
        oldest = asyncio.get_running_loop().time() - IDLE_TIMEOUT_S
        while idle:
            conn = idle.pop()
            if not conn.closed and conn.idle_since > oldest:
                return conn
            conn.close()
        return None

    async def _connect(self, end: float, connect_s: float) -> _Connection:
        loop = asyncio.get_running_loop()
        tls = _tls() if self.tls else None
        try:
            async with asyncio.timeout_at(min(end, loop.time() + connect_s)):
                _, conn = await loop.create_connection(
                    lambda: _Connection(self.agency, loop),
                    self.host,
                    self.port,
                    ssl=tls,
                    server_hostname=self.host if tls else None,
                )
        except TimeoutError:
            raise AgencyTimeout(self.agency, "no connection within the timeout") from None
        except OSError as exc:  # refused, reset, unreachable, a TLS failure
            raise AgencyUnavailable(
                self.agency, f"connection failed ({type(exc).__name__})"
            ) from exc
        self.opened += 1
        return conn

    def close(self) -> None:
        """Close every connection, idle or carrying a call (which then fails)."""
        self._closed = True
        while self._idle:
            self._idle.pop().close()
        for conn in list(self._busy):
            conn.close()
