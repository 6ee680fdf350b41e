"""Land registry mock: XML batches of owners, parsed safely, built safely."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import aiohttp
import defusedxml.ElementTree as SafeET

from mocks.runner import RunningMocks
from mocks.world import World
from tests.mocks.helpers import stats

XML = {"Content-Type": "application/xml"}


def query(*owner_ids: str) -> bytes:
    root = ET.Element("RealEstateQuery")
    for owner_id in owner_ids:
        ET.SubElement(root, "Owner", {"idNumber": owner_id})
    return bytes(ET.tostring(root, encoding="utf-8"))


async def post(
    http: aiohttp.ClientSession, mocks: RunningMocks, body: bytes
) -> tuple[int, ET.Element]:
    async with http.post(mocks.urls["land_registry"] + "/lr/query", data=body, headers=XML) as resp:
        assert resp.content_type == "application/xml"
        assert resp.charset == "utf-8"
        return resp.status, SafeET.fromstring(await resp.read())


async def test_round_trip(http: aiohttp.ClientSession, mocks: RunningMocks, world: World) -> None:
    owner = next(p for p in world.person_ids() if world.properties_of(p))
    nobody = next(p for p in world.person_ids() if not world.properties_of(p))
    status, root = await post(http, mocks, query(owner, nobody))
    assert status == 200
    assert root.tag == "RealEstateResponse"
    owners = root.findall("Owner")
    assert [o.get("idNumber") for o in owners] == [owner, nobody]
    assert owners[1].findall("Property") == []
    expected = world.properties_of(owner)
    props = owners[0].findall("Property")
    assert [p.findtext("CertificateNo") for p in props] == [r.certificate_no for r in expected]
    for prop, rec in zip(props, expected, strict=True):
        assert prop.findtext("Address") == rec.address
        area = None if rec.area_sqm is None else f"{rec.area_sqm:.2f}"
        assert prop.findtext("Area") == area
        assert prop.findtext("Use") == rec.use
        value = None if rec.assessed_value is None else f"{rec.assessed_value:.2f}"
        assert prop.findtext("AssessedValue") == value
        assert len(prop.findall("CoOwners/CoOwner")) == len(rec.owner_ids) - 1
        mortgages = prop.findall("Mortgages/Mortgage")
        assert [m.get("amount") for m in mortgages] == [f"{m.amount:.2f}" for m in rec.mortgages]
        seizures = prop.findall("Seizures/Seizure")
        assert [s.get("caseNumber") for s in seizures] == [s.case_number for s in rec.seizures]
        assert [int(s.get("queue", "-1")) for s in seizures] == [
            s.queue_position for s in rec.seizures
        ]
    counted = await stats(http, mocks.urls["land_registry"])
    assert counted["requests"] == {"POST /lr/query": 1}
    assert counted["log"][0]["keys"] == 2


async def test_batch_limit(http: aiohttp.ClientSession, mocks: RunningMocks, world: World) -> None:
    ids = world.person_ids()[:51]
    status, _ = await post(http, mocks, query(*ids[:50]))
    assert status == 200
    status, error = await post(http, mocks, query(*ids))
    assert status == 400
    assert error.tag == "Error"
    assert error.attrib == {"code": "BATCH_TOO_LARGE", "max": "50"}


async def test_bad_xml(http: aiohttp.ClientSession, mocks: RunningMocks) -> None:
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE q [<!ENTITY a "aaaaaaaaaa">'
        b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>'
        b'<RealEstateQuery><Owner idNumber="&b;"/></RealEstateQuery>'
    )
    external = (
        b'<?xml version="1.0"?><!DOCTYPE q [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b'<RealEstateQuery><Owner idNumber="&x;"/></RealEstateQuery>'
    )
    for body in (
        b"<RealEstateQuery><Owner",
        b"not xml",
        b"",
        b'<Other><Owner idNumber="1"/></Other>',
        b"<RealEstateQuery><Owner/></RealEstateQuery>",
        b'<RealEstateQuery><Person idNumber="1"/></RealEstateQuery>',
        bomb,
        external,
    ):
        status, error = await post(http, mocks, body)
        assert status == 400, body
        assert error.attrib == {"code": "BAD_REQUEST"}


async def test_values_are_escaped(http: aiohttp.ClientSession, mocks: RunningMocks) -> None:
    tricky = "<&\"'>"
    status, root = await post(http, mocks, query(tricky))
    assert status == 200
    assert [o.get("idNumber") for o in root.findall("Owner")] == [tricky]
