"""Opaque debtor handles: stable, scoped to their case, unforgeable, free of the number."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.debtor_handle import PREFIX, DebtorHandles, is_handle
from gateway.errors import InvalidInput
from mocks.world import World

KEY = b"0123456789abcdef0123456789abcdef"
HANDLES = DebtorHandles(KEY)
IDS = World(seed=3, people=60).person_ids()
CASES = [f"（20{y:02d}）苏0{c}执{n}号" for y in (23, 24) for c in (311, 508) for n in (1, 8157)]

ids = st.sampled_from(IDS)
cases = st.sampled_from(CASES)


@given(case=cases, debtor=ids)
def test_a_handle_opens_to_its_case_and_debtor(case: str, debtor: str) -> None:
    handle = HANDLES.seal(case, debtor)
    assert is_handle(handle)
    assert HANDLES.open(handle) == (case, debtor)
    # Stable: another codec under the same key (another instance) makes the same handle.
    assert DebtorHandles(KEY).seal(case, debtor) == handle


@given(case=cases, debtor=ids)
def test_a_handle_reveals_no_part_of_the_number(case: str, debtor: str) -> None:
    handle = HANDLES.seal(case, debtor)
    for i in range(0, len(debtor) - 4):
        assert debtor[i : i + 5] not in handle
    with pytest.raises(InvalidInput):
        DebtorHandles(b"another key, of another deployment!").open(handle)


@given(case=cases, other=cases, debtor=ids, another=ids)
def test_handles_differ_by_case_and_debtor(
    case: str, other: str, debtor: str, another: str
) -> None:
    same = (case, debtor) == (other, another)
    assert (HANDLES.seal(case, debtor) == HANDLES.seal(other, another)) is same


@given(case=cases, debtor=ids, data=st.data())
def test_an_edited_handle_does_not_open(case: str, debtor: str, data: st.DataObject) -> None:
    handle = HANDLES.seal(case, debtor)
    at = data.draw(st.integers(len(PREFIX), len(handle) - 1))
    char = data.draw(st.sampled_from("AQgw_-09z").filter(lambda c: c != handle[at]))
    edited = handle[:at] + char + handle[at + 1 :]
    with pytest.raises(InvalidInput):
        HANDLES.open(edited)


@given(st.text(max_size=400))
def test_anything_else_is_invalid_input(text: str) -> None:
    with pytest.raises(InvalidInput):
        HANDLES.open(PREFIX + text if text[:1] != "d" else text)
    with pytest.raises(InvalidInput):
        HANDLES.open(None)
