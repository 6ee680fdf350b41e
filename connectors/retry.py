"""When to try an agency call again, and how long to wait first.

Only calls that are safe to repeat are retried: reads (``GET``, and the batch queries that
are ``POST`` but read nothing into the agency), and writes that carry an ``Idempotency-Key``
the agency de-duplicates on. A control action without its key is sent exactly once, whatever
happens: a lost response may mean it was executed.

A retryable outcome is a transport failure (timeout, refused or dropped connection) or a
status in ``RETRY_STATUSES``. The wait before attempt ``n`` is "full jitter" exponential
back-off, ``uniform(0, min(max, base * 2**n))``, unless the agency said ``Retry-After``:
that is honoured as given. Either way the wait must end before the request's deadline, or
the last outcome stands and no further attempt is made.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass

__all__ = [
    "IDEMPOTENCY_HEADER",
    "READ_METHODS",
    "RETRY_STATUSES",
    "RetryPolicy",
    "is_read_call",
    "is_retryable_call",
]

IDEMPOTENCY_HEADER = "Idempotency-Key"
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# 501 and 505 are answers about the request itself; repeating it changes nothing.
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How many times, and how patiently, one agency's calls are retried."""

    max_retries: int = 2  # attempts after the first
    backoff_base_s: float = 0.1
    backoff_max_s: float = 2.0
    retry_after_max_s: float = 10.0  # the longest Retry-After honoured without a deadline

    def backoff(self, retry: int, rng: random.Random | None = None) -> float:
        """The jittered wait before retry number ``retry`` (1 for the first retry)."""
        ceiling = min(self.backoff_max_s, self.backoff_base_s * (2 ** (retry - 1)))
        return (rng or random).uniform(0.0, ceiling)

    def wait(
        self,
        retry: int,
        retry_after_s: float | None,
        remaining_s: float | None,
        rng: random.Random | None = None,
    ) -> float | None:
        """Seconds to wait before retry number ``retry``, or ``None``: give up now.

        ``retry_after_s`` is the agency's ``Retry-After``; ``remaining_s`` what is left of
        the request's deadline (``None`` without one).
        """
        if retry > self.max_retries:
            return None
        if retry_after_s is not None:
            delay = retry_after_s
            if remaining_s is None and delay > self.retry_after_max_s:
                return None
        else:
            delay = self.backoff(retry, rng)
        if remaining_s is not None and delay >= remaining_s:
            return None
        return delay


def is_read_call(method: str, read: bool | None) -> bool:
    """Whether a call only reads: ``read`` if given (a batch query is a ``POST`` but a
    read), else what the method implies."""
    return method.upper() in READ_METHODS if read is None else read


def is_retryable_call(
    method: str, headers: Mapping[str, str], *, read: bool | None, idempotency_key: str | None
) -> bool:
    """Whether a call may be sent more than once.

    A read always; a write only with an idempotency key (given, or already in ``headers``).
    """
    if is_read_call(method, read):
        return True
    if idempotency_key:
        return True
    wanted = IDEMPOTENCY_HEADER.lower()
    return any(k.lower() == wanted and v for k, v in headers.items())
