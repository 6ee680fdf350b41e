"""Look-ahead for a list of debtors: ask every agency the selection needs, then walk it.

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
from collections.abc import Awaitable, Collection, Iterable, Iterator, Sequence
from typing import Any

from graphql import Visitor, visit
from strawberry.types import Info
from strawberry.types.nodes import FragmentSpread, InlineFragment, SelectedField

from connectors.domain import AssetKind, DebtorKind, Facet
from resolvers.context import RequestContext
from resolvers.facts import agencies_for
from resolvers.loaders import FactLoader

__all__ = [
    "FIRST_HOP",
    "prefetch_debtors",
    "selected_names",
    "selection_of",
    "start_first_hop",
]

_MEMO_MAX = 1024
# Selected names per field node of a cached document; each value keeps its node alive, so
# its id cannot be reused while the entry exists.
_memo: dict[int, tuple[Any, frozenset[str]]] = {}

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


def selection_of(info: Info[Any, Any]) -> frozenset[str]:
    """``selected_names`` of the field being resolved, worked out once per document node
    (strawberry's ``selected_fields`` rebuilds the selection on every call)."""
    raw = info._raw_info  # the graphql-core info strawberry wraps
    node = raw.field_nodes[0]
    known = _memo.get(id(node))
    if known is not None:
        return known[1]
    selected = info.selected_fields
    names = frozenset(selected_names(selected[0].selections)) if selected else frozenset()
    # The field's own arguments (``ids: $ids``) choose the debtors, not the selection: only
    # what is under it can make the names differ from one request to the next.
    if any(n.startswith(_KIND_PREFIX) for n in names) and _variables_in(
        [node.selection_set, *raw.fragments.values()]
    ):
        return names  # kinds from variables: another request may send other kinds
    if len(_memo) >= _MEMO_MAX:
        _memo.clear()
    _memo[id(node)] = (node, names)
    return names


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
    ctx: RequestContext, debtors: Sequence[tuple[str, DebtorKind]], fields: Collection[str]
) -> None:
    """Load what ``fields`` of ``debtors`` need from every agency at once; wait for it."""
    pending: list[Awaitable[Any]] = [
        loader.fetch_ahead(missing) for loader, missing in _first_hop(ctx, debtors, fields)
    ]
    if "restrictions" in fields and debtors:
        pending.append(ctx.loaders.restrictions.load_many([key for key, _ in debtors]))
    if pending:
        await asyncio.gather(*pending, return_exceptions=True)


def start_first_hop(
    ctx: RequestContext, debtors: Sequence[tuple[str, DebtorKind]], fields: Collection[str]
) -> None:
    """Start the agency batches ``fields`` of ``debtors`` need, without waiting for them.

    For one debtor: each batch leaves now rather than at its DataLoader's third loop turn,
    and each field still waits only for its own agency (a slow agency holds up its fields,
    not the others' nor the second hop). Facts at hand start nothing.
    """
    for loader, missing in _first_hop(ctx, debtors, fields):
        loader.load_ahead(missing)
