"""The public security HMAC: one canonical string, verified exactly."""

from __future__ import annotations

import hashlib
import hmac

from mocks.signing import MAX_CLOCK_SKEW_S, sign, signed_headers, verify

SECRET = b"s3cret"
PATH = "/ps/v1/persons/query"
BODY = b'{"ids": ["1"]}'


def test_sign_is_hmac_sha256_of_the_canonical_string() -> None:
    canonical = f"POST\n{PATH}\n1700000000\n{hashlib.sha256(BODY).hexdigest()}".encode()
    expected = hmac.new(SECRET, canonical, hashlib.sha256).hexdigest()
    assert sign(SECRET, "POST", PATH, 1700000000, BODY) == expected
    assert sign(SECRET, "post", PATH, 1700000000, BODY) == expected


def test_signed_headers_verify() -> None:
    headers = signed_headers("court-1", SECRET, "POST", PATH, BODY, now=1700000000.7)
    assert headers["X-PS-Client"] == "court-1"
    assert headers["X-PS-Timestamp"] == "1700000000"
    assert verify(SECRET, "POST", PATH, headers, BODY, now=1700000000)


def test_verify_rejects_tampering_and_staleness() -> None:
    now = 1700000000
    good = signed_headers("c", SECRET, "POST", PATH, BODY, now=now)
    assert not verify(b"other", "POST", PATH, good, BODY, now=now)
    assert not verify(SECRET, "POST", "/ps/v1/vehicles/query", good, BODY, now=now)
    assert not verify(SECRET, "POST", PATH, good, BODY + b" ", now=now)
    assert not verify(SECRET, "POST", PATH, good, BODY, now=now + MAX_CLOCK_SKEW_S + 1)
    assert not verify(SECRET, "POST", PATH, good, BODY, now=now - MAX_CLOCK_SKEW_S - 1)
    assert verify(SECRET, "POST", PATH, good, BODY, now=now + MAX_CLOCK_SKEW_S)
    for name in ("X-PS-Client", "X-PS-Timestamp", "X-PS-Signature"):
        missing = {k: v for k, v in good.items() if k != name}
        assert not verify(SECRET, "POST", PATH, missing, BODY, now=now)
    assert not verify(SECRET, "POST", PATH, {**good, "X-PS-Timestamp": "+1700000000"}, BODY)
