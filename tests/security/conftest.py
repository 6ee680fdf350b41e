"""A production-profile gateway that accepts HS256 and RS256 (JWKS file): the target of
the attempts to get in."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from mocks.records import CaseRecord
from mocks.runner import RunningMocks
from tests.harness import SECRET, Gateway, open_stack

KID = "court-key-1"


@dataclass(frozen=True)
class RsaKeys:
    private: rsa.RSAPrivateKey
    public_pem: bytes
    stranger: rsa.RSAPrivateKey  # a key the gateway does not know

    def jwks(self) -> dict[str, object]:
        jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.private.public_key()))
        return {"keys": [{**jwk, "kid": KID, "use": "sig", "alg": "RS256"}]}


@pytest.fixture(scope="session")
def rsa_keys() -> RsaKeys:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return RsaKeys(private, pem, stranger)


@pytest.fixture
async def prod_gateway(
    tmp_path: Path, mocks: RunningMocks, cases: list[CaseRecord], rsa_keys: RsaKeys
) -> AsyncIterator[Gateway]:
    jwks = tmp_path / "jwks.json"
    jwks.write_text(json.dumps(rsa_keys.jwks()), encoding="utf-8")
    auth = {"secret": SECRET, "algorithms": ["HS256", "RS256"], "jwks_file": str(jwks)}
    async with open_stack(tmp_path, cases, mocks=mocks, profile="prod", auth=auth) as gw:
        yield gw
