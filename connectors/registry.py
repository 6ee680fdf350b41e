"""Finding connectors by name through the ``liandong.connectors`` entry-point group.

A deployment names the connectors it runs in its settings; ``build`` turns each name into an
instance at start-up, so a misspelt name or option stops the gateway there, with the name.
Third-party connectors plug in by declaring an entry point in the same group.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from importlib.metadata import EntryPoint, entry_points
from typing import TYPE_CHECKING, Any, cast

from connectors.base import Connector, ConnectorFactory
from connectors.domain import Facet

if TYPE_CHECKING:
    from connectors.http import AgencyHttp

__all__ = ["GROUP", "available", "build", "connectors_for", "names"]

GROUP = "liandong.connectors"


def _entry_points() -> dict[str, EntryPoint]:
    return {ep.name: ep for ep in entry_points(group=GROUP)}


def names() -> list[str]:
    """The registered connectors' names, without loading any of them."""
    return sorted(_entry_points())


def available() -> dict[str, ConnectorFactory]:
    """Every registered connector by name, its class loaded."""
    return {
        name: cast("ConnectorFactory", ep.load()) for name, ep in sorted(_entry_points().items())
    }


def build(name: str, options: Mapping[str, Any], http: AgencyHttp) -> Connector:
    """An instance of connector ``name``; ``ValueError`` names an unknown one or a bad option."""
    registered = _entry_points()
    if name not in registered:
        known = ", ".join(sorted(registered)) or "none"
        raise ValueError(f"unknown connector {name!r}; available: {known}")
    factory = cast("ConnectorFactory", registered[name].load())
    connector = factory(options, http)
    if not isinstance(connector, Connector):
        raise TypeError(f"entry point {name!r} does not build a Connector")
    return connector


def connectors_for(facet: Facet, connectors: Iterable[Connector]) -> list[Connector]:
    """The connectors serving ``facet``, in the order given (assets come from three)."""
    return [c for c in connectors if facet in c.facets]
