"""Run-time fault injection for one mock agency.

``POST /_faults`` with a JSON object merges the given keys into the current faults (keys
not given keep their value), ``GET /_faults`` shows them all, ``DELETE /_faults`` clears
them and releases any request held by ``hang``. Unknown keys or wrong types answer
``400 {"error": "bad_fault", "key": ..., "message": ...}``.

The faults, in the order a data request meets them:

``hang``             hold the request until the client gives up (bounded by ``HANG_S``,
                     released early by ``DELETE /_faults`` or shutdown)
``latency_ms``       answer this long after arrival (work included), ± ``jitter_ms``
``outage``           answer 503 to everything
``status_storm_429`` answer 429 with ``Retry-After``
``error_rate``       answer 503 to this fraction (0..1) of requests, drawn from a seeded RNG
                     (re-seeded on every change, so a test sees the same sequence each run)
``lost_response``    do the work, then drop the connection without answering
``malformed``        answer with the real body cut in half: broken in the agency's own
                     content type (JSON or XML)
``errors_in_body``   answer ``outage`` and ``error_rate`` with HTTP 200 and the error in the
                     body, as an agency whose envelope carries its errors does when busy
                     (only agencies with such an envelope: market_regulation; the others
                     keep answering 503)

Error bodies are built by the agency (``ErrorResponder``) so they look like its own.
Routes under ``/_`` are never faulted.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler

from mocks.stats import is_control_path

__all__ = [
    "FAULTS_KEY",
    "HANG_S",
    "RETRY_AFTER_S",
    "ErrorResponder",
    "FaultError",
    "FaultSettings",
    "Faults",
    "install_faults",
]

#: The longest a ``hang`` holds a request; long past any sane client timeout.
HANG_S = 300.0

#: ``Retry-After`` of the 429 storm, in seconds.
RETRY_AFTER_S = 1

#: Builds the agency's own error response from an HTTP status and an error name
#: (``"service_unavailable"`` or ``"rate_limited"``).
ErrorResponder = Callable[[int, str], web.Response]


@dataclass(frozen=True, slots=True)
class FaultSettings:
    """The faults in force; the defaults are a healthy agency."""

    latency_ms: int = 0
    jitter_ms: int = 0
    error_rate: float = 0.0
    outage: bool = False
    hang: bool = False
    malformed: bool = False
    status_storm_429: bool = False
    lost_response: bool = False
    errors_in_body: bool = False


# The type of each fault, read off its default value.
_KINDS: dict[str, type] = {f.name: type(f.default) for f in fields(FaultSettings)}


class FaultError(ValueError):
    """A ``/_faults`` body was refused; ``key`` names the offending key."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(f"{key}: {message}")
        self.key = key
        self.message = message


def _check(key: str, value: Any) -> Any:
    """Return ``value`` in the type of ``key``'s field, or raise :class:`FaultError`."""
    kind = _KINDS.get(key)
    if kind is None:
        raise FaultError(key, "unknown fault")
    if kind is bool:
        if not isinstance(value, bool):
            raise FaultError(key, "must be true or false")
        return value
    # bool is an int subclass; `"latency_ms": true` is a mistake, not 1 ms.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise FaultError(key, "must be a number")
    if kind is int:
        if not isinstance(value, int) or value < 0:
            raise FaultError(key, "must be a non-negative integer (milliseconds)")
        return value
    if not 0.0 <= value <= 1.0:
        raise FaultError(key, "must be between 0 and 1")
    return float(value)


class Faults:
    """The faults of one app, their seeded RNG, and the requests held by ``hang``."""

    def __init__(
        self,
        error_response: ErrorResponder,
        *,
        seed: int = 0,
        in_body_response: ErrorResponder | None = None,
    ) -> None:
        self.settings = FaultSettings()
        self.error_response = error_response
        self.in_body_response = in_body_response
        self._seed = seed
        self._rng = random.Random(seed)
        self._release: asyncio.Event | None = None

    def update(self, changes: Mapping[str, Any]) -> FaultSettings:
        """Validate ``changes`` and merge them into the settings; all or nothing."""
        checked = {key: _check(key, value) for key, value in changes.items()}
        self.settings = replace(self.settings, **checked)
        self._rng = random.Random(self._seed)
        return self.settings

    def clear(self) -> None:
        """Back to a healthy agency; requests held by ``hang`` go on."""
        self.settings = FaultSettings()
        self._rng = random.Random(self._seed)
        self.release_hung()

    def release_hung(self) -> None:
        """Let every request held by ``hang`` go on."""
        if self._release is not None:
            self._release.set()
            self._release = None

    async def _hang(self) -> None:
        if self._release is None:
            self._release = asyncio.Event()
        release = self._release
        # Either the client gives up (aiohttp cancels the handler), or we are released.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(release.wait(), HANG_S)

    async def _hold(self, arrived: float) -> None:
        # The answer leaves ``latency_ms`` (plus jitter) after the request arrived, however
        # long the agency took to make it: that is what "answers after L ms" means to a
        # client, and what the benchmark's lower bounds assume.
        s = self.settings
        if not s.latency_ms and not s.jitter_ms:
            return
        jitter = self._rng.uniform(-s.jitter_ms, s.jitter_ms) if s.jitter_ms else 0.0
        remaining = arrived + max(0.0, s.latency_ms + jitter) / 1000 - time.monotonic()
        if remaining > 0:
            await asyncio.sleep(remaining)

    async def apply(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """Answer one data request through the faults in force."""
        arrived = time.monotonic()
        s = self.settings
        if s.hang:
            await self._hang()
        if not (s.outage or s.status_storm_429 or s.error_rate):
            # The agency does its work while the answer is held, not after.
            response: web.StreamResponse = await self._held(request, handler, arrived)
        else:
            await self._hold(arrived)
            response = await self._faulty(request, handler)
        s = self.settings
        if s.lost_response and request.transport is not None:
            # aiohttp's attempt to write to the closed transport is a ConnectionError it
            # swallows, so the client sees the connection drop with no response at all.
            request.transport.close()
        elif s.malformed and isinstance(response, web.Response):
            _break_body(response)
        return response

    async def _held(
        self, request: web.Request, handler: Handler, arrived: float
    ) -> web.StreamResponse:
        response = await handler(request)
        await self._hold(arrived)
        return response

    async def _faulty(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        s = self.settings  # faults may have changed while we waited
        unavailable = self.error_response
        if s.errors_in_body and self.in_body_response is not None:
            unavailable = self.in_body_response
        if s.outage:
            return unavailable(503, "service_unavailable")
        if s.status_storm_429:
            limited = self.error_response(429, "rate_limited")
            limited.headers["Retry-After"] = str(RETRY_AFTER_S)
            return limited
        if s.error_rate and self._rng.random() < s.error_rate:
            return unavailable(503, "service_unavailable")
        return await handler(request)


def _break_body(response: web.Response) -> None:
    body = response.body
    raw = body if isinstance(body, bytes) else b""
    # Cut on a character boundary: the result must be broken JSON/XML, not broken UTF-8.
    text = raw.decode("utf-8", errors="ignore")
    response.body = text[: len(text) // 2].encode()


FAULTS_KEY = web.AppKey("liandong_mock_faults", Faults)


def install_faults(
    app: web.Application,
    error_response: ErrorResponder,
    *,
    seed: int = 0,
    in_body_response: ErrorResponder | None = None,
) -> Faults:
    """Add the fault middleware and the ``/_faults`` routes to ``app``; return its state.

    ``in_body_response`` builds the agency's errors inside an HTTP 200 (``errors_in_body``).
    """
    faults = Faults(error_response, seed=seed, in_body_response=in_body_response)
    app[FAULTS_KEY] = faults

    @web.middleware
    async def inject_faults(request: web.Request, handler: Handler) -> web.StreamResponse:
        if is_control_path(request.path):
            return await handler(request)
        return await faults.apply(request, handler)

    async def get_faults(request: web.Request) -> web.Response:
        return web.json_response(asdict(faults.settings))

    async def set_faults(request: web.Request) -> web.Response:
        try:
            changes = await request.json()
        except ValueError:
            return _refuse("<body>", "not JSON")
        if not isinstance(changes, dict):
            return _refuse("<body>", "must be a JSON object")
        try:
            faults.update(changes)
        except FaultError as exc:
            return _refuse(exc.key, exc.message)
        return web.json_response(asdict(faults.settings))

    async def clear_faults(request: web.Request) -> web.Response:
        faults.clear()
        return web.json_response(asdict(faults.settings))

    async def on_shutdown(app: web.Application) -> None:
        faults.release_hung()

    app.middlewares.append(inject_faults)
    app.router.add_get("/_faults", get_faults)
    app.router.add_post("/_faults", set_faults)
    app.router.add_delete("/_faults", clear_faults)
    app.on_shutdown.append(on_shutdown)
    return faults


def _refuse(key: str, message: str) -> web.Response:
    return web.json_response({"error": "bad_fault", "key": key, "message": message}, status=400)
