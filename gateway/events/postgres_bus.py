"""The shared event bus over PostgreSQL's LISTEN/NOTIFY: instances on one database.

Deployments that share a PostgreSQL store but no Redis still get subscriptions across
instances: ``NOTIFY`` on one channel, one ``LISTEN`` connection per instance. See
``gateway/events/shared_bus.py`` for what the bus does with it. A message is a few dozen bytes,
far below NOTIFY's 8,000-byte limit.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

import asyncpg
from sqlalchemy.engine import make_url

from gateway.events.shared_bus import Deliver, SharedEventBus

__all__ = ["CHANNEL", "PgEventBus", "PgRelay", "asyncpg_dsn"]

CHANNEL = "liandong_events"
_CHECK_S = 1.0  # how often the listener looks whether its connection is still open


def asyncpg_dsn(url: str) -> str:
    """A SQLAlchemy PostgreSQL URL (``postgresql+asyncpg://…``) as a plain libpq DSN."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


class PgRelay:
    """``pg_notify`` on one connection; ``LISTEN`` on another."""

    failures: tuple[type[BaseException], ...] = (
        asyncpg.PostgresError,
        asyncpg.InterfaceError,
        OSError,
        TimeoutError,
    )

    def __init__(self, url: str, *, timeout_s: float = 2.0) -> None:
        self._dsn = asyncpg_dsn(url)
        self.timeout_s = timeout_s
        self._sender: asyncpg.Connection | None = None
        self._sending = asyncio.Lock()  # one statement at a time on the sending connection
        self.listener_pid: int | None = None  # the LISTEN connection's server process, if up

    async def _connect(self) -> asyncpg.Connection:
        conn: asyncpg.Connection = await asyncpg.connect(self._dsn, timeout=self.timeout_s)
        return conn

    async def send(self, payload: bytes) -> None:
        """``NOTIFY`` the channel (connecting again if the last connection was lost)."""
        async with self._sending:
            if self._sender is None or self._sender.is_closed():
                self._sender = await self._connect()
            try:
                await self._sender.execute(
                    "SELECT pg_notify($1, $2)", CHANNEL, payload.decode(), timeout=self.timeout_s
                )
            except self.failures:
                await self._drop_sender()
                raise

    async def listen(self, deliver: Deliver, subscribed: Callable[[], None]) -> None:
        """``LISTEN`` on the channel and deliver what arrives until the connection is lost."""
        conn = await self._connect()
        inbox: asyncio.Queue[str] = asyncio.Queue()
        lost = asyncio.Event()

        def on_notify(_conn: Any, _pid: int, _channel: str, payload: object) -> None:
            inbox.put_nowait(str(payload))

        conn.add_termination_listener(lambda _conn: lost.set())
        self.listener_pid = conn.get_server_pid()
        try:
            await conn.add_listener(CHANNEL, on_notify)
            subscribed()
            while True:
                try:
                    # asyncio.timeout, not wait_for: on Python 3.11 a cancel that meets
                    # wait_for's own timeout comes out as TimeoutError, and this loop would
                    # take it for a quiet second and never end (a hang at shutdown).
                    async with asyncio.timeout(_CHECK_S):
                        payload = await inbox.get()
                except TimeoutError:
                    if lost.is_set() or conn.is_closed():
                        raise ConnectionResetError("the LISTEN connection was closed") from None
                    continue
                await deliver(payload)
        finally:
            self.listener_pid = None
            with contextlib.suppress(*self.failures):
                await conn.close(timeout=self.timeout_s)

    async def _drop_sender(self) -> None:
        sender, self._sender = self._sender, None
        if sender is not None:
            with contextlib.suppress(*self.failures):
                await sender.close(timeout=self.timeout_s)

    async def aclose(self) -> None:
        """Close the sending connection (the listener closes its own)."""
        async with self._sending:
            await self._drop_sender()


class PgEventBus(SharedEventBus):
    """The shared bus with LISTEN/NOTIFY between instances on one PostgreSQL database."""

    def __init__(self, url: str, *, timeout_s: float = 2.0) -> None:
        super().__init__(PgRelay(url, timeout_s=timeout_s), "postgres")
