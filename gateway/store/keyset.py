"""Keyset pages over ``(created_at, id)``: newest first, stable while rows are added.

A page ends at a key; the next page starts strictly after it. Rows made since the first
page was read land before it, so no row is skipped or shown twice as a client pages on.
The id breaks ties between rows made in the same microsecond; it is compared by the
database, which is consistent within one backend, and that is all a cursor needs.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, and_, or_
from sqlalchemy.sql.elements import KeyedColumnElement

__all__ = ["PageKey", "after_key"]

PageKey = tuple[datetime, str]


def after_key(
    created: KeyedColumnElement[datetime], ident: KeyedColumnElement[str], key: PageKey
) -> ColumnElement[bool]:
    """Rows after ``key`` in newest-first order."""
    at, last = key
    return or_(created < at, and_(created == at, ident > last))
