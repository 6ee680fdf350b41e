"""Civil affairs (民政): marriage registration (婚姻登记).

One id per ``GET``, behind a token-bucket rate limit that answers ``429`` with
``Retry-After`` (``mocks/API.md``). A 429 is waited out once when the wait fits in the fetch's
time budget; otherwise the key fails with ``AGENCY_REJECTED`` carrying ``retryAfter``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import quote

from pydantic import BaseModel, ConfigDict, Field

from connectors.base import FacetSpec, Result
from connectors.batching import fetch_batched
from connectors.domain import Facet, Marriage
from connectors.parsing import (
    Record,
    error_for_status,
    json_body,
    json_error_code,
    parse_options,
    retry_after,
)

if TYPE_CHECKING:
    from connectors.http import AgencyHttp, HttpReply

__all__ = ["CivilAffairsConnector", "CivilAffairsOptions"]

AGENCY = "civil_affairs"


class CivilAffairsOptions(BaseModel):
    """How long a look-up may wait for the agency's rate limit."""

    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)

    time_budget: float = Field(
        default=5.0,
        gt=0,
        le=60,
        description="Seconds one fetch may spend; a Retry-After longer than what is left "
        "is not waited out.",
    )


def parse_marriage(key: str, body: object) -> Marriage:
    """One ``200`` marriage record; ``SINGLE`` has null spouse and dates."""
    record = Record(AGENCY, body, "")
    return Marriage(
        id=key,
        status=record.text("status"),
        spouse_id=record.opt_text("spouseId"),
        spouse_name=record.opt_text("spouseName"),
        registered_on=record.opt_date("registeredOn"),
        office=record.opt_text("office"),
    )


class CivilAffairsConnector:
    """Marriage registrations, one request per debtor id."""

    agency: ClassVar[str] = AGENCY
    facets: ClassVar[Mapping[Facet, FacetSpec]] = {Facet.MARRIAGE: FacetSpec(max_batch=1)}

    def __init__(self, options: Mapping[str, Any], http: AgencyHttp) -> None:
        self.options = parse_options(CivilAffairsOptions, options, connector=AGENCY)
        self._http = http

    async def fetch(self, facet: Facet, keys: Sequence[str]) -> Sequence[Result]:
        """One result per key: ``Marriage``, or ``None`` when the agency has no record."""
        if facet not in self.facets:
            raise ValueError(f"{AGENCY} does not serve {facet}")
        deadline = time.monotonic() + self.options.time_budget

        async def one(ids: tuple[str, ...]) -> Mapping[str, Result]:
            (key,) = ids
            # Keys are plain ids (fetch_batched checks), quoted anyway: this is a URL path.
            reply = await self._get_within(f"/ca/v2/marriage/{quote(key, safe='')}", deadline)
            code = json_error_code(reply)
            # Only the agency's own "not_found" means no record: a bare 404 from a proxy or a
            # wrong base URL must not read as "never married" for every debtor.
            if reply.status == 404 and code == "not_found":
                return {key: None}
            error = error_for_status(reply, AGENCY, code)
            if error is not None:
                raise error
            return {key: parse_marriage(key, json_body(reply, AGENCY))}

        return await fetch_batched(AGENCY, keys, 1, one)

    async def _get_within(self, path: str, deadline: float) -> HttpReply:
        """GET, waiting out one 429 if its Retry-After ends before ``deadline``.

        The only retry here; a general retry and circuit-breaker layer belongs in the
        shared HTTP client, and this should move there with it.
        """
        reply = await self._http.request("GET", path)
        if reply.status != 429:
            return reply
        wait = retry_after(reply)
        if wait is None or time.monotonic() + wait > deadline:
            return reply  # the caller turns it into AGENCY_REJECTED with retryAfter
        await asyncio.sleep(wait)
        return await self._http.request("GET", path)

    async def aclose(self) -> None:
        """Nothing to release: the HTTP session is shared and closed by its owner."""
