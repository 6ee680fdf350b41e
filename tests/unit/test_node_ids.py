"""Node ids of cases and assets: sealed like handles, and never a handle nor a number."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.debtor_handle import NODE_PREFIX, DebtorHandles, is_handle, is_node_id
from gateway.errors import InvalidInput
from mocks.world import World

KEY = b"0123456789abcdef0123456789abcdef"
CODEC = DebtorHandles(KEY)
WORLD = World(seed=3, people=60)
IDS = WORLD.person_ids()
CASES = [f"（20{y:02d}）苏0{c}执{n}号" for y in (23, 24) for c in (311, 508) for n in (1, 8157)]
# The agency's own asset ids: certificate numbers, VINs, credit codes (of companies).
ASSET_IDS = ["苏(2021)徐州市不动产权第0012345号", "LSV52FXG7G4851993", "91320311MA1XYZ1234"]
KINDS = ["REAL_ESTATE", "VEHICLE", "EQUITY"]

ids = st.sampled_from(IDS)
cases = st.sampled_from(CASES)
assets = st.sampled_from(ASSET_IDS)
kinds = st.sampled_from(KINDS)


def no_run_of(number: str, text: str) -> bool:
    """No five characters of ``number`` in a row appear in ``text``."""
    return all(number[i : i + 5] not in text for i in range(len(number) - 4))


@given(case=cases, debtor=ids, kind=kinds, asset=assets)
def test_an_asset_id_opens_to_its_parts_and_reveals_no_number(
    case: str, debtor: str, kind: str, asset: str
) -> None:
    node_id = CODEC.seal_node(kind, case, debtor, asset)
    assert is_node_id(node_id) and not is_handle(node_id)
    assert CODEC.open_node(node_id) == (kind, [case, debtor, asset])
    assert DebtorHandles(KEY).seal_node(kind, case, debtor, asset) == node_id  # stable
    assert no_run_of(debtor, node_id)
    assert no_run_of(asset, node_id)
    # A debtor's node id is its handle: neither is accepted as the other kind.
    handle = CODEC.seal(case, debtor)
    assert no_run_of(debtor, handle)
    with pytest.raises(InvalidInput):
        CODEC.open_node(NODE_PREFIX + handle.removeprefix("dh1."))
    with pytest.raises(InvalidInput):
        CODEC.open("dh1." + node_id.removeprefix(NODE_PREFIX))


@given(case=cases, debtor=ids, source=st.sampled_from(["court", "agency"]), record=st.uuids())
def test_a_restriction_id_opens_to_its_parts_and_reveals_no_number(
    case: str, debtor: str, source: str, record: object
) -> None:
    parts = [case, debtor, source, str(record)]
    node_id = CODEC.seal_node("Restriction", *parts)
    assert CODEC.open_node(node_id) == ("Restriction", parts)
    assert no_run_of(debtor, node_id)


@given(case=cases, debtor=ids, other=ids, kind=kinds, asset=assets)
def test_asset_ids_differ_by_debtor(
    case: str, debtor: str, other: str, kind: str, asset: str
) -> None:
    same = debtor == other
    assert (
        CODEC.seal_node(kind, case, debtor, asset) == CODEC.seal_node(kind, case, other, asset)
    ) is same


@given(case=cases, data=st.data())
def test_an_edited_node_id_does_not_open(case: str, data: st.DataObject) -> None:
    node_id = CODEC.seal_node("Case", case)
    at = data.draw(st.integers(len(NODE_PREFIX), len(node_id) - 1))
    char = data.draw(st.sampled_from("AQgw_-09z").filter(lambda c: c != node_id[at]))
    with pytest.raises(InvalidInput):
        CODEC.open_node(node_id[:at] + char + node_id[at + 1 :])
    with pytest.raises(InvalidInput):
        DebtorHandles(b"another key, of another deployment!").open_node(node_id)


@given(st.text(max_size=400))
def test_anything_else_is_not_a_node_id(text: str) -> None:
    with pytest.raises(InvalidInput):
        CODEC.open_node(NODE_PREFIX + text)
    with pytest.raises(InvalidInput):
        CODEC.open_node(text)
