from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from gateway.auth import Principal, Role, TokenVerifier, bearer_token, issue_token
from gateway.clock import ManualClock
from gateway.errors import Unauthenticated
from gateway.settings import AuthSettings, load_settings

SECRET = b"0123456789abcdef0123456789abcdef"
AUTH = AuthSettings()


def reason(exc: pytest.ExceptionInfo[Unauthenticated]) -> str:
    value = exc.value.extensions["reason"]
    assert isinstance(value, str)
    return value


def token(**kw: Any) -> str:
    settings = kw.pop("settings", AUTH)
    args: dict[str, Any] = {"subject": "officer-7", "court": "苏0312", "roles": ["officer"]}
    args.update(kw)
    return issue_token(SECRET, settings=settings, **args)


def claims(**kw: Any) -> dict[str, Any]:
    now = datetime.now(UTC)
    base = {
        "iss": "liandong",
        "aud": "liandong-gateway",
        "sub": "officer-7",
        "iat": now,
        "exp": now + timedelta(hours=1),
    }
    base.update(kw)
    return {k: v for k, v in base.items() if v is not None}


@pytest.fixture
def verifier() -> TokenVerifier:
    return TokenVerifier(AUTH, SECRET)


def test_round_trip(verifier: TokenVerifier) -> None:
    tok = token(roles=["judge", "officer", "wizard"], scopes=["unmask", "x"], name="张三")
    p = verifier.verify(tok)
    assert p == Principal(
        subject="officer-7",
        officer_id="officer-7",
        court="苏0312",
        roles=frozenset({"judge", "officer"}),  # unknown roles grant nothing
        scopes=frozenset({"unmask", "x"}),
        name="张三",
    )
    assert p.has_role(Role.JUDGE)
    assert p.has_role("auditor", "officer")
    assert not p.has_role("admin")
    assert p.can_unmask()


def test_no_unmask_without_scope(verifier: TokenVerifier) -> None:
    assert not verifier.verify(token()).can_unmask()


def test_officer_id_claim(verifier: TokenVerifier) -> None:
    tok = jwt.encode(claims(officer_id="E-42", roles=[], scope=""), SECRET, algorithm="HS256")
    p = verifier.verify(tok)
    assert (p.subject, p.officer_id, p.court, p.roles) == ("officer-7", "E-42", "", frozenset())


def test_expired_and_leeway(verifier: TokenVerifier) -> None:
    past = datetime.now(UTC) - timedelta(hours=2)
    with pytest.raises(Unauthenticated) as info:
        verifier.verify(token(now=past, ttl_s=3600))
    assert reason(info) == "expired"
    # expired 10 s ago, inside the 30 s leeway
    verifier.verify(token(now=datetime.now(UTC) - timedelta(seconds=70), ttl_s=60))


def test_not_yet_valid(verifier: TokenVerifier) -> None:
    with pytest.raises(Unauthenticated) as info:
        verifier.verify(token(now=datetime.now(UTC) + timedelta(minutes=5)))
    assert reason(info) == "not_yet_valid"


@pytest.mark.parametrize(
    ("kw", "expected"),
    [
        ({"settings": AuthSettings(audience="other")}, "wrong_audience"),
        ({"settings": AuthSettings(issuer="evil")}, "wrong_issuer"),
    ],
)
def test_wrong_audience_or_issuer(verifier: TokenVerifier, kw: Any, expected: str) -> None:
    with pytest.raises(Unauthenticated) as info:
        verifier.verify(token(**kw))
    assert reason(info) == expected


def test_bad_signature(verifier: TokenVerifier) -> None:
    forged = issue_token(b"x" * 32, settings=AUTH, subject="a", court="c", roles=["admin"])
    with pytest.raises(Unauthenticated) as info:
        verifier.verify(forged)
    assert reason(info) == "bad_signature"
    assert forged not in str(info.value)
    assert forged not in repr(info.value.extensions)


@pytest.mark.parametrize("missing", ["exp", "sub"])
def test_missing_claim(verifier: TokenVerifier, missing: str) -> None:
    tok = jwt.encode(claims(**{missing: None}), SECRET, algorithm="HS256")
    with pytest.raises(Unauthenticated) as info:
        verifier.verify(tok)
    assert reason(info) == "missing_claim"
    assert info.value.extensions["claim"] == missing


@pytest.mark.parametrize(
    "extra", [{"roles": "admin"}, {"scope": ["unmask"]}, {"court": 3}, {"sub": ""}]
)
def test_bad_claim_types(verifier: TokenVerifier, extra: dict[str, Any]) -> None:
    tok = jwt.encode(claims(**extra), SECRET, algorithm="HS256")
    with pytest.raises(Unauthenticated) as info:
        verifier.verify(tok)
    assert reason(info) in {"malformed", "missing_claim"}


@pytest.mark.parametrize("tok", ["", "abc", "a.b.c", "x" * 10_000, "e30.e30.", "ümlaut.x.y"])
def test_malformed(verifier: TokenVerifier, tok: str) -> None:
    with pytest.raises(Unauthenticated) as info:
        verifier.verify(tok)
    assert reason(info) in {"malformed", "alg_not_allowed"}


def test_alg_none_rejected(verifier: TokenVerifier) -> None:
    tok = jwt.encode(claims(), "", algorithm="none")
    with pytest.raises(Unauthenticated) as info:
        verifier.verify(tok)
    assert reason(info) == "alg_not_allowed"


def test_alg_outside_settings_rejected(verifier: TokenVerifier) -> None:
    tok = jwt.encode(claims(), SECRET * 2, algorithm="HS512")
    with pytest.raises(Unauthenticated) as info:
        verifier.verify(tok)
    assert reason(info) == "alg_not_allowed"


def test_verifier_needs_keys() -> None:
    with pytest.raises(ValueError, match="secret"):
        TokenVerifier(AUTH, None)
    with pytest.raises(ValueError, match="shorter"):
        TokenVerifier(AUTH, b"short")
    with pytest.raises(ValueError, match="shorter"):
        TokenVerifier(AuthSettings(algorithms=["HS256", "HS512"]), SECRET)
    with pytest.raises(ValueError, match="jwks"):
        TokenVerifier(AuthSettings(algorithms=["RS256"]))


def test_from_settings_generates_secret(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path)
    verifier = TokenVerifier.from_settings(settings)
    tok = issue_token(
        settings.jwt_secret(), settings=settings.auth, subject="s", court="c", roles=["judge"]
    )
    assert verifier.verify(tok).has_role("judge")


async def test_averify(verifier: TokenVerifier) -> None:
    assert (await verifier.averify(token())).subject == "officer-7"


# --- RS256 from a JWKS file -------------------------------------------------------------


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def jwks_settings(tmp_path: Path, rsa_key: rsa.RSAPrivateKey) -> AuthSettings:
    public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(rsa_key.public_key()))
    oct_key = {"kty": "oct", "kid": "hmac", "k": base64.urlsafe_b64encode(SECRET).decode()}
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps({"keys": [{**public, "kid": "k1", "use": "sig"}, oct_key]}))
    return AuthSettings(algorithms=["HS256", "RS256"], jwks_file=path)


def test_rs256_from_jwks_file(jwks_settings: AuthSettings, rsa_key: rsa.RSAPrivateKey) -> None:
    verifier = TokenVerifier(jwks_settings, SECRET)
    tok = jwt.encode(claims(roles=["court_system"]), rsa_key, "RS256", headers={"kid": "k1"})
    assert verifier.verify(tok).roles == {"court_system"}
    # one RSA key in the set: a kid-less token is unambiguous
    assert verifier.verify(jwt.encode(claims(), rsa_key, "RS256")).subject == "officer-7"
    # HS256 still works beside it, with the shared secret
    assert verifier.verify(token()).subject == "officer-7"


def test_rs256_unknown_kid(jwks_settings: AuthSettings, rsa_key: rsa.RSAPrivateKey) -> None:
    verifier = TokenVerifier(jwks_settings, SECRET)
    for kid in ("nope", "hmac"):  # an oct key in the JWKS must never verify RS256
        tok = jwt.encode(claims(), rsa_key, "RS256", headers={"kid": kid})
        with pytest.raises(Unauthenticated) as info:
            verifier.verify(tok)
        assert reason(info) == "unknown_key"


def test_rs256_wrong_key(jwks_settings: AuthSettings) -> None:
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    tok = jwt.encode(claims(), other, "RS256", headers={"kid": "k1"})
    with pytest.raises(Unauthenticated) as info:
        TokenVerifier(jwks_settings, SECRET).verify(tok)
    assert reason(info) == "bad_signature"


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def hs256_signed_with(key: bytes, payload: dict[str, Any]) -> str:
    header = b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": "k1"}).encode())
    body = b64(json.dumps(payload, default=lambda d: int(d.timestamp())).encode())
    mac = hmac.new(key, f"{header}.{body}".encode(), hashlib.sha256).digest()
    return f"{header}.{body}.{b64(mac)}"


def test_algorithm_confusion(jwks_settings: AuthSettings, rsa_key: rsa.RSAPrivateKey) -> None:
    """An HS256 token "signed" with the public RSA key must not verify."""
    pem = rsa_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    public_jwk = jwt.algorithms.RSAAlgorithm.to_jwk(rsa_key.public_key()).encode()
    for key in (pem, public_jwk):
        forged = hs256_signed_with(key, claims(roles=["admin"]))
        with pytest.raises(Unauthenticated) as info:
            TokenVerifier(jwks_settings, SECRET).verify(forged)
        assert reason(info) == "bad_signature"
        rs_only = jwks_settings.model_copy(update={"algorithms": ["RS256"]})
        with pytest.raises(Unauthenticated) as info:
            TokenVerifier(rs_only).verify(forged)
        assert reason(info) == "alg_not_allowed"


# --- Authorization header ---------------------------------------------------------------


def test_bearer_token() -> None:
    assert bearer_token("Bearer abc.def.ghi") == "abc.def.ghi"
    assert bearer_token("  bearer   abc  ") == "abc"
    for header in (None, "", "   ", "Bearer", "Bearer   "):
        with pytest.raises(Unauthenticated) as info:
            bearer_token(header)
        assert reason(info) == "missing_token"
    with pytest.raises(Unauthenticated) as info:
        bearer_token("Basic dXNlcjpwYXNz")
    assert reason(info) == "malformed"
    assert "dXNlcjpwYXNz" not in str(info.value)


def test_a_verified_token_is_remembered_but_its_expiry_still_applies() -> None:
    # The second use of a token skips the signature check; it must not outlive ``exp``.
    clock = ManualClock(datetime.now(UTC))
    verifier = TokenVerifier(AuthSettings(leeway_s=0), SECRET, clock=clock)
    short = jwt.encode(
        claims(exp=clock.now() + timedelta(seconds=1), sub="officer-9"), SECRET, algorithm="HS256"
    )
    first = verifier.verify(short)
    assert verifier.verify(short) is first  # from memory
    forged = short[:-2] + ("AA" if not short.endswith("AA") else "BB")
    with pytest.raises(Unauthenticated) as exc:
        verifier.verify(forged)  # a different string: checked in full
    assert reason(exc) in {"bad_signature", "malformed"}
    clock.advance(seconds=2)  # exp has whole seconds: past it whatever the fraction
    with pytest.raises(Unauthenticated) as exc:
        verifier.verify(short)
    assert reason(exc) == "expired"


def test_times_are_judged_by_the_injected_clock() -> None:
    clock = ManualClock(datetime(2030, 1, 1, tzinfo=UTC))
    verifier = TokenVerifier(AuthSettings(leeway_s=30), SECRET, clock=clock)
    tok = token(now=clock.now() + timedelta(seconds=60), ttl_s=600)  # iat and nbf ahead
    with pytest.raises(Unauthenticated) as exc:
        verifier.verify(tok)
    assert reason(exc) == "not_yet_valid"
    clock.advance(seconds=31)  # now inside the leeway
    assert verifier.verify(tok).subject == "officer-7"
    clock.advance(seconds=60 + 600 + 29 - 31)  # 29 s past exp: still inside the leeway
    assert verifier.verify(tok).subject == "officer-7"
    clock.advance(seconds=1)
    with pytest.raises(Unauthenticated) as exc:
        verifier.verify(tok)
    assert reason(exc) == "expired"
