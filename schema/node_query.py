"""``node(id:)`` and ``nodes(ids:)``: any object a client cached, fetched again by its id.

A node id is not a right: each kind is fetched under the checks of the look-up that showed
it, and is on the request's audit record the same way (``debtors_touched``,
``cases_requested``):

- a debtor (``dh1.`` handle): ``debtor(id:, caseNumber:)`` with the handle's own case;
- a case (``nd1.``): ``case(number:)``;
- an asset (``nd1.``: its kind, case, debtor and the agency's id): the debtor's look-up,
  then its assets of that kind, from the cache or the agency, the one with that id;
- a restriction (``nd1.``: the case it was seen through, the debtor, the court's store or
  the agency, the record's id): the debtor's look-up, then its restrictions;
- an assistance request (its UUID): ``assistanceRequest(id:)``.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Annotated, cast

import strawberry
from strawberry.types import Info

from connectors import domain as d
from gateway import validation
from gateway.debtor_handle import is_handle, is_node_id
from gateway.errors import InvalidInput, LiandongError, LimitExceeded, NotFound
from gateway.store.cases import RestrictionRow
from resolvers.access import authorized_case, authorized_debtors
from resolvers.context import RequestContext
from resolvers.facts import load_all_now
from resolvers.handles import handles
from schema.assets import asset_from_domain
from schema.assistance import visible_request
from schema.assistance_types import AssistanceRequest
from schema.case import Case
from schema.debtor import Debtor
from schema.node import Node
from schema.types import Provenance, Restriction

__all__ = ["NodeQuery", "resolve_node"]

_ASSET_KINDS = {k.value: k for k in d.AssetKind}


async def _party(ctx: RequestContext, case_number: str, debtor_id: str, field: str) -> Debtor:
    key, kind = validation.debtor_id(debtor_id, field)
    # The debtor is on the record before the case is checked: who tried to look at whom.
    ctx.debtors_touched.add(key)
    # The case came inside the id: a refusal names the id, not a caseNumber never given.
    await authorized_case(ctx, case_number, field=field)
    case, _ = await authorized_debtors(ctx, [(key, kind)], case_number, field=field)
    return Debtor(key=key, kind=kind, case_number=case.number)


async def _asset(
    ctx: RequestContext, value: str, kind: d.AssetKind, parts: list[str], field: str
) -> Node:
    if len(parts) != 3:
        raise InvalidInput(field, "not a node id")
    case_number, debtor_id, asset_id = parts
    key = (await _party(ctx, case_number, debtor_id, field)).key
    loaded = load_all_now(ctx, d.Facet.ASSETS, key, lambda: [field], kinds={kind})
    facts = loaded if isinstance(loaded, list) else await loaded
    for fact in facts:
        for asset in cast(tuple[d.Asset, ...], fact.value):
            if asset.kind is kind and asset.id == asset_id:
                return asset_from_domain(asset, Provenance.of(fact), value)
    # Sold, lifted off the register, or a stale id: no longer the debtor's.
    raise NotFound("the asset is no longer registered to the debtor", field=field)


async def _restriction(ctx: RequestContext, parts: list[str], field: str) -> Node:
    if len(parts) != 4:
        raise InvalidInput(field, "not a node id")
    seen_in, debtor_id, source, record_id = parts
    debtor = await _party(ctx, seen_in, debtor_id, field)
    if source == "court":
        rows = cast(Sequence[RestrictionRow], await ctx.loaders.restrictions.load(debtor.key))
        for row in rows:
            if row.id == record_id:
                return Restriction.from_row(row, debtor.case_number)
    else:
        loaded = load_all_now(ctx, d.Facet.EXIT_BANS, debtor.key, lambda: [field])
        facts = loaded if isinstance(loaded, list) else await loaded
        for fact in facts:
            for ban in cast(tuple[d.ExitBan, ...], fact.value):
                if ban.id == record_id:
                    prov = Provenance.of(fact)
                    return Restriction.from_exit_ban(ban, prov, debtor.key, debtor.case_number)
    raise NotFound("the restriction is no longer on record", field=field)


async def resolve_node(ctx: RequestContext, value: str, field: str = "id") -> Node:
    """The object a node id names, if the caller may see it; the look-up's error otherwise."""
    if is_handle(value):
        return await _party(ctx, *handles(ctx).open(value, field), field)
    if is_node_id(value):
        type_name, parts = handles(ctx).open_node(value, field)
        if type_name == "Case" and len(parts) == 1:
            return Case.from_row(await authorized_case(ctx, parts[0], field=field))
        if type_name == "Restriction":
            return await _restriction(ctx, parts, field)
        if type_name in _ASSET_KINDS:
            return await _asset(ctx, value, _ASSET_KINDS[type_name], parts, field)
        raise InvalidInput(field, "not a node id")
    try:
        request_id = str(uuid.UUID(value))
    except ValueError:
        raise InvalidInput(field, "not a node id") from None
    if request_id != value.lower():
        raise InvalidInput(field, "not a node id")
    return AssistanceRequest(row=await visible_request(ctx, request_id))


async def _item(ctx: RequestContext, value: str, field: str) -> Node | LiandongError:
    try:
        return await resolve_node(ctx, value, field)
    except LiandongError as exc:
        return exc


@strawberry.type
class NodeQuery:
    @strawberry.field(
        description="The object with this node id (a debtor's handle, a case's, an asset's or "
        "an assistance request's id), under the checks of the look-up that showed it. A "
        "spouse's id (`Marriage.spouse`) is refused with `FORBIDDEN` (rule "
        "`DEBTOR_IS_PARTY`): a spouse is not a party to the case."
    )
    async def node(
        self,
        info: Info[RequestContext, None],
        id: Annotated[strawberry.ID, strawberry.argument(description="A node's `id`.")],
    ) -> Node | None:
        return await resolve_node(info.context, str(id))

    @strawberry.field(
        description="Several nodes at once, one answer per id in order: an id that fails is "
        "null at its index, with an error whose path and `field` name it.",
        graphql_type=list[Node | None],
    )
    async def nodes(
        self,
        info: Info[RequestContext, None],
        ids: Annotated[
            list[strawberry.ID], strawberry.argument(description="Node ids, at most `maxIds`.")
        ],
    ) -> list[Node | LiandongError]:
        ctx = info.context
        if len(ids) > ctx.max_ids:
            raise LimitExceeded(
                f"ids: at most {ctx.max_ids} ids per call, got {len(ids)}",
                field="ids",
                limit="ids",
                max=ctx.max_ids,
            )
        out: list[Node | LiandongError] = []
        for index, value in enumerate(ids):
            # One at a time: each look-up notes its own case and debtor for the record, and
            # the DataLoaders still batch what the fields below ask of the agencies.
            out.append(await _item(ctx, str(value), f"ids[{index}]"))
        return out
