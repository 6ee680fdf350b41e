"""Mock land registry (不动产登记) API: real estate, mortgages, seizures.

XML in and out, batches of up to 50 owners. Incoming XML is parsed with defusedxml (no
entities, no DTDs); outgoing XML is built with ElementTree, which escapes every value.
Wire format: ``mocks/API.md``.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

import defusedxml.ElementTree as SafeET
from aiohttp import web
from defusedxml import DefusedXmlException

from mocks.faults import install_faults
from mocks.lr_controls import install_controls
from mocks.records import PropertyRecord
from mocks.stats import install_stats, note_keys

if TYPE_CHECKING:
    from mocks.world import World

__all__ = ["XML_CONTENT_TYPE", "LandRegistrySettings", "create_app"]

#: The media type of every body this mock sends (charset added by aiohttp).
XML_CONTENT_TYPE = "application/xml"


@dataclass(frozen=True, slots=True)
class LandRegistrySettings:
    """How the mock behaves; the defaults are the documented API."""

    #: Most owners one query may name.
    max_batch: int = 50
    #: Seed of the fault RNG (``error_rate``).
    fault_seed: int = 0
    #: Polls of a control ticket answered PENDING before the order is carried out.
    pending_polls: int = 1


def _xml(root: ET.Element, status: int = 200) -> web.Response:
    body = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return web.Response(body=body, status=status, content_type=XML_CONTENT_TYPE, charset="utf-8")


def _error(status: int, code: str, **attrs: str) -> web.Response:
    return _xml(ET.Element("Error", {"code": code.upper(), **attrs}), status)


def _text(parent: ET.Element, tag: str, value: str) -> None:
    ET.SubElement(parent, tag).text = value


def _money(value: Decimal) -> str:
    return f"{value:.2f}"


def _parse_owner_ids(body: bytes) -> list[str] | None:
    """Return the owner ids of a ``<RealEstateQuery>``, or None if the body is not one."""
    try:
        root = SafeET.fromstring(body)
    except (ET.ParseError, DefusedXmlException, ValueError):
        return None
    if root.tag != "RealEstateQuery":
        return None
    ids: list[str] = []
    for child in root:
        owner_id = child.get("idNumber")
        if child.tag != "Owner" or not owner_id:
            return None
        ids.append(owner_id)
    return ids


def create_app(world: World, settings: LandRegistrySettings | None = None) -> web.Application:
    """Return the land registry mock serving ``world``."""
    cfg = settings or LandRegistrySettings()
    app = web.Application()
    install_stats(app)
    install_faults(app, _error, seed=cfg.fault_seed)

    def owner_name(owner_id: str) -> str:
        person = world.person(owner_id)
        if person is not None:
            return person.name
        company = world.company(owner_id)
        return company.name if company is not None else owner_id

    def add_property(parent: ET.Element, owner_id: str, rec: PropertyRecord) -> None:
        prop = ET.SubElement(parent, "Property")
        _text(prop, "CertificateNo", rec.certificate_no)
        _text(prop, "Address", rec.address)
        if rec.area_sqm is not None:
            _text(prop, "Area", _money(rec.area_sqm))
        if rec.use is not None:
            _text(prop, "Use", rec.use)
        if rec.assessed_value is not None:
            _text(prop, "AssessedValue", _money(rec.assessed_value))
        co_owners = ET.SubElement(prop, "CoOwners")
        for other in rec.owner_ids:
            if other != owner_id:
                _text(co_owners, "CoOwner", owner_name(other))
        mortgages = ET.SubElement(prop, "Mortgages")
        for m in rec.mortgages:
            attrs = {
                "creditor": m.creditor,
                "amount": _money(m.amount),
                "registered": m.registered_on.isoformat(),
            }
            ET.SubElement(mortgages, "Mortgage", attrs)
        seizures = ET.SubElement(prop, "Seizures")
        for s in rec.seizures:
            attrs = {"court": s.court, "caseNumber": s.case_number, "since": s.since.isoformat()}
            if s.until is not None:
                attrs["until"] = s.until.isoformat()
            attrs["queue"] = str(s.queue_position)
            if s.claim is not None:
                attrs["claim"] = f"{s.claim:.2f}"
            ET.SubElement(seizures, "Seizure", attrs)

    async def query(request: web.Request) -> web.Response:
        owner_ids = _parse_owner_ids(await request.read())
        if owner_ids is None:
            return _error(400, "bad_request")
        if len(owner_ids) > cfg.max_batch:
            return _error(400, "batch_too_large", max=str(cfg.max_batch))
        note_keys(request, len(owner_ids))
        root = ET.Element("RealEstateResponse")
        for owner_id in owner_ids:
            owner = ET.SubElement(root, "Owner", {"idNumber": owner_id})
            for rec in world.properties_of(owner_id):
                add_property(owner, owner_id, rec)
        return _xml(root)

    app.router.add_post("/lr/query", query)
    install_controls(app, world, _xml, _error, cfg.pending_polls)
    return app
