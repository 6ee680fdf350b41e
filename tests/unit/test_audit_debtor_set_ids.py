"""Debtor set ids: one per distinct set of keys, whatever the order and repetition."""

from __future__ import annotations

import random

from hypothesis import given
from hypothesis import strategies as st

from gateway.audit.debtor_sets import KnownSets
from gateway.audit.tables import CASE, DEBTOR_SET, debtor_set, index_keys

keys = st.lists(st.text("0123456789abcdef", min_size=64, max_size=64), max_size=12)


@given(keys, st.randoms())
def test_a_set_id_depends_on_the_set_alone(named: list[str], rnd: random.Random) -> None:
    shuffled = [*named, *named[:2]]
    rnd.shuffle(shuffled)
    assert debtor_set(named) == debtor_set(shuffled)
    found = debtor_set(named)
    if not named:
        assert found is None and index_keys(["c"], named) == [(CASE, "c")]
    else:
        assert found is not None and found[1] == tuple(sorted(set(named)))
        assert index_keys(["c", "c"], named) == [(CASE, "c"), (DEBTOR_SET, found[0])]


@given(st.lists(keys, max_size=6))
def test_a_writer_writes_each_set_once_and_only_after_a_commit(records: list[list[str]]) -> None:
    known = KnownSets()
    expected = {(k, n[0]) for r in records if (n := debtor_set(r)) for k in n[1]}
    first = known.fresh(records)
    assert len(first) == len(set(first)) and set(first) == expected
    assert set(known.fresh(records)) == expected  # the batch failed: written again
    known.committed()
    assert known.fresh(records) == []
    other = debtor_set(["x" * 64])  # no key drawn above holds an x
    assert other is not None and known.fresh([["x" * 64]]) == [("x" * 64, other[0])]
