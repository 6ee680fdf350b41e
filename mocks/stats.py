"""What a mock agency received and executed, so tests can prove batching and overlap.

``install_stats(app)`` adds a middleware that counts each data request under
``"<METHOD> <canonical route>"`` (e.g. ``"GET /ca/v2/marriage/{id}"``), tracks requests in
flight, and logs each request's monotonic start and end with the number of keys it asked
for. ``GET /_stats`` serves the figures, ``POST /_stats/reset`` zeroes them. Routes under
``/_`` are control routes: never counted.
"""

from __future__ import annotations

import time
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler

__all__ = [
    "LOG_SIZE",
    "STATS_KEY",
    "LogEntry",
    "Stats",
    "install_stats",
    "is_control_path",
    "note_execution",
    "note_keys",
    "route_name",
]

#: How many requests ``/_stats`` keeps in its log (the most recent ones).
LOG_SIZE = 10_000

_KEYS = web.RequestKey("liandong_mock_keys", int)


@dataclass(frozen=True, slots=True)
class LogEntry:
    """One finished data request: its route, monotonic start and end, key count, and the
    status answered (``None`` when no response went out: dropped or given up on)."""

    route: str
    start: float
    end: float
    keys: int
    status: int | None = None

    def as_json(self) -> dict[str, Any]:
        """Return the entry as ``/_stats`` serves it."""
        return {
            "route": self.route,
            "start": self.start,
            "end": self.end,
            "keys": self.keys,
            "status": self.status,
        }


@dataclass
class Stats:
    """Counters of one mock app; all of it is zeroed by :meth:`reset`."""

    requests: Counter[str] = field(default_factory=Counter)
    #: Control actions carried out, by action name (filled by the handlers that execute).
    executions: Counter[str] = field(default_factory=Counter)
    in_flight: int = 0
    max_in_flight: int = 0
    log: deque[LogEntry] = field(default_factory=lambda: deque(maxlen=LOG_SIZE))

    def reset(self) -> None:
        """Zero every counter and empty the log (requests in flight stay in flight)."""
        self.requests.clear()
        self.executions.clear()
        self.max_in_flight = self.in_flight
        self.log.clear()

    def as_json(self) -> dict[str, Any]:
        """Return the figures in the ``GET /_stats`` shape of ``mocks/API.md``."""
        return {
            "requests": dict(self.requests),
            "executions": dict(self.executions),
            "max_in_flight": self.max_in_flight,
            "in_flight": self.in_flight,
            "log": [entry.as_json() for entry in self.log],
        }


STATS_KEY = web.AppKey("liandong_mock_stats", Stats)


def is_control_path(path: str) -> bool:
    """Return whether ``path`` is a mock control route (``/_...``), exempt from stats and faults."""
    return path.startswith("/_")


def route_name(request: web.Request) -> str:
    """Return ``"<METHOD> <canonical route>"`` for a request, the key it is counted under."""
    resource = request.match_info.route.resource
    # Unmatched paths share one key so that probing random URLs cannot grow the counter.
    path = resource.canonical if resource is not None else "<unmatched>"
    return f"{request.method} {path}"


def note_keys(request: web.Request, count: int) -> None:
    """Record how many keys (ids, codes, owners) this request asked for."""
    request[_KEYS] = count


def note_execution(request: web.Request, action: str) -> None:
    """Count one control action carried out (e.g. ``"SEIZE_REAL_ESTATE"``) by this app."""
    request.app[STATS_KEY].executions[action] += 1


def install_stats(app: web.Application) -> Stats:
    """Add the counting middleware and the ``/_stats`` routes to ``app``; return its state.

    Install it before the fault middleware so that faulted requests are counted too.
    """
    stats = Stats()
    app[STATS_KEY] = stats

    @web.middleware
    async def count_requests(request: web.Request, handler: Handler) -> web.StreamResponse:
        if is_control_path(request.path):
            return await handler(request)
        name = route_name(request)
        stats.requests[name] += 1
        stats.in_flight += 1
        stats.max_in_flight = max(stats.max_in_flight, stats.in_flight)
        start = time.monotonic()
        status: int | None = None
        try:
            response = await handler(request)
            transport = request.transport
            if transport is not None and not transport.is_closing():  # else: lost on purpose
                status = response.status
            return response
        except web.HTTPException as exc:
            status = exc.status
            raise
        finally:
            stats.in_flight -= 1
            keys = request.get(_KEYS, 0)
            stats.log.append(LogEntry(name, start, time.monotonic(), keys, status))

    async def get_stats(request: web.Request) -> web.Response:
        return web.json_response(stats.as_json())

    async def reset_stats(request: web.Request) -> web.Response:
        stats.reset()
        return web.json_response(stats.as_json())

    app.middlewares.append(count_requests)
    app.router.add_get("/_stats", get_stats)
    app.router.add_post("/_stats/reset", reset_stats)
    return stats
