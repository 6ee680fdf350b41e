"""Mock market regulation control route: equity freezes (``mocks/API.md``).

``POST /mr/api/v1/equity/controls`` with an ``Idempotency-Key``, answered in the agency's
``{code, msg, data}`` envelope like everything else it serves (errors inside HTTP 200).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from aiohttp import web

from mocks.control import IdempotencyCache, add_control, remove_control, renew_control
from mocks.stats import note_execution, note_keys

if TYPE_CHECKING:
    from mocks.world import World

__all__ = [
    "ALREADY_FROZEN",
    "KEY_REQUIRED",
    "NOT_FOUND",
    "NOT_FROZEN",
    "install_controls",
]

KEY_REQUIRED = 40003
NOT_FOUND = 40401
NOT_FROZEN = 40901
ALREADY_FROZEN = 40902
_ACTIONS = {"FREEZE": "FREEZE_EQUITY", "UNFREEZE": "UNFREEZE_EQUITY"}
_REQUIRED = ("action", "personId", "companyCode", "court", "caseNumber", "documentNumber", "since")

Envelope = Callable[..., web.Response]


def parse_order(body: bytes) -> dict[str, Any] | None:
    """The order of a freeze request, or None if the body is not one."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(data, dict) or data.get("action") not in _ACTIONS:
        return None
    if not all(isinstance(data.get(k), str) and data[k] for k in _REQUIRED):
        return None
    try:
        since = date.fromisoformat(data["since"])
        until = None if data.get("until") is None else date.fromisoformat(data["until"])
        amount = None if data.get("amount") is None else Decimal(data["amount"])
    except (TypeError, ValueError, InvalidOperation):
        return None
    return {**data, "since": since, "until": until, "amount": amount}


def install_controls(app: web.Application, world: World, envelope: Envelope) -> None:
    """Add ``POST /mr/api/v1/equity/controls`` to the market regulation mock."""
    keys = IdempotencyCache()

    def execute(request: web.Request, body: bytes) -> web.Response:
        o = parse_order(body)
        if o is None:
            return envelope(40001, "bad parameter: freeze order")
        note_keys(request, 1)
        stake = next(
            (
                r
                for r in world.roles_of(o["personId"])
                if r.company_code == o["companyCode"] and r.role == "SHAREHOLDER"
            ),
            None,
        )
        if stake is None:
            return envelope(NOT_FOUND, "no such shareholding")
        freeze_id = f"MRF{o['companyCode']}"
        if o["action"] == "UNFREEZE":
            if not remove_control(stake.freezes, o["caseNumber"], world.today):
                return envelope(NOT_FROZEN, "not frozen for this case")
            note_execution(request, _ACTIONS["UNFREEZE"])
            return envelope(
                0, "ok", {"freezeId": freeze_id, "status": "UNFROZEN", "queuePosition": 0}
            )
        if o.get("renewal") is True:
            added = renew_control(stake.freezes, o["caseNumber"], o["until"], world.today)
            if added is None:
                return envelope(NOT_FROZEN, "not frozen for this case")
        else:
            added = add_control(
                stake.freezes,
                court=o["court"],
                case_number=o["caseNumber"],
                since=o["since"],
                until=o["until"],
                today=world.today,
            )
            if added is None:
                return envelope(ALREADY_FROZEN, "already frozen for this case")
        note_execution(request, _ACTIONS["FREEZE"])
        status = "FROZEN" if added.queue_position == 0 else "QUEUED"
        data = {"freezeId": freeze_id, "status": status, "queuePosition": added.queue_position}
        return envelope(0, "ok", data)

    async def controls(request: web.Request) -> web.Response:
        body = await request.read()
        key = keys.key(request)
        if key is None:
            return envelope(KEY_REQUIRED, "Idempotency-Key header required")
        fingerprint = keys.fingerprint(request, body)
        seen = keys.replay(key, fingerprint)
        if seen is not None:
            return seen
        return keys.remember(key, fingerprint, execute(request, body))

    app.router.add_post("/mr/api/v1/equity/controls", controls)
