"""The hash chain, the record encoding and the in-memory log: pure logic."""

from __future__ import annotations

import dataclasses
import itertools
import json
from datetime import datetime
from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.audit.chain import GENESIS, ChainWalker, StoredRecord, Unsealed, record_hash, seal
from gateway.audit.record import MAX_JSON_BYTES, debtor_key, jsonable, prepare
from gateway.audit.store import MemoryAuditLog
from tests.audit_entries import make_entry

KEY = b"k" * 32
PID = "110101199003071234"


def chain(n: int) -> list[StoredRecord]:
    records: list[StoredRecord] = []
    prev = GENESIS
    for i in range(1, n + 1):
        record = seal(prepare(make_entry(i), KEY), i, prev)
        records.append(record)
        prev = record.hash
    return records


def first_break(records: list[StoredRecord]) -> int | None:
    walker = ChainWalker()
    for record in records:
        broken = walker.check(record)
        if broken is not None:
            return broken.seq
    return None


def test_a_sealed_chain_verifies() -> None:
    records = chain(5)
    assert first_break(records) is None
    assert records[0].prev_hash == GENESIS
    assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(records))


def test_editing_deleting_or_reordering_names_the_record() -> None:
    records = chain(6)
    edited = list(records)
    edited[2] = dataclasses.replace(records[2], outcome="refused")
    assert first_break(edited) == 3
    deleted = records[:3] + records[4:]
    assert first_break(deleted) == 4
    swapped = list(records)
    swapped[3] = dataclasses.replace(records[4], seq=4)
    swapped[4] = dataclasses.replace(records[3], seq=5)
    assert first_break(swapped) == 4


def test_rehashing_an_edit_still_breaks_the_next_link() -> None:
    records = chain(4)
    forged = dataclasses.replace(records[1], principal="someone-else")
    forged = dataclasses.replace(forged, hash=record_hash(forged.prev_hash, forged.body()))
    assert first_break([records[0], forged, *records[2:]]) == 3


def test_personal_numbers_are_masked_and_keyed() -> None:
    fields = prepare(make_entry(1, principal=PID, detail={"note": f"asked about {PID}"}), KEY)
    stored = json.dumps({k: str(v) for k, v in fields.items()}, ensure_ascii=False)
    assert PID not in stored
    assert fields["debtors"] == (PID[:6] + "*" * 8 + PID[-4:],)
    assert fields["debtor_keys"] == (debtor_key(KEY, PID),)
    assert debtor_key(KEY, PID.lower()) == debtor_key(KEY, PID)
    assert debtor_key(b"x" * 32, PID) != debtor_key(KEY, PID)


def test_oversized_variables_are_kept_as_a_digest() -> None:
    fields = prepare(make_entry(1, variables={"blob": "x" * (MAX_JSON_BYTES + 1)}), KEY)
    assert fields["variables"]["truncated"] is True
    assert len(fields["variables"]["sha256"]) == 64


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)


@given(json_values)
def test_jsonable_values_survive_a_round_trip_byte_for_byte(value: Any) -> None:
    encoded = orjson.dumps(jsonable(value), option=orjson.OPT_SORT_KEYS)
    assert orjson.dumps(orjson.loads(encoded), option=orjson.OPT_SORT_KEYS) == encoded


async def test_memory_log_chains_like_the_sql_one() -> None:
    log = MemoryAuditLog(KEY)
    assert [await log.append(make_entry(i)) for i in range(1, 4)] == [1, 2, 3]
    assert first_break(log.records) is None
    assert log.records == chain(3)


@given(
    variables=st.dictionaries(st.text(max_size=8), json_values, max_size=4),
    detail=st.dictionaries(st.text(max_size=8), json_values, max_size=4),
    operation=st.text(max_size=30),
    client=st.none() | st.text(max_size=20),
    seq=st.integers(min_value=1, max_value=2**62),
    prev=st.binary(min_size=32, max_size=32),
)
def test_sealing_from_the_split_encoding_matches_the_full_one(
    variables: dict[str, Any],
    detail: dict[str, Any],
    operation: str,
    client: str | None,
    seq: int,
    prev: bytes,
) -> None:
    entry = make_entry(
        1, variables=variables, detail=detail, operation=operation, client_request_id=client
    )
    fields = prepare(entry, KEY)
    unsealed = Unsealed.of(fields)
    reference = StoredRecord(seq=seq, prev_hash=prev.hex(), hash="", **fields)
    assert unsealed.head + str(seq).encode() + unsealed.tail == orjson.dumps(
        reference.body(), option=orjson.OPT_SORT_KEYS
    )
    assert unsealed.digest(seq, prev.hex()) == record_hash(prev.hex(), reference.body())
    assert seal(fields, seq, prev.hex()) == dataclasses.replace(
        reference, hash=record_hash(prev.hex(), reference.body())
    )


def test_encoding_refuses_what_the_stored_record_would() -> None:
    fields = prepare(make_entry(1), KEY)
    with pytest.raises(TypeError, match="do not match"):
        Unsealed.of({**fields, "extra": 1})
    with pytest.raises(TypeError, match="do not match"):
        Unsealed.of({k: v for k, v in fields.items() if k != "court"})
    with pytest.raises(ValueError, match="timezone"):
        Unsealed.of({**fields, "time": datetime(2024, 5, 1, 8, 0)})
    with pytest.raises(TypeError):
        Unsealed.of({**fields, "detail": {"not json": object()}})


# The hashed fields of every record written before the client's request id had a column.
FIRST_FIELDS = {
    "agencies", "case_number", "cases", "code", "court", "debtor_keys", "debtors", "detail",
    "document_hash", "duration_ms", "http_status", "operation", "outcome", "principal",
    "request_id", "roles", "seq", "time", "variables",
}  # fmt: skip


def test_records_without_a_client_id_hash_as_they_always_did() -> None:
    plain = seal(prepare(make_entry(1), KEY), 1, GENESIS)
    assert plain.client_request_id is None
    assert set(plain.body()) == FIRST_FIELDS  # so older records keep verifying
    given = seal(prepare(make_entry(1, client_request_id="abc-1"), KEY), 1, GENESIS)
    assert set(given.body()) == {*FIRST_FIELDS, "client_request_id"}
    assert given.hash != plain.hash
    assert ChainWalker().check(given) is None
    forged = dataclasses.replace(given, client_request_id="abc-2")
    assert ChainWalker().check(forged) is not None
