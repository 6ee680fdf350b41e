"""The gateway's error taxonomy: one tree, one stable ``extensions.code`` per class.

    LiandongError                    (code)
    ├── InvalidInput                 INVALID_INPUT       bad argument, names the field
    ├── BadRequest                   BAD_REQUEST         not a GraphQL request (body, types)
    ├── Unauthenticated              UNAUTHENTICATED     no, bad or expired token
    ├── Forbidden                    FORBIDDEN           authenticated, but not allowed
    ├── NotFound                     NOT_FOUND
    ├── LimitExceeded                LIMIT_EXCEEDED      depth, aliases, tokens, list sizes
    ├── RateLimited                  RATE_LIMITED
    ├── Conflict                     CONFLICT
    ├── OverSeizure                  OVER_SEIZURE
    ├── AuditUnavailable             AUDIT_UNAVAILABLE   the log cannot be written: fail closed
    │   └── AuditChainContradicted   AUDIT_CHAIN_CONTRADICTED  a chain holds less than was seen
    └── AgencyError                  (per agency; carries ``extensions.agency``)
        ├── AgencyUnavailable        AGENCY_UNAVAILABLE  connection refused, 5xx, outage
        ├── AgencyTimeout            AGENCY_TIMEOUT
        ├── AgencyRejected           AGENCY_REJECTED     the agency said no (4xx, error code)
        ├── AgencyBadResponse        AGENCY_BAD_RESPONSE malformed or hostile data
        └── CircuitOpen              CIRCUIT_OPEN        we stopped calling a failing agency

graphql-core copies the ``extensions`` attribute of an original error into the response, so
raising one of these from a resolver yields ``{"message": ..., "extensions": {"code": ...}}``.
Anything that is not a ``LiandongError`` is an internal error and gets masked.
"""

from __future__ import annotations

from typing import Any, ClassVar

__all__ = [
    "AgencyBadResponse",
    "AgencyError",
    "AgencyRejected",
    "AgencyTimeout",
    "AgencyUnavailable",
    "AuditChainContradicted",
    "AuditUnavailable",
    "BadRequest",
    "CircuitOpen",
    "Conflict",
    "Forbidden",
    "InvalidInput",
    "LiandongError",
    "LimitExceeded",
    "NotFound",
    "OverSeizure",
    "RateLimited",
    "Unauthenticated",
]


class LiandongError(Exception):
    """Base of every error the gateway reports to clients on purpose."""

    code: ClassVar[str] = "INTERNAL"

    def __init__(self, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.message = message
        self.extra = extra

    @property
    def extensions(self) -> dict[str, Any]:
        return {"code": self.code, **self.extra}


class InvalidInput(LiandongError):
    """An argument failed validation; ``field`` names it."""

    code = "INVALID_INPUT"

    def __init__(self, field: str, message: str, **extra: Any) -> None:
        super().__init__(f"{field}: {message}", field=field, **extra)
        self.field = field


class BadRequest(LiandongError):
    """The request is not a well-formed GraphQL request: undecodable, too deep, wrong types."""

    code = "BAD_REQUEST"


class Unauthenticated(LiandongError):
    code = "UNAUTHENTICATED"


class Forbidden(LiandongError):
    code = "FORBIDDEN"


class NotFound(LiandongError):
    code = "NOT_FOUND"


class LimitExceeded(LiandongError):
    code = "LIMIT_EXCEEDED"


class RateLimited(LiandongError):
    code = "RATE_LIMITED"

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message, retryAfter=retry_after)
        self.retry_after = retry_after


class Conflict(LiandongError):
    code = "CONFLICT"


class OverSeizure(LiandongError):
    code = "OVER_SEIZURE"


class AuditUnavailable(LiandongError):
    code = "AUDIT_UNAVAILABLE"


class AuditChainContradicted(AuditUnavailable):
    """A writer's chain holds less than other chains or signed heads say it held: the
    writer does not start (``gateway/audit/start_check.py``)."""

    code = "AUDIT_CHAIN_CONTRADICTED"


class AgencyError(LiandongError):
    """An agency failed us for one key or one batch; the message never leaks its body."""

    code = "AGENCY_ERROR"

    def __init__(self, agency: str, message: str, **extra: Any) -> None:
        super().__init__(f"{agency}: {message}", agency=agency.upper(), **extra)
        self.agency = agency


class AgencyUnavailable(AgencyError):
    code = "AGENCY_UNAVAILABLE"


class AgencyTimeout(AgencyError):
    code = "AGENCY_TIMEOUT"


class AgencyRejected(AgencyError):
    code = "AGENCY_REJECTED"


class AgencyBadResponse(AgencyError):
    code = "AGENCY_BAD_RESPONSE"


class CircuitOpen(AgencyError):
    code = "CIRCUIT_OPEN"
