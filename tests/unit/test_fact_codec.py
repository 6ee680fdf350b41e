"""The shared cache's codec: every domain record round-trips; nothing else is accepted."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import orjson
import pytest

from connectors import domain as d
from resolvers.fact_codec import CodecError, decode_fact, encode_fact

AT = datetime(2025, 3, 1, 8, 30, 15, 123456, tzinfo=UTC)
COMPANY = d.CompanyInfo(
    code="91110000600037341L",
    name="某某科技有限公司",
    status="ACTIVE",
    legal_representative="张三",
    registered_capital=Decimal("1000000.00"),
    address="北京市海淀区",
    established_on=date(2010, 5, 4),
)
CONTROL = d.Control(
    court="北京市朝阳区人民法院",
    case_number="（2021）京0105执7号",
    kind=d.ControlKind.QUEUED_SEIZURE,
    since=date(2021, 2, 3),
    until=None,
    queue_position=2,
)
VALUES: list[object] = [
    None,
    d.Identity("11010119900307803X", "李四", "M", date(1990, 3, 7), "北京市东城区", "NORMAL"),
    COMPANY,
    d.Marriage("m-1", "MARRIED", "360426199101010071", "王五", date(2015, 1, 1), "东城区民政局"),
    (d.CompanyRole(COMPANY, "SHAREHOLDER", Decimal("0.35")), d.CompanyRole(COMPANY, "EXECUTIVE")),
    (
        d.RealEstate(
            id="京(2020)东城区不动产权第0001号",
            certificate_number="京(2020)东城区不动产权第0001号",
            address="东城区某路1号",
            area_sqm=88.5,
            use="住宅",
            co_owners=("王五",),
            mortgages=(d.Mortgage("某银行", Decimal("500000.00"), date(2020, 6, 1)),),
            controls=(CONTROL,),
            estimated_value=Decimal("3200000.00"),
        ),
        d.Vehicle(
            "LSVAA4182E2123456", "苏C12345", "LSVAA4182E2123456", "大众", None, "NORMAL", (), None
        ),
        d.EquityStake("91110000600037341L", COMPANY, Decimal("0.35"), None, (), Decimal("1.00")),
    ),
    (
        d.ExitBan(
            "eb-1",
            "徐州市泉山区人民法院",
            "（2024）苏0312执1234号",
            date(2024, 4, 1),
            None,
            "ACTIVE",
        ),
    ),
    (),
]


@pytest.mark.parametrize("value", VALUES, ids=lambda v: type(v).__name__)
def test_round_trip_is_exact(value: object) -> None:
    fact = d.Fetched(value=value, agency="land_registry", fetched_at=AT, cached=True, stale=True)
    back = decode_fact(encode_fact(fact))
    assert back == d.Fetched(value=value, agency="land_registry", fetched_at=AT)
    assert back.value == value and type(back.value) is type(value)


def test_enum_and_decimal_types_survive() -> None:
    assets = VALUES[5]
    assert isinstance(assets, tuple)
    back = decode_fact(encode_fact(d.Fetched(assets, "x", AT))).value
    assert isinstance(back, tuple)
    estate = back[0]
    assert isinstance(estate, d.RealEstate)
    assert estate.kind is d.AssetKind.REAL_ESTATE
    assert estate.controls[0].kind is d.ControlKind.QUEUED_SEIZURE
    assert isinstance(estate.estimated_value, Decimal)
    assert str(estate.mortgages[0].amount) == "500000.00"


def test_unknown_objects_cannot_be_encoded() -> None:
    with pytest.raises(CodecError):
        encode_fact(d.Fetched({"a": 1}, "x", AT))


def _wrap(value: object) -> bytes:
    return orjson.dumps({"value": value, "agency": "x", "at": AT.isoformat()})


@pytest.mark.parametrize(
    "payload",
    [
        b"not json",
        b"[]",
        orjson.dumps({"value": None, "agency": "x"}),
        orjson.dumps({"value": None, "agency": "x", "at": "2025-03-01T08:30:15"}),  # naive
        _wrap({"$t": "Popen", "args": ["sh"]}),  # only the domain records are ever built
        _wrap({"$t": "Identity", "id": "1"}),  # missing fields
        _wrap(
            {
                "$t": "Mortgage",
                "creditor": "a",
                "amount": {"$n": "1"},
                "registered_on": None,
                "x": 1,
            }
        ),
        _wrap({"$t": "RealEstate", "kind": "VEHICLE"}),  # init=False fields are not inputs
        _wrap({"$e": "Signals", "v": 9}),
        _wrap({"$n": "NaN"}),
        _wrap({"$d": "yesterday"}),
        _wrap({"plain": "object"}),
    ],
)
def test_anything_else_is_refused(payload: bytes) -> None:
    with pytest.raises(CodecError):
        decode_fact(payload)
