"""Loading facts for one debtor: one agency per single-valued facet, all of them for lists.

A list facet (assets, exit bans) is gathered from every agency that serves it at once; when
some agencies fail, the others' items are returned and each failure is reported beside the
data as an error on the field's path with that agency's code. Only if every agency fails is
the field itself null.

The ``*_now`` forms answer without suspending when every fact needed is at hand (a warm
cache): a resolver that returns a value instead of a coroutine costs the executor a
fraction of one that must be awaited, and a warm profile is made almost only of such.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable, Collection, Sequence
from typing import Any, TypeAlias, TypeVar, cast

from graphql import GraphQLError

from connectors.domain import AssetKind, Facet, Fetched
from gateway.errors import AgencyError
from resolvers.awaitables import remembered_per_class
from resolvers.context import RequestContext

__all__ = [
    "MaybeAwaitable",
    "agencies_for",
    "load_all",
    "load_all_now",
    "load_one",
    "load_one_now",
    "then",
]

T = TypeVar("T")
R = TypeVar("R")
MaybeAwaitable: TypeAlias = T | Awaitable[T]


_is_awaitable = remembered_per_class(inspect.isawaitable)


def then(value: MaybeAwaitable[T], fn: Callable[[T], R]) -> MaybeAwaitable[R]:
    """``fn(value)``, now if ``value`` is at hand, else once it has been awaited."""
    if _is_awaitable(value):
        pending = value

        async def later() -> R:
            return fn(await pending)

        return later()
    return fn(cast(T, value))  # not awaitable: the ``T`` itself


async def load_one(ctx: RequestContext, facet: Facet, key: str) -> Fetched | None:
    """The fact from the first agency serving ``facet``; its ``AgencyError`` propagates."""
    ctx.debtors_touched.add(key)
    return await ctx.loaders.first(facet, key)


def load_one_now(ctx: RequestContext, facet: Facet, key: str) -> MaybeAwaitable[Fetched | None]:
    """``load_one``, without waiting when the fact is at hand."""
    ctx.debtors_touched.add(key)
    return ctx.loaders.first_now(facet, key)


def agencies_for(
    ctx: RequestContext, facet: Facet, kinds: Collection[AssetKind] | None
) -> list[str]:
    """The agencies serving ``facet`` (only those registering one of ``kinds``, if given)."""
    loaders = ctx.loaders
    return [
        name
        for name in loaders.providers(facet)
        if kinds is None or set(kinds) & loaders.connectors[name].facets[facet].kinds
    ]


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
    found = load_all_now(ctx, facet, key, lambda: path, kinds, never_raise=never_raise)
    return found if isinstance(found, list) else await found


def load_all_now(
    ctx: RequestContext,
    facet: Facet,
    key: str,
    path: Callable[[], Sequence[str | int]],
    kinds: Collection[AssetKind] | None = None,
    *,
    never_raise: bool = False,
) -> MaybeAwaitable[list[Fetched]]:
    """``load_all``, without waiting when every agency's fact is at hand.

    Otherwise every agency whose fact is not at hand is asked at once (the loads are made
    before returning), and ``path``, which is only for error reports, is called. The facts
    at hand are not asked again: after a look-ahead in which one agency failed, the others'
    facts are in this request, though not in the DataLoaders' memos nor (cache off) in the
    cache, and asking again would send requests the look-ahead had already answered.
    """
    ctx.debtors_touched.add(key)
    agencies = agencies_for(ctx, facet, kinds)
    loaders = ctx.loaders
    at_hand = [loaders.peek(name, facet, key) for name in agencies]
    if None not in at_hand:
        return cast(list[Fetched], at_hand)
    pending = [
        fact if fact is not None else loaders.fact(name, facet).load(key)
        for name, fact in zip(agencies, at_hand, strict=True)
    ]
    return _gathered(ctx, pending, path(), never_raise)


async def _gathered(
    ctx: RequestContext,
    pending: Sequence[Fetched | Awaitable[Any]],
    path: Sequence[str | int],
    never_raise: bool,
) -> list[Fetched]:
    # Facts at hand keep their place among the agencies' answers.
    waits = [p for p in pending if not isinstance(p, Fetched)]
    answers = iter(await asyncio.gather(*waits, return_exceptions=True))
    outcomes: list[Any] = [p if isinstance(p, Fetched) else next(answers) for p in pending]
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
