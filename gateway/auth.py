"""Bearer-token authentication: JWT in, ``Principal`` out, ``Unauthenticated`` otherwise.

Algorithm confusion is closed off in three places: the header's ``alg`` must be in the
configured list before anything is decoded; the key is chosen by the algorithm family
(HS* only ever gets the shared secret, RS* only ever an RSA public key from the JWKS); and
PyJWT is told to accept exactly that one algorithm. Failures carry a short, stable
``extensions.reason``; the token itself never appears in an error.
"""

from __future__ import annotations

import asyncio
import enum
import json
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

from gateway.clock import Clock, SystemClock
from gateway.errors import Unauthenticated
from gateway.settings import AuthSettings, Settings

__all__ = [
    "UNMASK_SCOPE",
    "Principal",
    "Role",
    "TokenVerifier",
    "bearer_token",
    "issue_token",
]

UNMASK_SCOPE = "unmask"
_HMAC_MIN_BYTES = {"HS256": 32, "HS384": 48, "HS512": 64}
MAX_TOKEN_CHARS = 8192  # far above any real token; stops parsing of hostile blobs early
VERIFIED_MAX = 4096  # distinct tokens remembered as verified
VERIFIED_TTL_S = 60.0  # how long one is remembered at most


class Role(enum.StrEnum):
    """Roles a token may grant; unknown role names in a token grant nothing."""

    OFFICER = "officer"  # 执行员
    JUDGE = "judge"  # 执行法官
    AUDITOR = "auditor"
    COURT_SYSTEM = "court_system"  # a court's case-handling system, machine to machine
    AGENCY = "agency"  # joint-punishment agency screening debtors
    ADMIN = "admin"
    SUBJECT = "subject"  # a person looking at their own record
    # Sign-off roles, held together with ``judge`` (which gives sight of the court's cases):
    # they add a right, never replace one.
    BUREAU_HEAD = "bureau_head"  # 执行局长: approves any control of the court's cases
    PRESIDENT = "president"  # 院长 (or a vice-president so authorised): signs decisions


_KNOWN_ROLES = frozenset(r.value for r in Role)


@dataclass(frozen=True)
class Principal:
    """Who is calling, as the verified token says."""

    subject: str
    officer_id: str
    court: str
    roles: frozenset[str]
    scopes: frozenset[str]
    name: str = ""

    def has_role(self, *roles: str) -> bool:
        """True if the principal holds any of ``roles``."""
        return any(role in self.roles for role in roles)

    def can_unmask(self) -> bool:
        """True if personal numbers may be shown unmasked (the ``unmask`` scope)."""
        return UNMASK_SCOPE in self.scopes


def _fail(reason: str, message: str, **extra: Any) -> Unauthenticated:
    return Unauthenticated(f"invalid token: {message}", reason=reason, **extra)


def bearer_token(authorization_header: str | None) -> str:
    """The token of an ``Authorization: Bearer <token>`` header."""
    if not authorization_header or not authorization_header.strip():
        raise Unauthenticated("missing bearer token", reason="missing_token")
    scheme, _, token = authorization_header.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer":
        raise Unauthenticated("authorization scheme must be Bearer", reason="malformed")
    if not token:
        raise Unauthenticated("missing bearer token", reason="missing_token")
    return token


class _Remembered:
    """Tokens verified lately, each with what it verified to: at most ``maxsize`` (the
    oldest let go first), each honoured for ``ttl`` seconds after it was put.

    cachetools' ``TTLCache`` did this, but expires its queue and keeps its links on every
    look-up: measured, ~9% of the CPU of a response-cache hit. Here a look-up is a dict
    read and a clock read. Safe from threads (``averify`` may verify on one): every read
    and write is one dict operation, and putting is under a lock.
    """

    __slots__ = ("_clock", "_items", "_lock", "maxsize", "ttl")

    def __init__(
        self, maxsize: int, ttl: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.maxsize = maxsize
        self.ttl = ttl
        self._clock = clock
        self._items: dict[str, tuple[tuple[Principal, float], float]] = {}
        self._lock = threading.Lock()

    def get(self, token: str) -> tuple[Principal, float] | None:
        """What ``token`` verified to, if it was put less than ``ttl`` seconds ago."""
        item = self._items.get(token)
        if item is None or self._clock() >= item[1]:
            return None
        return item[0]

    def put(self, token: str, verified: tuple[Principal, float]) -> None:
        """Remember ``token`` for ``ttl`` seconds from now."""
        with self._lock:
            items = self._items
            items.pop(token, None)
            while len(items) >= self.maxsize:
                items.pop(next(iter(items)))
            items[token] = (verified, self._clock() + self.ttl)

    def __len__(self) -> int:
        return len(self._items)


class TokenVerifier:
    """Verifies JWTs against one ``AuthSettings``; cheap to call, build it once."""

    def __init__(
        self, settings: AuthSettings, secret: bytes | None = None, *, clock: Clock | None = None
    ) -> None:
        self.settings = settings
        # ``exp``, ``nbf`` and ``iat`` are judged by this clock (tests move a manual one).
        self._clock: Clock = clock or SystemClock()
        self._allowed = frozenset(settings.algorithms)
        self._secret = secret
        self._jwks: jwt.PyJWKSet | None = None
        self._jwks_client: jwt.PyJWKClient | None = None
        # Tokens already verified, with their expiry: a client sends the same token with
        # every request, and checking its signature again each time was ~5% of a warm
        # look-up. Entries live at most VERIFIED_TTL_S, so a key withdrawn from the JWKS
        # stops being honoured within that, and ``exp`` is checked on every use.
        self._verified = _Remembered(VERIFIED_MAX, VERIFIED_TTL_S)
        hs = [a for a in self._allowed if a.startswith("HS")]
        if hs and not secret:
            raise ValueError("auth.algorithms allows HS* but no secret was given")
        if hs and secret and len(secret) < max(_HMAC_MIN_BYTES[a] for a in hs):
            raise ValueError("the HMAC secret is shorter than its hash (RFC 7518 3.2)")
        if any(a.startswith("RS") for a in self._allowed):
            if settings.jwks_file is not None:
                data = json.loads(settings.jwks_file.read_text(encoding="utf-8"))
                self._jwks = jwt.PyJWKSet.from_dict(data)
            if settings.jwks_url:
                self._jwks_client = jwt.PyJWKClient(settings.jwks_url, cache_jwk_set=True)
            if self._jwks is None and self._jwks_client is None:
                raise ValueError("auth.algorithms allows RS* but no jwks_file or jwks_url is set")

    @classmethod
    def from_settings(cls, settings: Settings) -> TokenVerifier:
        """Build from the full settings, loading (or generating) the HMAC secret if needed."""
        needs_secret = any(a.startswith("HS") for a in settings.auth.algorithms)
        return cls(settings.auth, settings.jwt_secret() if needs_secret else None)

    async def averify(self, token: str) -> Principal:
        """``verify`` off the event loop when a JWKS URL may have to be fetched."""
        if self._jwks_client is None:
            return self.verify(token)
        return await asyncio.to_thread(self.verify, token)

    def verify(self, token: str) -> Principal:
        """Check signature, issuer, audience and times; return the principal."""
        if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_CHARS:
            raise _fail("malformed", "not a JWT")
        known = self._verified.get(token)
        # Strictly before exp + leeway, as the full check has it (at that instant it refuses).
        if known is not None and self._now() < known[1] + self.settings.leeway_s:
            return known[0]
        claims = self._verify(token)
        principal = _principal(claims)
        self._verified.put(token, (principal, float(claims["exp"])))
        return principal

    def _verify(self, token: str) -> dict[str, Any]:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise _fail("malformed", "not a JWT") from None
        alg = header.get("alg")
        if not isinstance(alg, str) or alg not in self._allowed:
            raise _fail("alg_not_allowed", "algorithm not allowed")
        key = self._key_for(alg, header, token)
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=[alg],
                audience=self.settings.audience,
                issuer=self.settings.issuer,
                leeway=self.settings.leeway_s,
                # The times are checked below, against our clock: PyJWT reads the system's.
                options={
                    "require": ["exp", "sub"],
                    "verify_signature": True,
                    "verify_exp": False,
                    "verify_nbf": False,
                    "verify_iat": False,
                },
            )
        except jwt.InvalidSignatureError:
            raise _fail("bad_signature", "bad signature") from None
        except jwt.ExpiredSignatureError:
            raise _fail("expired", "expired") from None
        except jwt.InvalidAudienceError:
            raise _fail("wrong_audience", "wrong audience") from None
        except jwt.InvalidIssuerError:
            raise _fail("wrong_issuer", "wrong issuer") from None
        except jwt.MissingRequiredClaimError as exc:
            raise _fail("missing_claim", f"missing claim {exc.claim}", claim=exc.claim) from None
        except jwt.ImmatureSignatureError:
            raise _fail("not_yet_valid", "not yet valid") from None
        except jwt.InvalidAlgorithmError:
            raise _fail("alg_not_allowed", "algorithm not allowed") from None
        except jwt.PyJWTError:
            # DecodeError, InvalidIssuedAtError, bad subject type, ...: all malformed tokens.
            raise _fail("malformed", "malformed token") from None
        _check_times(claims, self._now(), self.settings.leeway_s)
        return claims

    def _now(self) -> float:
        return self._clock.now().timestamp()

    def _key_for(self, alg: str, header: Mapping[str, Any], token: str) -> Any:
        if alg.startswith("HS"):
            return self._secret
        kid = header.get("kid")
        jwk: jwt.PyJWK | None = None
        try:
            if self._jwks is not None:
                jwk = _find_key(self._jwks, kid)
            if jwk is None and self._jwks_client is not None:
                jwk = self._jwks_client.get_signing_key_from_jwt(token)
        except jwt.PyJWKClientConnectionError:
            raise _fail("key_unavailable", "signing keys could not be fetched") from None
        except jwt.PyJWTError:
            raise _fail("unknown_key", "signing key not found") from None
        if jwk is None or not isinstance(jwk.key, RSAPublicKey):
            # Only an RSA *public* key may verify RS*: never an oct key, never a private one.
            raise _fail("unknown_key", "signing key not found")
        return jwk.key


def _check_times(claims: Mapping[str, Any], now: float, leeway: float) -> None:
    """``iat``, ``nbf`` and ``exp`` against ``now``, with PyJWT's rules (integers, leeway)."""
    for name in ("iat", "nbf", "exp"):
        if name not in claims:
            continue
        try:
            value = int(claims[name])
        except (ValueError, TypeError, OverflowError):
            raise _fail("malformed", "malformed token") from None
        if name == "exp" and value <= now - leeway:
            raise _fail("expired", "expired")
        if name != "exp" and value > now + leeway:
            raise _fail("not_yet_valid", "not yet valid")


def _find_key(jwks: jwt.PyJWKSet, kid: Any) -> jwt.PyJWK | None:
    keys = [k for k in jwks.keys if isinstance(k.key, RSAPublicKey)]
    if kid is None:
        # A kid-less token is only unambiguous when there is one RSA key to try.
        return keys[0] if len(keys) == 1 else None
    return next((k for k in keys if k.key_id == kid), None)


def _str_claim(claims: Mapping[str, Any], name: str, default: str = "") -> str:
    value = claims.get(name, default)
    if not isinstance(value, str):
        raise _fail("malformed", f"claim {name} must be a string", claim=name)
    return value


def _principal(claims: Mapping[str, Any]) -> Principal:
    subject = _str_claim(claims, "sub")
    if not subject:
        raise _fail("missing_claim", "missing claim sub", claim="sub")
    roles = claims.get("roles", [])
    if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
        raise _fail("malformed", "claim roles must be a list of strings", claim="roles")
    scope = _str_claim(claims, "scope")
    return Principal(
        subject=subject,
        officer_id=_str_claim(claims, "officer_id", subject) or subject,
        court=_str_claim(claims, "court"),
        roles=frozenset(r for r in roles if r in _KNOWN_ROLES),
        scopes=frozenset(scope.split()),
        name=_str_claim(claims, "name"),
    )


def issue_token(
    secret: bytes,
    *,
    settings: AuthSettings,
    subject: str,
    court: str,
    roles: Sequence[str],
    scopes: Sequence[str] = (),
    name: str = "",
    ttl_s: int | None = None,
    now: datetime | None = None,
) -> str:
    """Sign an HS256 token for development and tests."""
    issued = now or datetime.now(UTC)
    ttl = settings.token_ttl_s if ttl_s is None else ttl_s
    claims = {
        "iss": settings.issuer,
        "aud": settings.audience,
        "sub": subject,
        "officer_id": subject,
        "court": court,
        "roles": list(roles),
        "scope": " ".join(scopes),
        "name": name,
        "iat": issued,
        "nbf": issued,
        "exp": issued + timedelta(seconds=ttl),
        "jti": uuid.uuid4().hex,
    }
    return jwt.encode(claims, secret, algorithm="HS256")
