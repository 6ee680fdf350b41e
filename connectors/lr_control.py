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
from connectors.lr_xml import parse_xml
from connectors.parsing import Record, error_for_status
from gateway.errors import AgencyBadResponse, AgencyRejected

if TYPE_CHECKING:
    from connectors.http import AgencyHttp, HttpReply

__all__ = ["LandRegistryControl", "order_xml", "parse_ticket"]

AGENCY = "land_registry"
_ACTIONS = {
    ControlAction.SEIZE_REAL_ESTATE: "SEIZE",
    ControlAction.LIFT_REAL_ESTATE_SEIZURE: "LIFT",
}
_OUTCOMES = {
    "SEIZED": ReceiptStatus.COMPLETED,
    "LIFTED": ReceiptStatus.COMPLETED,
    "QUEUED": ReceiptStatus.QUEUED,
    "REJECTED": ReceiptStatus.REJECTED,
}


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
    outcome = ticket.text("outcome")
    status = _OUTCOMES.get(outcome)
    if status is None:
        raise ticket.bad("outcome", "is not a known outcome")
    if status is ReceiptStatus.REJECTED:
        return ControlReceipt(status, ticket=ticket_id, reply=ticket.opt_text("reason") or outcome)
    return ControlReceipt(
        status,
        reference=ticket_id,
        ticket=ticket_id,
        queue_position=ticket.integer("queue", minimum=0),
        reply=outcome,
    )


class LandRegistryControl:
    """Seize and release real estate, through tickets."""

    actions: ClassVar[frozenset[ControlAction]] = frozenset(_ACTIONS)
    _http: AgencyHttp

    async def submit(self, order: ControlOrder, idempotency_key: str) -> ControlReceipt:
        """Send ``order``; the registry answers with a ticket to poll."""
        reply = await self._http.request(
            "POST",
            "/lr/controls",
            body=order_xml(order),
            headers={"Content-Type": "application/xml"},
            idempotency_key=idempotency_key,
        )
        return _receipt(reply)

    async def poll(self, ticket: str) -> ControlReceipt:
        """The ticket's state; reading it is safe to repeat."""
        if not is_plain_id(ticket):
            raise AgencyRejected(AGENCY, "ticket is not a plain id; not sent")
        reply = await self._http.request("GET", f"/lr/tickets/{ticket}", read=True)
        return _receipt(reply)


def _receipt(reply: HttpReply) -> ControlReceipt:
    code = None
    if reply.status >= 400:
        try:
            code = parse_xml(reply.body).get("code")
        except AgencyBadResponse:
            code = None
    error = error_for_status(reply, AGENCY, code)
    if error is not None:
        raise error
    return parse_ticket(reply.body)
