"""The land registry's control actions: seizures, asynchronously (``mocks/API.md``).

A mixin of ``LandRegistryConnector``. ``POST /lr/controls`` (XML, with the order's
``Idempotency-Key``) answers ``202`` with a ticket; ``GET /lr/tickets/{id}`` answers
``PENDING`` until the registry has carried the order out, then ``DONE`` with the outcome.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET  # building only; parsing goes through defusedxml
from typing import TYPE_CHECKING, ClassVar
from xml.etree.ElementTree import Element

from connectors.batching import is_plain_id
from connectors.control import ControlAction, ControlOrder, ControlReceipt, ReceiptStatus
from connectors.control_submit import AnswerShape, control_receipt, raise_for_status, submit_order
from connectors.lr_xml import parse_xml
from connectors.parsing import Record
from gateway.errors import AgencyBadResponse, AgencyRejected

if TYPE_CHECKING:
    from connectors.http import AgencyHttp, HttpReply

__all__ = ["LandRegistryControl", "order_xml", "parse_ticket"]

AGENCY = "land_registry"
_ACTIONS = {
    ControlAction.SEIZE_REAL_ESTATE: "SEIZE",
    ControlAction.LIFT_REAL_ESTATE_SEIZURE: "LIFT",
}
# A settled ticket's ``outcome``; the control's id is the ticket's own.
ANSWER = AnswerShape(
    {
        "SEIZED": ReceiptStatus.COMPLETED,
        "LIFTED": ReceiptStatus.COMPLETED,
        "QUEUED": ReceiptStatus.QUEUED,
        "REJECTED": ReceiptStatus.REJECTED,
    },
    status="outcome",
    reference="id",
    queue="queue",
    unknown="is not a known outcome",
)


def order_xml(order: ControlOrder) -> bytes:
    """The ``<ControlRequest/>`` of an order; the same order always gives the same bytes."""
    attrs = {
        "action": _ACTIONS[order.action],
        "certificateNo": order.target,
        "ownerId": order.debtor_id,
        "court": order.court,
        "caseNumber": order.case_number,
        "documentNumber": order.document_number,
        "since": order.since.isoformat(),
    }
    if order.until is not None:
        attrs["until"] = order.until.isoformat()
    if order.renewal:
        attrs["renewal"] = "true"
    built: bytes = ET.tostring(Element("ControlRequest", attrs), encoding="utf-8")
    return built


def parse_ticket(body: bytes) -> ControlReceipt:
    """A ``<Ticket .../>`` as a receipt."""

    root = parse_xml(body)
    if root.tag != "Ticket":
        raise AgencyBadResponse(AGENCY, "root element is not Ticket")
    ticket = Record(AGENCY, root.attrib, "Ticket", xml=True)
    ticket_id = ticket.text("id")
    if not is_plain_id(ticket_id):
        raise ticket.bad("id", "is not a plain id")
    state = ticket.text("status")
    if state == "PENDING":
        return ControlReceipt(ReceiptStatus.PENDING, ticket=ticket_id)
    if state != "DONE":
        raise ticket.bad("status", "is neither PENDING nor DONE")
    return control_receipt(ticket, ANSWER, ticket=ticket_id)


class LandRegistryControl:
    """Seize and release real estate, through tickets."""

    actions: ClassVar[frozenset[ControlAction]] = frozenset(_ACTIONS)
    _http: AgencyHttp

    async def submit(self, order: ControlOrder, idempotency_key: str) -> ControlReceipt:
        """Send ``order``; the registry answers with a ticket to poll."""
        reply = await submit_order(
            self._http,
            AGENCY,
            "/lr/controls",
            order_xml(order),
            idempotency_key,
            content_type="application/xml",
            error_code=_error_code,
        )
        return parse_ticket(reply.body)

    async def poll(self, ticket: str) -> ControlReceipt:
        """The ticket's state; reading it is safe to repeat."""
        if not is_plain_id(ticket):
            raise AgencyRejected(AGENCY, "ticket is not a plain id; not sent")
        reply = await self._http.request("GET", f"/lr/tickets/{ticket}", read=True)
        raise_for_status(reply, AGENCY, _error_code)
        return parse_ticket(reply.body)


def _error_code(reply: HttpReply) -> str | None:
    # The registry names its refusals in an <Error code="..."/> body.
    if reply.status < 400:
        return None
    try:
        return parse_xml(reply.body).get("code")
    except AgencyBadResponse:
        return None
