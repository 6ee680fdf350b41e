"""A kept answer's records: the shared fields prepared once give the same record, byte for
byte, as preparing every field of every hit anew."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import gateway.audit.record as audit_record
from gateway.audit.chain import Unsealed
from gateway.audit.log import AuditEntry
from gateway.audit.record import prepare, unsealed
from gateway.auth import Principal
from gateway.response_cache.answers import Answer, FactUse
from gateway.response_cache.record import agency_records, document_hash, hit_entry

KEY = b"k" * 32
OTHER_KEY = b"o" * 32
QUERY = "query P($ids: [ID!]!, $c: String!) { debtors(ids: $ids, caseNumber: $c) { id } }"
IDS = ["110101199003071234", "11010119850512002X", "320312198001010017", "91320000MA1X2Y3Z4A"]

ids = st.lists(st.sampled_from(IDS) | st.from_regex(r"[0-9]{17}[0-9X]", fullmatch=True))


def _answer(asked: list[str], spouses: list[str]) -> Answer:
    debtors = frozenset([*asked, *spouses])
    facts = (FactUse("public_security", "identity", 3), FactUse("civil_affairs", "marriage", 2))
    return Answer(
        body=b"{}",
        expires_at=time.monotonic() + 60,
        query=QUERY,
        operation="P",
        variables={"ids": asked, "c": "（2024）苏0312执1234号"},
        debtors=debtors,
        cases=("（2024）苏0312执1234号",),
        parties={"（2024）苏0312执1234号": frozenset(asked)},
        facts=facts,
        document_hash=document_hash(QUERY),
        debtor_list=tuple(sorted(debtors)),
        agency_records=agency_records(facts),
    )


def _hit(answer: Answer, n: int, subject: str = "officer-1") -> AuditEntry:
    who = Principal(subject, subject, "徐州市铜山区人民法院", frozenset({"officer"}), frozenset())
    return hit_entry(
        answer,
        arrived=datetime(2026, 12, 6, 8, 0, tzinfo=UTC) + timedelta(seconds=n),
        request_id=f"req-{n}",
        principal=who,
        detail={"client": "127.0.0.1", "n": str(n)},
        http_status=200,
        duration_ms=0.25 * n,
        client_request_id=None if n % 2 else f"client-{n}",
    )


def _encoded(record: Unsealed) -> tuple[bytes, bytes, dict[str, bytes], dict[str, Any]]:
    # Everything a writer takes from it: the hashed halves, each JSON column, each field.
    return record.head, record.tail, dict(record.encoded), dict(record.fields)


def _anew(entry: AuditEntry, key: bytes) -> Unsealed:
    return Unsealed.of(prepare(AuditEntry(**{**_fields(entry), "shared": None}), key))


def _fields(entry: AuditEntry) -> dict[str, Any]:
    return {name: getattr(entry, name) for name in AuditEntry.__dataclass_fields__}


@given(ids, ids, st.lists(st.sampled_from(["officer-1", "officer-2", "110101199003071234"])))
def test_each_hit_record_is_what_preparing_it_anew_gives(
    asked: list[str], spouses: list[str], subjects: list[str]
) -> None:
    answer = _answer(asked, spouses)
    for n, subject in enumerate(["officer-1", *subjects]):
        for key in (KEY, OTHER_KEY):  # prepared once per audit key, never mixed up
            entry = _hit(answer, n, subject)
            assert _encoded(unsealed(entry, key)) == _encoded(_anew(entry, key))
            assert prepare(entry, key) == _anew(entry, key).fields
    assert answer.shared.get(KEY) is not None and answer.shared.get(OTHER_KEY) is not None


def _counting(monkeypatch: pytest.MonkeyPatch, name: str) -> list[int]:
    calls = [0]
    real: Callable[..., Any] = getattr(audit_record, name)

    def counted(*args: Any) -> Any:
        calls[0] += 1
        return real(*args)

    monkeypatch.setattr(audit_record, name, counted)
    return calls


def test_a_later_hit_masks_and_keys_nothing_the_answer_shares(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    answer = _answer(IDS[:3], IDS[3:])
    audit_record._flat_detail.cache_clear()  # a hit's detail is masked once per shape too
    masked, keyed = _counting(monkeypatch, "mask_value"), _counting(monkeypatch, "_debtor_fields")
    unsealed(_hit(answer, 1), KEY)
    assert (masked[0], keyed[0]) == (2, 4)  # the variables and the detail; four debtors
    unsealed(_hit(answer, 2), KEY)
    assert (masked[0], keyed[0]) == (3, 4)  # its own detail only
    unsealed(_hit(answer, 2), KEY)
    assert (masked[0], keyed[0]) == (3, 4)  # the same detail again: nothing


def test_details_that_compare_equal_keep_their_own_values() -> None:
    # 1, 1.0 and True are equal as dict values: a memo keyed on them would mix them up.
    stored = [prepare(_hit_with({"x": value}), KEY)["detail"] for value in (1, True, 1.0, "1")]
    assert [d["x"] for d in stored] == [1, True, 1.0, "1"]
    assert [type(d["x"]) for d in stored] == [int, bool, float, str]


def _hit_with(detail: dict[str, Any]) -> AuditEntry:
    entry = _hit(_answer(IDS[:1], []), 1)
    return AuditEntry(**{**_fields(entry), "detail": detail})
