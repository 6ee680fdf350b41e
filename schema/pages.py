"""Relay connection pages keyed by ``(created_at, id)``: page sizes and opaque cursors.

A cursor is the base64url of the connection's name, the row's creation time and its id:
opaque to clients, checked on the way back in, so a cursor of one connection is refused by
another with ``INVALID_INPUT`` rather than paging something else.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from datetime import datetime
from typing import TypeVar

from strawberry.relay import PageInfo

from gateway.errors import InvalidInput, LimitExceeded
from gateway.store.keyset import PageKey

__all__ = [
    "DEFAULT_PAGE",
    "MAX_PAGE",
    "decode_cursor",
    "encode_cursor",
    "keyed_page",
    "page_in_memory",
    "page_size",
]

T = TypeVar("T")

DEFAULT_PAGE = 20
MAX_PAGE = 100
_SEP = "|"


def page_size(first: int | None) -> int:
    """``first`` checked against the page limits (``None``: the default)."""
    if first is None:
        return DEFAULT_PAGE
    if first < 1:
        raise InvalidInput("first", "must be at least 1")
    if first > MAX_PAGE:
        raise LimitExceeded(
            f"first: at most {MAX_PAGE} items per page", field="first", limit="first"
        )
    return first


def encode_cursor(connection: str, key: PageKey) -> str:
    """The cursor of the row with ``key`` in ``connection``."""
    at, ident = key
    text = _SEP.join((connection, at.isoformat(), ident))
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode_cursor(connection: str, cursor: str | None) -> PageKey | None:
    """The page key of a cursor ``encode_cursor`` made for ``connection``."""
    if cursor is None:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        name, at, ident = raw.decode().split(_SEP, 2)
        when = datetime.fromisoformat(at)
    except (binascii.Error, UnicodeError, ValueError):
        raise InvalidInput("after", "not a cursor from this connection") from None
    if name != connection or when.tzinfo is None or not ident:
        raise InvalidInput("after", "not a cursor from this connection")
    return when, ident


def keyed_page(
    connection: str, found: Sequence[tuple[PageKey, T]], size: int, after: PageKey | None
) -> tuple[list[tuple[str, T]], PageInfo]:
    """The page of ``size`` from ``found`` (read with one more, to know if more follow):
    each item with its cursor, and where the page is."""
    edges = [(encode_cursor(connection, key), item) for key, item in found[:size]]
    return edges, PageInfo(
        has_next_page=len(found) > size,
        has_previous_page=after is not None,
        start_cursor=edges[0][0] if edges else None,
        end_cursor=edges[-1][0] if edges else None,
    )


def page_in_memory(
    items: Sequence[tuple[PageKey, T]], after: PageKey | None, limit: int
) -> list[tuple[PageKey, T]]:
    """Up to ``limit`` of ``items`` after ``after``, in the store's keyset order (newest
    first, ties by ascending id; ``gateway/store/keyset.py``), for a list already at hand."""
    by_id = sorted(items, key=lambda item: item[0][1])
    ordered = sorted(by_id, key=lambda item: item[0][0], reverse=True)  # stable: ids stay
    if after is not None:
        at, last = after
        ordered = [i for i in ordered if i[0][0] < at or (i[0][0] == at and i[0][1] > last)]
    return ordered[:limit]
