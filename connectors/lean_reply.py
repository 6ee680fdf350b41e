"""Reading one HTTP/1.1 reply for the lean agency transport (``connectors.lean_transport``).

``httptools`` (the parser uvicorn uses) does the parsing; this module holds what the gateway
asks of a reply on top of it: headers kept case-insensitively, a header section of bounded
size, the body capped at ``max_body_bytes`` (by Content-Length up front, then by bytes read,
chunked included, and after decoding a gzip or deflate body), and whether the connection may
be used again. Anything wrong with the reply raises ``AgencyBadResponse``.
"""

from __future__ import annotations

import zlib

import httptools
from multidict import CIMultiDict, CIMultiDictProxy

from gateway.errors import AgencyBadResponse

__all__ = ["ACCEPT_ENCODING", "MAX_HEADER_BYTES", "ReplyReader"]

# What the transport offers, as aiohttp does without brotli or zstd installed: a reply
# encoded any other way is refused rather than handed on undecoded.
ACCEPT_ENCODING = "gzip, deflate"
# The whole status line and header section, at most (aiohttp allows 8190 bytes a line).
MAX_HEADER_BYTES = 64 * 1024
_NO_HEADERS: CIMultiDictProxy[str] = CIMultiDictProxy(CIMultiDict())  # read-only, shared


class _NextMessage(Exception):
    """Raised to stop the parser at the start of a message after the one awaited."""


class _Decoder:
    """Incremental gzip or deflate decoding whose output never passes ``room`` bytes."""

    __slots__ = ("_deflate", "_zlib")

    def __init__(self, encoding: str) -> None:
        self._deflate = encoding == "deflate"
        # gzip: its own header (16 + MAX_WBITS); deflate: chosen on the first bytes, since
        # servers send both the zlib-wrapped and the raw stream under that name.
        self._zlib: zlib._Decompress | None = (
            None if self._deflate else zlib.decompressobj(16 + zlib.MAX_WBITS)
        )

    def feed(self, data: bytes, room: int) -> bytes:
        if self._zlib is None:
            wrapped = len(data) >= 2 and data[0] & 0x0F == 8 and (data[0] << 8 | data[1]) % 31 == 0
            self._zlib = zlib.decompressobj(zlib.MAX_WBITS if wrapped else -zlib.MAX_WBITS)
        # One byte past the room proves the cap is passed without inflating a bomb whole.
        return self._zlib.decompress(data, room + 1)

    def finished(self) -> bool:
        return self._zlib is None or self._zlib.eof


class ReplyReader:
    """The callbacks ``httptools.HttpResponseParser`` calls, and the reply they build.

    One reader per reply. ``feed`` raises ``AgencyBadResponse``; ``done`` is set once the
    whole reply is in; ``end_of_stream`` is called when the agency closes the connection.
    """

    __slots__ = (
        "_agency",
        "_body",
        "_decoder",
        "_head_bytes",
        "_header_bytes",
        "_limit",
        "_parser",
        "_raw_headers",
        "_size",
        "_until_close",
        "done",
        "head_only",
        "headers",
        "keep_alive",
        "started",
        "status",
    )

    def __init__(self, agency: str, limit: int, *, head_only: bool = False) -> None:
        self._agency = agency
        self._limit = limit
        self._parser = httptools.HttpResponseParser(self)
        self._raw_headers: list[tuple[str, str]] = []
        self._body: list[bytes] = []
        self._size = 0
        self._head_bytes = 0
        self._header_bytes = 0
        self._decoder: _Decoder | None = None
        self._until_close = False
        self.head_only = head_only  # a reply to HEAD: its Content-Length announces no body
        self.started = False  # any byte of the reply arrived
        self.done = False
        self.status = 0
        self.keep_alive = False
        self.headers: CIMultiDictProxy[str] = _NO_HEADERS

    def feed(self, data: bytes) -> None:
        """Parse the next bytes; raise ``AgencyBadResponse`` on a malformed or capped reply."""
        self.started = True
        if self.done:
            raise self._bad("bytes after the end of the reply")
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserUpgrade as exc:
            raise self._bad("protocol upgrade") from exc
        except httptools.HttpParserCallbackError as exc:
            if self.done:  # the bytes of a next reply nobody asked for: stop there
                self.keep_alive = False
                return
            # One of the callbacks below raised: that error is the one to report.
            cause = exc.__context__
            if isinstance(cause, AgencyBadResponse):
                raise cause from None
            raise self._bad("malformed response") from exc
        except httptools.HttpParserError as exc:
            raise self._bad(f"malformed response ({exc})") from exc
        if self.status == 0:
            # Counted after parsing: one read may hold the whole head and much body.
            self._head_bytes += len(data)
            if self._head_bytes > MAX_HEADER_BYTES:
                raise self._bad(f"header section over {MAX_HEADER_BYTES} bytes")

    def end_of_stream(self) -> bool:
        """The agency closed the connection: True if that ends a body read until close."""
        if self.done or not self._until_close:
            return self.done
        self._finish()
        return True

    def body(self) -> bytes:
        return b"".join(self._body)

    # -- httptools callbacks -----------------------------------------------------------

    def on_message_begin(self) -> None:
        if self.done:
            raise _NextMessage

    def on_header(self, name: bytes, value: bytes) -> None:
        # Counted here too: a whole oversized head can come in one read.
        self._header_bytes += len(name) + len(value) + 4
        if self._header_bytes > MAX_HEADER_BYTES:
            raise self._bad(f"header section over {MAX_HEADER_BYTES} bytes")
        # Replacement, not surrogate escapes: a header value must stay encodable.
        self._raw_headers.append(
            (name.decode("latin-1"), value.decode("utf-8", "replace").strip(" \t"))
        )

    def on_headers_complete(self) -> None:
        parser = self._parser
        status = parser.get_status_code()
        if 100 <= status < 200:
            # An interim reply (100 Continue, 103 Early Hints): the real one follows.
            self._raw_headers.clear()
            return
        self.status = status
        headers = CIMultiDict(self._raw_headers)
        self.headers = CIMultiDictProxy(headers)
        self.keep_alive = parser.should_keep_alive() and not self.head_only
        length = headers.get("Content-Length")
        if length is not None and length.isdigit() and int(length) > self._limit:
            raise self._bad(f"body over {self._limit} bytes")
        encoding = headers.get("Content-Encoding", "identity").strip().lower()
        if encoding in ("gzip", "x-gzip", "deflate"):
            self._decoder = _Decoder("deflate" if encoding == "deflate" else "gzip")
        elif encoding != "identity":
            raise self._bad(f"unsupported Content-Encoding {encoding!r}")
        chunked = "chunked" in headers.get("Transfer-Encoding", "").lower()
        no_body = self.head_only or status in (204, 304)
        # Neither a length nor chunks: the body runs until the agency closes (llhttp waits
        # for an end of stream that httptools cannot report, so ``end_of_stream`` does).
        self._until_close = not no_body and length is None and not chunked
        if self._until_close:
            self.keep_alive = False
        if self.head_only:
            self._finish()

    def on_body(self, data: bytes) -> None:
        if self.done:  # bytes after a reply to HEAD: the connection is not used again
            self.keep_alive = False
            return
        if self._decoder is not None:
            try:
                data = self._decoder.feed(data, self._limit - self._size)
            except zlib.error as exc:
                raise self._bad("corrupt encoded body") from exc
        self._size += len(data)
        if self._size > self._limit:
            raise self._bad(f"body over {self._limit} bytes")
        if data:
            self._body.append(data)

    def on_message_complete(self) -> None:
        if self.status == 0:  # the end of an interim reply
            return
        if not self.done:
            self._finish()

    def _finish(self) -> None:
        if self._decoder is not None and not self._decoder.finished():
            raise self._bad("truncated encoded body")
        self.done = True

    def _bad(self, why: str) -> AgencyBadResponse:
        self.keep_alive = False
        return AgencyBadResponse(self._agency, why)
