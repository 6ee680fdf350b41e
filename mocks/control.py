"""What the mock agencies' control routes share: idempotency keys and the control rules.

Every control route requires an ``Idempotency-Key`` header. The first request with a key is
carried out and its response remembered; a later request with the same key and the same
body gets that response again, carried out nothing; the same key with another body is
refused (``422``). This is what makes a lost response harmless: the client sends again and
learns what happened the first time.

``effective`` and ``add_control`` / ``remove_control`` keep a record's list of controls the
way courts do: the first effective control holds the asset (queue 0); later ones by other
cases wait in line (轮候, queue 1, 2, ...); lifting the holder moves the line up.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date

from aiohttp import web

from mocks.records import ControlRecord

__all__ = [
    "IDEMPOTENCY_HEADER",
    "IdempotencyCache",
    "Remembered",
    "add_control",
    "remove_control",
    "renew_control",
]

IDEMPOTENCY_HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 200


@dataclass(frozen=True, slots=True)
class Remembered:
    """A response as first sent for one key."""

    fingerprint: str
    status: int
    body: bytes
    content_type: str

    def response(self) -> web.Response:
        return web.Response(status=self.status, body=self.body, content_type=self.content_type)


class IdempotencyCache:
    """Responses by idempotency key, for the lifetime of the mock."""

    def __init__(self) -> None:
        self._done: dict[str, Remembered] = {}
        self.replays = 0

    @staticmethod
    def key(request: web.Request) -> str | None:
        """The request's key, or None when it is missing or unusable."""
        key = request.headers.get(IDEMPOTENCY_HEADER, "").strip()
        return key if 0 < len(key) <= MAX_KEY_LENGTH else None

    @staticmethod
    def fingerprint(request: web.Request, body: bytes) -> str:
        return hashlib.sha256(f"{request.method} {request.path}\n".encode() + body).hexdigest()

    def replay(self, key: str, fingerprint: str) -> web.Response | None:
        """The remembered response, a 422 for a reused key, or None for a new key."""
        seen = self._done.get(key)
        if seen is None:
            return None
        if seen.fingerprint != fingerprint:
            return web.json_response({"error": "idempotency_key_reused"}, status=422)
        self.replays += 1
        return seen.response()

    def remember(self, key: str, fingerprint: str, response: web.Response) -> web.Response:
        """Keep ``response`` for ``key`` and return it."""
        body = response.body if isinstance(response.body, bytes) else b""
        self._done[key] = Remembered(fingerprint, response.status, body, response.content_type)
        return response


def _in_force(control: ControlRecord, today: date) -> bool:
    return control.until is None or control.until >= today


def add_control(
    controls: list[ControlRecord],
    *,
    court: str,
    case_number: str,
    since: date,
    until: date | None,
    today: date,
) -> ControlRecord | None:
    """Add this case's control (effective, or queued behind others); None if it has one."""
    live = [c for c in controls if _in_force(c, today)]
    if any(c.case_number == case_number for c in live):
        return None
    queue = 1 + max((c.queue_position for c in live), default=-1)
    record = ControlRecord(court, case_number, since, until, queue)
    controls.append(record)
    return record


def renew_control(
    controls: list[ControlRecord], case_number: str, until: date | None, today: date
) -> ControlRecord | None:
    """Extend this case's control in force (续行); None if it has none."""
    for control in controls:
        if control.case_number == case_number and _in_force(control, today):
            control.until = until
            return control
    return None


def remove_control(controls: list[ControlRecord], case_number: str, today: date) -> bool:
    """Lift this case's control; the queue behind it moves up. False if it had none.

    The queued control that reaches the front takes effect by itself that day (查扣冻规定
    art. 26), and its term runs from then: it keeps its length, not its old dates.
    """
    mine = [c for c in controls if c.case_number == case_number and _in_force(c, today)]
    if not mine:
        return False
    for control in mine:
        controls.remove(control)
        for other in controls:
            if other.queue_position > control.queue_position and _in_force(other, today):
                other.queue_position -= 1
                if other.queue_position == 0:
                    _take_effect(other, today)
    return True


def _take_effect(control: ControlRecord, today: date) -> None:
    if control.until is not None:
        control.until = today + (control.until - control.since)
    control.since = today
