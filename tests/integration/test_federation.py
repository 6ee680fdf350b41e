"""The gateway as a Federation v2 subgraph: SDL composition, batched and case-bound entities."""

from __future__ import annotations

import io
import math
from collections.abc import AsyncIterator
from contextlib import redirect_stdout
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from gateway.cli import main as cli
from gateway.store import CaseIn
from gateway.validation import debtor_id
from mocks.runner import RunningMocks
from mocks.world import World
from schema import SchemaOptions, build_schema
from schema.federation import public_sdl, subgraph_sdl
from tests.harness import OFFICER, OUTSIDER, Gateway, gateway_settings, start_gateway, stop_gateway
from tests.servers.node import compose

BIG_CASE = "（2025）苏0311执8100号"
OTHER_CASE = "（2025）苏0311执8101号"
PEOPLE = 100
MAX_IDS = 150
PS_PERSONS = "POST /ps/v1/persons/query"
PS_VEHICLES = "POST /ps/v1/vehicles/query"
LR_QUERY = "POST /lr/query"
PS_BATCH, LR_BATCH = 100, 50

ENTITIES = """query($r: [_Any!]!) { _entities(representations: $r) {
  ... on Debtor { id caseNumber identity { name } assets(kinds: [REAL_ESTATE, VEHICLE]) { id } }
  ... on Case { number debtors { id } } } }"""

# A second subgraph, as a court's case-management system might publish it: it knows cases
# and their debtors, and adds its own fields to both entities.
CASEWORK_SDL = """
extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key"])
type Debtor @key(fields: "id caseNumber") { id: ID!  caseNumber: String!  hearingDates: [String!]! }
type Case @key(fields: "number") { number: String!  judgeNotes: String }
type Query { docket(court: String!): [Case!]! }
"""


def requests(stats: dict[str, Any], route: str) -> int:
    return int(stats["requests"].get(route, 0))


def test_subgraph_sdl_composes_with_a_real_composer() -> None:
    out = io.StringIO()
    with redirect_stdout(out):
        assert cli(["schema", "print", "--federation"]) == 0
    sdl = out.getvalue()
    assert sdl == subgraph_sdl(build_schema(SchemaOptions(federation=True)))
    assert '@key(fields: "id caseNumber")' in sdl and '@key(fields: "number")' in sdl
    result = compose([("liandong", sdl), ("casework", CASEWORK_SDL)])
    assert "errors" not in result, result.get("errors")
    supergraph = result["supergraphSdl"]
    assert 'join__type(graph: LIANDONG, key: "id caseNumber")' in supergraph
    assert 'join__type(graph: LIANDONG, key: "id")' in supergraph
    assert 'join__type(graph: CASEWORK, key: "number")' in supergraph


def test_plain_sdl_has_no_federation_machinery() -> None:
    out = io.StringIO()
    with redirect_stdout(out):
        assert cli(["schema", "print"]) == 0
    sdl = out.getvalue()
    assert sdl == public_sdl(build_schema())
    for word in ("@key", "@link", "_entities", "_service", "_FieldSet", "_Any"):
        assert word not in sdl
    assert "type Debtor {" in sdl and "caseNumber: String!" in sdl


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


@pytest.mark.parametrize("with_case", [True, False], ids=["id+caseNumber", "id"])
async def test_entities_for_100_debtors_are_batched(
    subgraph: Gateway, world: World, with_case: bool
) -> None:
    ids = list(world.person_ids()[:PEOPLE])
    reps = [
        {"__typename": "Debtor", "id": pid, **({"caseNumber": BIG_CASE} if with_case else {})}
        for pid in ids
    ]
    await subgraph.reset_stats()
    status, body = await subgraph.post(
        ENTITIES, {"r": reps}, token=subgraph.token(scopes=["unmask"])
    )
    assert status == 200 and "errors" not in body, body.get("errors")
    entities = body["data"]["_entities"]
    assert [e["id"] for e in entities] == ids
    assert {e["caseNumber"] for e in entities} == {BIG_CASE}
    assert all(e["identity"]["name"] for e in entities)
    ps = await subgraph.stats("public_security")
    assert requests(ps, PS_PERSONS) <= math.ceil(PEOPLE / PS_BATCH)
    assert requests(ps, PS_VEHICLES) <= math.ceil(PEOPLE / PS_BATCH)
    lr = await subgraph.stats("land_registry")
    assert requests(lr, LR_QUERY) <= math.ceil(PEOPLE / LR_BATCH)


async def test_entity_references_keep_the_case_bound_rule(subgraph: Gateway, world: World) -> None:
    people = list(world.person_ids())
    party, other_party, stranger = people[0], people[PEOPLE], people[PEOPLE + 5]
    reps: list[dict[str, Any]] = [
        {"__typename": "Debtor", "id": party, "caseNumber": BIG_CASE},  # allowed
        {"__typename": "Debtor", "id": party, "caseNumber": OTHER_CASE},  # not a party
        {"__typename": "Debtor", "id": other_party},  # allowed: through OTHER_CASE
        {"__typename": "Debtor", "id": stranger},  # in no case at all
        {"__typename": "Case", "number": OTHER_CASE},  # allowed
        {"__typename": "Debtor", "id": "110101"},  # malformed
    ]
    status, body = await subgraph.post(ENTITIES, {"r": reps})
    assert status == 200
    entities = body["data"]["_entities"]
    assert entities[0]["caseNumber"] == BIG_CASE
    assert entities[2]["caseNumber"] == OTHER_CASE
    assert entities[4]["number"] == OTHER_CASE and len(entities[4]["debtors"]) == 1
    assert [i for i, e in enumerate(entities) if e is None] == [1, 3, 5]
    codes = {e["path"][1]: e["extensions"]["code"] for e in body["errors"]}
    assert codes == {1: "FORBIDDEN", 3: "FORBIDDEN", 5: "INVALID_INPUT"}

    # Someone on neither case gets nothing, by either key, nor the case itself.
    status, body = await subgraph.post(ENTITIES, {"r": reps[:5]}, token=subgraph.token(OUTSIDER))
    assert status == 200
    assert body["data"]["_entities"] == [None] * 5
    assert {e["extensions"]["code"] for e in body["errors"]} == {"FORBIDDEN"}


async def test_too_many_representations_are_refused(subgraph: Gateway, world: World) -> None:
    reps = [{"__typename": "Debtor", "id": pid} for pid in world.person_ids()[: MAX_IDS + 1]]
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
