"""A spouse's id keys a client's cache but is no way in: the spouse is not a party."""

from __future__ import annotations

from tests.harness import PROFILE_VARIABLES, Gateway

SPOUSE = """query($id: ID!, $caseNumber: String!) { debtor(id: $id, caseNumber: $caseNumber) {
  marriage { spouse { id handle maskedId } } } }"""
NODE = """query($id: ID!) { node(id: $id) { id } }"""
DEBTOR = """query($id: ID!, $c: String!) { debtor(id: $id, caseNumber: $c) { id } }"""


async def test_node_and_debtor_refuse_a_spouses_id_as_the_field_says(gateway: Gateway) -> None:
    _, body = await gateway.post(SPOUSE, PROFILE_VARIABLES)
    spouse = body["data"]["debtor"]["marriage"]["spouse"]
    assert spouse["id"] == spouse["handle"] and spouse["id"].startswith("dh1.")
    number = PROFILE_VARIABLES["caseNumber"]
    for query, variables in (
        (NODE, {"id": spouse["id"]}),
        (DEBTOR, {"id": spouse["id"], "c": number}),
    ):
        _, body = await gateway.post(query, variables)
        (root,) = body["data"].values()
        assert root is None
        ext = body["errors"][0]["extensions"]
        assert (ext["code"], ext["rule"], ext["field"]) == ("FORBIDDEN", "DEBTOR_IS_PARTY", "id")
    # The refusal is what the schema tells a client to expect.
    _, body = await gateway.post('{ __type(name: "Marriage") { fields { name description } } }', {})
    described = {f["name"]: f["description"] for f in body["data"]["__type"]["fields"]}
    assert "DEBTOR_IS_PARTY" in described["spouse"]
