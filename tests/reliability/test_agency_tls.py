"""Agency calls over https: the lean transport verifies the agency's certificate as the
aiohttp session does (an untrusted one is refused), and talks TLS once it is trusted."""

from __future__ import annotations

import datetime
import ipaddress
import ssl
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from connectors import lean_transport
from connectors.http import AgencyClient, HttpClient, HttpSettings
from gateway.errors import AgencyUnavailable


def self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 signed by its own key: (certificate, key) files."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test agency")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = directory / "agency.pem", directory / "agency.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


@pytest.fixture
async def https_agency(tmp_path: Path) -> AsyncIterator[tuple[str, Path, list[str]]]:
    cert_file, key_file = self_signed(tmp_path)
    served = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    served.load_cert_chain(cert_file, key_file)
    seen: list[str] = []

    async def handle(request: web.Request) -> web.Response:
        seen.append(request.scheme)
        return web.json_response({"ok": True})

    app = web.Application()
    app.router.add_get("/persons", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=served)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield f"https://127.0.0.1:{port}", cert_file, seen
    finally:
        await runner.cleanup()


@pytest.mark.parametrize("kind", ["lean", "aiohttp"])
async def test_an_untrusted_agency_certificate_is_refused(
    https_agency: tuple[str, Path, list[str]], kind: AgencyClient
) -> None:
    base_url, _cert, seen = https_agency
    async with HttpClient(client=kind) as client:
        http = client.for_agency("civil_affairs", HttpSettings(base_url=base_url, max_retries=0))
        with pytest.raises(AgencyUnavailable, match="connection failed"):
            await http.request("GET", "/persons")
    assert seen == []


async def test_a_trusted_agency_is_called_over_tls(
    https_agency: tuple[str, Path, list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    base_url, cert_file, seen = https_agency
    trusting = ssl.create_default_context(cafile=str(cert_file))
    monkeypatch.setattr(lean_transport, "_tls", lambda: trusting)
    async with HttpClient(client="lean") as client:
        http = client.for_agency("civil_affairs", HttpSettings(base_url=base_url))
        for _ in range(2):
            reply = await http.request("GET", "/persons")
            assert reply.status == 200 and reply.body == b'{"ok": true}'
        assert client.lean is not None and client.lean.pools["civil_affairs"].opened == 1
    assert seen == ["https", "https"]
