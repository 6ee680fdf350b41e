"""Pages cut in memory follow the store's keyset order, and every page size walks it all."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.errors import InvalidInput
from gateway.store.keyset import PageKey
from schema.pages import decode_cursor, keyed_page, page_in_memory

START = datetime(2026, 1, 1, tzinfo=UTC)
# Few distinct days and ids, so that ties (the same day, the same id prefix) are common.
keys = st.tuples(
    st.integers(0, 5).map(lambda d: START + timedelta(days=d)),
    st.text(alphabet="ab:1", min_size=1, max_size=3),
)


@given(st.lists(keys, unique=True, max_size=25), st.integers(1, 30))
def test_every_page_size_walks_the_list_once_newest_first(items: list[PageKey], size: int) -> None:
    found = [(key, key) for key in items]
    walked: list[PageKey] = []
    after: PageKey | None = None
    for _ in range(len(items) + 1):  # a page that repeats itself would never end
        page = page_in_memory(found, after, size + 1)
        edges, info = keyed_page("Debtor.restrictions", page, size, after)
        walked += [item for _, item in edges]
        assert info.has_previous_page is (after is not None)
        if not info.has_next_page:
            break
        assert info.end_cursor is not None
        after = decode_cursor("Debtor.restrictions", info.end_cursor)
    else:
        pytest.fail("more pages than items")
    # Newest first; within one instant, by ascending id: no gap, no repeat.
    assert walked == sorted(items, key=lambda k: (-k[0].timestamp(), k[1]))


def test_a_cursor_of_another_connection_is_refused() -> None:
    edges, _ = keyed_page("Case.restrictionDecisions", [((START, "x"), 1)], 1, None)
    with pytest.raises(InvalidInput) as raised:
        decode_cursor("Debtor.restrictions", edges[0][0])
    assert raised.value.extensions["field"] == "after"
