"""Where signed tree heads are published: a folder, or a witness service over HTTP.

A folder witness keeps one file per head, ``<chain>/<size>-<time>-<key id>.json``, created
exclusively (never overwritten). An HTTP witness (the court's notarisation service, or
``mocks/witness.py``) takes ``POST <url>/heads`` with a head's JSON, answers 409 to a head
that contradicts one it holds, and lists heads with ``GET <url>/heads`` (newest per chain)
or ``GET <url>/heads?chain=C`` (every head of C).

``WitnessRefused`` means the witness will never take this head (retrying is pointless);
``WitnessUnavailable`` means try again later.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any, Protocol

import aiohttp
import orjson

from gateway.audit.signed_head import HeadFormatError, SignedTreeHead

__all__ = [
    "DirectoryWitness",
    "HttpWitness",
    "Witness",
    "WitnessRefused",
    "WitnessUnavailable",
    "head_file_name",
    "newest_per_chain",
    "open_witness",
]


class WitnessUnavailable(Exception):
    """The witness could not be reached or failed; the head may be offered again."""


class WitnessRefused(Exception):
    """The witness refused the head for good (e.g. it contradicts one it holds)."""


class Witness(Protocol):
    """Somewhere heads are kept, out of the database's reach."""

    async def publish(self, head: SignedTreeHead) -> None:
        """Hand ``head`` over; raise ``WitnessUnavailable`` or ``WitnessRefused``."""
        ...

    async def heads(self) -> list[SignedTreeHead]:
        """The heads the witness offers for checking (every one it holds, where it can)."""
        ...

    async def newest(self) -> list[SignedTreeHead]:
        """The newest head of each chain, by chain id."""
        ...

    async def aclose(self) -> None: ...


def newest_per_chain(heads: list[SignedTreeHead]) -> dict[str, SignedTreeHead]:
    """The largest (then latest) head of each chain."""
    newest: dict[str, SignedTreeHead] = {}
    for head in heads:
        old = newest.get(head.chain)
        if old is None or (head.size, head.time) > (old.size, old.time):
            newest[head.chain] = head
    return newest


def head_file_name(head: SignedTreeHead) -> str:
    """A head's file name in a folder witness: sorts by size, unique per time and key."""
    return f"{head.size:020d}-{head.time.strftime('%Y%m%dT%H%M%S%fZ')}-{head.key_id[:8]}.json"


class DirectoryWitness:
    """One JSON file per head under ``root/<chain>/``."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path_of(self, head: SignedTreeHead) -> Path:
        """The file that holds ``head``."""
        return self.root / head.chain / head_file_name(head)

    def _write(self, head: SignedTreeHead) -> None:
        path = self.path_of(head)
        path.parent.mkdir(parents=True, exist_ok=True)
        data = orjson.dumps(head.to_json(), option=orjson.OPT_SORT_KEYS)
        try:
            with path.open("xb") as f:  # exclusive: an existing head is never replaced
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
        except FileExistsError:
            if path.read_bytes() != data:
                raise WitnessRefused(f"{path.name} already holds another head") from None

    async def publish(self, head: SignedTreeHead) -> None:
        try:
            await asyncio.to_thread(self._write, head)
        except OSError as err:
            raise WitnessUnavailable(f"cannot write to {self.root}: {err}") from err

    def _read(self) -> list[SignedTreeHead]:
        found = []
        for path in sorted(self.root.glob("*/*.json")):
            try:
                found.append(SignedTreeHead.from_json(orjson.loads(path.read_bytes())))
            except (orjson.JSONDecodeError, HeadFormatError) as err:
                raise HeadFormatError(f"{path}: {err}") from None
        return found

    async def heads(self) -> list[SignedTreeHead]:
        return await asyncio.to_thread(self._read)

    def _read_newest(self) -> list[SignedTreeHead]:
        found = []
        for folder in sorted(p for p in self.root.glob("*") if p.is_dir()):
            last = max(folder.glob("*.json"), default=None)  # names sort by size, then time
            if last is not None:
                found.append(SignedTreeHead.from_json(orjson.loads(last.read_bytes())))
        return found

    async def newest(self) -> list[SignedTreeHead]:
        return await asyncio.to_thread(self._read_newest)

    async def aclose(self) -> None:
        return None


class HttpWitness:
    """A witness service at ``url`` (see the module docstring for its two routes)."""

    def __init__(self, url: str, *, timeout_s: float = 5.0) -> None:
        self.url = url.rstrip("/")
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                timeout=self._timeout, cookie_jar=aiohttp.DummyCookieJar()
            )
        return self._session

    async def publish(self, head: SignedTreeHead) -> None:
        try:
            async with self._client().post(f"{self.url}/heads", json=head.to_json()) as resp:
                text = await resp.text()
        except (aiohttp.ClientError, TimeoutError) as err:
            raise WitnessUnavailable(f"{self.url}: {type(err).__name__}: {err}") from err
        if resp.status in (400, 403, 409, 422):
            raise WitnessRefused(f"{self.url} answered {resp.status}: {text[:300]}")
        if resp.status >= 300:
            raise WitnessUnavailable(f"{self.url} answered {resp.status}")

    async def _get(self, params: dict[str, str]) -> Any:
        try:
            async with self._client().get(f"{self.url}/heads", params=params) as resp:
                if resp.status != 200:
                    raise WitnessUnavailable(f"{self.url} answered {resp.status}")
                return await resp.json()
        except (aiohttp.ClientError, TimeoutError, ValueError) as err:
            raise WitnessUnavailable(f"{self.url}: {type(err).__name__}: {err}") from err

    async def newest(self) -> list[SignedTreeHead]:
        listed = await self._get({})
        return sorted(
            (SignedTreeHead.from_json(h) for h in listed.get("heads", [])), key=lambda h: h.chain
        )

    async def heads(self) -> list[SignedTreeHead]:
        newest = await self._get({})
        found: list[SignedTreeHead] = []
        for item in newest.get("heads", []):
            chain = SignedTreeHead.from_json(item).chain
            every = await self._get({"chain": chain})
            found.extend(SignedTreeHead.from_json(h) for h in every.get("heads", []))
        return found

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()


def open_witness(where: str, *, timeout_s: float = 5.0) -> Witness:
    """An HTTP witness for an ``http(s)://`` URL, else a folder witness."""
    if where.startswith(("http://", "https://")):
        return HttpWitness(where, timeout_s=timeout_s)
    return DirectoryWitness(Path(where))
