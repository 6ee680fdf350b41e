"""Mock public security (公安) API: identity (户籍), vehicles, exit bans.

JSON, batches of up to 100 ids, every request HMAC-signed (``mocks/signing.py``).
Wire format: ``mocks/API.md``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aiohttp import web

from mocks.faults import install_faults
from mocks.ps_controls import install_controls
from mocks.records import ExitBanRecord, PersonRecord, VehicleRecord
from mocks.signing import DEFAULT_PS_SECRET, verify
from mocks.stats import install_stats, note_keys
from mocks.wire import control_json, money_text

if TYPE_CHECKING:
    from mocks.world import World

__all__ = ["PublicSecuritySettings", "create_app"]


@dataclass(frozen=True, slots=True)
class PublicSecuritySettings:
    """How the mock behaves; the defaults are the documented API."""

    #: HMAC-SHA256 key shared with the client.
    secret: bytes = DEFAULT_PS_SECRET
    #: Most ids one request may carry.
    max_batch: int = 100
    #: Seed of the fault RNG (``error_rate``).
    fault_seed: int = 0

    def __repr__(self) -> str:
        # The secret never reaches a log or a test report.
        return f"PublicSecuritySettings(secret=***, max_batch={self.max_batch})"


def _error(status: int, code: str, **extra: Any) -> web.Response:
    return web.json_response({"error": code, **extra}, status=status)


def _person(pid: str, p: PersonRecord | None) -> dict[str, Any]:
    if p is None:
        return {"id": pid, "found": False}
    return {
        "id": pid,
        "found": True,
        "person": {
            "name": p.name,
            "sex": p.sex,
            "birthDate": p.birth_date.isoformat(),
            "address": p.address,
            "status": p.status,
        },
    }


def _vehicle(v: VehicleRecord) -> dict[str, Any]:
    return {
        "plate": v.plate,
        "vin": v.vin,
        "model": v.model,
        "registeredOn": v.registered_on.isoformat(),
        "status": v.status,
        "estimatedValue": money_text(v.estimated_value),
        "seizures": [control_json(c) for c in v.seizures],
    }


def _ban(b: ExitBanRecord) -> dict[str, Any]:
    return {
        "banId": b.ban_id,
        "court": b.court,
        "caseNumber": b.case_number,
        "since": b.since.isoformat(),
        "until": b.until.isoformat() if b.until else None,
        "status": b.status,
        "liftReason": b.lift_reason,
    }


def _parse_ids(body: bytes) -> list[str] | None:
    """Return the ids of a ``{"ids": [str, ...]}`` body, or None if it is not one."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("ids"), list):
        return None
    ids: list[Any] = data["ids"]
    if not all(isinstance(i, str) for i in ids):
        return None
    return ids


def create_app(world: World, settings: PublicSecuritySettings | None = None) -> web.Application:
    """Return the public security mock serving ``world``."""
    cfg = settings or PublicSecuritySettings()
    app = web.Application()
    install_stats(app)
    install_faults(app, _error, seed=cfg.fault_seed)

    async def read_ids(request: web.Request) -> list[str] | web.Response:
        """Authenticate the request and return its ids, or the refusal to send."""
        body = await request.read()
        if not verify(cfg.secret, request.method, request.path, request.headers, body):
            return _error(401, "bad_signature")
        ids = _parse_ids(body)
        if ids is None:
            return _error(400, "bad_request")
        if len(ids) > cfg.max_batch:
            return _error(400, "batch_too_large", max=cfg.max_batch)
        note_keys(request, len(ids))
        return ids

    async def persons(request: web.Request) -> web.Response:
        ids = await read_ids(request)
        if isinstance(ids, web.Response):
            return ids
        return web.json_response({"results": [_person(i, world.person(i)) for i in ids]})

    async def vehicles(request: web.Request) -> web.Response:
        ids = await read_ids(request)
        if isinstance(ids, web.Response):
            return ids
        results = [
            {"ownerId": i, "vehicles": [_vehicle(v) for v in world.vehicles_of(i)]} for i in ids
        ]
        return web.json_response({"results": results})

    async def exit_bans(request: web.Request) -> web.Response:
        ids = await read_ids(request)
        if isinstance(ids, web.Response):
            return ids
        results = [{"id": i, "bans": [_ban(b) for b in world.exit_bans_of(i)]} for i in ids]
        return web.json_response({"results": results})

    app.router.add_post("/ps/v1/persons/query", persons)
    app.router.add_post("/ps/v1/vehicles/query", vehicles)
    app.router.add_post("/ps/v1/exit-bans/query", exit_bans)
    install_controls(
        app,
        world,
        lambda request, body: verify(
            cfg.secret, request.method, request.path, request.headers, body
        ),
        _error,
    )
    return app
