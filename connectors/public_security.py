"""Public security (公安): identity (户籍), vehicles and exit bans.

JSON batches of up to 100 ids, each request signed with HMAC-SHA256 over method, path,
timestamp and the body's SHA-256 (``mocks/API.md``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import urlsplit

import orjson

from connectors.base import FacetSpec, Result
from connectors.batching import fetch_batched
from connectors.domain import AssetKind, Control, ExitBan, Facet, Identity, Vehicle
from connectors.parsing import (
    Record,
    error_for_status,
    json_body,
    json_error_code,
    parse_control,
    parse_options,
)
from connectors.ps_control import PublicSecurityControl
from connectors.ps_signing import PublicSecurityOptions, sign
from gateway.errors import AgencyError

if TYPE_CHECKING:
    from connectors.http import AgencyHttp, HttpReply

__all__ = ["PublicSecurityConnector", "PublicSecurityOptions", "sign"]

AGENCY = "public_security"


def _identity(key: str, item: Record) -> Identity | None:
    if not item.boolean("found"):
        return None
    person = item.record("person")
    return Identity(
        id=key,
        name=person.text("name"),
        sex=person.text("sex"),
        birth_date=person.date("birthDate"),
        address=person.text("address"),
        status=person.text("status"),
    )


def _controls(holder: Record, key: str) -> tuple[Control, ...]:
    return tuple(parse_control(seizure) for seizure in holder.records(key, optional=True))


def _vehicles(key: str, item: Record) -> tuple[Vehicle, ...]:
    return tuple(
        Vehicle(
            id=v.text("vin"),
            plate_number=v.text("plate"),
            vin=v.text("vin"),
            model=v.opt_text("model"),
            registered_on=v.opt_date("registeredOn"),
            status=v.text("status"),
            controls=_controls(v, "seizures"),
            estimated_value=v.opt_decimal("estimatedValue"),
        )
        for v in item.records("vehicles")
    )


def _exit_bans(key: str, item: Record) -> tuple[ExitBan, ...]:
    return tuple(
        ExitBan(
            id=b.text("banId"),
            court=b.text("court"),
            case_number=b.text("caseNumber"),
            since=b.date("since"),
            until=b.opt_date("until"),
            status=b.text("status"),
            lift_reason=b.opt_text("liftReason"),
        )
        for b in item.records("bans")
    )


# facet -> (path, the field naming the key in each result, parser of one result)
_ROUTES: dict[Facet, tuple[str, str, Callable[[str, Record], object]]] = {
    Facet.IDENTITY: ("/ps/v1/persons/query", "id", _identity),
    Facet.ASSETS: ("/ps/v1/vehicles/query", "ownerId", _vehicles),
    Facet.EXIT_BANS: ("/ps/v1/exit-bans/query", "id", _exit_bans),
}


def parse_results(
    body: object, id_field: str, parse: Callable[[str, Record], object]
) -> dict[str, Result]:
    """``{"results": [...]}`` as key -> value; a bad result spoils its own key only."""
    results = Record(AGENCY, body, "").records("results")
    out: dict[str, Result] = {}
    for item in results:
        key = item.raw(id_field)
        if not isinstance(key, str):
            continue  # not attributable: its key reads as missing (a bad response) later
        try:
            out[key] = parse(key, item)
        except AgencyError as exc:
            out[key] = exc
    return out


class PublicSecurityConnector(PublicSecurityControl):
    """Identity, vehicles (as assets) and exit bans of debtors at public security."""

    agency: ClassVar[str] = AGENCY
    facets: ClassVar[Mapping[Facet, FacetSpec]] = {
        Facet.IDENTITY: FacetSpec(max_batch=100),
        Facet.ASSETS: FacetSpec(max_batch=100, kinds=frozenset({AssetKind.VEHICLE})),
        Facet.EXIT_BANS: FacetSpec(max_batch=100),
    }

    def __init__(self, options: Mapping[str, Any], http: AgencyHttp) -> None:
        self.options = parse_options(PublicSecurityOptions, options, connector=AGENCY)
        self._http = http

    async def fetch(self, facet: Facet, keys: Sequence[str]) -> Sequence[Result]:
        """One result per key: ``Identity | None``, ``tuple[Vehicle, ...]`` or bans."""
        if facet not in _ROUTES:
            raise ValueError(f"{AGENCY} does not serve {facet}")
        path, id_field, parse = _ROUTES[facet]

        async def chunk(ids: tuple[str, ...]) -> Mapping[str, Result]:
            reply = await self._post(path, orjson.dumps({"ids": list(ids)}))
            if not 200 <= reply.status < 300:  # a 2xx body is read once, below
                error = error_for_status(reply, AGENCY, json_error_code(reply))
                if error is not None:
                    raise error
            return parse_results(json_body(reply, AGENCY), id_field, parse)

        return await fetch_batched(AGENCY, keys, self.facets[facet].max_batch, chunk)

    async def _post(self, path: str, body: bytes) -> HttpReply:
        # Sign the path the server will see, base URL prefix included.
        signed_path = urlsplit(self._http.url(path)).path
        timestamp = int(time.time())
        secret = self.options.secret.get_secret_value().encode()
        headers = {
            "Content-Type": "application/json",
            "X-PS-Client": self.options.client_id,
            "X-PS-Timestamp": str(timestamp),
            "X-PS-Signature": sign(secret, "POST", signed_path, timestamp, body),
        }
        # A query, though a POST: safe to retry.
        return await self._http.request("POST", path, body=body, headers=headers, read=True)

    async def aclose(self) -> None:
        """Nothing to release: the HTTP session is shared and closed by its owner."""
