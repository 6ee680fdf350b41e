"""Imposing and lifting restrictions: court-side ones by decision, exit bans through an agency.

``HIGH_CONSUMPTION_BAN`` and ``DISHONEST_LIST`` are the court's own decisions: imposing one
records its written decision, which takes effect when the president signs it
(``signRestrictionDecision``; ``gateway/restrictions/service.py``). ``EXIT_BAN`` is carried
out by public
security: imposing or lifting one makes an assistance request (EXIT_BAN / LIFT_EXIT_BAN)
that needs a judge's approval like any other control action.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

import strawberry
from strawberry.types import Info

from connectors.control import ControlAction
from connectors.domain import DebtorKind
from gateway import validation
from gateway.assistance.effects import Actor
from gateway.assistance.replay import TargetLookup
from gateway.assistance.rules import RequestSpec, TargetFacts
from gateway.debtor_handle import is_node_id
from gateway.domain.case_values import RestrictionKind as StoredKind
from gateway.domain.dishonest import DishonestGround, ExtensionBasis
from gateway.domain.org_persons import consumption_ban_persons
from gateway.domain.parties import check_parties
from gateway.errors import InvalidInput
from gateway.restrictions.service import RestrictionSpec
from gateway.store.cases import CaseRow
from resolvers.access import authorized_case, authorized_party
from resolvers.assistance import check_target, runtime
from resolvers.context import RequestContext
from resolvers.handles import handles
from resolvers.org_persons import persons_behind, record_persons_behind
from schema.assistance_types import AssistanceRequest
from schema.decisions import RestrictionDecision
from schema.outside_enums import enum_with_values
from schema.types import Restriction, RestrictionKind

__all__ = [
    "ImposeRestrictionInput",
    "LiftRestrictionInput",
    "RestrictionMutation",
    "RestrictionPayload",
]

enum_with_values(
    ExtensionBasis,
    description="Why a listing may run one to three years past its two (art. 2 ¶2).",
    values={
        "VIOLENT_OBSTRUCTION": "以暴力、威胁方法妨碍、抗拒执行情节严重.",
        "SEVERAL_DISHONEST_ACTS": "具有多项失信行为.",
    },
)

strawberry.enum(
    DishonestGround,
    description="The statutory grounds for the dishonest-debtor list (as `ground` values).",
)


@strawberry.input(description="A restriction to impose on a debtor of the case.")
class ImposeRestrictionInput:
    case_number: str = strawberry.field(description="The case: the legal basis of the measure.")
    debtor_id: strawberry.ID = strawberry.field(
        description="A resident ID or credit code of a party to the case."
    )
    kind: RestrictionKind = strawberry.field(description="The measure.")
    ground: str | None = strawberry.field(
        default=None,
        description="The legal ground; for DISHONEST_LIST one of DishonestGround's values.",
    )
    grounds: list[str] | None = strawberry.field(
        default=None,
        description="DISHONEST_LIST: several statutory grounds at once (with or for `ground`).",
    )
    extension_basis: ExtensionBasis | None = strawberry.field(
        default=None, description="DISHONEST_LIST past two years: the statutory basis."
    )
    since: date | None = strawberry.field(default=None, description="Default: today.")
    until: date | None = strawberry.field(
        default=None, description="DISHONEST_LIST: default two years (none when refusing)."
    )
    extension_reason: str | None = strawberry.field(
        default=None, description="Why a dishonest-list entry runs longer than two years."
    )
    document_number: str | None = strawberry.field(
        default=None,
        description="Required: the 决定书 / 限制消费令 number, or for EXIT_BAN the 协助执行通知书.",
    )
    person_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="EXIT_BAN for an organisation: the person it is placed on, its legal "
        "representative (the default) or an executive in market regulation's register.",
    )
    idempotency_key: str | None = strawberry.field(
        default=None, description="The client's key: the same key never acts twice."
    )


@strawberry.input(description="A restriction to lift, with the reason.")
class LiftRestrictionInput:
    case_number: str = strawberry.field(description="The case the measure was imposed in.")
    kind: RestrictionKind = strawberry.field(description="The measure to lift.")
    id: strawberry.ID = strawberry.field(
        description="The restriction's `id` (its node id) or its `recordId` (an exit ban's id)."
    )
    reason: str = strawberry.field(description="Why, in writing; sent to the agency with the lift.")
    debtor_id: strawberry.ID | None = strawberry.field(
        default=None, description="EXIT_BAN: the debtor (the ban lives at public security)."
    )
    person_id: strawberry.ID | None = strawberry.field(
        default=None, description="EXIT_BAN of an organisation: the person the ban is on."
    )
    document_number: str | None = strawberry.field(
        default=None, description="EXIT_BAN: the 协助执行通知书 number (required)."
    )
    idempotency_key: str | None = strawberry.field(
        default=None, description="The client's key: the same key never acts twice."
    )


@strawberry.type(
    description="The decision awaiting the president's signature, the restriction recorded, "
    "or the request that will carry it out."
)
class RestrictionPayload:
    restriction: Restriction | None = strawberry.field(
        description="The restriction, where it took effect at once."
    )
    assistance_request: AssistanceRequest | None = strawberry.field(
        description="The request to the agency (exit bans)."
    )
    decision: RestrictionDecision | None = strawberry.field(
        default=None, description="The decision awaiting signature (listings, bans)."
    )


def _record_id(ctx: RequestContext, given: str) -> str:
    """The record id a restriction's node id was sealed from; any other id as given."""
    if not is_node_id(given):
        return given
    type_name, parts = handles(ctx).open_node(given, "input.id")
    if type_name != "Restriction" or len(parts) != 4:
        raise InvalidInput("input.id", "not a restriction's id")
    return parts[3]


def _required(value: str | None, field: str) -> str:
    if not value or not value.strip():
        raise InvalidInput(field, "must not be empty for an exit ban")
    return value


@strawberry.type
class RestrictionMutation:
    @strawberry.mutation(
        description="Impose a consumption ban, a listing, or (via PS) an exit ban."
    )
    async def impose_restriction(
        self,
        info: Info[RequestContext, None],
        input: Annotated[
            ImposeRestrictionInput,
            strawberry.argument(description="The measure, its case, debtor and grounds."),
        ],
    ) -> RestrictionPayload:
        ctx = info.context
        rt = runtime(ctx)
        case, debtor = await authorized_party(
            ctx,
            input.case_number,
            str(input.debtor_id),
            case_field="input.caseNumber",
            debtor_field="input.debtorId",
        )
        actor = Actor.of(ctx.principal, ctx.request_id)
        if input.kind is RestrictionKind.EXIT_BAN:
            document = _required(input.document_number, "input.documentNumber")
            person = None if input.person_id is None else str(input.person_id)
            look = _target_lookup(
                ctx, case, ControlAction.EXIT_BAN, debtor=debtor, target=person, info=info
            )
            spec = RequestSpec(
                case_number=case.number,
                debtor_id=debtor[0],
                action=ControlAction.EXIT_BAN,
                target=person or "",
                document_number=document,
                since=input.since,
                until=input.until,
                idempotency_key=input.idempotency_key,
            )
            row, _created = await rt.service.request(actor, case, spec, look)
            return RestrictionPayload(
                restriction=None, assistance_request=AssistanceRequest(row=row)
            )
        grounds = [*([input.ground] if input.ground else []), *(input.grounds or [])]
        # Who the measure reaches through the organisation (法释〔2015〕17号 art. 3 ¶2), read
        # before anything is recorded: a ban without its persons would let them pass.
        behind = None
        if debtor[1] is DebtorKind.ORGANIZATION:
            behind = consumption_ban_persons(
                await persons_behind(ctx, debtor[0], info.path.as_list())
            )
        decided = await rt.restrictions.impose(
            actor,
            case,
            RestrictionSpec(
                debtor_id=debtor[0],
                debtor_kind=debtor[1],
                kind=StoredKind(input.kind.value),
                grounds=tuple(grounds),
                document_number=input.document_number,
                since=input.since,
                until=input.until,
                extension_basis=input.extension_basis,
                extension_reason=input.extension_reason,
            ),
        )
        if behind is not None:
            await record_persons_behind(rt, actor, case, debtor[0], behind)
        return RestrictionPayload(
            restriction=None,
            assistance_request=None,
            decision=RestrictionDecision.from_row(decided),
        )

    @strawberry.mutation(description="Lift a restriction with a reason (exit bans via PS).")
    async def lift_restriction(
        self,
        info: Info[RequestContext, None],
        input: Annotated[
            LiftRestrictionInput, strawberry.argument(description="The measure to lift and why.")
        ],
    ) -> RestrictionPayload:
        ctx = info.context
        rt = runtime(ctx)
        case = await authorized_case(ctx, input.case_number, field="input.caseNumber")
        actor = Actor.of(ctx.principal, ctx.request_id)
        if input.kind is RestrictionKind.EXIT_BAN:
            debtor = validation.debtor_id(
                _required(
                    None if input.debtor_id is None else str(input.debtor_id), "input.debtorId"
                ),
                "input.debtorId",
            )
            ctx.debtors_touched.add(debtor[0])
            check_parties(case, [debtor[0]], "input.debtorId")
            document = _required(input.document_number, "input.documentNumber")
            person = None if input.person_id is None else str(input.person_id)
            record = _record_id(ctx, str(input.id))
            look = _target_lookup(
                ctx,
                case,
                ControlAction.LIFT_EXIT_BAN,
                debtor=debtor,
                target=record,
                info=info,
                person=person,
            )
            spec = RequestSpec(
                case_number=case.number,
                debtor_id=debtor[0],
                action=ControlAction.LIFT_EXIT_BAN,
                target=record,
                document_number=document,
                idempotency_key=input.idempotency_key,
                override_reason=None,
                reason=input.reason,
            )
            row, _created = await rt.service.request(actor, case, spec, look)
            return RestrictionPayload(
                restriction=None, assistance_request=AssistanceRequest(row=row)
            )
        record = _record_id(ctx, str(input.id))
        lifted = await rt.restrictions.lift(actor, case, record, input.reason)
        return RestrictionPayload(restriction=Restriction.from_row(lifted), assistance_request=None)


def _target_lookup(
    ctx: RequestContext,
    case: CaseRow,
    action: ControlAction,
    *,
    debtor: tuple[str, DebtorKind],
    target: str | None,
    info: Info[RequestContext, None],
    person: str | None = None,
) -> TargetLookup:
    # Run by the service only for a new idempotency key: a replay asks no agency.
    path = info.path.as_list()

    async def look() -> tuple[str, TargetFacts]:
        return await check_target(
            ctx, case, action, debtor=debtor, target=target, path=path, person=person
        )

    return look
