"""Cursors of the audit connections: a record's place in the merged order of all chains.

A cursor is opaque to clients; inside it is ``(time, chain, seq)``, the key the log's pages
are ordered by (``gateway.audit.query.Position``), so it stays valid while any chain grows.
"""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime

from gateway.audit.chain import StoredRecord
from gateway.audit.chain_id import CHAIN_NAME
from gateway.audit.query import Position
from gateway.errors import InvalidInput

__all__ = ["cursor_of", "position_of"]

_PREFIX = "audit2:"


def cursor_of(record: StoredRecord) -> str:
    """The cursor just past ``record``."""
    text = f"{_PREFIX}{record.time.astimezone(UTC).isoformat()}|{record.chain}|{record.seq}"
    return base64.urlsafe_b64encode(text.encode()).decode()


def position_of(cursor: str) -> Position:
    """The position a cursor from ``cursor_of`` names; ``InvalidInput`` for anything else."""
    wrong = InvalidInput("after", "not a cursor from this connection")
    try:
        text = base64.urlsafe_b64decode(cursor.encode("ascii")).decode("ascii")
    except (binascii.Error, UnicodeError, ValueError):
        raise wrong from None
    if not text.startswith(_PREFIX) or len(text) > 200:
        raise wrong
    parts = text.removeprefix(_PREFIX).split("|")
    if len(parts) != 3:
        raise wrong
    when, chain, seq = parts
    if not CHAIN_NAME.fullmatch(chain) or not seq.isdigit() or len(seq) > 18:
        raise wrong
    try:
        time = datetime.fromisoformat(when)
    except ValueError:
        raise wrong from None
    if time.tzinfo is None:
        raise wrong
    return Position(time.astimezone(UTC), chain, int(seq))
