"""Loading facts for one debtor: one agency per single-valued facet, all of them for lists.

A list facet (assets, exit bans) is gathered from every agency that serves it at once; when
some agencies fail, the others' items are returned and each failure is reported beside the
data as an error on the field's path with that agency's code. Only if every agency fails is
the field itself null.
"""

from __future__ import annotations

import asyncio
from collections.abc import Collection, Sequence
from typing import Any

from graphql import GraphQLError

from connectors.domain import AssetKind, Facet, Fetched
from gateway.errors import AgencyError
from resolvers.context import RequestContext

__all__ = ["load_all", "load_one"]


async def load_one(ctx: RequestContext, facet: Facet, key: str) -> Fetched | None:
    """The fact from the first agency serving ``facet``; its ``AgencyError`` propagates."""
    ctx.debtors_touched.add(key)
    return await ctx.loaders.first(facet, key)


async def load_all(
    ctx: RequestContext,
    facet: Facet,
    key: str,
    path: Sequence[str | int],
    kinds: Collection[AssetKind] | None = None,
    *,
    never_raise: bool = False,
) -> list[Fetched]:
    """Facts from every agency serving ``facet`` (only those with ``kinds``, if given).

    ``never_raise`` is for fields that hold facts of our own besides the agencies' (a court's
    restrictions): there a total agency failure is reported beside the data, not as null.
    """
    ctx.debtors_touched.add(key)
    loaders = ctx.loaders
    agencies = [
        name
        for name in loaders.providers(facet)
        if kinds is None or set(kinds) & loaders.connectors[name].facets[facet].kinds
    ]
    outcomes: list[Any] = await asyncio.gather(
        *(loaders.fact(name, facet).load(key) for name in agencies), return_exceptions=True
    )
    facts: list[Fetched] = []
    failures: list[AgencyError] = []
    for outcome in outcomes:
        if isinstance(outcome, AgencyError):
            failures.append(outcome)
        elif isinstance(outcome, BaseException):
            raise outcome
        else:
            facts.append(outcome)
    if failures and not facts and not never_raise:
        first, *rest = failures
        _report(ctx, rest, path)
        raise first
    _report(ctx, failures, path)
    return facts


def _report(
    ctx: RequestContext, failures: Sequence[AgencyError], path: Sequence[str | int]
) -> None:
    for err in failures:
        ctx.partial_errors.append(
            GraphQLError(err.message, path=list(path), extensions=err.extensions)
        )
