"""Fan one ``fetch`` out into the agency's batches, and its answers back into key order.

Every connector does the same dance around its own request code: drop duplicate keys, refuse
keys that are not plain ids (they would otherwise reach a URL path or an XML attribute and could
spoil a whole batch), split the rest by the agency's batch limit, send the batches concurrently
(``AgencyHttp``'s semaphore caps how many are in flight), and hand each caller key its result.
A batch that fails as a whole gives its error to each of its keys.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence

from connectors.base import Result
from gateway.errors import AgencyBadResponse, AgencyError, AgencyRejected

__all__ = ["ChunkFetcher", "fetch_batched", "is_plain_id"]

ChunkFetcher = Callable[[tuple[str, ...]], Awaitable[Mapping[str, Result]]]
"""Fetches one batch; returns a result per key it could attribute, or raises ``AgencyError``."""

# Resident ids, credit codes and our test ids are all short ASCII alphanumerics.
_PLAIN_ID = re.compile(r"[0-9A-Za-z]{1,64}")


def is_plain_id(key: str) -> bool:
    """Whether ``key`` is safe to send: ASCII letters and digits only, at most 64."""
    return _PLAIN_ID.fullmatch(key) is not None


async def fetch_batched(
    agency: str, keys: Sequence[str], max_batch: int, fetch_chunk: ChunkFetcher
) -> list[Result]:
    """One result per key of ``keys``, in order, each batch of ``max_batch`` sent once."""
    unique = [k for k in dict.fromkeys(keys) if is_plain_id(k)]
    chunks = [tuple(unique[i : i + max_batch]) for i in range(0, len(unique), max_batch)]
    outcomes: list[Mapping[str, Result] | BaseException]
    if len(chunks) == 1:
        # One batch (every single look-up, most batches): awaited here, without the task
        # and the future ``gather`` would make around it.
        try:
            outcomes = [await fetch_chunk(chunks[0])]
        except AgencyError as exc:
            outcomes = [exc]
    else:
        outcomes = await asyncio.gather(*(fetch_chunk(c) for c in chunks), return_exceptions=True)

    found: dict[str, Result] = {}
    for chunk, outcome in zip(chunks, outcomes, strict=True):
        if isinstance(outcome, AgencyError):
            found.update(dict.fromkeys(chunk, outcome))
        elif isinstance(outcome, BaseException):
            raise outcome  # a bug or a cancellation, not an agency failure: let it surface
        else:
            found.update((k, outcome[k]) for k in chunk if k in outcome)

    results: list[Result] = []
    for key in keys:
        if key in found:
            results.append(found[key])
        elif not is_plain_id(key):
            results.append(AgencyRejected(agency, "key is not a plain id; not sent"))
        else:
            results.append(AgencyBadResponse(agency, "the reply has no result for a requested key"))
    return results
