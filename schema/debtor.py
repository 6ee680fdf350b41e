"""``Debtor`` (被执行人) and ``Marriage``: the centre of the graph.

A ``Debtor`` is always reached through a case, which is the legal basis for looking at it;
every field loads its facts through the request's DataLoaders, so a list of debtors costs
one batch per agency and facet, not one call per debtor.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Annotated, Any, cast

import strawberry
from graphql import GraphQLError
from strawberry.types import Info

from connectors import domain as d
from gateway.errors import AgencyBadResponse
from gateway.masking import mask_id
from gateway.store.request_pages import requests_of_case
from resolvers.context import RequestContext
from resolvers.facts import MaybeAwaitable, load_all_now, load_one_now, then
from resolvers.handles import handles
from schema.assets import Asset, AssetKind, asset_from_domain
from schema.closed_sets import MarriageStatus, closed
from schema.nested_connections import (
    After,
    First,
    RestrictionConnection,
    restriction_connection,
    restriction_key,
)
from schema.node import Node
from schema.pages import decode_cursor, page_in_memory, page_size
from schema.request_connection import AssistanceRequestConnection, request_connection
from schema.types import (
    CompanyRole,
    DebtorKind,
    Identity,
    Organization,
    Provenance,
    Restriction,
)

__all__ = ["Debtor", "Marriage"]

# The connections' names in their cursors: a cursor of one is refused by the other.
_REQUESTS = "Debtor.assistanceRequests"
_RESTRICTIONS = "Debtor.restrictions"


def _ctx(info: Info[RequestContext, None]) -> RequestContext:
    return info.context


@strawberry.type(description="婚姻登记: a person's current marriage registration.")
class Marriage:
    status: MarriageStatus = strawberry.field(description="Marital status.")
    registered_on: date | None = strawberry.field(
        description="When the marriage (or divorce) was registered."
    )
    office: str | None = strawberry.field(description="The registry office.")
    spouse_name: str | None = strawberry.field(description="The (former) spouse's name.")
    provenance: Provenance = strawberry.field(
        description="Which agency said so, when, and whether from the cache."
    )
    case_number: strawberry.Private[str]
    spouse_id: strawberry.Private[str | None]

    @strawberry.field(
        description="The spouse, for joint property (夫妻共同财产); a second hop. The spouse is "
        "not a party to the case: their `id` keys a client's cache, but `node(id:)` and "
        "`debtor(id:)` refuse it (`FORBIDDEN`, rule `DEBTOR_IS_PARTY`). Read the spouse "
        "here, through the debtor who is a party."
    )
    def spouse(self) -> Debtor | None:
        if self.spouse_id is None:
            return None
        return Debtor(key=self.spouse_id, kind=d.DebtorKind.PERSON, case_number=self.case_number)


# Resolvers below return a value when the facts are at hand (a warm cache) and a coroutine
# only when an agency must be asked: see resolvers/facts.py. ``graphql_type`` names the
# GraphQL type, since the Python return type also admits the awaitable.


# Federation key: the case is in it (a planner picks any key it likes, and the case is the
# legal basis), a personal number is not. See resolvers/entities.py.
@strawberry.federation.type(
    keys=["caseNumber handle"], description="被执行人: a judgment debtor, seen through one case."
)
class Debtor(Node):
    key: strawberry.Private[str]
    kind: DebtorKind = strawberry.field(description="Person or organization.")
    case_number: str = strawberry.field(
        name="caseNumber", description="The case this debtor is seen through: the legal basis."
    )

    @strawberry.field(
        description="An opaque, stable handle of this debtor in this case, never a personal "
        "number: debtor(id:, caseNumber:) and debtors(ids:, caseNumber:) take it back in place "
        "of the id, and federation routers join on it. A spouse's handle is not accepted back."
    )
    def handle(self, info: Info[RequestContext, None]) -> strawberry.ID:
        return strawberry.ID(handles(_ctx(info)).seal(self.case_number, self.key))

    @strawberry.field(
        description="The debtor's node id: its `handle` in this case (opaque, stable, never a "
        "personal number); `node(id:)` and `debtor(id:)` take it back."
    )
    def id(self, info: Info[RequestContext, None]) -> strawberry.ID:
        return strawberry.ID(handles(_ctx(info)).seal(self.case_number, self.key))

    @strawberry.field(
        description="Resident ID or unified social credit code: masked for persons "
        "(`320311********4411`) unless you hold the `unmask` scope. Not unique: do not key "
        "records by it."
    )
    def masked_id(self, info: Info[RequestContext, None]) -> strawberry.ID:
        if self.kind is d.DebtorKind.PERSON and not _ctx(info).unmask:
            return strawberry.ID(mask_id(self.key))
        return strawberry.ID(self.key)

    @strawberry.field(
        description="户籍 at public security (persons only).", graphql_type=Identity | None
    )
    def identity(self, info: Info[RequestContext, None]) -> MaybeAwaitable[Identity | None]:
        if self.kind is not d.DebtorKind.PERSON:
            return None
        ctx = _ctx(info)

        def shown(fact: d.Fetched | None) -> Identity | None:
            if fact is None or fact.value is None:
                return None
            value = cast(d.Identity, fact.value)
            return Identity.from_domain(value, Provenance.of(fact), ctx.unmask)

        return then(load_one_now(ctx, d.Facet.IDENTITY, self.key), shown)

    @strawberry.field(
        description="Registration at market regulation (organizations only).",
        graphql_type=Organization | None,
    )
    def organization(self, info: Info[RequestContext, None]) -> MaybeAwaitable[Organization | None]:
        if self.kind is not d.DebtorKind.ORGANIZATION:
            return None
        return then(load_one_now(_ctx(info), d.Facet.ORGANIZATION, self.key), _organization)

    @strawberry.field(
        description="婚姻登记 at civil affairs (persons only).", graphql_type=Marriage | None
    )
    def marriage(self, info: Info[RequestContext, None]) -> MaybeAwaitable[Marriage | None]:
        if self.kind is not d.DebtorKind.PERSON:
            return None
        case_number = self.case_number

        def shown(fact: d.Fetched | None) -> Marriage | None:
            if fact is None or fact.value is None:
                return None
            value = cast(d.Marriage, fact.value)
            return Marriage(
                status=closed(MarriageStatus, value.status, "civil_affairs", "marital status"),
                registered_on=value.registered_on,
                office=value.office,
                spouse_name=value.spouse_name,
                provenance=Provenance.of(fact),
                case_number=case_number,
                spouse_id=value.spouse_id,
            )

        return then(load_one_now(_ctx(info), d.Facet.MARRIAGE, self.key), shown)

    @strawberry.field(
        description="Roles in companies: legal representative, shareholder, executive. A "
        "plain list: the registry answers with all of them in one call.",
        graphql_type=list[CompanyRole] | None,
    )
    def companies(
        self, info: Info[RequestContext, None]
    ) -> MaybeAwaitable[list[CompanyRole] | None]:
        return then(load_one_now(_ctx(info), d.Facet.COMPANY_ROLES, self.key), _company_roles)

    @strawberry.field(
        description="Assets from every agency that registers them; filter by kind. A plain "
        "list: each registry answers with all of the debtor's holdings in one call, so a "
        "page would save no call.",
        graphql_type=list[Asset] | None,
    )
    def assets(
        self,
        info: Info[RequestContext, None],
        kinds: Annotated[
            list[AssetKind] | None,
            strawberry.argument(description="Only these kinds of asset; every kind if omitted."),
        ] = None,
    ) -> MaybeAwaitable[list[Asset] | None]:
        wanted = None if kinds is None else {d.AssetKind(k) for k in kinds}
        seal, case_number, key = handles(_ctx(info)).seal_node, self.case_number, self.key

        def shown(facts: list[d.Fetched]) -> list[Asset] | None:
            out: list[Asset] = []
            for fact in facts:
                prov = Provenance.of(fact)
                for value in cast(tuple[d.Asset, ...], fact.value):
                    if wanted is None or value.kind in wanted:
                        node_id = seal(str(value.kind), case_number, key, value.id)
                        out.append(asset_from_domain(value, prov, node_id))
            return out

        loaded = load_all_now(_ctx(info), d.Facet.ASSETS, self.key, info.path.as_list, kinds=wanted)
        return then(loaded, shown)

    @strawberry.field(
        description="Assistance requests about this debtor in this case, newest first, a "
        "page at a time."
    )
    async def assistance_requests(
        self, info: Info[RequestContext, None], first: First = None, after: After = None
    ) -> AssistanceRequestConnection:
        size, key = page_size(first), decode_cursor(_REQUESTS, after)
        runtime = _ctx(info).assistance
        if runtime is None:  # a gateway without the assistance machinery has none
            return request_connection(_REQUESTS, [], size, key)
        engine = runtime.requests.engine
        found = await requests_of_case(
            engine, self.case_number, None, key, size + 1, debtor_id=self.key
        )
        return request_connection(_REQUESTS, found, size, key)

    @strawberry.field(
        description="Exit bans, consumption bans and dishonest-list entries: latest `since` "
        "first, a page at a time. The agencies' exit bans and the court's own records are "
        "merged, so the page is cut from the whole list at hand, not in a query.",
        graphql_type=RestrictionConnection,
    )
    def restrictions(
        self, info: Info[RequestContext, None], first: First = None, after: After = None
    ) -> MaybeAwaitable[RestrictionConnection]:
        size, key = page_size(first), decode_cursor(_RESTRICTIONS, after)
        ctx = _ctx(info)
        bans = load_all_now(ctx, d.Facet.EXIT_BANS, self.key, info.path.as_list, never_raise=True)
        rows = ctx.loaders.restrictions.peek(self.key)

        def page(facts: list[d.Fetched], stored: Sequence[Any]) -> RestrictionConnection:
            found = _restrictions(facts, stored, self, info)
            keyed = page_in_memory([(restriction_key(r), r) for r in found], key, size + 1)
            return restriction_connection(_RESTRICTIONS, keyed, size, key)

        if isinstance(bans, list) and rows is not None:
            return page(bans, rows)  # at hand (a warm cache, prefetched)
        stored = ctx.loaders.restrictions.load(self.key)

        async def later() -> RestrictionConnection:
            facts = bans if isinstance(bans, list) else await bans
            return page(facts, await stored)

        return later()


def _restrictions(
    facts: list[d.Fetched], rows: Sequence[Any], of: Debtor, info: Info[RequestContext, None]
) -> list[Restriction]:
    # Both sources, in no order of their own: the connection sorts them (restriction_key).
    out: list[Restriction] = []
    for fact in facts:
        prov = Provenance.of(fact)
        for ban in cast(tuple[d.ExitBan, ...], fact.value):
            try:
                out.append(Restriction.from_exit_ban(ban, prov, of.key, of.case_number))
            except AgencyBadResponse as err:
                # One malformed ban is reported beside the list, not in place of it: the
                # list is non-null, and its other entries (and the debtor) still stand.
                path = info.path.as_list()
                error = GraphQLError(err.message, path=path, extensions=err.extensions)
                _ctx(info).partial_errors.append(error)
    out.extend(Restriction.from_row(row, of.case_number) for row in rows)
    return out


def _organization(fact: d.Fetched | None) -> Organization | None:
    if fact is None or fact.value is None:
        return None
    return Organization.from_fact(cast(d.CompanyInfo, fact.value), Provenance.of(fact))


def _company_roles(fact: d.Fetched | None) -> list[CompanyRole] | None:
    if fact is None:
        return None
    prov = Provenance.of(fact)
    return [
        CompanyRole.from_domain(role, prov) for role in cast(tuple[d.CompanyRole, ...], fact.value)
    ]
