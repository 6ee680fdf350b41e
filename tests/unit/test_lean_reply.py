"""The lean transport's reply reader and request encoder over many shapes (hypothesis):
whatever the headers, the framing, the encoding and where the reads split the bytes, the
reply read is the reply sent, and a request encoded parses back to what was asked."""

from __future__ import annotations

import gzip
from typing import Any

import httptools
import pytest
from hypothesis import given
from hypothesis import strategies as st

from connectors.lean_client import encode_request
from connectors.lean_reply import ReplyReader
from gateway.errors import AgencyBadResponse

TOKEN = st.text(
    alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_",
    min_size=1,
    max_size=20,
)
# Printable ASCII and beyond, without the bytes that end a line; no edge whitespace (the
# reader strips it, as every HTTP reader does).
VALUE = st.text(
    alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E) | st.sampled_from(" 中€"),
    max_size=40,
).map(str.strip)
RESERVED = {"content-length", "transfer-encoding", "content-encoding", "connection"}
HEADERS = st.lists(st.tuples(TOKEN.filter(lambda n: n.lower() not in RESERVED), VALUE), max_size=12)


def wire(
    status: int, headers: list[tuple[str, str]], body: bytes, framing: str, sizes: list[int]
) -> bytes:
    lines = [f"HTTP/1.1 {status} Whatever"] + [f"{n}: {v}" for n, v in headers]
    if framing == "gzip":
        body = gzip.compress(body)
        lines.append("Content-Encoding: gzip")
    if framing == "chunked":
        lines.append("Transfer-Encoding: chunked")
        out, rest = [], body
        for size in [*sizes, len(rest)]:
            part, rest = rest[:size], rest[size:]
            if part:
                out.append(b"%x\r\n%s\r\n" % (len(part), part))
        payload = b"".join(out) + b"0\r\n\r\n"
    else:
        lines.append(f"Content-Length: {len(body)}")
        payload = body
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + payload


def split(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts})
    pieces = zip([0, *points], [*points, len(data)], strict=True)
    return [data[a:b] for a, b in pieces if b > a]  # a socket never delivers b""


@given(
    status=st.sampled_from([200, 201, 400, 404, 429, 500, 503]),
    headers=HEADERS,
    body=st.binary(max_size=3000),
    framing=st.sampled_from(["length", "chunked", "gzip"]),
    sizes=st.lists(st.integers(1, 500), max_size=6),
    cuts=st.lists(st.integers(0, 10_000), max_size=8),
)
def test_the_reply_read_is_the_reply_sent(
    status: int,
    headers: list[tuple[str, str]],
    body: bytes,
    framing: str,
    sizes: list[int],
    cuts: list[int],
) -> None:
    reader = ReplyReader("land_registry", 1 << 20)
    for piece in split(wire(status, headers, body, framing, sizes), cuts):
        assert not reader.done
        reader.feed(piece)
    assert reader.done and reader.keep_alive
    assert reader.status == status and reader.body() == body
    for name, value in headers:
        assert value in reader.headers.getall(name.upper())


@given(body=st.binary(min_size=1, max_size=2000), framing=st.sampled_from(["length", "chunked"]))
def test_a_body_one_byte_over_the_cap_is_refused(body: bytes, framing: str) -> None:
    reader = ReplyReader("land_registry", len(body) - 1)
    with pytest.raises(AgencyBadResponse, match="body over"):
        reader.feed(wire(200, [], body, framing, [7]))
    assert not reader.keep_alive


@given(
    method=st.sampled_from(["GET", "POST", "PUT", "DELETE"]),
    headers=st.dictionaries(TOKEN.filter(lambda n: n.lower() not in RESERVED), VALUE, max_size=8),
    body=st.none() | st.binary(max_size=500),
)
def test_an_encoded_request_parses_back(
    method: str, headers: dict[str, str], body: bytes | None
) -> None:
    seen: dict[str, Any] = {"headers": [], "body": b""}

    class Sink:
        def on_header(self, name: bytes, value: bytes) -> None:
            seen["headers"].append((name.decode().lower(), value.decode()))

        def on_body(self, data: bytes) -> None:
            seen["body"] += data

        def on_message_complete(self) -> None:
            seen["done"] = True

    parser = httptools.HttpRequestParser(Sink())
    parser.feed_data(encode_request(method, "/p?q=1", "agency:81", headers, body))
    assert seen.get("done") and parser.get_method().decode() == method
    got = dict(seen["headers"])
    assert seen["body"] == (body or b"")
    assert got["host"] == "agency:81"
    wanted = {name.lower(): value for name, value in headers.items()}  # the last one wins
    for name, value in wanted.items():
        assert got[name] == value  # the caller's header wins over a default


@pytest.mark.parametrize("bad", [{"X-A": "1\r\nX-Injected: 2"}, {"X-A\n": "1"}, {"X:A": "1"}])
def test_a_header_that_would_inject_another_is_refused(bad: dict[str, str]) -> None:
    with pytest.raises(ValueError, match="CR, LF"):
        encode_request("GET", "/", "agency", bad, None)
