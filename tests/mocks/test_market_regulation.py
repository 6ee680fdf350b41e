"""Market regulation mock: coded envelopes, errors inside HTTP 200, paged roles."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import aiohttp

from connectors.domain import DebtorKind
from gateway.validation import debtor_id
from mocks.runner import RunningMocks
from mocks.world import World

ROLES = "/mr/api/v1/roles"
COMPANIES = "/mr/api/v1/companies"


async def call(
    http: aiohttp.ClientSession, mocks: RunningMocks, path: str, body: Any
) -> dict[str, Any]:
    url = mocks.urls["market_regulation"] + path
    kwargs: dict[str, Any] = {"data": body} if isinstance(body, bytes) else {"json": body}
    async with http.post(url, **kwargs) as resp:
        assert resp.status == 200
        envelope: dict[str, Any] = await resp.json()
        return envelope


def people_with_roles(world: World, count: int) -> list[str]:
    return [p for p in world.person_ids() if world.roles_of(p)][:count]


async def test_roles_paging(http: aiohttp.ClientSession, mocks: RunningMocks, world: World) -> None:
    ids = people_with_roles(world, 20)
    whole = await call(http, mocks, ROLES, {"ids": ids, "page": 1, "pageSize": 100})
    assert whole["code"] == 0 and whole["msg"] == "ok"
    total = whole["data"]["total"]
    expected = sum(len(world.roles_of(p)) for p in ids)
    assert total == expected == len(whole["data"]["items"])
    assert total > 3
    items: list[dict[str, Any]] = []
    page = 1
    while len(items) < total:
        env = await call(http, mocks, ROLES, {"ids": ids, "page": page, "pageSize": 3})
        assert env["data"]["page"] == page and env["data"]["pageSize"] == 3
        assert env["data"]["total"] == total
        assert 0 < len(env["data"]["items"]) <= 3
        items.extend(env["data"]["items"])
        page += 1
    assert items == whole["data"]["items"]
    keys = [(i["personId"], i["company"]["code"], i["role"]) for i in items]
    assert keys == sorted(keys)
    past_end = await call(http, mocks, ROLES, {"ids": ids, "page": page, "pageSize": 3})
    assert past_end["data"]["items"] == []


async def test_role_items(http: aiohttp.ClientSession, mocks: RunningMocks, world: World) -> None:
    pid = next(
        p for p in world.person_ids() if any(r.role == "SHAREHOLDER" for r in world.roles_of(p))
    )
    env = await call(http, mocks, ROLES, {"ids": [pid]})
    assert env["data"]["page"] == 1 and env["data"]["pageSize"] == 100
    by_role = {i["role"]: i for i in env["data"]["items"]}
    stake = by_role["SHAREHOLDER"]
    record = next(r for r in world.roles_of(pid) if r.role == "SHAREHOLDER")
    assert stake["shareRatio"] == f"{record.share_ratio:.4f}"
    assert isinstance(stake["freezes"], list)
    company = world.company(stake["company"]["code"])
    assert company is not None
    assert stake["company"] == {
        "code": company.code,
        "name": company.name,
        "status": company.status,
        "legalRepresentative": company.legal_representative,
        "registeredCapital": f"{company.registered_capital:.2f}",
        "address": company.address,
        "establishedOn": company.established_on.isoformat(),
    }
    for item in env["data"]["items"]:
        if item["role"] != "SHAREHOLDER":
            assert "shareRatio" not in item and "freezes" not in item


async def test_errors_inside_200(
    http: aiohttp.ClientSession, mocks: RunningMocks, world: World
) -> None:
    too_many = await call(http, mocks, ROLES, {"ids": world.person_ids()[:51]})
    assert too_many["code"] == 40002 and too_many["data"] is None
    for bad in (
        b"not json",
        {"ids": "x"},
        {"ids": [1]},
        {"ids": [], "page": 0},
        {"ids": [], "page": True},
        {"ids": [], "pageSize": 101},
        {"ids": [], "pageSize": "10"},
    ):
        env = await call(http, mocks, ROLES, bad)
        assert env["code"] == 40001, bad
        assert env["data"] is None
    codes = await call(http, mocks, COMPANIES, {"codes": world.company_codes()[:51]})
    assert codes["code"] == 40002
    assert (await call(http, mocks, COMPANIES, {"ids": []}))["code"] == 40001


async def test_companies(http: aiohttp.ClientSession, mocks: RunningMocks, world: World) -> None:
    known = list(world.company_codes()[:3])
    env = await call(http, mocks, COMPANIES, {"codes": [known[0], "91000000UNKNOWN000", *known]})
    assert env["code"] == 0
    assert [c["code"] for c in env["data"]["items"]] == known


async def test_members_name_each_companys_persons_with_valid_ids(
    http: aiohttp.ClientSession, mocks: RunningMocks, world: World
) -> None:
    codes = list(world.company_codes()[:30])
    env = await call(http, mocks, "/mr/api/v1/members", {"codes": [*codes, "91000000UNKNOWN000"]})
    assert env["code"] == 0
    items = env["data"]["items"]
    assert len(items) == sum(len(world.members_of(c)) for c in codes)
    keys = [(i["companyCode"], i["personId"], i["role"]) for i in items]
    assert keys == sorted(keys)
    for code in codes:
        company = world.company(code)
        assert company is not None
        mine = [i for i in items if i["companyCode"] == code]
        legal = [i["personId"] for i in mine if i["role"] == "LEGAL_REPRESENTATIVE"]
        assert legal == [company.legal_representative_id]
        shares = sum(Decimal(i["shareRatio"]) for i in mine if i["role"] == "SHAREHOLDER")
        assert shares == 1
    for item in items:
        number, kind = debtor_id(item["personId"])
        assert kind is DebtorKind.PERSON
        person = world.person(number)
        assert person is not None and item["name"] == person.name
    too_many = await call(http, mocks, "/mr/api/v1/members", {"codes": codes * 2})
    assert too_many["code"] == 40002 and too_many["data"] is None
