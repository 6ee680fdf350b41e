"""Land registry (不动产登记): real estate, mortgages and seizures, over XML.

Batches of up to 50 owners per ``POST /lr/query`` (``mocks/API.md``). Replies are parsed only
with ``defusedxml`` and with DTDs forbidden, so entity expansion ("billion laughs"), external
entities and DTD tricks all end as ``AGENCY_BAD_RESPONSE`` rather than as work for us.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar
from xml.etree.ElementTree import Element  # a type only; parsing goes through defusedxml

from pydantic import BaseModel, ConfigDict

from connectors.base import FacetSpec, Result
from connectors.batching import fetch_batched
from connectors.domain import AssetKind, Facet, Mortgage, RealEstate
from connectors.lr_control import LandRegistryControl
from connectors.lr_xml import parse_xml
from connectors.parsing import Record, error_for_status, header, parse_control, parse_options
from gateway.errors import AgencyBadResponse, AgencyError

if TYPE_CHECKING:
    from connectors.http import AgencyHttp, HttpReply

__all__ = ["LandRegistryConnector", "LandRegistryOptions", "parse_reply", "parse_xml"]

AGENCY = "land_registry"
_XML_TYPES = frozenset({"application/xml", "text/xml"})


class LandRegistryOptions(BaseModel):
    """The land registry takes no options yet; unknown ones still fail at start-up."""

    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)


def _leaves(element: Element, path: str) -> Record:
    """Child elements' text as a record (``<Area>89.50</Area>`` -> ``Area``)."""
    texts = {child.tag: (child.text or "").strip() for child in element if len(child) == 0}
    return Record(AGENCY, {k: v for k, v in texts.items() if v}, path, xml=True)


def _property(element: Element) -> RealEstate:
    leaves = _leaves(element, "Property")
    area = leaves.opt_decimal("Area")
    certificate = leaves.text("CertificateNo")
    mortgages = tuple(
        Mortgage(
            creditor=m.text("creditor"),
            amount=m.decimal("amount"),
            registered_on=m.date("registered"),
        )
        for m in (
            Record(AGENCY, e.attrib, "Mortgage", xml=True)
            for e in element.iterfind("Mortgages/Mortgage")
        )
    )
    controls = [
        parse_control(Record(AGENCY, e.attrib, "Seizure", xml=True), queue="queue")
        for e in element.iterfind("Seizures/Seizure")
    ]
    return RealEstate(
        id=certificate,
        certificate_number=certificate,
        address=leaves.text("Address"),
        area_sqm=None if area is None else float(area),
        use=leaves.opt_text("Use"),
        co_owners=tuple((c.text or "").strip() for c in element.iterfind("CoOwners/CoOwner")),
        mortgages=mortgages,
        controls=tuple(controls),
        estimated_value=leaves.opt_decimal("AssessedValue"),
    )


def parse_reply(body: bytes) -> dict[str, Result]:
    """``<RealEstateResponse>`` as owner id -> properties; a bad property spoils its owner only."""
    root = parse_xml(body)
    if root.tag != "RealEstateResponse":
        raise AgencyBadResponse(AGENCY, "root element is not RealEstateResponse")
    out: dict[str, Result] = {}
    for owner in root.iterfind("Owner"):
        key = owner.get("idNumber")
        if not key:
            continue  # not attributable: its key reads as missing (a bad response) later
        try:
            out[key] = tuple(_property(p) for p in owner.iterfind("Property"))
        except AgencyError as exc:
            out[key] = exc
    return out


def _error_code(reply: HttpReply) -> str | None:
    """``<Error code="..."/>`` of an error reply, if it parses."""
    try:
        return parse_xml(reply.body).get("code")
    except AgencyBadResponse:
        return None


class LandRegistryConnector(LandRegistryControl):
    """Real estate held by debtors, with mortgages and existing (queued) seizures."""

    agency: ClassVar[str] = AGENCY
    facets: ClassVar[Mapping[Facet, FacetSpec]] = {
        Facet.ASSETS: FacetSpec(max_batch=50, kinds=frozenset({AssetKind.REAL_ESTATE}))
    }

    def __init__(self, options: Mapping[str, Any], http: AgencyHttp) -> None:
        self.options = parse_options(LandRegistryOptions, options, connector=AGENCY)
        self._http = http

    async def fetch(self, facet: Facet, keys: Sequence[str]) -> Sequence[Result]:
        """One result per key: ``tuple[RealEstate, ...]``, empty when nothing is registered."""
        if facet not in self.facets:
            raise ValueError(f"{AGENCY} does not serve {facet}")
        return await fetch_batched(AGENCY, keys, self.facets[facet].max_batch, self._chunk)

    async def _chunk(self, ids: tuple[str, ...]) -> Mapping[str, Result]:
        owners = "".join(f'<Owner idNumber="{html.escape(i, quote=True)}"/>' for i in ids)
        body = f"<RealEstateQuery>{owners}</RealEstateQuery>".encode()
        reply = await self._http.request(
            "POST", "/lr/query", body=body, headers={"Content-Type": "application/xml"}, read=True
        )
        error = error_for_status(reply, AGENCY, _error_code(reply) if reply.status >= 400 else None)
        if error is not None:
            raise error
        content_type = (header(reply, "Content-Type") or "").split(";", 1)[0].strip().lower()
        if content_type not in _XML_TYPES:
            raise AgencyBadResponse(AGENCY, "reply is not XML")
        return parse_reply(reply.body)

    async def aclose(self) -> None:
        """Nothing to release: the HTTP session is shared and closed by its owner."""
