"""Look-ahead: ask every agency the selection needs, wait, then let the executor walk it.

One debtor (``prefetch_one``): its first hop's batches leave at once, the spouse's as soon
as civil affairs has answered, and the fields complete from facts at hand.

A list of debtors (``prefetch_debtors``), below.

Walking ``debtors(ids:)`` for 500 debtors with nothing cached made one awaitable per field
per debtor (thousands of tasks), and only once the executor had started all of them did the
DataLoaders send their first batches: measured, ~0.3 s before the first agency request.
Here the root field reads its selection, loads every first-hop facet for all the debtors at
once (every agency's first request leaves at once) and waits; the executor then finds each
fact at hand (``Loaders.peek``) and completes the list without suspending, except for the
second hop (the spouses), batched as before.

Waiting for all of it is on purpose. Tried: waiting only for the batched agencies and
letting the list complete while civil affairs' single-key requests still trickle in. The
completion then ran as one long synchronous stretch in the middle of those requests, each
of which had to wait for it before the next could leave: the whole took longer.

Errors are not handled here: a key an agency failed is not "at hand", so its field loads it
again from the DataLoader, which hands back the same failure for the field to report (the
look-ahead's batches go around the DataLoader's queue, a future per key being most of what
it cost, and prime it with the failures: ``FactLoader.fetch_ahead``).
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Collection, Iterable, Iterator, Sequence
from typing import Any

from graphql import Visitor, visit
from strawberry.types import Info
from strawberry.types.nodes import FragmentSpread, InlineFragment, SelectedField

from connectors.domain import AssetKind, DebtorKind, Facet, Fetched
from resolvers.context import RequestContext
from resolvers.facts import agencies_for
from resolvers.loaders import FactLoader

__all__ = [
    "FIRST_HOP",
    "prefetch_debtors",
    "prefetch_one",
    "selected_names",
    "selections_of",
]

_MEMO_MAX = 1024
# Selected names per field node of a cached document; each value keeps its node alive, so
# its id cannot be reused while the entry exists.
_memo: dict[int, tuple[Any, tuple[frozenset[str], frozenset[str]]]] = {}
# Where the second hop's debtor sits under a debtor.
SPOUSE_PATH = ("marriage", "spouse")

# Debtor field -> the facet it loads and the kind of debtor it applies to (None: both).
FIRST_HOP: dict[str, tuple[Facet, DebtorKind | None]] = {
    "identity": (Facet.IDENTITY, DebtorKind.PERSON),
    "organization": (Facet.ORGANIZATION, DebtorKind.ORGANIZATION),
    "marriage": (Facet.MARRIAGE, DebtorKind.PERSON),
    "companies": (Facet.COMPANY_ROLES, None),
    "assets": (Facet.ASSETS, None),
    "restrictions": (Facet.EXIT_BANS, None),
}


# ``assets(kinds: [...])`` with its kinds written out in the document: a name per kind, so
# the look-ahead asks only the agencies registering them (one /roles call for roles and
# equity, vehicles with the first hop rather than after it).
# Arguments that choose a page of what is loaded, not what is loaded: ``restrictions(first:,
# after:)`` needs the same facts as ``restrictions``.
_PAGING = frozenset({"first", "after"})
_KIND_PREFIX = "assets:"
_KINDS = {k.value: k for k in AssetKind}


def _kind_names(selection: SelectedField) -> set[str] | None:
    if selection.name != "assets" or set(selection.arguments) != {"kinds"}:
        return None
    kinds = selection.arguments["kinds"]
    if kinds is None:  # ``kinds: null``: every kind
        kinds = list(_KINDS)
    if not isinstance(kinds, list) or not all(isinstance(k, str) and k in _KINDS for k in kinds):
        return None
    return {_KIND_PREFIX + k for k in kinds}


def selected_names(selections: Iterable[Any]) -> set[str]:
    """Field names selected at this level, through fragments. Left out: fields with
    arguments other than a page's (``assets(kinds:)`` may want less than everything; its
    kinds are named as ``assets:KIND``) and anything under a directive (``@skip``/
    ``@include`` may drop it): those load when resolved, as ever, so no agency is asked for
    what the operation does not use."""
    names: set[str] = set()
    for selection in selections:
        if selection.directives:
            continue
        if isinstance(selection, SelectedField):
            if set(selection.arguments) <= _PAGING:
                names.add(selection.name)
            elif (kinds := _kind_names(selection)) is not None:
                names |= kinds
        elif isinstance(selection, FragmentSpread | InlineFragment):
            names |= selected_names(selection.selections)
    return names


def selections_of(info: Info[Any, Any]) -> tuple[frozenset[str], frozenset[str]]:
    """``selected_names`` of the field being resolved, and those under ``marriage { spouse
    { … } }`` (the second hop), worked out once per document node (strawberry's
    ``selected_fields`` rebuilds the selection on every call)."""
    raw = info._raw_info  # the graphql-core info strawberry wraps
    node = raw.field_nodes[0]
    known = _memo.get(id(node))
    if known is not None:
        return known[1]
    selected = info.selected_fields
    names = frozenset(selected_names(selected[0].selections)) if selected else frozenset()
    spouse = (
        frozenset(selected_names(_under(selected[0].selections, SPOUSE_PATH)))
        if selected and "marriage" in names
        else frozenset()
    )
    both = (names, spouse)
    # The field's own arguments (``ids: $ids``) choose the debtors, not the selection: only
    # what is under it can make the names differ from one request to the next.
    if any(n.startswith(_KIND_PREFIX) for n in names | spouse) and _variables_in(
        [node.selection_set, *raw.fragments.values()]
    ):
        return both  # kinds from variables: another request may send other kinds
    if len(_memo) >= _MEMO_MAX:
        _memo.clear()
    _memo[id(node)] = (node, both)
    return both


def _fields(selections: Iterable[Any]) -> Iterator[SelectedField]:
    """The fields selected at this level, through fragments, without those a directive may
    drop or whose arguments may choose something else."""
    for selection in selections:
        if selection.directives:
            continue
        if isinstance(selection, SelectedField):
            yield selection
        elif isinstance(selection, FragmentSpread | InlineFragment):
            yield from _fields(selection.selections)


def _under(selections: Iterable[Any], path: Sequence[str]) -> list[Any]:
    """The selections under each plain (argument-free) field at ``path``, merged."""
    level = list(selections)
    for name in path:
        level = [
            child
            for field in _fields(level)
            if field.name == name and not field.arguments
            for child in field.selections
        ]
    return level


class _Variables(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.found = False

    def enter_variable(self, *_: object) -> None:
        self.found = True


def _variables_in(nodes: Iterable[Any]) -> bool:
    """Whether a variable is used anywhere under ``nodes`` (an argument, a list in one, a
    directive): then the selection cannot be worked out once per document."""
    visitor = _Variables()
    for node in nodes:
        if node is not None:
            visit(node, visitor)
    return visitor.found


def _first_hop(
    ctx: RequestContext, debtors: Sequence[tuple[str, DebtorKind]], fields: Collection[str]
) -> Iterator[tuple[FactLoader, list[str]]]:
    """Each agency loader the first hop of ``fields`` needs, with the keys not at hand."""
    loaders = ctx.loaders
    for field, (facet, kind) in FIRST_HOP.items():
        if field not in fields:
            continue
        keys = [key for key, k in debtors if kind is None or k is kind]
        for agency in loaders.providers(facet):
            missing = [key for key in keys if loaders.peek(agency, facet, key) is None]
            if missing:
                yield loaders.fact(agency, facet), missing
    kinds = {_KINDS[n.removeprefix(_KIND_PREFIX)] for n in fields if n.startswith(_KIND_PREFIX)}
    if kinds and "assets" not in fields:
        keys = [key for key, _ in debtors]
        for agency in agencies_for(ctx, Facet.ASSETS, kinds):
            missing = [key for key in keys if loaders.peek(agency, Facet.ASSETS, key) is None]
            if missing:
                yield loaders.fact(agency, Facet.ASSETS), missing


async def prefetch_debtors(
    ctx: RequestContext,
    debtors: Sequence[tuple[str, DebtorKind]],
    fields: Collection[str],
    spouse_fields: Collection[str] = frozenset(),
) -> None:
    """Load what ``fields`` of ``debtors`` need from every agency at once, and what the
    spouses' ``spouse_fields`` need once their marriages are in; wait for it all."""
    pending: list[Awaitable[Any]] = []
    for loader, missing in _first_hop(ctx, debtors, fields):
        fetch = loader.fetch_ahead(missing)
        if spouse_fields and loader.facet is Facet.MARRIAGE:
            fetch = _spouses_after(ctx, fetch, debtors, fields, spouse_fields)
        pending.append(fetch)
    if "restrictions" in fields and debtors:
        pending.append(ctx.loaders.restrictions.load_many([key for key, _ in debtors]))
    if pending:
        await asyncio.gather(*pending, return_exceptions=True)


async def _spouses_after(
    ctx: RequestContext,
    marriages: Awaitable[None],
    debtors: Sequence[tuple[str, DebtorKind]],
    fields: Collection[str],
    spouse_fields: Collection[str],
) -> None:
    """The spouses' batches, as soon as civil affairs has answered for the list: not behind
    the other agencies of the first hop (a slow one would leave them no time)."""
    await marriages
    listed = {key for key, _ in debtors}
    agency = ctx.loaders.providers(Facet.MARRIAGE)[0]
    spouses: dict[str, None] = {}
    for key, kind in debtors:
        if kind is DebtorKind.PERSON:
            spouse = _spouse_of(ctx.loaders.peek(agency, Facet.MARRIAGE, key))
            if spouse:
                spouses[spouse] = None
    if not spouses:
        return
    # On the record before any agency is asked about them (see ``_start_spouse``).
    ctx.debtors_touched.update(spouses)
    # A spouse who is in the list too has the first hop's facts on the way already.
    others = [(s, DebtorKind.PERSON) for s in spouses if s not in listed]
    inside = [(s, DebtorKind.PERSON) for s in spouses if s in listed]
    more = [name for name in spouse_fields if name not in fields]
    hops = [*_first_hop(ctx, others, spouse_fields), *_first_hop(ctx, inside, more)]
    if hops:
        await asyncio.gather(
            *(loader.fetch_ahead(missing) for loader, missing in hops), return_exceptions=True
        )


async def prefetch_one(
    ctx: RequestContext,
    debtor: tuple[str, DebtorKind],
    fields: Collection[str],
    spouse_fields: Collection[str],
) -> None:
    """Load what ``fields`` of one debtor need, and the spouse's ``spouse_fields`` as soon as
    the marriage is known; wait for all of it, so that the executor completes the debtor from
    facts at hand instead of suspending once per field.

    Each hop waits only for what it needs: the spouse's batches leave when civil affairs
    answers, whatever the other agencies are doing, so a slow agency holds up its own facts
    and nothing else (each batch has its own deadline; the answer could not leave before the
    slowest anyway). Failures are not handled here: a failed key is not at hand, and its
    field's ``load`` finds the same failed future in the DataLoader's memo. Facts at hand
    start nothing and wait for nothing.
    """
    pending: list[Awaitable[Any]] = [
        future
        for loader, missing in _first_hop(ctx, [debtor], fields)
        for future in loader.load_ahead(missing)
    ]
    key, kind = debtor
    if spouse_fields and "marriage" in fields and kind is DebtorKind.PERSON:
        marriage = ctx.loaders.first_now(Facet.MARRIAGE, key)
        if inspect.isawaitable(marriage):
            pending.append(_spouse_hop(ctx, marriage, spouse_fields))
        else:
            _start_spouse(ctx, marriage, spouse_fields, pending)
    if not pending:
        return  # all at hand (warm): the court's own rows load with their field, no wait here
    if "restrictions" in fields and ctx.loaders.restrictions.peek(key) is None:
        pending.append(ctx.loaders.restrictions.load(key))
    await asyncio.gather(*pending, return_exceptions=True)


def _spouse_of(marriage: Fetched | None) -> str | None:
    """The spouse's id in a marriage fact, if it names one."""
    return getattr(marriage.value, "spouse_id", None) if marriage is not None else None


def _start_spouse(
    ctx: RequestContext,
    marriage: Fetched | None,
    fields: Collection[str],
    pending: list[Awaitable[Any]],
) -> None:
    spouse = _spouse_of(marriage)
    if not spouse:
        return
    # On the record before any agency is asked about the spouse: the spouse's own fields
    # would add it too, but only if the marriage field completes.
    ctx.debtors_touched.add(spouse)
    for loader, missing in _first_hop(ctx, [(spouse, DebtorKind.PERSON)], fields):
        pending.extend(loader.load_ahead(missing))


async def _spouse_hop(
    ctx: RequestContext, marriage: Awaitable[Fetched | None], fields: Collection[str]
) -> None:
    try:
        fact = await marriage
    except Exception:  # the marriage field reports it; there is no spouse to ask about
        return
    pending: list[Awaitable[Any]] = []
    _start_spouse(ctx, fact, fields, pending)
    if pending:
        await asyncio.gather(*pending, return_exceptions=True)
