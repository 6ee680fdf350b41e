"""Market regulation (市场监管): companies, roles in them, and equity stakes.

A ``{code, msg, data}`` JSON envelope, errors inside HTTP 200, results paged
(``mocks/API.md``). ``COMPANY_ROLES`` and ``ASSETS`` both come from ``/roles``; when both are
asked for the same batch at the same time, the upstream call is shared.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import orjson
from pydantic import BaseModel, ConfigDict, Field

from connectors.base import FacetSpec, Result
from connectors.batching import fetch_batched
from connectors.domain import (
    AssetKind,
    CompanyInfo,
    CompanyRole,
    ControlKind,
    EquityStake,
    Facet,
    OrganizationPerson,
)
from connectors.mr_control import MarketRegulationControl
from connectors.mr_envelope import AGENCY, failure_in, reply_data, unwrap
from connectors.parsing import Record, parse_control, parse_options
from gateway.errors import AgencyBadResponse, AgencyError

if TYPE_CHECKING:
    from connectors.http import AgencyHttp

__all__ = ["MarketRegulationConnector", "MarketRegulationOptions", "parse_company", "unwrap"]

_MAX_PAGES = 1000  # a runaway ``total`` must not keep us paging for ever


class MarketRegulationOptions(BaseModel):
    """Paging of the roles endpoint."""

    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)

    page_size: int = Field(default=100, ge=1, le=100, description="pageSize sent to /roles.")


@dataclass(frozen=True, slots=True)
class _Role:
    """One /roles item, parsed once and projected by either facet."""

    role: CompanyRole
    stake: EquityStake | None


def parse_company(company: Record) -> CompanyInfo:
    """A company object as ``/roles`` and ``/companies`` send it."""
    return CompanyInfo(
        code=company.text("code"),
        name=company.text("name"),
        status=company.text("status"),
        legal_representative=company.text("legalRepresentative"),
        registered_capital=company.opt_decimal("registeredCapital"),
        address=company.text("address"),
        established_on=company.opt_date("establishedOn"),
    )


def _parse_role(person_id: str, item: Record) -> _Role:
    company = parse_company(item.record("company"))
    kind = item.text("role")
    if kind != "SHAREHOLDER":
        return _Role(CompanyRole(company=company, role=kind), None)
    ratio = item.decimal("shareRatio")
    freezes = tuple(
        parse_control(f, kind=ControlKind.FREEZE) for f in item.records("freezes", optional=True)
    )
    stake = EquityStake(
        id=company.code,  # unique per holder; the holder's id stays out of the asset id
        company=company,
        share_ratio=ratio,
        subscribed_capital=item.opt_decimal("subscribedCapital"),
        controls=freezes,
        estimated_value=item.opt_decimal("estimatedValue"),
    )
    return _Role(CompanyRole(company=company, role=kind, share_ratio=ratio), stake)


def parse_roles(
    ids: Sequence[str], items: Sequence[Record]
) -> dict[str, list[_Role] | AgencyError]:
    """Items grouped by person; a bad item spoils its person only, if it names one."""
    out: dict[str, list[_Role] | AgencyError] = {k: [] for k in ids}
    for item in items:
        person_id = item.text("personId")  # unattributable: the whole batch is in doubt
        roles = out.get(person_id)
        if not isinstance(roles, list):
            continue  # someone we did not ask about, or already spoilt
        try:
            roles.append(_parse_role(person_id, item))
        except AgencyError as exc:
            out[person_id] = exc
    return out


def parse_members(codes: Sequence[str], items: Sequence[Record]) -> dict[str, Result]:
    """``/members`` items grouped by company; a bad item spoils its company only."""
    found: dict[str, list[OrganizationPerson] | AgencyError] = {k: [] for k in codes}
    for item in items:
        code = item.text("companyCode")  # unattributable: the whole batch is in doubt
        persons = found.get(code)
        if not isinstance(persons, list):
            continue
        try:
            role = item.text("role")
            persons.append(
                OrganizationPerson(
                    company_code=code,
                    person_id=item.text("personId"),
                    name=item.opt_text("name"),
                    role=role,
                    share_ratio=item.decimal("shareRatio") if role == "SHAREHOLDER" else None,
                )
            )
        except AgencyError as exc:
            found[code] = exc
    return {k: v if isinstance(v, AgencyError) else tuple(v) for k, v in found.items()}


class MarketRegulationConnector(MarketRegulationControl):
    """Company roles, equity stakes (as assets) and company records at market regulation."""

    agency: ClassVar[str] = AGENCY
    facets: ClassVar[Mapping[Facet, FacetSpec]] = {
        Facet.COMPANY_ROLES: FacetSpec(max_batch=50),
        Facet.ASSETS: FacetSpec(max_batch=50, kinds=frozenset({AssetKind.EQUITY})),
        Facet.ORGANIZATION: FacetSpec(max_batch=50),
        Facet.ORGANIZATION_PERSONS: FacetSpec(max_batch=50),
    }

    def __init__(self, options: Mapping[str, Any], http: AgencyHttp) -> None:
        self.options = parse_options(MarketRegulationOptions, options, connector=AGENCY)
        self._http = http
        # batch -> its /roles call while in flight, so COMPANY_ROLES and ASSETS share one.
        self._in_flight: dict[tuple[str, ...], asyncio.Task[dict[str, list[_Role] | AgencyError]]]
        self._in_flight = {}

    async def fetch(self, facet: Facet, keys: Sequence[str]) -> Sequence[Result]:
        """One result per key: roles, equity stakes, or by credit code ``CompanyInfo | None``
        and the persons the organisation's register names."""
        if facet not in self.facets:
            raise ValueError(f"{AGENCY} does not serve {facet}")
        batch = self.facets[facet].max_batch
        if facet is Facet.ORGANIZATION:
            return await fetch_batched(AGENCY, keys, batch, self._companies)
        if facet is Facet.ORGANIZATION_PERSONS:
            return await fetch_batched(AGENCY, keys, batch, self._members)

        async def project(ids: tuple[str, ...]) -> Mapping[str, Result]:
            by_person = await self._shared_roles(ids)
            out: dict[str, Result] = {}
            for key, roles in by_person.items():
                if isinstance(roles, AgencyError):
                    out[key] = roles
                elif facet is Facet.COMPANY_ROLES:
                    out[key] = tuple(r.role for r in roles)
                else:
                    out[key] = tuple(r.stake for r in roles if r.stake is not None)
            return out

        return await fetch_batched(AGENCY, keys, batch, project)

    async def _shared_roles(self, ids: tuple[str, ...]) -> dict[str, list[_Role] | AgencyError]:
        task = self._in_flight.get(ids)
        if task is None:
            task = asyncio.ensure_future(self._roles(ids))
            self._in_flight[ids] = task
            task.add_done_callback(lambda done: self._settle(ids, done))
        # shield: one caller giving up must not cancel the call the other is waiting for.
        return await asyncio.shield(task)

    def _settle(self, ids: tuple[str, ...], task: asyncio.Task[Any]) -> None:
        if self._in_flight.get(ids) is task:
            del self._in_flight[ids]
        if not task.cancelled():
            task.exception()  # retrieved: a caller that gave up must not leave a warning behind

    async def _post(self, path: str, payload: object) -> Record:
        reply = await self._http.request(
            "POST",
            path,
            body=orjson.dumps(payload),
            headers={"Content-Type": "application/json"},
            read=True,  # /roles and /companies are queries: safe to retry
            failure_in=failure_in,
        )
        return reply_data(reply)

    async def _roles(self, ids: tuple[str, ...]) -> dict[str, list[_Role] | AgencyError]:
        size = self.options.page_size
        items: list[Record] = []
        for page in range(1, _MAX_PAGES + 1):
            data = await self._post(
                "/mr/api/v1/roles", {"ids": ids, "page": page, "pageSize": size}
            )
            total = data.integer("total", minimum=0)
            got = data.records("items")
            items.extend(got)
            if len(items) >= total:
                return parse_roles(ids, items)
            if not got:
                raise AgencyBadResponse(AGENCY, "paging ended before total", field="total")
        raise AgencyBadResponse(AGENCY, f"more than {_MAX_PAGES} pages", field="total")

    async def _companies(self, codes: tuple[str, ...]) -> Mapping[str, Result]:
        data = await self._post("/mr/api/v1/companies", {"codes": codes})
        out: dict[str, Result] = dict.fromkeys(codes)
        for item in data.records("items"):
            code = item.raw("code")
            if isinstance(code, str) and code in out:
                try:
                    out[code] = parse_company(item)
                except AgencyError as exc:
                    out[code] = exc
        return out

    async def _members(self, codes: tuple[str, ...]) -> Mapping[str, Result]:
        data = await self._post("/mr/api/v1/members", {"codes": codes})
        return parse_members(codes, data.records("items"))

    async def aclose(self) -> None:
        """Cancel shared /roles calls nobody will collect any more."""
        for task in list(self._in_flight.values()):
            task.cancel()
