"""Reading agency replies into domain values, strictly and field by field.

Agencies send JSON or XML whose shape we check as we read it. Anything off becomes an
``AgencyBadResponse`` that names the field, never its value: values are personal data and
the message reaches clients and logs. The helpers here are shared by every connector:

- ``parse_date`` / ``parse_decimal``: the wire formats of dates and money (``mocks/API.md``).
- ``Record``: one decoded object; its getters name the failing field (``person.birthDate``).
- ``json_body`` / ``error_for_status`` / ``header``: a reply's content type, body and status.
- ``control_kind``: an agency's queue position as a domain ``ControlKind``.
- ``parse_control``: a seizure or freeze an agency lists on an asset, as a domain ``Control``.
- ``parse_options``: a connector's options, with errors that name keys but never values.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, Protocol, TypeVar

import orjson
import pydantic

from connectors.domain import Control, ControlKind
from gateway.errors import AgencyBadResponse, AgencyError, AgencyRejected, AgencyUnavailable


class HttpReply(Protocol):
    """What parsing reads of an agency's answer (``connectors.http.HttpReply`` has it).

    A protocol rather than an import, so that the HTTP client may use these helpers
    without the two modules importing each other.
    """

    @property
    def status(self) -> int: ...
    @property
    def headers(self) -> Mapping[str, str]: ...
    @property
    def body(self) -> bytes: ...


__all__ = [
    "Record",
    "bad_field",
    "control_kind",
    "error_for_status",
    "header",
    "json_body",
    "json_error_code",
    "parse_control",
    "parse_date",
    "parse_decimal",
    "parse_options",
    "retry_after",
]

# [0-9], not \d: \d also matches Arabic-Indic and full-width digits, which int() accepts.
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_DECIMAL = re.compile(r"-?[0-9]{1,20}(?:\.[0-9]{1,10})?")
_CODE = re.compile(r"[A-Za-z0-9_.-]{1,64}")

M = TypeVar("M", bound=pydantic.BaseModel)


def parse_date(text: str) -> dt.date:
    """``YYYY-MM-DD`` exactly (``date.fromisoformat`` alone also takes ``20240101`` etc.)."""
    if not _DATE.fullmatch(text):
        raise ValueError("not a YYYY-MM-DD date")
    return dt.date.fromisoformat(text)


def parse_decimal(text: str) -> Decimal:
    """A plain decimal string (``"1234.50"``): no exponent, NaN, infinity or spaces."""
    if not _DECIMAL.fullmatch(text):
        raise ValueError("not a decimal string")
    return Decimal(text)


def control_kind(queue_position: int) -> ControlKind:
    """Queue 0 is an effective seizure; n >= 1 is the n-th queued one (轮候查封)."""
    return ControlKind.SEIZURE if queue_position == 0 else ControlKind.QUEUED_SEIZURE


def parse_control(
    control: Record, *, queue: str = "queuePosition", kind: ControlKind | None = None
) -> Control:
    """A seizure or freeze on an asset: the court and case holding it, its term, its place
    in the queue (``queue`` names the field) and the claim it enforces. ``kind``: what every
    control of this agency is (equity is frozen); by default, from the queue position."""
    position = control.integer(queue, minimum=0)
    return Control(
        court=control.text("court"),
        case_number=control.text("caseNumber"),
        kind=kind or control_kind(position),
        since=control.date("since"),
        until=control.opt_date("until"),
        queue_position=position,
        claim=control.opt_decimal("claim"),
    )


class Record:
    """One object of an agency's reply; every getter names the field when it fails."""

    __slots__ = ("_data", "agency", "path", "xml")

    def __init__(self, agency: str, data: object, path: str, *, xml: bool = False) -> None:
        """``xml``: the values are XML text, so integers arrive as digit strings."""
        # ``dict`` first: the ABC check alone costs more than the rest of a small record.
        if data.__class__ is not dict and not isinstance(data, Mapping):
            raise bad_field(agency, path, "is not an object")
        self.agency = agency
        self.path = path
        self.xml = xml
        self._data: Mapping[str, object] = data

    def _name(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def bad(self, key: str, problem: str) -> AgencyBadResponse:
        """The error for ``key`` of this record."""
        return bad_field(self.agency, self._name(key), problem)

    def raw(self, key: str) -> object:
        """The value as decoded, ``None`` when absent."""
        return self._data.get(key)

    def text(self, key: str) -> str:
        """A required string (may be empty only if the agency sends it so)."""
        value = self._data.get(key)
        if not isinstance(value, str):
            raise self.bad(key, "is missing or not a string")
        return value

    def opt_text(self, key: str) -> str | None:
        """A string, or ``None`` when absent or null."""
        return None if self._data.get(key) is None else self.text(key)

    def boolean(self, key: str) -> bool:
        """A required JSON boolean."""
        value = self._data.get(key)
        if not isinstance(value, bool):
            raise self.bad(key, "is missing or not a boolean")
        return value

    def integer(self, key: str, *, minimum: int | None = None) -> int:
        """A required integer, at least ``minimum`` if given."""
        value = self._data.get(key)
        if self.xml and isinstance(value, str) and re.fullmatch(r"-?[0-9]{1,18}", value):
            value = int(value)
        # bool is an int subclass: ``true`` is no queue position.
        if not isinstance(value, int) or isinstance(value, bool):
            raise self.bad(key, "is missing or not an integer")
        if minimum is not None and value < minimum:
            raise self.bad(key, f"is below {minimum}")
        return value

    def date(self, key: str) -> dt.date:
        """A required ``YYYY-MM-DD`` date."""
        try:
            return parse_date(self.text(key))
        except ValueError as exc:
            raise self.bad(key, "is not a YYYY-MM-DD date") from exc

    def opt_date(self, key: str) -> dt.date | None:
        """A date, or ``None`` when absent or null."""
        return None if self._data.get(key) is None else self.date(key)

    def decimal(self, key: str) -> Decimal:
        """A required decimal string (money, ratios); JSON numbers are refused: floats."""
        try:
            return parse_decimal(self.text(key))
        except ValueError as exc:
            raise self.bad(key, "is not a decimal string") from exc

    def opt_decimal(self, key: str) -> Decimal | None:
        """A decimal, or ``None`` when absent or null."""
        return None if self._data.get(key) is None else self.decimal(key)

    def record(self, key: str) -> Record:
        """A required nested object."""
        return Record(self.agency, self._data.get(key), self._name(key), xml=self.xml)

    def records(self, key: str, *, optional: bool = False) -> list[Record]:
        """A list of objects; with ``optional``, absent or null reads as empty."""
        value = self._data.get(key)
        if value is None and optional:
            return []
        if not isinstance(value, list):
            raise self.bad(key, "is missing or not a list")
        return [
            Record(self.agency, item, f"{self._name(key)}[{i}]", xml=self.xml)
            for i, item in enumerate(value)
        ]


def bad_field(agency: str, field: str, problem: str) -> AgencyBadResponse:
    """``AgencyBadResponse`` naming ``field`` (its value stays out: it is personal data)."""
    return AgencyBadResponse(agency, f"field {field} {problem}", field=field)


def header(reply: HttpReply, name: str) -> str | None:
    """A response header by case-insensitive name (``HttpReply.headers`` is a plain dict)."""
    wanted = name.lower()
    return next((v for k, v in reply.headers.items() if k.lower() == wanted), None)


def retry_after(reply: HttpReply) -> int | None:
    """``Retry-After`` in whole seconds; ``None`` when absent or an HTTP date (we do not wait)."""
    value = (header(reply, "Retry-After") or "").strip()
    return int(value) if value.isascii() and value.isdigit() and len(value) < 10 else None


def json_body(reply: HttpReply, agency: str) -> object:
    """The decoded JSON body; a wrong content type or invalid JSON is ``AgencyBadResponse``."""
    content_type = (header(reply, "Content-Type") or "").split(";", 1)[0].strip().lower()
    if content_type != "application/json":
        raise AgencyBadResponse(agency, "reply is not application/json")
    try:
        return orjson.loads(reply.body)
    except orjson.JSONDecodeError as exc:
        raise AgencyBadResponse(agency, "reply is not valid JSON") from exc


def json_error_code(reply: HttpReply) -> str | None:
    """The ``{"error": "..."}`` code of a JSON error reply, if it is a short plain token."""
    try:
        data = orjson.loads(reply.body)
    except orjson.JSONDecodeError:
        return None
    code = data.get("error") if isinstance(data, dict) else None
    return code if isinstance(code, str) and _CODE.fullmatch(code) else None


def error_for_status(
    reply: HttpReply, agency: str, agency_code: str | None = None
) -> AgencyError | None:
    """The error a non-2xx status means, or ``None`` for 2xx.

    ``agency_code`` (already reduced to a plain token by the caller) goes into the
    extensions; the rest of the agency's body never does.
    """
    status = reply.status
    if 200 <= status < 300:
        return None
    extra: dict[str, Any] = {"httpStatus": status}
    if agency_code is not None and _CODE.fullmatch(agency_code):
        extra["agencyCode"] = agency_code
    if status >= 500:
        return AgencyUnavailable(agency, f"HTTP {status}", **extra)
    if status == 429:
        seconds = retry_after(reply)
        if seconds is not None:
            extra["retryAfter"] = seconds
        return AgencyRejected(agency, "rate limited (HTTP 429)", **extra)
    if 400 <= status < 500:
        return AgencyRejected(agency, f"HTTP {status}", **extra)
    return AgencyBadResponse(agency, f"unexpected HTTP {status}", **extra)


def parse_options(model: type[M], options: Mapping[str, Any], *, connector: str) -> M:
    """Validate a connector's options; the ``ValueError`` names each bad key, never its value.

    pydantic's own message quotes the input, which for a misspelt ``secret`` is the secret.
    """
    try:
        return model.model_validate(dict(options))
    except pydantic.ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in err['loc']) or '(options)'}: {err['msg']}"
            for err in exc.errors(include_input=False, include_url=False)
        )
        raise ValueError(f"connector {connector!r} options: {problems}") from None
