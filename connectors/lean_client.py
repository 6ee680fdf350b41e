"""Agency calls over the lean transport: one ``LeanPool`` per agency, requests encoded here.

``AgencyHttp._send`` hands a call to ``LeanClient.send`` when the agency HTTP client setting
is ``lean``; what comes back is the reply's status, headers and body, or an ``AgencyError``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

from yarl import URL

from connectors.lean_reply import ACCEPT_ENCODING
from connectors.lean_transport import LeanPool, LeanReply
from gateway.errors import AgencyUnavailable

__all__ = ["LeanClient", "encode_request"]

USER_AGENT = "liandong"
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


class LeanClient:
    """The pools of every agency; ``aclose`` closes their idle connections."""

    def __init__(self, *, limit: int) -> None:
        self._limit = limit
        self.pools: dict[str, LeanPool] = {}

    def pool(self, agency: str, base_url: str) -> LeanPool:
        """The agency's pool, made on first use (so that a bad URL fails a call, not start-up)."""
        pool = self.pools.get(agency)
        if pool is None or pool.base_url != base_url:
            if pool is not None:  # the agency moved: its old connections go nowhere now
                pool.close()
            try:
                pool = LeanPool(agency, base_url, limit=self._limit)
            except ValueError as exc:
                raise AgencyUnavailable(agency, "invalid base URL") from exc
            self.pools[agency] = pool
        return pool

    async def send(
        self,
        agency: str,
        base_url: str,
        method: str,
        path: str,
        *,
        params: Mapping[str, str],
        headers: Mapping[str, str],
        body: bytes | None,
        total_s: float,
        connect_s: float,
        read_s: float,
        max_body: int,
        resend: bool,
    ) -> LeanReply:
        """One call to ``base_url`` + ``path``; ``resend``: it may go twice (a read)."""
        pool = self.pool(agency, base_url)
        url = URL(base_url.rstrip("/") + path)
        if params:
            url = url.extend_query(params)
        data = encode_request(method, url.raw_path_qs, pool.host_header, headers, body)
        end = asyncio.get_running_loop().time() + total_s
        return await pool.request(
            data,
            end=end,
            connect_s=connect_s,
            read_s=read_s,
            max_body=max_body,
            resend=resend,
            head_only=method == "HEAD",
        )

    def close(self) -> None:
        for pool in self.pools.values():
            pool.close()
        self.pools.clear()


def encode_request(
    method: str,
    target: str,
    host: str,
    headers: Mapping[str, str],
    body: bytes | None,
) -> bytes:
    """The request's bytes: request line, headers (the caller's win), then the body.

    A name or value holding CR or LF is refused with ``ValueError`` (as aiohttp does): it
    would let a value inject headers of its own.
    """
    merged = {
        "host": ("Host", host),
        "user-agent": ("User-Agent", USER_AGENT),
        "accept": ("Accept", "*/*"),
        "accept-encoding": ("Accept-Encoding", ACCEPT_ENCODING),
    }
    for name, value in headers.items():
        merged[name.lower()] = (name, value)
    # The transport frames the body itself; a caller's framing headers would contradict it.
    merged.pop("content-length", None)
    merged.pop("transfer-encoding", None)
    if body is not None or method in _BODY_METHODS:
        merged["content-length"] = ("Content-Length", str(len(body or b"")))
        if body is not None:
            merged.setdefault("content-type", ("Content-Type", "application/octet-stream"))
    lines = [f"{method} {target} HTTP/1.1"]
    for name, value in merged.values():
        if "\r" in name or "\n" in name or "\r" in value or "\n" in value or ":" in name:
            raise ValueError(f"a header name or value holds CR, LF or a colon: {name!r}")
        lines.append(f"{name}: {value}")
    head = ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8")
    return head + body if body else head
