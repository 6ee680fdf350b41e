"""Cursors of the audit connections carry a record's place in the merged order of chains."""

from __future__ import annotations

import base64
import dataclasses
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.audit.chain import GENESIS, seal
from gateway.audit.query import Position
from gateway.audit.record import prepare
from gateway.errors import InvalidInput
from schema.audit_cursor import cursor_of, position_of
from tests.audit_entries import make_entry

RECORD = seal(prepare(make_entry(1), b"k" * 32), 1, GENESIS)


@given(
    time=st.datetimes(
        min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
    ),
    chain=st.from_regex(r"\A[A-Za-z0-9][A-Za-z0-9_.-]{0,40}\Z"),
    seq=st.integers(min_value=1, max_value=10**15),
)
def test_a_cursor_names_the_record_it_was_made_from(time: datetime, chain: str, seq: int) -> None:
    record = dataclasses.replace(RECORD, time=time, chain=chain, seq=seq)
    assert position_of(cursor_of(record)) == Position.of(record)


@pytest.mark.parametrize(
    "text",
    [
        "audit:12",  # a cursor of the single-chain log
        "audit2:2024-05-01T08:00:00+00:00|a-0",
        "audit2:2024-05-01T08:00:00|a-0|1",  # no zone
        "audit2:2024-05-01T08:00:00+00:00|a 0|1",
        "audit2:2024-05-01T08:00:00+00:00|a-0|x",
        "audit2:yesterday|a-0|1",
    ],
)
def test_anything_else_is_refused(text: str) -> None:
    with pytest.raises(InvalidInput):
        position_of(base64.urlsafe_b64encode(text.encode()).decode())
    with pytest.raises(InvalidInput):
        position_of(text + "!")
