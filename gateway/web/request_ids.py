"""Request ids made by the server: unique, in the order they were made, UUID version 7."""

from __future__ import annotations

import os
import random
import time
from collections.abc import Mapping

__all__ = ["request_id_of"]

_ids = random.Random()  # request ids must be unique, not secret
os.register_at_fork(after_in_child=_ids.seed)  # a forked worker must not repeat its parent
_MS = (1 << 48) - 1
_LOW = (1 << 60) - 1


def request_id_of(_headers: Mapping[str, str] | None = None) -> str:
    """A fresh request id, made by the server: 32 hex digits laid out as a UUID version 7
    (the millisecond first, then 74 random bits).

    Never the client's ``X-Request-Id``: two requests could share one, and a record could be
    made to look like another's. The client's id is kept beside it (``client_request_id_of``
    in ``gateway.web.audit_pipeline``).
    """
    # Unique, not secret: drawn from the process's seeded generator rather than
    # ``os.urandom``, whose system call lets go of the interpreter lock (~20 µs to get it
    # back on a busy worker). Workers are separate processes, each seeded on its own.
    # Time first: the audit log indexes records by request id, and ids in arrival order are
    # added at the index's end (one page a commit) rather than at random places (a page
    # each, read, changed and written to the log again): measured, 6-12 µs of SQLite's CPU a
    # record at 7 records a commit.
    bits = _ids.getrandbits(74)
    ms = time.time_ns() // 1_000_000 & _MS
    return f"{ms:012x}7{bits >> 62:03x}{8 | (bits >> 60) & 3:x}{bits & _LOW:015x}"
