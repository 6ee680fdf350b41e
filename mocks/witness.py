"""A witness for signed tree heads: the court's notarisation service, in miniature.

The gateway signs each audit chain's tree head with Ed25519 and POSTs it here. The witness
checks the signature against the public keys it trusts, keeps every head it was given (it
never overwrites or forgets one), and refuses with 409 a head that contradicts one it holds
for the same chain: the same size with another root, or a smaller size with a later time
(a log that shrank). Routes:

- ``POST /heads`` a head's JSON: 201 kept, 200 already held, 400 malformed, 403 untrusted
  key or bad signature, 409 contradiction (the body names the head it contradicts);
- ``GET /heads``: ``{"heads": [...]}``, the newest (largest, then latest) head per chain;
- ``GET /heads?chain=C``: every head of chain C, in the order received;
- ``GET /_stats``: received, kept, duplicates and refusals by reason.

The signed bytes are rebuilt here from the published format (docs/architecture.md,
"Signed tree heads") rather than imported: mocks import nothing of the gateway, and a
second implementation of the format checks the first.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    PublicFormat,
    load_pem_public_key,
)

__all__ = ["WITNESS_KEY", "RunningWitness", "WitnessState", "create_app", "key_id", "start_witness"]

_FORMAT = "liandong-tree-head/v1"
_CHAIN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
_HEX64 = re.compile(r"[0-9a-f]{64}")
_KEY_ID = re.compile(r"[0-9a-f]{32}")
_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z")  # fixed width: sorts as text


def key_id(public: Ed25519PublicKey) -> str:
    """A key's id as heads name it: the first 16 bytes of SHA-256 of the raw key, hex."""
    return hashlib.sha256(public.public_bytes(Encoding.Raw, PublicFormat.Raw)).hexdigest()[:32]


@dataclass
class WitnessState:
    """The keys trusted, every head kept (per chain, in order received), and counters."""

    trusted: dict[str, Ed25519PublicKey] = field(default_factory=dict)
    trusted_dir: Path | None = None  # *.pub here are trusted too (read again for new ids)
    heads: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    counts: Counter[str] = field(default_factory=Counter)

    def trust(self, pem: bytes) -> str:
        """Trust the PEM public key ``pem``; return its id."""
        public = load_pem_public_key(pem)
        if not isinstance(public, Ed25519PublicKey):
            raise ValueError("not an Ed25519 public key")
        kid = key_id(public)
        self.trusted[kid] = public
        return kid

    def key(self, kid: str) -> Ed25519PublicKey | None:
        if kid not in self.trusted and self.trusted_dir is not None:
            for path in sorted(self.trusted_dir.glob("*.pub")):
                try:
                    self.trust(path.read_bytes())
                except ValueError:
                    continue
        return self.trusted.get(kid)

    def kept(self) -> int:
        """How many heads are held, over every chain."""
        return sum(len(v) for v in self.heads.values())


WITNESS_KEY = web.AppKey("liandong_witness", WitnessState)


def _parse(data: Any) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise ValueError("a head is a JSON object")
    head = {k: data.get(k) for k in ("chain", "size", "root", "time", "key_id", "signature")}
    size = head["size"]
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise ValueError("size is a non-negative integer")
    checks = (("chain", _CHAIN), ("root", _HEX64), ("time", _TIME), ("key_id", _KEY_ID))
    for name, pattern in checks:
        value = head[name]
        if not isinstance(value, str) or not pattern.fullmatch(value):
            raise ValueError(f"{name} is malformed")
    if not isinstance(head["signature"], str):
        raise ValueError("signature is malformed")
    return head


def _message(head: dict[str, Any]) -> bytes:
    return (
        f"{_FORMAT}\nchain={head['chain']}\nsize={head['size']}\nroot={head['root']}\n"
        f"time={head['time']}\nkey={head['key_id']}\n"
    ).encode()


def _contradicts(new: dict[str, Any], old: dict[str, Any]) -> bool:
    if new["size"] == old["size"]:
        return bool(new["root"] != old["root"])
    # A later head of a smaller tree (or an earlier one of a larger): the log shrank.
    smaller, larger = (new, old) if new["size"] < old["size"] else (old, new)
    return bool(smaller["time"] > larger["time"])


def _refuse(state: WitnessState, status: int, reason: str, **extra: Any) -> web.Response:
    state.counts[f"refused_{status}"] += 1
    return web.json_response({"error": reason, **extra}, status=status)


async def _post_head(request: web.Request) -> web.Response:
    state = request.app[WITNESS_KEY]
    state.counts["received"] += 1
    try:
        head = _parse(await request.json())
        signature = base64.b64decode(head["signature"], validate=True)
    except (ValueError, binascii.Error) as err:
        return _refuse(state, 400, f"malformed head: {err}")
    public = state.key(head["key_id"])
    if public is None:
        return _refuse(state, 403, f"key {head['key_id']} is not trusted")
    try:
        public.verify(signature, _message(head))
    except InvalidSignature:
        return _refuse(state, 403, "the signature does not match the head")
    held = state.heads.setdefault(head["chain"], [])
    if head in held:
        state.counts["duplicates"] += 1
        return web.json_response({"kept": False, "reason": "already held"})
    for old in held:
        if _contradicts(head, old):
            return _refuse(state, 409, "the head contradicts one held", held=old)
    held.append(head)
    state.counts["kept"] += 1
    return web.json_response({"kept": True}, status=201)


def _newest(heads: list[dict[str, Any]]) -> dict[str, Any]:
    return max(heads, key=lambda h: (h["size"], h["time"]))


async def _get_heads(request: web.Request) -> web.Response:
    state = request.app[WITNESS_KEY]
    chain = request.query.get("chain")
    if chain is not None:
        return web.json_response({"heads": list(state.heads.get(chain, []))})
    newest = [_newest(h) for _, h in sorted(state.heads.items()) if h]
    return web.json_response({"heads": newest})


async def _get_stats(request: web.Request) -> web.Response:
    state = request.app[WITNESS_KEY]
    return web.json_response({**state.counts, "held": state.kept()})


def create_app(
    trusted_keys: list[bytes] | None = None, *, trusted_dir: Path | None = None
) -> web.Application:
    """The witness, trusting the PEM public keys given and any ``*.pub`` in ``trusted_dir``."""
    state = WitnessState(trusted_dir=trusted_dir)
    for pem in trusted_keys or []:
        state.trust(pem)
    app = web.Application()
    app[WITNESS_KEY] = state
    app.router.add_post("/heads", _post_head)
    app.router.add_get("/heads", _get_heads)
    app.router.add_get("/_stats", _get_stats)
    return app


@dataclass
class RunningWitness:
    """A witness bound and serving; ``aclose()`` stops it (what it held is gone with it)."""

    url: str
    app: web.Application
    runner: web.AppRunner

    @property
    def state(self) -> WitnessState:
        return self.app[WITNESS_KEY]

    async def aclose(self) -> None:
        await self.runner.cleanup()


async def start_witness(
    app: web.Application, *, host: str = "127.0.0.1", port: int = 0
) -> RunningWitness:
    """Serve ``app`` (from ``create_app``) on ``host``:``port`` (0: an ephemeral port)."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
    except BaseException:
        await runner.cleanup()
        raise
    bound_host, bound_port = runner.addresses[0][:2]
    return RunningWitness(f"http://{bound_host}:{bound_port}", app, runner)
