"""``Debtor`` (被执行人) and ``Marriage``: the centre of the graph.

A ``Debtor`` is always reached through a case, which is the legal basis for looking at it;
every field loads its facts through the request's DataLoaders, so a list of debtors costs
one batch per agency and facet, not one call per debtor.
"""

from __future__ import annotations

from datetime import date
from typing import Any, cast

import strawberry
from strawberry.types import Info

from connectors import domain as d
from gateway.masking import mask_id
from resolvers.context import RequestContext
from resolvers.entities import debtor_reference
from resolvers.facts import load_all, load_one
from schema.assets import Asset, AssetKind, asset_from_domain
from schema.assistance_types import AssistanceRequest
from schema.types import (
    CompanyRole,
    DebtorKind,
    Identity,
    Organization,
    Provenance,
    Restriction,
)

__all__ = ["Debtor", "Marriage"]


def _ctx(info: Info[RequestContext, None]) -> RequestContext:
    return info.context


@strawberry.type(description="婚姻登记: a person's current marriage registration.")
class Marriage:
    status: str
    registered_on: date | None
    office: str | None
    spouse_name: str | None
    provenance: Provenance
    case_number: strawberry.Private[str]
    spouse_id: strawberry.Private[str | None]

    @strawberry.field(description="The spouse, for joint property (夫妻共同财产); a second hop.")
    def spouse(self) -> Debtor | None:
        if self.spouse_id is None:
            return None
        return Debtor(
            key=self.spouse_id, debtor_kind=d.DebtorKind.PERSON, case_number=self.case_number
        )


# Federation keys: see resolvers/entities.py for how each one keeps the case-bound rule.
@strawberry.federation.type(
    keys=["id caseNumber", "id"], description="被执行人: a judgment debtor, seen through one case."
)
class Debtor:
    key: strawberry.Private[str]
    debtor_kind: strawberry.Private[d.DebtorKind]
    case_number: strawberry.Private[str]

    @classmethod
    async def resolve_reference(
        cls, info: Info[RequestContext, None], **representation: Any
    ) -> Debtor:
        """A federation entity reference: ``{id, caseNumber}`` or ``{id}``."""
        case_number = representation.get("caseNumber")
        key, kind, case = await debtor_reference(
            _ctx(info),
            str(representation.get("id", "")),
            None if case_number is None else str(case_number),
        )
        return cls(key=key, debtor_kind=kind, case_number=case.number)

    @strawberry.field(
        name="caseNumber", description="The case this debtor is seen through: the legal basis."
    )
    def seen_through(self) -> str:
        return self.case_number

    @strawberry.field(description="Resident ID or unified social credit code (masked for persons).")
    def id(self, info: Info[RequestContext, None]) -> strawberry.ID:
        if self.debtor_kind is d.DebtorKind.PERSON and not _ctx(info).unmask:
            return strawberry.ID(mask_id(self.key))
        return strawberry.ID(self.key)

    @strawberry.field
    def kind(self) -> DebtorKind:
        return self.debtor_kind

    @strawberry.field(description="户籍 at public security (persons only).")
    async def identity(self, info: Info[RequestContext, None]) -> Identity | None:
        if self.debtor_kind is not d.DebtorKind.PERSON:
            return None
        ctx = _ctx(info)
        fact = await load_one(ctx, d.Facet.IDENTITY, self.key)
        if fact is None or fact.value is None:
            return None
        return Identity.from_domain(cast(d.Identity, fact.value), Provenance.of(fact), ctx.unmask)

    @strawberry.field(description="Registration at market regulation (organizations only).")
    async def organization(self, info: Info[RequestContext, None]) -> Organization | None:
        if self.debtor_kind is not d.DebtorKind.ORGANIZATION:
            return None
        fact = await load_one(_ctx(info), d.Facet.ORGANIZATION, self.key)
        if fact is None or fact.value is None:
            return None
        return Organization.from_fact(cast(d.CompanyInfo, fact.value), Provenance.of(fact))

    @strawberry.field(description="婚姻登记 at civil affairs (persons only).")
    async def marriage(self, info: Info[RequestContext, None]) -> Marriage | None:
        if self.debtor_kind is not d.DebtorKind.PERSON:
            return None
        fact = await load_one(_ctx(info), d.Facet.MARRIAGE, self.key)
        if fact is None or fact.value is None:
            return None
        value = cast(d.Marriage, fact.value)
        return Marriage(
            status=value.status,
            registered_on=value.registered_on,
            office=value.office,
            spouse_name=value.spouse_name,
            provenance=Provenance.of(fact),
            case_number=self.case_number,
            spouse_id=value.spouse_id,
        )

    @strawberry.field(
        description="Roles in companies: legal representative, shareholder, executive."
    )
    async def companies(self, info: Info[RequestContext, None]) -> list[CompanyRole] | None:
        fact = await load_one(_ctx(info), d.Facet.COMPANY_ROLES, self.key)
        if fact is None:
            return None
        prov = Provenance.of(fact)
        roles = cast(tuple[d.CompanyRole, ...], fact.value)
        return [CompanyRole.from_domain(role, prov) for role in roles]

    @strawberry.field(description="Assets from every agency that registers them; filter by kind.")
    async def assets(
        self, info: Info[RequestContext, None], kinds: list[AssetKind] | None = None
    ) -> list[Asset] | None:
        wanted = None if kinds is None else {d.AssetKind(k) for k in kinds}
        facts = await load_all(
            _ctx(info), d.Facet.ASSETS, self.key, info.path.as_list(), kinds=wanted
        )
        out: list[Asset] = []
        for fact in facts:
            prov = Provenance.of(fact)
            for value in cast(tuple[d.Asset, ...], fact.value):
                if wanted is None or value.kind in wanted:
                    out.append(asset_from_domain(value, prov))
        return out

    @strawberry.field(description="Assistance requests about this debtor in this case.")
    async def assistance_requests(
        self, info: Info[RequestContext, None]
    ) -> list[AssistanceRequest]:
        runtime = _ctx(info).assistance
        if runtime is None:
            return []
        found = await runtime.requests.of_debtors([self.key], self.case_number)
        return [AssistanceRequest(row=r) for r in found[self.key]]

    @strawberry.field(description="Exit bans, consumption bans and dishonest-list entries.")
    async def restrictions(self, info: Info[RequestContext, None]) -> list[Restriction]:
        ctx = _ctx(info)
        facts = await load_all(
            ctx, d.Facet.EXIT_BANS, self.key, info.path.as_list(), never_raise=True
        )
        out: list[Restriction] = []
        for fact in facts:
            prov = Provenance.of(fact)
            out.extend(
                Restriction.from_exit_ban(ban, prov)
                for ban in cast(tuple[d.ExitBan, ...], fact.value)
            )
        for row in await ctx.loaders.restrictions.load(self.key):
            out.append(Restriction.from_row(row))
        return out
