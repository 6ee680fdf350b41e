"""An ``EventBus`` shared by several gateway instances: local fan-out plus a relay.

Each instance keeps a ``LocalEventBus`` for its own subscribers. ``publish`` hands the
change to them directly (so this instance's subscribers never depend on the relay) and
sends it through the relay; one listener per instance receives the other instances' changes
and hands them to its local subscribers, ignoring its own (each message names its origin).
The relay is Redis pub/sub (``gateway/events/redis_bus.py``) or PostgreSQL's LISTEN/NOTIFY
(``gateway/events/postgres_bus.py``); the listener reconnects by itself, with back-off.

A lost message or a relay outage costs subscribers a notification, never an event: a
message only names the request, and the next one makes a subscriber read everything it
missed from the store (see ``gateway/events/bus.py``). What keeps state built from messages
(the fact relay's caches) cannot read back what it missed: it registers a hook in
``on_subscribed``, run each time the listener (re)subscribes and before it delivers the first
message of the new link.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Protocol

import orjson

from gateway.events.bus import Change, LocalEventBus

__all__ = ["Relay", "SharedEventBus"]

log = logging.getLogger("liandong.events")

SUBSCRIBE_WAIT_S = 2.0  # start-up waits at most this long for the listener's first try
_RECONNECT_MAX_S = 5.0

Deliver = Callable[[bytes | str], Awaitable[None]]


class Relay(Protocol):
    """Carries messages between instances."""

    #: Exceptions that mean the relay is unreachable or the link was lost.
    failures: tuple[type[BaseException], ...]

    async def send(self, payload: bytes) -> None:
        """Send one message to every instance (this one included)."""
        ...

    async def listen(self, deliver: Deliver, subscribed: Callable[[], None]) -> None:
        """Subscribe, call ``subscribed``, then ``deliver`` each message until the link is
        lost (raise one of ``failures``)."""
        ...

    async def aclose(self) -> None:
        """Release the connections."""
        ...


class SharedEventBus:
    """Local fan-out plus a relay between instances; ``start`` it in the loop."""

    def __init__(self, relay: Relay, name: str) -> None:
        self.local = LocalEventBus()
        self.origin = uuid.uuid4().hex
        self.relay = relay
        self.name = name  # for logs: "redis", "postgres"
        self._listener: asyncio.Task[None] | None = None
        self._subscribed = asyncio.Event()
        self._first_try = asyncio.Event()
        self.received = 0  # changes from other instances, for tests and metrics
        self.errors = 0
        self.subscriptions = 0  # the listener's (re)subscriptions, for tests and metrics
        # Run on every (re)subscription: what was sent while the link was down is lost.
        self.on_subscribed: list[Callable[[], None]] = []

    async def start(self) -> None:
        """Start listening for the other instances' changes (waits briefly for the relay)."""
        if self._listener is None:
            self._listener = asyncio.create_task(self._listen(), name="event-bus-listener")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._first_try.wait(), SUBSCRIBE_WAIT_S)

    async def aclose(self) -> None:
        """Stop listening, end every subscription, close the connections."""
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener
            self._listener = None
        self.local.close()
        await self.relay.aclose()

    @property
    def listening(self) -> bool:
        """True while subscribed to the other instances' changes."""
        return self._subscribed.is_set()

    async def publish(self, topic: str, change: Change) -> None:
        await self.local.publish(topic, change)
        payload = orjson.dumps(
            {"o": self.origin, "t": topic, "r": change.request_id, "s": change.seq}
        )
        try:
            await self.relay.send(payload)
        except self.relay.failures as exc:
            self.errors += 1
            log.warning("event bus (%s): publish failed: %s", self.name, type(exc).__name__)

    def subscribe(
        self, topic: str
    ) -> contextlib.AbstractAsyncContextManager[AsyncIterator[Change]]:
        return self.local.subscribe(topic)

    def close(self) -> None:
        """End every subscription (at shutdown)."""
        self.local.close()

    def subscriber_count(self, topic: str) -> int:
        return self.local.subscriber_count(topic)

    async def _on_message(self, data: bytes | str) -> None:
        try:
            message = orjson.loads(data)
            origin, topic = str(message["o"]), str(message["t"])
            change = Change(str(message["r"]), int(message["s"]))
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
            log.warning("event bus (%s): undecodable message ignored", self.name)
            return
        if origin == self.origin:
            return
        self.received += 1
        await self.local.publish(topic, change)

    def _on_subscribed(self) -> None:
        self.subscriptions += 1
        for hook in list(self.on_subscribed):
            try:
                hook()
            except Exception:  # one failing hook must not keep the others or the link down
                log.exception("event bus (%s): a subscription hook failed", self.name)
        self._subscribed.set()
        self._first_try.set()

    async def _listen(self) -> None:
        delay = 0.1
        while True:
            try:
                await self.relay.listen(self._on_message, self._on_subscribed)
                delay = 0.1  # a clean end: the link was up, try again at once
            except self.relay.failures as exc:
                if self._subscribed.is_set():
                    delay = 0.1
                self.errors += 1
                log.warning("event bus (%s): subscription lost: %s", self.name, type(exc).__name__)
                self._first_try.set()
            finally:
                self._subscribed.clear()
            await asyncio.sleep(delay)
            delay = min(delay * 2, _RECONNECT_MAX_S)
