"""``liandong lookup``: the debtors of one case, in bulk, into a resumable JSON-lines file.

Reads ids from a CSV (first column; a header row and blank lines are skipped), asks the
gateway ``debtors(ids:, caseNumber:)`` ``chunk_size`` ids at a time with at most
``concurrency`` requests in flight, and appends one line per id to the output:
``{"id", "status": "ok" | "partial" | "failed", "data", "errors"}`` — ``partial`` when some
agency failed inside an otherwise answered profile, ``failed`` when there is no profile
(the errors say why: FORBIDDEN for a debtor not party to the case, INVALID_INPUT for an id
that is not one, ...). Ids already in the output are skipped, so an interrupted run is
simply run again (``--retry-failed`` redoes the failed ones).

Transport trouble is not a verdict on an id: connection errors, 429 and 5xx answers are
retried (reads are safe to retry), and if they persist — or the token is refused — the run
stops without writing those chunks. Exit codes: 0 every id answered, none failed; 1 every
id answered, some failed; 2 bad arguments or files; 3 the gateway stopped answering (run
again to resume); 130 interrupted.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import aiohttp
import orjson

from gateway.cli.lookup_io import FAILED, OK, PARTIAL, OutputFile

__all__ = [
    "DEFAULT_QUERY",
    "GatewayUnavailable",
    "LookupClient",
    "LookupOptions",
    "QueryRefused",
    "RunStats",
    "graphql_url",
    "run_lookup",
]

DEFAULT_QUERY = """\
query BulkProfile($ids: [ID!]!, $caseNumber: String!) {
  debtors(ids: $ids, caseNumber: $caseNumber) {
    id
    kind
    identity { name sex birthDate address status idNumber
               provenance { agency fetchedAt cached stale } }
    organization { name status legalRepresentative provenance { agency fetchedAt cached } }
    marriage {
      status registeredOn office spouseName
      provenance { agency fetchedAt cached stale }
      spouse { id identity { name birthDate status provenance { agency fetchedAt cached } } }
    }
    companies {
      role shareRatio
      company { code name status legalRepresentative }
      provenance { agency fetchedAt cached }
    }
    assets {
      __typename id kind estimatedValue
      controls { court caseNumber kind since until queuePosition }
      provenance { agency fetchedAt cached stale }
      ... on RealEstate { certificateNumber address areaSqm use coOwners
                          mortgages { creditor amount registeredOn } }
      ... on Vehicle { plateNumber vin model status }
      ... on EquityStake { company { code name } shareRatio subscribedCapital }
    }
    restrictions(first: 100) {
      edges { node { kind court caseNumber since until status provenance { agency fetchedAt } } }
      pageInfo { hasNextPage endCursor }
    }
  }
}
"""

# Answers worth another try: rate limited, or the gateway (or what is in front) is unwell.
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
# Whole-chunk refusals that one bad id can cause: asking id by id isolates it.
_ISOLATE = frozenset({"FORBIDDEN", "INVALID_INPUT", "NOT_FOUND"})


class GatewayUnavailable(Exception):
    """The gateway kept failing (or refused the token): stop, the run can be resumed."""


class TokenRefused(GatewayUnavailable):
    """The gateway answered 401: no request can succeed until the token is replaced."""


class QueryRefused(Exception):
    """The gateway refused the query itself (not an id): no chunk can succeed."""


class CaseRefused(QueryRefused):
    """The case itself is refused (unknown, or not the caller's): no id of it can succeed."""


def graphql_url(url: str) -> str:
    """``url`` as given, or with ``/graphql`` added when it names only the server."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"--url: not an http(s) URL: {url!r}")
    if parts.path in ("", "/"):
        parts = parts._replace(path="/graphql")
    return urlunsplit(parts)


@dataclass(frozen=True, slots=True)
class LookupOptions:
    """How to ask: where, for which case, with what token and query, how hard."""

    url: str
    case_number: str
    token: str = field(repr=False)
    query: str = DEFAULT_QUERY
    chunk_size: int = 50
    concurrency: int = 4
    timeout_s: float = 60.0
    retries: int = 4
    backoff_s: float = 0.5


def _record(debtor: str, status: str, data: Any, errors: Sequence[Any]) -> dict[str, Any]:
    return {"id": debtor, "status": status, "data": data, "errors": list(errors)}


def _code(error: Mapping[str, Any]) -> str:
    extensions = error.get("extensions") or {}
    return str(extensions.get("code") or "UNKNOWN")


class LookupClient:
    """Turns a chunk of ids into one result line per id, over one aiohttp session."""

    def __init__(self, options: LookupOptions, session: aiohttp.ClientSession) -> None:
        self.options = options
        self.session = session
        self.url = graphql_url(options.url)
        self.requests = 0  # HTTP requests sent, retries included

    async def results(self, ids: Sequence[str]) -> list[dict[str, Any]]:
        """One record per id in ``ids``, in order."""
        body = await self._post(ids)
        errors: list[dict[str, Any]] = list(body.get("errors") or [])
        data = body.get("data")
        debtors = data.get("debtors") if isinstance(data, dict) else None
        if not isinstance(debtors, list):
            return await self._chunk_failed(ids, errors)
        if len(debtors) != len(ids):
            raise QueryRefused("the answer's debtors do not line up with the ids asked")
        per_id: dict[int, list[dict[str, Any]]] = {}
        for error in errors:
            path = error.get("path") or []
            if len(path) >= 2 and path[0] == "debtors" and isinstance(path[1], int):
                per_id.setdefault(path[1], []).append(error)
        records = []
        for i, (debtor, item) in enumerate(zip(ids, debtors, strict=True)):
            mine = per_id.get(i, [])
            if item is None:
                failure = mine or [{"message": "no data", "extensions": {"code": "NOT_FOUND"}}]
                records.append(_record(debtor, FAILED, None, failure))
            else:
                records.append(_record(debtor, PARTIAL if mine else OK, item, mine))
        return records

    async def _chunk_failed(
        self, ids: Sequence[str], errors: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        on_field = [e for e in errors if (e.get("path") or [None])[0] == "debtors"]
        if not on_field:
            # No path: the document itself was refused (syntax, unknown field, limits).
            message = "; ".join(str(e.get("message")) for e in errors) or "no data"
            raise QueryRefused(message)
        code = _code(on_field[0])
        if code == "FORBIDDEN" and (on_field[0].get("extensions") or {}).get("field") == (
            "caseNumber"
        ):
            # The gateway answers an unknown case and a case one is not on alike.
            raise CaseRefused(str(on_field[0].get("message") or "no access to the case"))
        if len(ids) > 1 and code == "LIMIT_EXCEEDED":
            half = len(ids) // 2
            return [*await self.results(ids[:half]), *await self.results(ids[half:])]
        if len(ids) > 1 and code in _ISOLATE:
            return [record for one in ids for record in await self.results([one])]
        return [_record(debtor, FAILED, None, on_field) for debtor in ids]

    async def _post(self, ids: Sequence[str]) -> dict[str, Any]:
        opts = self.options
        payload = orjson.dumps(
            {
                "query": opts.query,
                "variables": {"ids": list(ids), "caseNumber": opts.case_number},
            }
        )
        headers = {"Authorization": f"Bearer {opts.token}", "Content-Type": "application/json"}
        timeout = aiohttp.ClientTimeout(total=opts.timeout_s)
        problem, wait = "", None
        for attempt in range(opts.retries + 1):
            if attempt:
                await asyncio.sleep(self._backoff(attempt, wait))
            self.requests += 1
            try:
                async with self.session.post(
                    self.url, data=payload, headers=headers, timeout=timeout
                ) as resp:
                    raw = await resp.read()
                    status, retry_after = resp.status, resp.headers.get("Retry-After", "")
            except (aiohttp.ClientError, TimeoutError) as exc:
                problem, wait = f"{type(exc).__name__}: {exc}", None
                continue
            if status == 401:
                raise TokenRefused("the gateway refused the token (401)")
            if status in RETRY_STATUSES:
                problem, wait = f"HTTP {status}", _seconds(retry_after)
                continue
            try:
                body = orjson.loads(raw)
            except orjson.JSONDecodeError:
                raise GatewayUnavailable(f"HTTP {status} without a JSON body") from None
            if not isinstance(body, dict):
                raise GatewayUnavailable(f"HTTP {status}: not a GraphQL response")
            if status != 200 and not body.get("errors"):
                raise GatewayUnavailable(f"HTTP {status}")
            return body
        raise GatewayUnavailable(f"gave up after {opts.retries + 1} attempts: {problem}")

    def _backoff(self, attempt: int, retry_after: float | None) -> float:
        # Honour a Retry-After the gateway sent; otherwise exponential with full jitter.
        if retry_after is not None:
            return min(30.0, retry_after)
        return random.uniform(0, self.options.backoff_s * 2 ** (attempt - 1))


def _seconds(header: str) -> float | None:
    try:
        return max(0.0, float(header))
    except ValueError:
        return None


@dataclass(slots=True)
class RunStats:
    """What this run did."""

    written: int = 0
    requests: int = 0


async def run_lookup(
    options: LookupOptions,
    pending: Sequence[str],
    out: OutputFile,
    advance: Callable[[int], None] = lambda _n: None,
    stats: RunStats | None = None,
) -> RunStats:
    """Look up ``pending`` ids chunk by chunk, appending each chunk's lines to ``out``.

    A chunk's lines are written whole and fsync'd before the next chunk of that worker
    starts; cancelling (Ctrl-C) lets a write in progress finish, so the file never holds
    half a chunk written by us (a SIGKILL can still cut the last line: ``OutputFile.open``
    repairs that). ``stats`` (filled in as the run goes) survives an interruption.
    """
    stats = stats if stats is not None else RunStats()
    chunks = [
        list(pending[i : i + options.chunk_size])
        for i in range(0, len(pending), options.chunk_size)
    ]
    chunks.reverse()  # pop() from the end takes them in file order
    lock = asyncio.Lock()
    connector = aiohttp.TCPConnector(limit=options.concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        client = LookupClient(options, session)

        async def worker() -> None:
            while chunks:
                chunk = chunks.pop()
                records = await client.results(chunk)
                async with lock:
                    write = asyncio.ensure_future(asyncio.to_thread(out.append, records))
                    try:
                        await asyncio.shield(write)
                    except asyncio.CancelledError:
                        await write  # the chunk reaches the disk whole, then we stop
                        raise
                stats.written += len(records)
                advance(len(chunk))

        try:
            async with asyncio.TaskGroup() as group:
                for _ in range(max(1, options.concurrency)):
                    group.create_task(worker())
        except* (GatewayUnavailable, QueryRefused) as failures:
            raise failures.exceptions[0] from None
        finally:
            stats.requests = client.requests
            await asyncio.to_thread(out.close)
    return stats
