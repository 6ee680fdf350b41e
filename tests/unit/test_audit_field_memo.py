"""An ordinary request's record: fields taken from the memo give the same record, byte for
byte, as preparing every field anew; the memo never hands one officer's or one case's
fields to another, and stays within its bound."""

from __future__ import annotations

import enum
import math
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import gateway.audit.record as audit_record
from gateway.audit.chain import GENESIS, Unsealed, seal
from gateway.audit.field_memo import MAX_VARIABLES_BYTES, FieldMemo
from gateway.audit.log import AgencyCallRecord, AuditEntry
from gateway.audit.record import FIELD_MEMO, prepare, unsealed

KEY = b"k" * 32
OTHER_KEY = b"o" * 32
IDS = ["110101199003071234", "11010119850512002X", "320312198001010017", "91320000MA1X2Y3Z4A"]
CASES = ["（2024）苏0312执1234号", "（2024）苏0312执1235号"]
OFFICERS = ["officer-1", "officer-2"]


class Colour(enum.Enum):
    RED = "1"


# Values that are equal, or encode alike, in some reading: the memo must keep them apart.
NEAR = [1, 1.0, True, "1", 0, 0.0, -0.0, False, None, "", math.nan, math.inf, 2**63, 2**64]
ODD = [Decimal("1"), Colour.RED, {1, 2}, "\ud800", "a\x00b"]
scalars = st.sampled_from(NEAR) | st.sampled_from(ODD) | st.sampled_from(IDS) | st.text(max_size=8)
variables = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.tuples(inner, inner)
        | st.dictionaries(st.sampled_from(["id", "ids", "x", "caseNumber"]), inner, max_size=3)
    ),
    max_leaves=6,
)


@st.composite
def entries(draw: st.DrawFn) -> AuditEntry:
    case = draw(st.sampled_from([None, *CASES]))
    agencies = draw(
        st.lists(
            st.builds(
                AgencyCallRecord,
                st.sampled_from(["public_security", "civil_affairs"]),
                st.just("identity"),
                st.integers(0, 3),
                st.integers(0, 1),
                st.floats(0, 50),
            ),
            max_size=2,
        )
    )
    return AuditEntry(
        time=datetime(2026, 12, 6, 8, 0, tzinfo=UTC)
        + timedelta(microseconds=draw(st.integers(0, 10**12))),
        request_id=draw(st.sampled_from(["r-1", "r-2"])),
        principal=draw(st.sampled_from(OFFICERS)),
        court="徐州市铜山区人民法院",
        roles=draw(st.sampled_from([("officer",), ("judge", "officer")])),
        case_number=case,
        operation=draw(st.sampled_from(["Profile", "Other"])),
        document_hash=draw(st.sampled_from([None, "a" * 64])),
        variables=draw(st.dictionaries(st.sampled_from(["id", "x"]), variables, max_size=2)),
        debtors=tuple(draw(st.lists(st.sampled_from(IDS), max_size=2))),
        agencies=tuple(agencies),
        outcome=draw(st.sampled_from(["ok", "refused"])),
        code=draw(st.sampled_from([None, "FORBIDDEN"])),
        detail=draw(st.sampled_from([{}, {"client": "127.0.0.1", "kind": "query"}])),
        cases=(case,) if case else (),
        http_status=draw(st.sampled_from([None, 200])),
        duration_ms=draw(st.sampled_from([None, 1.23456])),
        client_request_id=draw(st.sampled_from([None, "c-1"])),
    )


def _fresh(entry: AuditEntry, key: bytes = KEY) -> Unsealed:
    # What ``unsealed`` gave before the memo: every field prepared and encoded anew.
    return Unsealed.of(audit_record._prepare(entry, key))


def _same(a: Unsealed, b: Unsealed) -> None:
    assert (a.head, a.tail) == (b.head, b.tail)
    assert dict(a.encoded) == dict(b.encoded)
    assert dict(a.fields) == dict(b.fields)


@pytest.fixture(autouse=True)
def empty_memo() -> Iterator[None]:
    FIELD_MEMO.clear()
    yield
    FIELD_MEMO.clear()


@settings(max_examples=400)
@given(st.lists(entries(), min_size=1, max_size=6))
def test_a_record_from_the_memo_is_byte_for_byte_a_fresh_one(batch: list[AuditEntry]) -> None:
    # The memo is kept across examples: entries of earlier ones that differ only in what the
    # key must tell apart (1, 1.0 and True; an enum and its value) would show up here.
    for entry in [*batch, *batch]:
        for key in (KEY, OTHER_KEY):
            try:
                expected = _fresh(entry, key)
            except (TypeError, ValueError):
                with pytest.raises((TypeError, ValueError)):
                    unsealed(entry, key)
                continue
            got = unsealed(entry, key)
            _same(got, expected)
            assert got.seal(3, GENESIS, "w-1") == seal(prepare(entry, key), 3, GENESIS, "w-1")


def _entry(**changes: Any) -> AuditEntry:
    base: dict[str, Any] = {
        "time": datetime(2026, 12, 6, 8, 0, tzinfo=UTC),
        "request_id": "r-1",
        "principal": "officer-1",
        "court": "徐州市铜山区人民法院",
        "roles": ("officer",),
        "case_number": CASES[0],
        "operation": "Profile",
        "document_hash": "a" * 64,
        "variables": {"id": IDS[0], "caseNumber": CASES[0]},
        "debtors": (IDS[0],),
        "agencies": (),
        "outcome": "ok",
        "cases": (CASES[0],),
        "http_status": 200,
        "duration_ms": 1.5,
    }
    return AuditEntry(**{**base, **changes})


def test_an_asked_again_look_up_is_prepared_once(monkeypatch: pytest.MonkeyPatch) -> None:
    prepared: list[str] = []
    original = audit_record._prepare

    def counted(entry: AuditEntry, key: bytes) -> dict[str, Any]:
        prepared.append(entry.request_id)
        return original(entry, key)

    monkeypatch.setattr(audit_record, "_prepare", counted)
    first = unsealed(_entry(request_id="r-1"), KEY)
    assert len(FIELD_MEMO) == 0  # asked once: noted, nothing kept
    unsealed(_entry(request_id="r-2"), KEY)
    again = unsealed(_entry(request_id="r-3", duration_ms=7.25), KEY)
    unsealed(_entry(request_id="r-4"), KEY)
    assert prepared == ["r-1", "r-2"]
    assert (FIELD_MEMO.hits, len(FIELD_MEMO)) == (2, 1)
    assert first.fields["debtor_keys"] == again.fields["debtor_keys"]
    assert again.fields["request_id"] == "r-3" and again.fields["duration_ms"] == 7.25
    _same(again, _fresh(_entry(request_id="r-3", duration_ms=7.25)))


@pytest.mark.parametrize(
    "other",
    [
        {"principal": "officer-2"},
        {"court": "徐州市鼓楼区人民法院"},
        {"roles": ("judge",)},
        {"case_number": CASES[1], "cases": (CASES[1],)},
        {"cases": (CASES[0], CASES[1])},
        {"variables": {"id": IDS[0], "caseNumber": CASES[1]}},
        {"debtors": (IDS[1],)},
    ],
    ids=",".join,
)
def test_no_two_officers_or_cases_share_memoised_fields(other: dict[str, Any]) -> None:
    one, two = _entry(), _entry(**other)
    for _ in range(2):
        unsealed(one, KEY)
        record = unsealed(two, KEY)
    assert (FIELD_MEMO.hits, len(FIELD_MEMO)) == (0, 2)
    kept_one = FIELD_MEMO.get(FIELD_MEMO.key(one, KEY) or ())
    kept_two = FIELD_MEMO.get(FIELD_MEMO.key(two, KEY) or ())
    assert kept_one is not None and kept_two is not None and kept_one is not kept_two
    _same(record, _fresh(two))


def test_the_audit_key_is_part_of_the_memo_key() -> None:
    for _ in range(2):
        unsealed(_entry(), KEY)
        record = unsealed(_entry(), OTHER_KEY)
    assert FIELD_MEMO.hits == 0
    assert record.fields["debtor_keys"] != unsealed(_entry(), KEY).fields["debtor_keys"]


@pytest.mark.parametrize(
    "variables",
    [
        {"id": Decimal("1")},
        {"id": Colour.RED},
        {"ids": {IDS[0]}},
        {"id": ["\ud800"]},
        {"n": 2**64},
        {"n": math.nan},
        {"ids": ["1" * 17 + "X"] * (MAX_VARIABLES_BYTES // 20 + 1)},
    ],
    ids=["decimal", "enum", "set", "surrogate", "big-int", "nan", "large"],
)
def test_what_json_cannot_tell_apart_is_not_memoised(variables: dict[str, Any]) -> None:
    entry = _entry(variables=variables)
    assert FIELD_MEMO.key(entry, KEY) is None
    _same(unsealed(entry, KEY), _fresh(entry))
    assert len(FIELD_MEMO) == 0


def test_string_variables_are_keyed_by_their_items_and_others_by_exact_json() -> None:
    plain = _entry(variables={"id": IDS[0], "n": "1"})
    number = _entry(variables={"id": IDS[0], "n": 1})
    flag = _entry(variables={"id": IDS[0], "n": True})
    keys = [FIELD_MEMO.key(e, KEY) for e in (plain, number, flag)]
    assert None not in keys and len(set(keys)) == 3
    for entry in [plain, number, flag] * 3:
        _same(unsealed(entry, KEY), _fresh(entry))
    assert (FIELD_MEMO.hits, len(FIELD_MEMO)) == (3, 3)


def test_odd_strings_in_variables_are_remembered_as_they_are() -> None:
    # Equal strings are prepared alike: a lone surrogate or a NUL is escaped the same way.
    entry = _entry(variables={"id": "\ud800" + IDS[0], "x": "a\x00b"})
    for _ in range(3):
        _same(unsealed(entry, KEY), _fresh(entry))
    assert FIELD_MEMO.hits == 1


def test_the_memo_keeps_at_most_its_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    small = FieldMemo(limit=4)
    monkeypatch.setattr(audit_record, "FIELD_MEMO", small)
    entries = [_entry(variables={"page": n}) for n in range(10)]
    for entry in entries:
        for _ in range(2):  # the second time, it is kept
            _same(unsealed(entry, KEY), _fresh(entry))
        assert len(small) <= 4 and len(small._seen) <= 4
    # The oldest went first; the newest are still there.
    assert small.get(small.key(entries[0], KEY) or ()) is None
    assert small.get(small.key(entries[-1], KEY) or ()) is not None
    assert "officer" not in repr(small) and "1101" not in repr(small)


class Named(str):
    """A string subclass: it could compare or print otherwise than its value."""


@pytest.mark.parametrize(
    "odd",
    [
        {"principal": Named("officer-1")},
        {"case_number": Named(CASES[0])},
        {"debtors": [IDS[0]]},
        {"debtors": (Named(IDS[0]),)},
        {"roles": ("officer", Named("judge"))},
    ],
    ids=["principal", "case", "debtor-list", "debtor", "role"],
)
def test_entries_of_other_types_than_plain_strings_are_not_memoised(odd: dict[str, Any]) -> None:
    entry = _entry(**odd)
    assert FIELD_MEMO.key(entry, KEY) is None
    for _ in range(2):
        _same(unsealed(entry, KEY), _fresh(entry))
    assert len(FIELD_MEMO) == 0
