"""GraphQL types of assistance requests (协助执行): the request, its timeline, the inputs."""

from __future__ import annotations

from datetime import date, datetime

import strawberry
from strawberry.types import Info

from connectors.control import ControlAction
from gateway.domain.assistance_rows import AssistanceRow, EventRow
from gateway.domain.assistance_status import AssistanceStatus, EventKind
from gateway.domain.overseizure import net_value
from gateway.masking import mask_id
from resolvers.context import RequestContext
from schema.node import Node
from schema.outside_enums import enum_with_values
from schema.scalars import Money
from schema.types import Agency

__all__ = [
    "AssistanceAction",
    "AssistanceEvent",
    "AssistanceEventKind",
    "AssistanceRequest",
    "AssistanceRequestInput",
    "AssistanceRequestPayload",
    "AssistanceStatusEnum",
    "AssistanceUpdate",
]

AssistanceAction = ControlAction
AssistanceStatusEnum = AssistanceStatus
AssistanceEventKind = EventKind
enum_with_values(
    ControlAction,
    name="AssistanceAction",
    description="What an agency is asked to do.",
    values={
        "SEIZE_REAL_ESTATE": "查封 real estate (land registry).",
        "LIFT_REAL_ESTATE_SEIZURE": "解除查封 of real estate.",
        "FREEZE_EQUITY": "冻结 an equity stake (market regulation).",
        "UNFREEZE_EQUITY": "解除冻结 of an equity stake.",
        "SEIZE_VEHICLE": "查封 a vehicle (public security).",
        "LIFT_VEHICLE_SEIZURE": "解除查封 of a vehicle.",
        "EXIT_BAN": "限制出境 (public security).",
        "LIFT_EXIT_BAN": "解除限制出境.",
    },
)
enum_with_values(
    AssistanceStatus,
    name="AssistanceStatus",
    description="Where an assistance request is.",
    values={
        "PENDING_APPROVAL": "Made; waits for the judge or bureau head.",
        "APPROVED": "Approved; the worker will send it.",
        "SUBMITTED": "Sent; the agency has not answered for good yet.",
        "COMPLETED": "Carried out by the agency.",
        "QUEUED": "Carried out behind another court's control (轮候).",
        "REJECTED": "Refused by the judge or by the agency.",
        "FAILED": "Could not be carried out; `resendAssistance` learns why.",
        "CANCELLED": "Withdrawn before it was sent.",
    },
)
enum_with_values(
    EventKind,
    name="AssistanceEventKind",
    description="A step in a request's life.",
    values={
        "REQUESTED": "The request was made.",
        "APPROVED": "A judge or the bureau head approved it.",
        "REJECTED": "A judge or the bureau head rejected it.",
        "CANCELLED": "It was withdrawn.",
        "SUBMITTED": "It was sent to the agency.",
        "TICKET": "The agency accepted it and gave a ticket to follow.",
        "RETRY": "The outcome was unknown; it will be sent again, same key.",
        "COMPLETED": "The agency carried it out.",
        "QUEUED": "The agency queued it behind another control (轮候).",
        "AGENCY_REJECTED": "The agency refused it.",
        "FAILED": "It could not be carried out.",
        "RESENT": "A failed request sent again, with its key, to learn more.",
        "OVERDUE": "The agency's deadline passed without an answer.",
        "LIFTED": "A later lift request released this control.",
        "LAPSING": "Its term ends soon with no renewal on its way.",
        "TOOK_EFFECT": "A queued seizure took effect: its holder was lifted.",
    },
)


def _ctx(info: Info[RequestContext, None]) -> RequestContext:
    return info.context


@strawberry.type(description="One step in an assistance request's timeline.")
class AssistanceEvent:
    request_id: strawberry.ID = strawberry.field(description="The request this step belongs to.")
    seq: int = strawberry.field(description="1, 2, ... per request, with no gaps.")
    at: datetime = strawberry.field(description="When it happened.")
    kind: EventKind = strawberry.field(description="What happened.")
    status: AssistanceStatus = strawberry.field(description="The request's status after it.")
    actor: str = strawberry.field(
        description="Who did it: an officer, a judge, or the gateway's worker."
    )
    note: str | None = strawberry.field(
        description="A reason, the agency's reply or a reference, if any."
    )

    @staticmethod
    def from_row(row: EventRow) -> AssistanceEvent:
        return AssistanceEvent(
            request_id=strawberry.ID(row.request_id),
            seq=row.seq,
            at=row.at,
            kind=row.kind,
            status=row.status,
            actor=row.actor,
            note=row.note,
        )


@strawberry.type(description="协助执行通知: a control action sent to an agency, on the record.")
class AssistanceRequest(Node):
    row: strawberry.Private[AssistanceRow]

    @strawberry.field(
        description="The request's own id (a random UUID, its node id too): every "
        "assistance field and `node(id:)` take it."
    )
    def id(self) -> strawberry.ID:
        return strawberry.ID(self.row.id)

    @strawberry.field(description="The case the request is made in.")
    def case_number(self) -> str:
        return self.row.case_number

    @strawberry.field(description="The debtor (resident ids masked unless you may unmask).")
    def debtor_id(self, info: Info[RequestContext, None]) -> strawberry.ID:
        return strawberry.ID(_masked(self.row.debtor_id, _ctx(info).unmask))

    @strawberry.field(description="The agency asked to act.")
    def agency(self) -> Agency:
        return Agency(self.row.agency)

    @strawberry.field(description="What it is asked to do.")
    def action(self) -> ControlAction:
        return ControlAction(self.row.action)

    @strawberry.field(description="Certificate no., VIN, company code, exit ban id, or person.")
    def target(self, info: Info[RequestContext, None]) -> str:
        return _masked(self.row.target, _ctx(info).unmask)

    @strawberry.field(description="The target's estimated value when the request was made.")
    def target_value(self) -> Money | None:
        return self.row.target_value

    @strawberry.field(
        description="The target's net value: its estimate less the mortgages and earlier "
        "seizures' claims ranking ahead when the request was made (查扣冻规定 art. 19)."
    )
    def net_value(self) -> Money | None:
        return net_value(self.row.target_value, self.row.encumbrance)

    @strawberry.field(description="The value held, when less than the target's (equity).")
    def amount(self) -> Money | None:
        return self.row.amount

    @strawberry.field(description="The written order's number (裁定书/协助执行通知书).")
    def document_number(self) -> str:
        return self.row.document_number

    @strawberry.field(description="When the control starts.")
    def since(self) -> date:
        return self.row.since

    @strawberry.field(description="When the control's term ends; null for no fixed term.")
    def until(self) -> date | None:
        return self.row.until

    @strawberry.field(description="The control this one renews (续行), if any.")
    def renewal_of(self) -> strawberry.ID | None:
        return None if self.row.renewal_of is None else strawberry.ID(self.row.renewal_of)

    @strawberry.field(description="Where the request stands.")
    def status(self) -> AssistanceStatus:
        return self.row.status

    @strawberry.field(description="The officer or judge who made it.")
    def requested_by(self) -> str:
        return self.row.requested_by

    @strawberry.field(description="Who approved it; null until approved.")
    def approved_by(self) -> str | None:
        return self.row.approved_by

    @strawberry.field(description="The judge's written reason for overriding the guard.")
    def override_reason(self) -> str | None:
        return self.row.override_reason

    @strawberry.field(description="A lift's written reason, sent to the agency with it.")
    def reason(self) -> str | None:
        return self.row.reason

    @strawberry.field(description="The agency's id for the control, once carried out.")
    def reference(self) -> str | None:
        return self.row.reference

    @strawberry.field(description="0: effective; n >= 1: n-th in the queue (轮候).")
    def queue_position(self) -> int | None:
        return self.row.queue_position

    @strawberry.field(description="The agency's (or the judge's) last word on it.")
    def reply(self) -> str | None:
        return self.row.reply

    @strawberry.field(description="Sends whose outcome stayed unknown (each resent, same key).")
    def attempts(self) -> int:
        return self.row.attempts

    @strawberry.field(description="The client's key: the same key never acts twice.")
    def idempotency_key(self) -> str:
        return self.row.idempotency_key

    @strawberry.field(description="When the agency must have answered by.")
    def deadline(self) -> datetime | None:
        return self.row.deadline

    @strawberry.field(description="Submitted and not answered by the deadline (联而不动).")
    def overdue(self, info: Info[RequestContext, None]) -> bool:
        row = self.row
        if row.overdue:
            return True
        runtime = _ctx(info).assistance
        now = runtime.clock.now() if runtime is not None else None
        return (
            row.status is AssistanceStatus.SUBMITTED
            and row.deadline is not None
            and now is not None
            and row.deadline < now
        )

    @strawberry.field(description="The request that lifted this control, if one did.")
    def lifted_by(self) -> strawberry.ID | None:
        return None if self.row.lifted_by is None else strawberry.ID(self.row.lifted_by)

    @strawberry.field(description="When it was made.")
    def created_at(self) -> datetime:
        return self.row.created_at

    @strawberry.field(description="When it last changed.")
    def updated_at(self) -> datetime:
        return self.row.updated_at

    @strawberry.field(description="The timeline, oldest first.")
    async def events(self, info: Info[RequestContext, None]) -> list[AssistanceEvent]:
        runtime = _ctx(info).assistance
        if runtime is None:
            return []
        return [AssistanceEvent.from_row(e) for e in await runtime.requests.events(self.row.id)]


def _masked(value: str, unmask: bool) -> str:
    # Resident ids (17 digits and a check character) are personal; asset ids are not.
    looks_personal = len(value) == 18 and value[:17].isdigit()
    return mask_id(value) if looks_personal and not unmask else value


@strawberry.input(description="A control action to request; checked before it is stored.")
class AssistanceRequestInput:
    case_number: str = strawberry.field(description="The case: the legal basis of the control.")
    debtor_id: strawberry.ID = strawberry.field(
        description="The debtor's id, or their handle in this case (Debtor.handle)."
    )
    action: ControlAction = strawberry.field(description="What the agency is asked to do.")
    document_number: str = strawberry.field(description="协助执行通知书 number.")
    target: str | None = strawberry.field(
        default=None,
        description="Certificate no., VIN, company code or exit ban id; omit for EXIT_BAN.",
    )
    since: date | None = strawberry.field(default=None, description="Default: today.")
    until: date | None = strawberry.field(
        default=None, description="Default: the legal maximum term for the asset."
    )
    amount: Money | None = strawberry.field(
        default=None, description="Equity only: the value to freeze (default: what is needed)."
    )
    renewal_of: strawberry.ID | None = strawberry.field(
        default=None, description="Renew (续行) this completed control before it expires."
    )
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="Your key for this order; default: derived from case, action, target "
        "and document number.",
    )
    override_reason: str | None = strawberry.field(
        default=None, description="Judges only: why the over-seizure guard is overridden."
    )


@strawberry.type(description="The request, and whether this call stored it or found it.")
class AssistanceRequestPayload:
    request: AssistanceRequest = strawberry.field(
        description="The request, new or the one the key already made."
    )
    replayed: bool = strawberry.field(
        description="True if the idempotency key named a request already stored."
    )


@strawberry.type(description="A change to one of the case's requests.")
class AssistanceUpdate:
    event: AssistanceEvent = strawberry.field(description="The step that just happened.")
    request: AssistanceRequest = strawberry.field(description="The request after it.")
