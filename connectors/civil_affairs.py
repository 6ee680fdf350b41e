"""Civil affairs (民政): marriage registration (婚姻登记).

One id per ``GET``, behind a token-bucket rate limit that answers ``429`` with
``Retry-After`` (``mocks/API.md``). The shared client (``connectors/http.py``) waits a 429 out
when its ``Retry-After`` fits before the request's deadline and retries; otherwise the key
fails with ``AGENCY_REJECTED`` carrying ``retryAfter``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import quote

from pydantic import BaseModel, ConfigDict

from connectors.base import FacetSpec, Result
from connectors.batching import fetch_batched
from connectors.domain import Facet, Marriage
from connectors.parsing import (
    Record,
    error_for_status,
    json_body,
    json_error_code,
    parse_options,
)

if TYPE_CHECKING:
    from connectors.http import AgencyHttp

__all__ = ["CivilAffairsConnector", "CivilAffairsOptions"]

AGENCY = "civil_affairs"


class CivilAffairsOptions(BaseModel):
    """Civil affairs takes no options: waiting out its rate limit is bounded by the
    request's deadline and the agency's retry settings. Unknown options still fail."""

    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)


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

        async def one(ids: tuple[str, ...]) -> Mapping[str, Result]:
            (key,) = ids
            # Keys are plain ids (fetch_batched checks), quoted anyway: this is a URL path.
            reply = await self._http.request("GET", f"/ca/v2/marriage/{quote(key, safe='')}")
            # A 2xx body is read once, below; only an error's body is read for its code.
            code = None if 200 <= reply.status < 300 else json_error_code(reply)
            # Only the agency's own "not_found" means no record: a bare 404 from a proxy or a
            # wrong base URL must not read as "never married" for every debtor.
            if reply.status == 404 and code == "not_found":
                return {key: None}
            error = error_for_status(reply, AGENCY, code)
            if error is not None:
                raise error
            return {key: parse_marriage(key, json_body(reply, AGENCY))}

        return await fetch_batched(AGENCY, keys, 1, one)

    async def aclose(self) -> None:
        """Nothing to release: the HTTP session is shared and closed by its owner."""
