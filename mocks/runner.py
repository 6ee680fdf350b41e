"""Start the four mock agencies on loopback ports, for tests, the demo and benchmarks.

``start_mocks()`` binds each agency with aiohttp's ``AppRunner``/``TCPSite`` (port 0 gives an
ephemeral port, read back from the bound socket) and returns :class:`RunningMocks`;
``serve()`` does the same for ``liandong mocks serve`` and runs until cancelled.
"""

from __future__ import annotations

import asyncio
import ipaddress
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import TYPE_CHECKING, Any, TextIO

from aiohttp import web

from mocks import civil_affairs, land_registry, market_regulation, public_security
from mocks.faults import FAULTS_KEY, Faults
from mocks.signing import DEFAULT_PS_SECRET
from mocks.stats import STATS_KEY, Stats

if TYPE_CHECKING:
    from mocks.world import World

__all__ = ["AGENCIES", "DEFAULT_PORTS", "RunningMocks", "serve", "start_mocks"]

#: The agency names, in the order they are started and printed.
AGENCIES = ("public_security", "civil_affairs", "land_registry", "market_regulation")

#: The fixed ports ``serve()`` uses unless told otherwise (tests use ephemeral ports).
DEFAULT_PORTS: Mapping[str, int] = {
    "public_security": 8101,
    "civil_affairs": 8102,
    "land_registry": 8103,
    "market_regulation": 8104,
}

#: How long shutdown waits for requests in progress before cancelling them.
_SHUTDOWN_TIMEOUT_S = 5.0


@dataclass
class RunningMocks:
    """The four mock agencies, bound and serving; ``aclose()`` stops them."""

    #: Agency name -> base URL, e.g. ``"http://127.0.0.1:40123"``.
    urls: dict[str, str]
    world: World
    #: Agency name -> its aiohttp application (for :meth:`stats` and :meth:`faults`).
    apps: dict[str, web.Application]
    #: The public security HMAC secret the clients must sign with.
    secret: bytes = DEFAULT_PS_SECRET
    _runners: list[web.AppRunner] = field(default_factory=list, repr=False)

    def stats(self, agency: str) -> Stats:
        """Return the live request counters of one agency (as ``GET /_stats`` shows them)."""
        return self.apps[agency][STATS_KEY]

    def faults(self, agency: str) -> Faults:
        """Return the fault state of one agency, to set faults without HTTP."""
        return self.apps[agency][FAULTS_KEY]

    async def aclose(self) -> None:
        """Stop every agency; requests held by a ``hang`` fault are released first."""
        runners, self._runners = self._runners, []
        for runner in reversed(runners):
            await runner.cleanup()

    async def __aenter__(self) -> RunningMocks:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()


def _check_loopback(host: str) -> None:
    if host == "localhost":
        return
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise ValueError(f"mock agencies bind loopback only, not host={host!r}")


def _check_ports(ports: Mapping[str, int]) -> None:
    for name in ports:
        if name not in AGENCIES:
            raise ValueError(f"ports: unknown agency {name!r} (known: {', '.join(AGENCIES)})")


async def start_mocks(
    world: World,
    *,
    host: str = "127.0.0.1",
    ports: Mapping[str, int] | None = None,
    secret: bytes = DEFAULT_PS_SECRET,
    public_security_settings: public_security.PublicSecuritySettings | None = None,
    civil_affairs_settings: civil_affairs.CivilAffairsSettings | None = None,
    land_registry_settings: land_registry.LandRegistrySettings | None = None,
    market_regulation_settings: market_regulation.MarketRegulationSettings | None = None,
    access_log: bool = False,
) -> RunningMocks:
    """Start the four agencies serving ``world`` on ``host`` and return them running.

    ``ports`` maps agency names to ports; missing agencies (or port 0) get an ephemeral
    port. ``secret`` is the public security HMAC key unless ``public_security_settings``
    is given, whose own secret then wins. ``host`` must be a loopback address.
    """
    _check_loopback(host)
    ports = ports or {}
    _check_ports(ports)
    ps_settings = public_security_settings or public_security.PublicSecuritySettings(secret=secret)
    factories: dict[str, Callable[[], web.Application]] = {
        "public_security": lambda: public_security.create_app(world, ps_settings),
        "civil_affairs": lambda: civil_affairs.create_app(world, civil_affairs_settings),
        "land_registry": lambda: land_registry.create_app(world, land_registry_settings),
        "market_regulation": lambda: market_regulation.create_app(
            world, market_regulation_settings
        ),
    }
    # access_log=None silences aiohttp's access logger; leaving it out keeps the default.
    extra: dict[str, Any] = {} if access_log else {"access_log": None}
    running = RunningMocks(urls={}, world=world, apps={}, secret=ps_settings.secret)
    try:
        for name in AGENCIES:
            app = factories[name]()
            # handler_cancellation: a client that gives up on a `hang` frees its handler.
            runner = web.AppRunner(
                app,
                handler_cancellation=True,
                shutdown_timeout=_SHUTDOWN_TIMEOUT_S,
                **extra,
            )
            await runner.setup()
            running._runners.append(runner)
            site = web.TCPSite(runner, host, ports.get(name, 0))
            await site.start()
            bound_host, bound_port = runner.addresses[0][:2]
            running.apps[name] = app
            running.urls[name] = f"http://{_url_host(bound_host)}:{bound_port}"
    except BaseException:
        await running.aclose()
        raise
    return running


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


async def serve(
    world: World,
    host: str = "127.0.0.1",
    ports: Mapping[str, int] | None = None,
    *,
    secret: bytes = DEFAULT_PS_SECRET,
    out: TextIO | None = None,
) -> None:
    """Serve the four agencies until cancelled, printing one ``name url`` line each.

    ``ports`` defaults to :data:`DEFAULT_PORTS`; used by ``liandong mocks serve``.
    """
    running = await start_mocks(
        world,
        host=host,
        ports=DEFAULT_PORTS if ports is None else ports,
        secret=secret,
        access_log=True,
    )
    stream = out if out is not None else sys.stdout
    try:
        for name, url in running.urls.items():
            print(f"{name} {url}", file=stream, flush=True)
        await asyncio.Event().wait()
    finally:
        await running.aclose()
