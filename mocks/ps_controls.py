"""Mock public security control routes: vehicle seizures and exit bans (``mocks/API.md``).

``POST /ps/v1/controls``, HMAC-signed like every public security call, with an
``Idempotency-Key``: the same key is carried out once (``mocks/control.py``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING, Any

from aiohttp import web

from mocks.control import IdempotencyCache, add_control, remove_control, renew_control
from mocks.records import ExitBanRecord
from mocks.stats import note_execution, note_keys

if TYPE_CHECKING:
    from mocks.world import World

__all__ = ["ACTIONS", "install_controls"]

ACTIONS = frozenset({"SEIZE_VEHICLE", "LIFT_VEHICLE_SEIZURE", "EXIT_BAN", "LIFT_EXIT_BAN"})
_REQUIRED = ("action", "target", "subjectId", "court", "caseNumber", "documentNumber", "since")

Verifier = Callable[[web.Request, bytes], bool]
Responder = Callable[..., web.Response]


def _date(value: Any) -> date | None:
    if not isinstance(value, str):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def parse_order(body: bytes) -> dict[str, Any] | None:
    """The order of a control request, or None if the body is not one."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(data, dict) or data.get("action") not in ACTIONS:
        return None
    if not all(isinstance(data.get(k), str) and data[k] for k in _REQUIRED):
        return None
    since = _date(data["since"])
    until = None if data.get("until") is None else _date(data["until"])
    if since is None or (data.get("until") is not None and until is None):
        return None
    return {**data, "since": since, "until": until, "renewal": data.get("renewal") is True}


def install_controls(
    app: web.Application, world: World, verify: Verifier, error: Responder
) -> None:
    """Add ``POST /ps/v1/controls`` to the public security mock."""
    keys = IdempotencyCache()
    bans = iter(range(1, 10**8))

    def done(status: str, control_id: str, queue: int = 0) -> web.Response:
        return web.json_response(
            {"controlId": control_id, "status": status, "queuePosition": queue}
        )

    def vehicle(request: web.Request, o: dict[str, Any]) -> web.Response:
        v = world.vehicle(o["target"])
        if v is None or v.owner_id != o["subjectId"]:
            return error(404, "not_found")
        control_id = f"VS{v.vin}"
        if o["action"] == "LIFT_VEHICLE_SEIZURE":
            if not remove_control(v.seizures, o["caseNumber"], world.today):
                return error(409, "not_controlled")
            note_execution(request, o["action"])
            if not v.seizures and v.status == "SEIZED":
                v.status = "NORMAL"
            return done("LIFTED", control_id)
        if o["renewal"]:
            renewed = renew_control(v.seizures, o["caseNumber"], o["until"], world.today)
            if renewed is None:
                return error(409, "not_controlled")
            note_execution(request, o["action"])
            return done("DONE", control_id, renewed.queue_position)
        added = add_control(
            v.seizures,
            court=o["court"],
            case_number=o["caseNumber"],
            since=o["since"],
            until=o["until"],
            today=world.today,
        )
        if added is None:
            return error(409, "already_controlled")
        note_execution(request, o["action"])
        v.status = "SEIZED"
        return done(
            "DONE" if added.queue_position == 0 else "QUEUED", control_id, added.queue_position
        )

    def exit_ban(request: web.Request, o: dict[str, Any]) -> web.Response:
        # A new ban is placed on its target: the debtor, or the person behind an organisation.
        person_id = o["target"] if o["action"] == "EXIT_BAN" else o["subjectId"]
        if o["action"] == "LIFT_EXIT_BAN":
            # The subject may be an organisation whose person the ban was placed on: the ban
            # is found by its id then.
            if world.person(person_id) is not None:
                bans_of = world.exit_bans_of(person_id)
                ban = next((b for b in bans_of if b.ban_id == o["target"]), None)
            else:
                ban = world.added_exit_ban(o["target"])
            if ban is None:
                return error(404, "not_found")
            if ban.case_number != o["caseNumber"] or ban.status != "ACTIVE":
                return error(409, "not_controlled")  # a court lifts only its own bans
            ban.status, ban.until = "LIFTED", o["since"]
            reason = o.get("reason")
            ban.lift_reason = reason if isinstance(reason, str) and reason else None
            note_execution(request, o["action"])
            return done("LIFTED", ban.ban_id)
        if world.person(person_id) is None:
            return error(404, "not_found")
        current = world.exit_bans_of(person_id)
        if any(b.case_number == o["caseNumber"] and b.status == "ACTIVE" for b in current):
            return error(409, "already_controlled")
        ban_id = f"EBC{next(bans):08d}"
        record = ExitBanRecord(
            ban_id, person_id, o["court"], o["caseNumber"], o["since"], o["until"], "ACTIVE"
        )
        world.add_exit_ban(record)
        note_execution(request, o["action"])
        return done("DONE", ban_id)

    def execute(request: web.Request, body: bytes) -> web.Response:
        order = parse_order(body)
        if order is None:
            return error(400, "bad_request")
        note_keys(request, 1)
        if order["action"] in {"SEIZE_VEHICLE", "LIFT_VEHICLE_SEIZURE"}:
            return vehicle(request, order)
        return exit_ban(request, order)

    async def controls(request: web.Request) -> web.Response:
        body = await request.read()
        if not verify(request, body):
            return error(401, "bad_signature")
        key = keys.key(request)
        if key is None:
            return error(400, "idempotency_key_required")
        fingerprint = keys.fingerprint(request, body)
        # No await from here on: the check and the execution are one step for this loop.
        seen = keys.replay(key, fingerprint)
        if seen is not None:
            return seen
        return keys.remember(key, fingerprint, execute(request, body))

    app.router.add_post("/ps/v1/controls", controls)
