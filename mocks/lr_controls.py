"""Mock land registry control routes: seizures through tickets (``mocks/API.md``).

``POST /lr/controls`` accepts an order with an ``Idempotency-Key`` and answers ``202`` with a
ticket at once; the registry carries the order out later. ``GET /lr/tickets/{id}`` answers
``PENDING`` for the first ``pending_polls`` polls, then carries the order out (exactly once,
whatever the polls that follow) and answers ``DONE`` with the outcome.
"""

from __future__ import annotations

import itertools
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

import defusedxml.ElementTree as SafeET
from aiohttp import web
from defusedxml import DefusedXmlException

from mocks.control import IdempotencyCache, add_control, remove_control, renew_control
from mocks.stats import note_execution, note_keys

if TYPE_CHECKING:
    from mocks.world import World

__all__ = ["Order", "install_controls", "parse_order"]

ACTIONS = {"SEIZE": "SEIZE_REAL_ESTATE", "LIFT": "LIFT_REAL_ESTATE_SEIZURE"}
_REQUIRED = ("action", "certificateNo", "ownerId", "court", "caseNumber", "documentNumber", "since")

Xml = Callable[[ET.Element, int], web.Response]
Error = Callable[..., web.Response]


@dataclass(slots=True)
class Order:
    """One control order and, once carried out, its outcome."""

    action: str  # SEIZE | LIFT
    certificate_no: str
    owner_id: str
    court: str
    case_number: str
    since: date
    until: date | None
    renewal: bool
    polls: int = 0
    outcome: dict[str, str] | None = None


def parse_order(body: bytes) -> Order | None:
    """The ``<ControlRequest .../>`` of a body, or None if it is not one."""
    try:
        root = SafeET.fromstring(body)
    except (ET.ParseError, DefusedXmlException, ValueError):
        return None
    a = root.attrib
    if root.tag != "ControlRequest" or a.get("action") not in ACTIONS:
        return None
    if not all(a.get(k) for k in _REQUIRED):
        return None
    try:
        since = date.fromisoformat(a["since"])
        until = date.fromisoformat(a["until"]) if a.get("until") else None
    except ValueError:
        return None
    return Order(
        a["action"],
        a["certificateNo"],
        a["ownerId"],
        a["court"],
        a["caseNumber"],
        since,
        until,
        a.get("renewal") == "true",
    )


def install_controls(
    app: web.Application, world: World, xml: Xml, error: Error, pending_polls: int
) -> None:
    """Add ``POST /lr/controls`` and ``GET /lr/tickets/{id}`` to the land registry mock."""
    keys = IdempotencyCache()
    tickets: dict[str, Order] = {}
    serials = itertools.count(1)

    def carry_out(order: Order) -> dict[str, str]:
        prop = world.property(order.certificate_no)
        if prop is None:
            return {"outcome": "REJECTED", "reason": "NOT_FOUND"}
        if order.action == "LIFT":
            if not remove_control(prop.seizures, order.case_number, world.today):
                return {"outcome": "REJECTED", "reason": "NOT_CONTROLLED"}
            return {"outcome": "LIFTED", "queue": "0"}
        if order.renewal:
            renewed = renew_control(prop.seizures, order.case_number, order.until, world.today)
            if renewed is None:
                return {"outcome": "REJECTED", "reason": "NOT_CONTROLLED"}
            return {"outcome": "SEIZED", "queue": str(renewed.queue_position)}
        added = add_control(
            prop.seizures,
            court=order.court,
            case_number=order.case_number,
            since=order.since,
            until=order.until,
            today=world.today,
        )
        if added is None:
            return {"outcome": "REJECTED", "reason": "ALREADY_CONTROLLED"}
        outcome = "SEIZED" if added.queue_position == 0 else "QUEUED"
        return {"outcome": outcome, "queue": str(added.queue_position)}

    def ticket_xml(ticket_id: str, order: Order) -> web.Response:
        attrs = {"id": ticket_id, "status": "PENDING" if order.outcome is None else "DONE"}
        return xml(ET.Element("Ticket", {**attrs, **(order.outcome or {})}), 200)

    def accept(body: bytes) -> web.Response:
        order = parse_order(body)
        if order is None:
            return error(400, "bad_request")
        prop = world.property(order.certificate_no)
        if prop is None or order.owner_id not in prop.owner_ids:
            return error(404, "not_found")
        ticket_id = f"LRT{next(serials):08d}"
        tickets[ticket_id] = order
        return xml(ET.Element("Ticket", {"id": ticket_id, "status": "PENDING"}), 202)

    async def controls(request: web.Request) -> web.Response:
        body = await request.read()
        key = keys.key(request)
        if key is None:
            return error(400, "idempotency_key_required")
        note_keys(request, 1)
        fingerprint = keys.fingerprint(request, body)
        seen = keys.replay(key, fingerprint)
        if seen is not None:
            return seen
        return keys.remember(key, fingerprint, accept(body))

    async def ticket(request: web.Request) -> web.Response:
        ticket_id = request.match_info["ticket"]
        order = tickets.get(ticket_id)
        if order is None:
            return error(404, "not_found")
        order.polls += 1
        if order.outcome is None and order.polls > pending_polls:
            order.outcome = carry_out(order)
            if order.outcome["outcome"] != "REJECTED":
                note_execution(request, ACTIONS[order.action])
        return ticket_xml(ticket_id, order)

    app.router.add_post("/lr/controls", controls)
    app.router.add_get("/lr/tickets/{ticket}", ticket)
