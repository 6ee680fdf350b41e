"""Written decisions on listings and consumption bans, and the president's signature."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Annotated

import strawberry
from strawberry.types import Info

from gateway.assistance.effects import Actor
from gateway.domain.case_values import RestrictionKind as StoredKind
from gateway.errors import NotFound
from gateway.store.decisions import DecisionRow
from resolvers.access import authorized_case
from resolvers.assistance import runtime
from resolvers.context import RequestContext
from schema.types import Restriction, RestrictionKind

__all__ = ["DecisionMutation", "DecisionStatus", "RestrictionDecision", "SignedDecision"]


@strawberry.enum(description="Where a written decision stands.")
class DecisionStatus(enum.Enum):
    PENDING_SIGNOFF = strawberry.enum_value(
        "PENDING_SIGNOFF", description="Written; waits for the court president's signature."
    )
    SIGNED = strawberry.enum_value("SIGNED", description="Signed: in force, with its restriction.")
    WITHDRAWN = strawberry.enum_value(
        "WITHDRAWN", description="Never signed (the case was paid meanwhile)."
    )


@strawberry.type(
    description="决定书 / 限制消费令: a listing's or a consumption ban's written decision. It "
    "takes effect when the court's president signs it; the restriction then has its id."
)
class RestrictionDecision:
    id: strawberry.ID = strawberry.field(description="The decision's id.")
    case_number: str = strawberry.field(description="The case.")
    kind: RestrictionKind = strawberry.field(description="The measure decided.")
    grounds: list[str] = strawberry.field(description="The grounds, as written.")
    document_number: str = strawberry.field(description="The decision's document number.")
    status: DecisionStatus = strawberry.field(
        description="Waiting for signature, signed, or withdrawn."
    )
    since: date | None = strawberry.field(description="When the measure takes effect.")
    until: date | None = strawberry.field(description="When it ends.")
    extension_basis: str | None = strawberry.field(
        description="Why a listing runs longer than two years, if so."
    )
    extension_reason: str | None = strawberry.field(
        description="The written reason for the longer term."
    )
    decided_by: str = strawberry.field(description="The judge who wrote it.")
    signed_by: str | None = strawberry.field(description="The president who signed it.")
    signed_at: datetime | None = strawberry.field(description="When it was signed.")
    follows: strawberry.ID | None = strawberry.field(
        description="The listing whose signature brought this (mandatory) ban."
    )

    @staticmethod
    def from_row(row: DecisionRow) -> RestrictionDecision:
        return RestrictionDecision(
            id=strawberry.ID(row.id),
            case_number=row.case_number,
            kind=RestrictionKind(row.kind.value),
            # A listing's grounds are statutory names; a ban's ground is free text.
            grounds=(
                row.grounds.split(",") if row.kind is StoredKind.DISHONEST_LIST else [row.grounds]
            ),
            document_number=row.document_number,
            status=DecisionStatus(row.status.value),
            since=row.since,
            until=row.until,
            extension_basis=row.extension_basis,
            extension_reason=row.extension_reason,
            decided_by=row.decided_by,
            signed_by=row.signed_by,
            signed_at=row.signed_at,
            follows=None if row.follows is None else strawberry.ID(row.follows),
        )


@strawberry.type(description="A signed decision and the restrictions now in force.")
class SignedDecision:
    decision: RestrictionDecision = strawberry.field(description="The decision, now signed.")
    restrictions: list[Restriction] = strawberry.field(
        description="The restrictions it put in force."
    )


@strawberry.type
class DecisionMutation:
    @strawberry.mutation(
        description="The court's president signs a listing or consumption-ban decision "
        "(role president): it takes effect, a listing with its mandatory consumption ban."
    )
    async def sign_restriction_decision(
        self,
        info: Info[RequestContext, None],
        id: Annotated[
            strawberry.ID,
            strawberry.argument(description="The decision to sign (the court president)."),
        ],
    ) -> SignedDecision:
        ctx = info.context
        service = runtime(ctx).restrictions
        found = await service.decisions.get(str(id))
        if found is None:
            raise NotFound(f"no restriction decision {id}", field="id")
        await authorized_case(ctx, found.case_number, field="id")
        ctx.debtors_touched.add(found.debtor_id)
        written = await service.sign(Actor.of(ctx.principal, ctx.request_id), found.id)
        signed = await service.decisions.get(found.id)
        assert signed is not None
        return SignedDecision(
            decision=RestrictionDecision.from_row(signed),
            restrictions=[Restriction.from_row(r) for r in written],
        )
