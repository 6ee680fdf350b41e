"""The one interface every agency plugs in through.

A connector answers look-ups for one agency. It declares which facets it serves (identity,
marriage, assets, ...), and for a list of debtor ids returns one result per id, in order:
the normalised value, or an ``AgencyError`` for that id alone. It chunks keys by its agency's
own batch limit and sends the chunks through the shared ``AgencyHttp`` it was given.

Connectors are found through the ``liandong.connectors`` entry-point group; each entry is a
class called as ``cls(options, http)``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, runtime_checkable

from connectors.domain import AssetKind, Facet
from gateway.errors import AgencyError

if TYPE_CHECKING:
    from connectors.http import AgencyHttp

__all__ = ["Connector", "ConnectorFactory", "FacetSpec", "Result"]

Result = object | AgencyError
"""One key's outcome: a domain value (or ``None``/empty tuple for nothing found), or its error."""


@dataclass(frozen=True, slots=True)
class FacetSpec:
    """How a connector serves one facet."""

    max_batch: int  # keys per upstream request; 1 for single-key APIs
    # For Facet.ASSETS: which asset kinds this connector returns, so that
    # ``assets(kinds: [...])`` calls only the agencies that can answer.
    kinds: frozenset[AssetKind] = frozenset()


@runtime_checkable
class Connector(Protocol):
    """One agency, as the resolvers see it."""

    agency: ClassVar[str]
    facets: ClassVar[Mapping[Facet, FacetSpec]]

    async def fetch(self, facet: Facet, keys: Sequence[str]) -> Sequence[Result]:
        """Look ``keys`` up; one result per key, in the same order. Never raises for one key."""
        ...

    async def aclose(self) -> None:
        """Release what the connector holds (the shared HTTP session is closed elsewhere)."""
        ...


class ConnectorFactory(Protocol):
    def __call__(self, options: Mapping[str, Any], http: AgencyHttp) -> Connector: ...
