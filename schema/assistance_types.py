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
strawberry.enum(
    ControlAction, name="AssistanceAction", description="What an agency is asked to do."
)
strawberry.enum(
    AssistanceStatus, name="AssistanceStatus", description="Where an assistance request is."
)
strawberry.enum(EventKind, name="AssistanceEventKind", description="A step in a request's life.")


def _ctx(info: Info[RequestContext, None]) -> RequestContext:
    return info.context


@strawberry.type(description="One step in an assistance request's timeline.")
class AssistanceEvent:
    request_id: strawberry.ID
    seq: int = strawberry.field(description="1, 2, ... per request, with no gaps.")
    at: datetime
    kind: EventKind
    status: AssistanceStatus = strawberry.field(description="The request's status after it.")
    actor: str
    note: str | None

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

    @strawberry.field
    def case_number(self) -> str:
        return self.row.case_number

    @strawberry.field(description="The debtor (resident ids masked unless you may unmask).")
    def debtor_id(self, info: Info[RequestContext, None]) -> strawberry.ID:
        return strawberry.ID(_masked(self.row.debtor_id, _ctx(info).unmask))

    @strawberry.field
    def agency(self) -> Agency:
        return Agency(self.row.agency)

    @strawberry.field
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

    @strawberry.field
    def document_number(self) -> str:
        return self.row.document_number

    @strawberry.field
    def since(self) -> date:
        return self.row.since

    @strawberry.field
    def until(self) -> date | None:
        return self.row.until

    @strawberry.field(description="The control this one renews (续行), if any.")
    def renewal_of(self) -> strawberry.ID | None:
        return None if self.row.renewal_of is None else strawberry.ID(self.row.renewal_of)

    @strawberry.field
    def status(self) -> AssistanceStatus:
        return self.row.status

    @strawberry.field
    def requested_by(self) -> str:
        return self.row.requested_by

    @strawberry.field
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

    @strawberry.field
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

    @strawberry.field
    def created_at(self) -> datetime:
        return self.row.created_at

    @strawberry.field
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
    case_number: str
    debtor_id: strawberry.ID = strawberry.field(
        description="The debtor's id, or their handle in this case (Debtor.handle)."
    )
    action: ControlAction
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
    request: AssistanceRequest
    replayed: bool = strawberry.field(
        description="True if the idempotency key named a request already stored."
    )


@strawberry.type(description="A change to one of the case's requests.")
class AssistanceUpdate:
    event: AssistanceEvent
    request: AssistanceRequest
