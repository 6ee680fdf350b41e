"""The gateway as a Federation v2 subgraph: SDL composition, batched and case-bound entities."""

from __future__ import annotations

import dataclasses
import io
import math
import re
from collections.abc import AsyncIterator
from contextlib import redirect_stdout
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
import pytest

from gateway.audit.record import debtor_key
from gateway.cli.main import main as cli
from gateway.masking import mask_id
from gateway.store.cases import CaseIn
from gateway.validation import debtor_id
from mocks.runner import RunningMocks
from mocks.world import World
from schema import SchemaOptions, build_schema
from schema.federation import public_sdl, subgraph_sdl
from tests.audit_support import one_record
from tests.harness import OFFICER, OUTSIDER, Gateway, gateway_settings, start_gateway, stop_gateway
from tests.servers.node import compose

BIG_CASE = "（2025）苏0311执8100号"
OTHER_CASE = "（2025）苏0311执8101号"
PEOPLE = 100
MAX_IDS = 150
PS_PERSONS = "POST /ps/v1/persons/query"
PS_VEHICLES = "POST /ps/v1/vehicles/query"
LR_QUERY = "POST /lr/query"
MASKED = re.compile(r"\d{6}\*{8}[\dX]{4}")
PS_BATCH, LR_BATCH = 100, 50

ENTITIES = """query($r: [_Any!]!) { _entities(representations: $r) {
  ... on Debtor { maskedId caseNumber identity { name } assets(kinds: [REAL_ESTATE, VEHICLE]) { id } }
  ... on Case { number debtors { maskedId } } } }"""
HANDLES = "query($n: String!) { case(number: $n) { debtors { maskedId handle } } }"

# A second subgraph, as a court's case-management system might publish it: it knows cases
# and their debtors (by handle), and adds its own fields to both entities.
CASEWORK_SDL = """
extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key"])
type Debtor @key(fields: "caseNumber handle") {
  caseNumber: String!  handle: ID!  hearingDates: [String!]! }
type Case @key(fields: "number") { number: String!  judgeNotes: String }
type Query { docket(court: String!): [Case!]! }
"""


async def handles_of(gw: Gateway, case_number: str) -> dict[str, str]:
    """Debtor id -> handle, for every debtor of the case, as a front-end would get them."""
    status, body = await gw.post(HANDLES, {"n": case_number}, token=gw.token(scopes=["unmask"]))
    assert status == 200 and "errors" not in body, body.get("errors")
    return {d["maskedId"]: d["handle"] for d in body["data"]["case"]["debtors"]}


def requests(stats: dict[str, Any], route: str) -> int:
    return int(stats["requests"].get(route, 0))


def test_subgraph_sdl_composes_with_a_real_composer() -> None:
    out = io.StringIO()
    with redirect_stdout(out):
        assert cli(["schema", "print", "--federation"]) == 0
    sdl = out.getvalue()
    assert sdl == subgraph_sdl(build_schema(SchemaOptions(federation=True)))
    assert '@key(fields: "caseNumber handle")' in sdl and '@key(fields: "number")' in sdl
    # The case is in every key: no key a planner could pick leaves the legal basis out.
    assert re.findall(r'@key\(fields: "([^"]*)"\)', sdl) == ["number", "caseNumber handle"]
    result = compose([("liandong", sdl), ("casework", CASEWORK_SDL)])
    assert "errors" not in result, result.get("errors")
    supergraph = result["supergraphSdl"]
    assert 'join__type(graph: LIANDONG, key: "caseNumber handle")' in supergraph
    assert 'join__type(graph: LIANDONG, key: "id")' not in supergraph
    assert 'join__type(graph: CASEWORK, key: "number")' in supergraph


def test_plain_sdl_has_no_federation_machinery() -> None:
    out = io.StringIO()
    with redirect_stdout(out):
        assert cli(["schema", "print"]) == 0
    sdl = out.getvalue()
    assert sdl == public_sdl(build_schema())
    for word in ("@key", "@link", "_entities", "_service", "_FieldSet", "_Any"):
        assert word not in sdl
    assert "type Debtor implements Node {" in sdl and "caseNumber: String!" in sdl


@pytest.fixture
async def subgraph(
    tmp_path: Path, roomy_mocks: RunningMocks, world: World
) -> AsyncIterator[Gateway]:
    """A federation-enabled gateway with a 100-debtor case and a one-debtor case."""
    settings = gateway_settings(tmp_path, roomy_mocks, federation=True, limits={"max_ids": MAX_IDS})
    gw = await start_gateway(settings, roomy_mocks, court="江苏省徐州市泉山区人民法院")
    people = list(world.person_ids())
    for number, ids in ((BIG_CASE, people[:PEOPLE]), (OTHER_CASE, people[PEOPLE : PEOPLE + 1])):
        await gw.add_case(
            CaseIn(
                number=number,
                court=gw.court,
                applicant="某银行",
                amount_due=Decimal("5000000.00"),
                debtor_ids=[debtor_id(pid) for pid in ids],
                officers=[OFFICER],
            )
        )
    try:
        yield gw
    finally:
        await stop_gateway(gw)


async def test_service_sdl_is_served(subgraph: Gateway) -> None:
    status, body = await subgraph.post("{ _service { sdl } }")
    assert status == 200 and "errors" not in body, body.get("errors")
    assert body["data"]["_service"]["sdl"] + "\n" == subgraph_sdl(
        build_schema(SchemaOptions(federation=True))
    )


@pytest.mark.parametrize("unmask", [True, False], ids=["unmask", "masked"])
async def test_entities_for_100_debtors_are_batched(
    subgraph: Gateway, world: World, unmask: bool
) -> None:
    ids = list(world.person_ids()[:PEOPLE])
    handles = await handles_of(subgraph, BIG_CASE)
    token = subgraph.token(scopes=["unmask"] if unmask else [])
    # The key is the same with or without unmask: a join never depends on the token.
    assert handles == await handles_of(subgraph, BIG_CASE)
    reps = [{"__typename": "Debtor", "caseNumber": BIG_CASE, "handle": handles[p]} for p in ids]
    await subgraph.reset_stats()
    status, body = await subgraph.post(ENTITIES, {"r": reps}, token=token)
    assert status == 200 and "errors" not in body, body.get("errors")
    entities = body["data"]["_entities"]
    assert [e["maskedId"] for e in entities] == (ids if unmask else [mask_id(p) for p in ids])
    assert {e["caseNumber"] for e in entities} == {BIG_CASE}
    assert all(e["identity"]["name"] for e in entities)
    ps = await subgraph.stats("public_security")
    assert requests(ps, PS_PERSONS) <= math.ceil(PEOPLE / PS_BATCH)
    assert requests(ps, PS_VEHICLES) <= math.ceil(PEOPLE / PS_BATCH)
    lr = await subgraph.stats("land_registry")
    assert requests(lr, LR_QUERY) <= math.ceil(PEOPLE / LR_BATCH)


async def test_entity_references_keep_the_case_bound_rule(subgraph: Gateway, world: World) -> None:
    people = list(world.person_ids())
    party, other_party = people[0], people[PEOPLE]
    big, other = await handles_of(subgraph, BIG_CASE), await handles_of(subgraph, OTHER_CASE)
    reps: list[dict[str, Any]] = [
        {"__typename": "Debtor", "caseNumber": BIG_CASE, "handle": big[party]},  # allowed
        {"__typename": "Debtor", "caseNumber": OTHER_CASE, "handle": big[party]},  # other case's
        {"__typename": "Debtor", "caseNumber": OTHER_CASE, "handle": other[other_party]},  # ok
        {"__typename": "Debtor", "id": party},  # id-only keys are gone
        {"__typename": "Case", "number": OTHER_CASE},  # allowed
        {"__typename": "Debtor", "caseNumber": BIG_CASE, "handle": big[party][:-2] + "AA"},
        {"__typename": "Debtor", "id": party, "caseNumber": BIG_CASE},  # no id key either
    ]
    status, body = await subgraph.post(ENTITIES, {"r": reps})
    assert status == 200
    entities = body["data"]["_entities"]
    assert entities[0]["caseNumber"] == BIG_CASE and entities[0]["maskedId"] == mask_id(party)
    assert entities[2]["caseNumber"] == OTHER_CASE
    assert entities[4]["number"] == OTHER_CASE and len(entities[4]["debtors"]) == 1
    assert [i for i, e in enumerate(entities) if e is None] == [1, 3, 5, 6]
    codes = {e["path"][1]: e["extensions"]["code"] for e in body["errors"]}
    assert codes == {1: "FORBIDDEN", 3: "INVALID_INPUT", 5: "INVALID_INPUT", 6: "INVALID_INPUT"}

    # Someone on neither case gets nothing, neither debtors nor the case itself.
    allowed = [reps[0], reps[2], reps[4]]
    status, body = await subgraph.post(ENTITIES, {"r": allowed}, token=subgraph.token(OUTSIDER))
    assert status == 200
    assert body["data"]["_entities"] == [None] * 3
    assert [e["extensions"]["code"] for e in body["errors"]] == ["FORBIDDEN"] * 3


async def test_entities_record_lists_each_reference(subgraph: Gateway, world: World) -> None:
    people = list(world.person_ids())
    big = await handles_of(subgraph, BIG_CASE)
    reps: list[dict[str, Any]] = [
        {"__typename": "Debtor", "caseNumber": BIG_CASE, "handle": big[people[3]]},
        {"__typename": "Debtor", "caseNumber": OTHER_CASE, "handle": big[people[4]]},
        {"__typename": "Case", "number": BIG_CASE},
        {"__typename": "Debtor", "id": people[5]},
    ]
    status, _ = await subgraph.post(
        ENTITIES, {"r": reps}, headers={"X-Request-Id": "entities-record-1"}
    )
    assert status == 200
    record = await one_record(subgraph.settings, "entities-record-1")
    assert record.cases == (BIG_CASE, OTHER_CASE)
    rows = record.detail["entities"]["rows"]
    named = [
        [t, None if c is None else record.cases[c], None if d is None else record.debtors[d], code]
        for t, c, d, code in rows
    ]
    assert named == [
        ["Debtor", BIG_CASE, mask_id(people[3]), None],
        ["Debtor", OTHER_CASE, mask_id(people[4]), "FORBIDDEN"],
        ["Case", BIG_CASE, None, None],
        ["Debtor", None, None, "INVALID_INPUT"],
    ]
    key = subgraph.settings.audit_key()
    assert record.debtor_keys[rows[0][2]] == debtor_key(key, people[3])
    assert record.debtor_keys[rows[1][2]] == debtor_key(key, people[4])


async def test_500_representations_make_one_bounded_record(
    tmp_path: Path, roomy_mocks: RunningMocks, world: World
) -> None:
    settings = gateway_settings(tmp_path, roomy_mocks, federation=True)
    gw = await start_gateway(settings, roomy_mocks, court="江苏省徐州市泉山区人民法院")
    try:
        people = list(world.person_ids()[:500])
        await gw.add_case(
            CaseIn(
                number=BIG_CASE,
                court=gw.court,
                applicant="某银行",
                amount_due=Decimal("5000000.00"),
                debtor_ids=[debtor_id(pid) for pid in people],
                officers=[OFFICER],
            )
        )
        handles = await handles_of(gw, BIG_CASE)
        reps = [
            {"__typename": "Debtor", "caseNumber": BIG_CASE, "handle": handles[p]} for p in people
        ]
        query = "query($r: [_Any!]!) { _entities(representations: $r) { ... on Debtor { caseNumber } } }"
        status, body = await gw.post(query, {"r": reps}, headers={"X-Request-Id": "entities-500"})
        assert status == 200 and "errors" not in body, body.get("errors")
        assert len(body["data"]["_entities"]) == 500
        # Refused, all 500: 500 errors must not push the list of what was asked off the record.
        status, body = await gw.post(
            query, {"r": reps}, token=gw.token(OUTSIDER), headers={"X-Request-Id": "refused-500"}
        )
        assert status == 200 and len(body["errors"]) == 500
        records = [await one_record(settings, r) for r in ("entities-500", "refused-500")]
    finally:
        await stop_gateway(gw)
    for record, code in zip(records, (None, "FORBIDDEN"), strict=True):
        stored = orjson.dumps(dataclasses.asdict(record), default=str)
        assert len(stored) < 64 * 1024, len(stored)
        assert sorted(record.debtors) == sorted(mask_id(p) for p in people)
        assert all(MASKED.fullmatch(d) for d in record.debtors)
        assert len(set(record.debtor_keys)) == 500
        rows = record.detail["entities"]["rows"]
        assert len(rows) == 500 and {(t, c, e) for t, c, _, e in rows} == {("Debtor", 0, code)}
        assert [record.debtors[d] for _, _, d, _ in rows] == [mask_id(p) for p in people]
        assert record.case_number == BIG_CASE


async def test_aliased_entities_fields_share_one_record_and_one_limit(
    subgraph: Gateway, world: World
) -> None:
    people = list(world.person_ids())
    big = await handles_of(subgraph, BIG_CASE)
    query = """query($a: [_Any!]!, $b: [_Any!]!) {
      a: _entities(representations: $a) { ... on Debtor { caseNumber } }
      b: _entities(representations: $b) { ... on Case { number } } }"""
    debtor = {"__typename": "Debtor", "caseNumber": BIG_CASE, "handle": big[people[1]]}
    case = {"__typename": "Case", "number": OTHER_CASE}
    status, body = await subgraph.post(
        query, {"a": [debtor], "b": [case]}, headers={"X-Request-Id": "aliased-entities"}
    )
    assert status == 200 and "errors" not in body, body.get("errors")
    record = await one_record(subgraph.settings, "aliased-entities")
    rows = [[t, record.cases[c], code] for t, c, _, code in record.detail["entities"]["rows"]]
    assert rows == [["Debtor", BIG_CASE, None], ["Case", OTHER_CASE, None]]

    # The limit counts every _entities field of the request, not each one alone.
    half = MAX_IDS // 2 + 1
    status, body = await subgraph.post(query, {"a": [debtor] * half, "b": [case] * half})
    assert status == 200
    codes = {e["extensions"]["code"] for e in body["errors"]}
    assert codes == {"LIMIT_EXCEEDED"}, codes


async def test_too_many_representations_are_refused(subgraph: Gateway, world: World) -> None:
    reps = [
        {"__typename": "Debtor", "caseNumber": BIG_CASE, "handle": "dh1.x"}
        for _ in range(MAX_IDS + 1)
    ]
    await subgraph.reset_stats()
    status, body = await subgraph.post(ENTITIES, {"r": reps})
    assert status == 200 and body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "LIMIT_EXCEEDED"
    assert await subgraph.total_requests() == 0


async def test_federation_fields_are_absent_unless_enabled(
    tmp_path: Path, mocks: RunningMocks
) -> None:
    gw = await start_gateway(gateway_settings(tmp_path, mocks), mocks, court="某法院")
    try:
        status, body = await gw.post("{ _service { sdl } }")
    finally:
        await stop_gateway(gw)
    assert status == 200
    assert "_service" in body["errors"][0]["message"]


async def test_root_fields_take_a_handle_back(subgraph: Gateway, world: World) -> None:
    people = list(world.person_ids())
    big, other = await handles_of(subgraph, BIG_CASE), await handles_of(subgraph, OTHER_CASE)
    one = "query($id: ID!, $n: String!) { debtor(id: $id, caseNumber: $n) { maskedId handle identity { name } } }"
    many = "query($ids: [ID!]!, $n: String!) { debtors(ids: $ids, caseNumber: $n) { maskedId handle } }"
    by_id = await subgraph.post(one, {"id": people[7], "n": BIG_CASE})
    by_handle = await subgraph.post(one, {"id": big[people[7]], "n": BIG_CASE})
    assert by_handle == by_id and by_id[0] == 200 and "errors" not in by_id[1]
    assert by_id[1]["data"]["debtor"]["handle"] == big[people[7]]

    status, body = await subgraph.post(many, {"ids": [big[people[8]], people[9]], "n": BIG_CASE})
    assert status == 200 and "errors" not in body, body.get("errors")
    assert [d["maskedId"] for d in body["data"]["debtors"]] == [
        mask_id(people[8]),
        mask_id(people[9]),
    ]

    # A handle is no right of its own: another case's handle, or a stranger, is refused.
    for query, variables, token in (
        (one, {"id": other[people[PEOPLE]], "n": BIG_CASE}, None),
        (many, {"ids": [big[people[8]]], "n": OTHER_CASE}, None),
        (one, {"id": big[people[7]], "n": BIG_CASE}, subgraph.token(OUTSIDER)),
    ):
        status, body = await subgraph.post(query, variables, token=token)
        assert status == 200
        # debtor: null; debtors: null at the refused handle's index (one answer per id).
        assert all(v in (None, [None]) for v in (body["data"] or {}).values()), body
        assert [e["extensions"]["code"] for e in body["errors"]] == ["FORBIDDEN"]
