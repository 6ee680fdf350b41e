"""The long-lived parts of a running gateway, made once at start-up and closed at shutdown."""

from __future__ import annotations

from dataclasses import dataclass, field

from connectors import registry
from connectors.base import Connector
from connectors.http import HttpClient
from gateway.auth import TokenVerifier
from gateway.settings import Settings
from gateway.store import Store
from resolvers.cache import FactCache

__all__ = ["Services"]


@dataclass(slots=True)
class Services:
    """Settings, store, HTTP client, connectors, cache and token verifier of one process."""

    settings: Settings
    store: Store
    http: HttpClient
    connectors: dict[str, Connector]
    cache: FactCache
    verifier: TokenVerifier
    closed: bool = field(default=False)

    @classmethod
    async def start(cls, settings: Settings, *, store: Store | None = None) -> Services:
        """Open the store and build every enabled connector; unknown connectors fail here."""
        http = HttpClient()
        connectors: dict[str, Connector] = {}
        for name, agency in settings.agencies.items():
            if not agency.enabled:
                continue
            connectors[name] = registry.build(
                agency.connector or name, agency.options, http.for_agency(name, agency.http())
            )
        opened = store or await Store.open(settings.database_url)
        cache = FactCache(
            max_entries=settings.cache.max_entries,
            ttl_s=settings.cache.ttl_s,
            enabled=settings.cache.enabled,
        )
        verifier = TokenVerifier(settings.auth, settings.jwt_secret())
        return cls(settings, opened, http, connectors, cache, verifier)

    async def aclose(self) -> None:
        if self.closed:
            return
        self.closed = True
        for connector in self.connectors.values():
            await connector.aclose()
        await self.http.aclose()
        await self.store.close()
