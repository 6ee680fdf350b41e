"""Mock market regulation (市场监管) API: companies, roles, equity stakes.

JSON in a ``{code, msg, data}`` envelope, errors inside HTTP 200, roles paged.
Wire format: ``mocks/API.md``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aiohttp import web

from mocks.faults import install_faults
from mocks.mr_controls import install_controls
from mocks.records import CompanyRecord, PersonRecord, RoleRecord
from mocks.stats import install_stats, note_keys
from mocks.wire import control_json, money_text

if TYPE_CHECKING:
    from mocks.world import World

__all__ = [
    "BAD_PARAMETER",
    "INTERNAL_ERROR",
    "OK",
    "RATE_LIMITED",
    "TOO_MANY_IDS",
    "MarketRegulationSettings",
    "create_app",
]

OK = 0
BAD_PARAMETER = 40001
TOO_MANY_IDS = 40002
RATE_LIMITED = 42900
INTERNAL_ERROR = 50000

_FAULT_CODES = {429: RATE_LIMITED, 503: INTERNAL_ERROR}


@dataclass(frozen=True, slots=True)
class MarketRegulationSettings:
    """How the mock behaves; the defaults are the documented API."""

    #: Most person ids (roles) or company codes one request may carry.
    max_ids: int = 50
    #: Largest ``pageSize`` of a roles query.
    max_page_size: int = 100
    #: Seed of the fault RNG (``error_rate``).
    fault_seed: int = 0


def _envelope(code: int, msg: str, data: Any = None, status: int = 200) -> web.Response:
    return web.json_response({"code": code, "msg": msg, "data": data}, status=status)


def _fault_error(status: int, name: str) -> web.Response:
    # Faults are the one case where this agency answers with an HTTP error status.
    return _envelope(_FAULT_CODES.get(status, INTERNAL_ERROR), name, status=status)


def _busy_in_body(status: int, name: str) -> web.Response:
    # The same error as the agency reports it when busy: inside an HTTP 200 (errors_in_body).
    return _envelope(_FAULT_CODES.get(status, INTERNAL_ERROR), name)


def _company(c: CompanyRecord) -> dict[str, Any]:
    return {
        "code": c.code,
        "name": c.name,
        "status": c.status,
        "legalRepresentative": c.legal_representative,
        "registeredCapital": money_text(c.registered_capital),
        "address": c.address,
        "establishedOn": c.established_on.isoformat(),
    }


def _role(r: RoleRecord, company: CompanyRecord) -> dict[str, Any]:
    item: dict[str, Any] = {"personId": r.person_id, "role": r.role, "company": _company(company)}
    if r.role == "SHAREHOLDER":
        item["shareRatio"] = None if r.share_ratio is None else f"{r.share_ratio:.4f}"
        item["subscribedCapital"] = money_text(r.subscribed_capital)
        item["estimatedValue"] = money_text(r.estimated_value)
        item["freezes"] = [control_json(f) for f in r.freezes]
    return item


def _member(r: RoleRecord, person: PersonRecord | None) -> dict[str, Any]:
    item: dict[str, Any] = {
        "companyCode": r.company_code,
        "personId": r.person_id,
        "name": None if person is None else person.name,
        "role": r.role,
    }
    if r.role == "SHAREHOLDER":
        item["shareRatio"] = None if r.share_ratio is None else f"{r.share_ratio:.4f}"
    return item


def _strings(value: Any) -> list[str] | None:
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return value
    return None


def _positive_int(value: Any, default: int) -> int | None:
    if value is None:
        return default
    # bool is an int subclass; `"page": true` is a bad parameter.
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        return None
    return value


async def _json_object(request: web.Request) -> dict[str, Any] | None:
    try:
        data = json.loads(await request.read())
    except (ValueError, UnicodeDecodeError):
        return None
    return data if isinstance(data, dict) else None


def create_app(world: World, settings: MarketRegulationSettings | None = None) -> web.Application:
    """Return the market regulation mock serving ``world``."""
    cfg = settings or MarketRegulationSettings()
    app = web.Application()
    install_stats(app)
    install_faults(app, _fault_error, seed=cfg.fault_seed, in_body_response=_busy_in_body)

    def too_many(count: int) -> web.Response | None:
        if count > cfg.max_ids:
            return _envelope(TOO_MANY_IDS, f"too many ids (max {cfg.max_ids})")
        return None

    async def roles(request: web.Request) -> web.Response:
        body = await _json_object(request)
        if body is None:
            return _envelope(BAD_PARAMETER, "body must be a JSON object")
        ids = _strings(body.get("ids"))
        page = _positive_int(body.get("page"), 1)
        page_size = _positive_int(body.get("pageSize"), cfg.max_page_size)
        if ids is None or page is None or page_size is None or page_size > cfg.max_page_size:
            return _envelope(BAD_PARAMETER, "bad parameter: ids, page or pageSize")
        if refusal := too_many(len(ids)):
            return refusal
        note_keys(request, len(ids))
        items: list[dict[str, Any]] = []
        for pid in sorted(set(ids)):
            person_roles = []
            for r in world.roles_of(pid):
                company = world.company(r.company_code)
                if company is not None:
                    person_roles.append((r, company))
            person_roles.sort(key=lambda rc: (rc[0].company_code, rc[0].role))
            items.extend(_role(r, c) for r, c in person_roles)
        start = (page - 1) * page_size
        data = {
            "page": page,
            "pageSize": page_size,
            "total": len(items),
            "items": items[start : start + page_size],
        }
        return _envelope(OK, "ok", data)

    async def batch_codes(request: web.Request) -> list[str] | web.Response:
        # The batch endpoints' common front: a JSON object with "codes", within the limit.
        body = await _json_object(request)
        codes = None if body is None else _strings(body.get("codes"))
        if codes is None:
            return _envelope(BAD_PARAMETER, "bad parameter: codes")
        if refusal := too_many(len(codes)):
            return refusal
        note_keys(request, len(codes))
        return codes

    async def companies(request: web.Request) -> web.Response:
        codes = await batch_codes(request)
        if isinstance(codes, web.Response):
            return codes
        found = (world.company(code) for code in dict.fromkeys(codes))
        return _envelope(OK, "ok", {"items": [_company(c) for c in found if c is not None]})

    async def members(request: web.Request) -> web.Response:
        codes = await batch_codes(request)
        if isinstance(codes, web.Response):
            return codes
        items = [
            _member(r, world.person(r.person_id))
            for code in sorted(set(codes))
            for r in world.members_of(code)
        ]
        return _envelope(OK, "ok", {"items": items})

    app.router.add_post("/mr/api/v1/roles", roles)
    app.router.add_post("/mr/api/v1/members", members)
    app.router.add_post("/mr/api/v1/companies", companies)
    install_controls(app, world, _envelope)
    return app
