"""Land registry's XML, read safely: shared by look-ups and controls (tickets, refusals)."""

from __future__ import annotations

from xml.etree.ElementTree import Element

import defusedxml
import defusedxml.ElementTree as SafeET

from gateway.errors import AgencyBadResponse

__all__ = ["parse_xml"]

AGENCY = "land_registry"


def parse_xml(body: bytes) -> Element:
    """The document's root, or ``AgencyBadResponse`` for malformed XML, DTDs and entities."""
    try:
        root: Element = SafeET.fromstring(body, forbid_dtd=True)
    except (SafeET.ParseError, defusedxml.DefusedXmlException, ValueError) as exc:
        raise AgencyBadResponse(AGENCY, f"unusable XML ({type(exc).__name__})") from exc
    return root
