"""Parsing agency replies: literal samples from ``mocks/API.md``, good and hostile."""

from __future__ import annotations

import hashlib
import hmac
from datetime import date
from decimal import Decimal

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from connectors import civil_affairs, land_registry, market_regulation, public_security
from connectors.batching import fetch_batched
from connectors.domain import ControlKind, Identity, RealEstate
from connectors.http import HttpReply
from connectors.parsing import (
    Record,
    error_for_status,
    json_body,
    parse_date,
    parse_decimal,
    parse_options,
)
from gateway.errors import (
    AgencyBadResponse,
    AgencyError,
    AgencyRejected,
    AgencyUnavailable,
)

PERSON = "110101199003071234"

# --- the scalar formats ------------------------------------------------------------------


@given(st.dates())
def test_dates_round_trip(day: date) -> None:
    assert parse_date(day.isoformat()) == day


@given(st.text(max_size=30))
def test_date_rejects_anything_else_with_value_error(text: str) -> None:
    try:
        parsed = parse_date(text)
    except ValueError:
        return
    assert parsed.isoformat() == text


@pytest.mark.parametrize("text", ["20240101", "2024-1-01", "2024-02-30", "２０２４-01-01", ""])
def test_date_rejects_near_misses(text: str) -> None:
    with pytest.raises(ValueError):
        parse_date(text)


@given(st.decimals(allow_nan=False, allow_infinity=False, places=2, max_value=10**12, min_value=0))
def test_money_round_trips(value: Decimal) -> None:
    assert parse_decimal(f"{value:.2f}") == value


@pytest.mark.parametrize("text", ["1e5", "NaN", "Infinity", " 1.00", "1,000.00", "1.", ".5", "１"])
def test_decimal_rejects_near_misses(text: str) -> None:
    with pytest.raises(ValueError):
        parse_decimal(text)


@given(st.dictionaries(st.sampled_from(["a", "b"]), st.none() | st.integers() | st.text()))
def test_record_getters_only_ever_raise_bad_response(data: dict[str, object]) -> None:
    record = Record("x", data, "top")
    for getter in (record.text, record.date, record.decimal, record.integer, record.records):
        try:
            getter("a")
        except AgencyBadResponse as exc:
            assert exc.extensions["field"] == "top.a"


def test_bad_field_names_the_field_not_the_value() -> None:
    record = Record("public_security", {"person": {"birthDate": "1990-13-45"}}, "results[0]")
    with pytest.raises(AgencyBadResponse) as caught:
        record.record("person").date("birthDate")
    assert caught.value.extensions == {
        "code": "AGENCY_BAD_RESPONSE",
        "agency": "PUBLIC_SECURITY",
        "field": "results[0].person.birthDate",
    }
    assert "1990-13-45" not in str(caught.value)


# --- replies: status, content type, JSON ---------------------------------------------------


def reply(
    status: int, body: bytes, content_type: str = "application/json", **headers: str
) -> HttpReply:
    return HttpReply(status, {"Content-Type": content_type, **headers}, body)


@pytest.mark.parametrize(
    ("status", "kind"),
    [(500, AgencyUnavailable), (503, AgencyUnavailable), (400, AgencyRejected),
     (401, AgencyRejected), (403, AgencyRejected), (413, AgencyRejected), (302, AgencyBadResponse)],
)  # fmt: skip
def test_status_mapping(status: int, kind: type[AgencyError]) -> None:
    error = error_for_status(reply(status, b"{}"), "x")
    assert type(error) is kind
    assert error.extensions["httpStatus"] == status


def test_429_carries_retry_after() -> None:
    error = error_for_status(reply(429, b"", **{"retry-after": "3"}), "civil_affairs")
    assert isinstance(error, AgencyRejected)
    assert error.extensions["retryAfter"] == 3


@pytest.mark.parametrize(
    ("body", "content_type"),
    [(b"{}", "text/html"), (b"{nope", "application/json"), (b"[1,2", "application/json")],
)
def test_json_body_rejects_wrong_type_and_invalid_json(body: bytes, content_type: str) -> None:
    with pytest.raises(AgencyBadResponse):
        json_body(reply(200, body, content_type), "x")


def test_options_errors_name_the_key_never_the_value() -> None:
    with pytest.raises(ValueError, match="secrte") as caught:
        parse_options(
            public_security.PublicSecurityOptions,
            {"client_id": "c", "secret": "s", "secrte": "TOPSECRET"},
            connector="public_security",
        )
    assert "TOPSECRET" not in str(caught.value)
    options = parse_options(
        public_security.PublicSecurityOptions,
        {"client_id": "c", "secret": "TOPSECRET"},
        connector="p",
    )
    assert "TOPSECRET" not in repr(options)


# --- public security ---------------------------------------------------------------------


def test_sign_matches_the_documented_canonical_string() -> None:
    body = b'{"ids":["1"]}'
    canonical = f"POST\n/ps/v1/persons/query\n1700000000\n{hashlib.sha256(body).hexdigest()}"
    expected = hmac.new(b"k", canonical.encode(), hashlib.sha256).hexdigest()
    assert public_security.sign(b"k", "POST", "/ps/v1/persons/query", 1700000000, body) == expected


def test_sign_agrees_with_the_mock() -> None:
    from mocks import signing

    args = ("POST", "/ps/v1/vehicles/query", 1700000000, b'{"ids":[]}')
    assert public_security.sign(b"s", *args) == signing.sign(b"s", *args)


PERSONS = {
    "results": [
        {"id": PERSON, "found": True,
         "person": {"name": "王伟", "sex": "M", "birthDate": "1990-03-07",
                    "address": "江苏省徐州市泉山区", "status": "NORMAL"}},
        {"id": "2", "found": False},
        {"id": "3", "found": True, "person": {"name": "李娜", "sex": "F", "birthDate": "1990-02-30",
                                             "address": "x", "status": "NORMAL"}},
        {"found": True},
    ]
}  # fmt: skip


def test_persons_one_bad_record_spoils_only_its_key() -> None:
    out = public_security.parse_results(PERSONS, "id", public_security._identity)
    assert out[PERSON] == Identity(
        PERSON, "王伟", "M", date(1990, 3, 7), "江苏省徐州市泉山区", "NORMAL"
    )
    assert out["2"] is None
    assert isinstance(out["3"], AgencyBadResponse)
    assert out["3"].extensions["field"] == "results[2].person.birthDate"
    assert set(out) == {PERSON, "2", "3"}  # the id-less item is attributed to nobody


def test_vehicles_sample() -> None:
    body = {"results": [{"ownerId": PERSON, "vehicles": [
        {"plate": "苏C12345", "vin": "LSVAU2180N2183459", "model": "大众朗逸",
         "registeredOn": "2019-05-01", "status": "NORMAL", "estimatedValue": "85000.00",
         "seizures": [{"court": "c", "caseNumber": "n", "since": "2023-01-01",
                       "until": "2025-01-01", "queuePosition": 2}]},
        {"plate": "苏C1", "vin": "V2", "model": None, "registeredOn": "2019-05-01",
         "status": "SCRAPPED", "estimatedValue": None, "seizures": []}]}]}  # fmt: skip
    (first, second) = public_security.parse_results(body, "ownerId", public_security._vehicles)[
        PERSON
    ]  # type: ignore[misc]
    assert first.id == first.vin == "LSVAU2180N2183459"
    assert first.estimated_value == Decimal("85000.00")
    assert first.controls[0].kind is ControlKind.QUEUED_SEIZURE
    assert first.controls[0].queue_position == 2
    assert second.estimated_value is None and second.model is None


@pytest.mark.parametrize("bad", [85000.0, "85,000", True])
def test_vehicle_money_must_be_a_decimal_string(bad: object) -> None:
    body = {"results": [{"ownerId": PERSON, "vehicles": [
        {"plate": "p", "vin": "v", "model": "m", "registeredOn": "2019-05-01", "status": "NORMAL",
         "estimatedValue": bad, "seizures": []}]}]}  # fmt: skip
    out = public_security.parse_results(body, "ownerId", public_security._vehicles)
    assert isinstance(out[PERSON], AgencyBadResponse)


def test_results_not_a_list_is_a_bad_response() -> None:
    with pytest.raises(AgencyBadResponse):
        public_security.parse_results({"results": {}}, "id", public_security._identity)


# --- civil affairs -----------------------------------------------------------------------


def test_marriage_sample_and_single() -> None:
    married = civil_affairs.parse_marriage(PERSON, {
        "id": PERSON, "status": "MARRIED", "spouseId": "2", "spouseName": "李娜",
        "registeredOn": "2015-10-01", "office": "徐州市泉山区民政局婚姻登记处"})  # fmt: skip
    assert married.spouse_id == "2" and married.registered_on == date(2015, 10, 1)
    single = civil_affairs.parse_marriage(PERSON, {
        "id": PERSON, "status": "SINGLE", "spouseId": None, "spouseName": None,
        "registeredOn": None, "office": None})  # fmt: skip
    assert single.spouse_id is None and single.registered_on is None


def test_marriage_missing_status() -> None:
    with pytest.raises(AgencyBadResponse, match="status"):
        civil_affairs.parse_marriage(PERSON, {"id": PERSON})


# --- land registry -----------------------------------------------------------------------

LAND = """<?xml version="1.0" encoding="utf-8"?>
<RealEstateResponse>
  <Owner idNumber="110101199003071234">
    <Property>
      <CertificateNo>苏(2021)徐州市不动产权第0012345号</CertificateNo>
      <Address>江苏省徐州市泉山区</Address>
      <Area>89.50</Area>
      <Use>住宅</Use>
      <AssessedValue>1234567.00</AssessedValue>
      <CoOwners><CoOwner>李娜</CoOwner></CoOwners>
      <Mortgages>
        <Mortgage creditor="中国银行徐州分行" amount="500000.00" registered="2020-01-01"/>
      </Mortgages>
      <Seizures><Seizure court="c" caseNumber="n" since="2023-01-01" until="2026-01-01" queue="0"/>
                <Seizure court="d" caseNumber="m" since="2023-02-01" queue="1"/></Seizures>
    </Property>
  </Owner>
  <Owner idNumber="2"/>
  <Owner idNumber="3"><Property><Address>x</Address></Property></Owner>
</RealEstateResponse>""".encode()


def test_land_sample() -> None:
    out = land_registry.parse_reply(LAND)
    (estate,) = out[PERSON]  # type: ignore[misc]
    assert isinstance(estate, RealEstate)
    assert estate.area_sqm == 89.5 and estate.estimated_value == Decimal("1234567.00")
    assert estate.co_owners == ("李娜",)
    assert estate.mortgages[0].amount == Decimal("500000.00")
    kinds = [(c.kind, c.queue_position, c.until) for c in estate.controls]
    assert kinds == [(ControlKind.SEIZURE, 0, date(2026, 1, 1)),
                     (ControlKind.QUEUED_SEIZURE, 1, None)]  # fmt: skip
    assert out["2"] == ()
    assert isinstance(out["3"], AgencyBadResponse)  # no certificate number
    assert out["3"].extensions["field"] == "Property.CertificateNo"


def test_land_bad_queue_and_bad_area() -> None:
    bad = LAND.replace(b'queue="1"', b'queue="-1"')
    assert isinstance(land_registry.parse_reply(bad)[PERSON], AgencyBadResponse)
    bad = LAND.replace(b"89.50", b"89,50")
    assert isinstance(land_registry.parse_reply(bad)[PERSON], AgencyBadResponse)


BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<RealEstateResponse><Owner idNumber="&lol3;"/></RealEstateResponse>"""
EXTERNAL = b"""<?xml version="1.0"?>
<!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<RealEstateResponse><Owner idNumber="1"><Property><Address>&xxe;</Address></Property></Owner>
</RealEstateResponse>"""
DTD_ONLY = b"""<?xml version="1.0"?><!DOCTYPE RealEstateResponse SYSTEM "http://evil/x.dtd">
<RealEstateResponse/>"""


@pytest.mark.parametrize(
    "body",
    [BOMB, EXTERNAL, DTD_ONLY, b"<RealEstateResponse>", b"", b"not xml", b"<Other/>"],
    ids=["bomb", "external-entity", "dtd", "unclosed", "empty", "text", "wrong-root"],
)
def test_hostile_or_malformed_xml_is_a_bad_response(body: bytes) -> None:
    with pytest.raises(AgencyBadResponse):
        land_registry.parse_reply(body)


# --- market regulation -------------------------------------------------------------------

COMPANY = {"code": "91320300MA1XXXXXXX", "name": "徐州某某科技有限公司", "status": "ACTIVE",
           "legalRepresentative": "王伟", "registeredCapital": "1000000.00", "address": "a",
           "establishedOn": "2016-04-12"}  # fmt: skip
SHAREHOLDER = {"personId": PERSON, "role": "SHAREHOLDER", "shareRatio": "0.2500",
               "subscribedCapital": "250000.00", "estimatedValue": "400000.00", "company": COMPANY,
               "freezes": [{"court": "c", "caseNumber": "n", "since": "2023-01-01",
                            "until": None, "queuePosition": 0}]}  # fmt: skip


def test_roles_sample() -> None:
    items = [Record("m", SHAREHOLDER, "i"), Record("m", {"personId": PERSON,
             "role": "LEGAL_REPRESENTATIVE", "company": COMPANY}, "j")]  # fmt: skip
    roles = market_regulation.parse_roles([PERSON, "2"], items)
    assert roles["2"] == []
    mine = roles[PERSON]
    assert isinstance(mine, list)
    assert [r.role.role for r in mine] == ["SHAREHOLDER", "LEGAL_REPRESENTATIVE"]
    stake = mine[0].stake
    assert stake is not None and stake.id == "91320300MA1XXXXXXX"
    assert stake.share_ratio == Decimal("0.2500")
    assert stake.controls[0].kind is ControlKind.FREEZE
    assert mine[1].stake is None


def test_roles_bad_item_spoils_its_person_only() -> None:
    bad = {**SHAREHOLDER, "shareRatio": None}
    roles = market_regulation.parse_roles(
        [PERSON, "2"], [Record("m", bad, "i"), Record("m", {**SHAREHOLDER, "personId": "2"}, "j")]
    )
    assert isinstance(roles[PERSON], AgencyBadResponse)
    assert isinstance(roles["2"], list) and len(roles["2"]) == 1


@pytest.mark.parametrize(
    ("code", "kind"), [(42900, AgencyRejected), (40001, AgencyRejected), (40002, AgencyRejected),
                       (50000, AgencyUnavailable)],
)  # fmt: skip
def test_envelope_codes(code: int, kind: type[AgencyError]) -> None:
    with pytest.raises(kind) as caught:
        market_regulation.unwrap({"code": code, "msg": "rate limited", "data": None})
    assert caught.value.extensions["agencyCode"] == str(code)  # a string at every agency


def test_envelope_without_code_is_a_bad_response() -> None:
    with pytest.raises(AgencyBadResponse):
        market_regulation.unwrap(orjson.loads(b'{"msg": "ok", "data": {}}'))


# --- batching ----------------------------------------------------------------------------


async def test_batching_dedupes_chunks_and_keeps_order() -> None:
    seen: list[tuple[str, ...]] = []

    async def chunk(ids: tuple[str, ...]) -> dict[str, object]:
        seen.append(ids)
        if "bad" in ids:
            raise AgencyUnavailable("x", "down")
        return {k: k.upper() for k in ids if k != "gone"}

    keys = ["a", "b", "a", "c", "gone", "../etc", "bad", "d"]
    out = await fetch_batched("x", keys, 2, chunk)
    assert seen == [("a", "b"), ("c", "gone"), ("bad", "d")]
    assert out[:4] == ["A", "B", "A", "C"]
    assert isinstance(out[4], AgencyBadResponse)  # the agency left a key out
    assert isinstance(out[5], AgencyRejected)  # never sent
    assert isinstance(out[6], AgencyUnavailable) and out[6] is out[7]


async def test_one_batch_fails_or_surfaces_as_several_do() -> None:
    # A single batch is awaited in place (no task): its failure still goes to each of its
    # keys, and anything that is not an agency failure still surfaces.
    async def down(ids: tuple[str, ...]) -> dict[str, object]:
        raise AgencyUnavailable("x", "down")

    out = await fetch_batched("x", ["a", "b", "a", "../etc"], 5, down)
    assert isinstance(out[0], AgencyUnavailable) and out[0] is out[1] is out[2]
    assert isinstance(out[3], AgencyRejected)

    async def bug(ids: tuple[str, ...]) -> dict[str, object]:
        raise KeyError("bug")

    with pytest.raises(KeyError):
        await fetch_batched("x", ["a"], 5, bug)


def test_json_integers_must_be_numbers_but_xml_ones_are_text() -> None:
    with pytest.raises(AgencyBadResponse, match="queuePosition"):
        Record("x", {"queuePosition": "0"}, "").integer("queuePosition")
    assert Record("x", {"queue": "3"}, "", xml=True).integer("queue") == 3
    with pytest.raises(AgencyBadResponse):
        Record("x", {"queuePosition": True}, "").integer("queuePosition")
