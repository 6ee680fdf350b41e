"""Screening benchmark: ids/s against 1,000,000 listed entries, in-process and over HTTP.

``run()`` builds a SQLite store holding ``entries`` active restrictions on distinct
synthetic resident ids, then measures

- ``load_s`` / ``load_cpu_s`` / ``load_rss_mib``: ``ScreeningIndex.load`` of the whole
  table, and the growth of this process's resident memory it caused;
- ``index_ids_per_s_<workload>``: the index alone screening batches of ``batch`` ids,
  validation included;
- ``http_ids_per_s_<workload>``: a gateway in a process of its own (``liandong serve`` on a
  127.0.0.1 port, over the same database, audit log on) answering ``POST /v1/screen`` with
  ``batch``-id JSON bodies from ``concurrency`` connections; ``..._per_server_cpu_s_...``
  divides by the CPU time the server used instead, which other load on the machine moves
  less; ``startup_s`` is how long the gateway took to answer ``/readyz`` (the index loads
  during start-up) and ``server_rss_mib`` its resident memory then.

A workload is named by its share of listed ids (``hits1pct``, ``hits10pct``): each listed
id found is named in the call's audit record, so hits cost more than misses.

The machine running it is shared by client and server: on two cores the HTTP figure is a
floor, not a ceiling.
"""

from __future__ import annotations

import asyncio
import os
import random
import resource
import signal
import socket
import sqlite3
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import orjson

from gateway.auth import issue_token
from gateway.screening.index import ScreeningIndex
from gateway.screening.run import screen_all
from gateway.settings import load_settings
from gateway.store.cases import Store
from mocks import world_pools as wp

__all__ = ["main", "run", "synthetic_ids"]

_SECRET = "bench-screening-secret-0123456789abcdef"
_KINDS = ("DISHONEST_LIST",) * 5 + ("HIGH_CONSUMPTION_BAN",) * 4 + ("EXIT_BAN",)
_FIRST_BIRTH = date(1955, 1, 1).toordinal()
_LAST_BIRTH = date(2004, 12, 31).toordinal()
_INSERT_BATCH = 50_000
MIB = 1024 * 1024


def synthetic_ids(count: int, seed: int = 7) -> list[str]:
    """``count`` distinct valid resident ids (GB 11643), deterministic for ``seed``."""
    rng = random.Random(f"{seed}:screening-ids")
    regions = wp.REGIONS
    found: dict[str, None] = {}
    while len(found) < count:
        region = regions[rng.randrange(len(regions))]
        born = date.fromordinal(rng.randint(_FIRST_BIRTH, _LAST_BIRTH))
        code = wp.id_region_code(region, born.year)
        # Districts coded late share their city's code for early births: a dict dedupes.
        found[wp.resident_id(code, born, rng.randrange(1, 1000))] = None
    return list(found)


def _rows(ids: Sequence[str], seed: int) -> Iterator[tuple[Any, ...]]:
    rng = random.Random(f"{seed}:screening-rows")
    courts = wp.COURTS
    today = date.today()
    # A pool of dates and case numbers drawn once: formatting is most of the cost per row.
    days = [(today - timedelta(days=d)) for d in range(1, 2500)]
    since_text = [d.isoformat() for d in days]
    later = (today + timedelta(days=365)).isoformat()
    created = datetime(2026, 1, 1, tzinfo=UTC).isoformat(" ")
    for n, debtor in enumerate(ids):
        court = courts[n % len(courts)]
        day = rng.randrange(len(days))
        yield (
            f"00000000-0000-4000-8000-{n:012d}",
            debtor,
            _KINDS[n % len(_KINDS)],
            wp.case_number(court, days[day].year, 1 + n // len(courts)),
            court.name,
            since_text[day],
            later if n % 5 == 0 else None,
            "ACTIVE",
            created,
        )


def _fill_sqlite(path: Path, listed: Sequence[str], seed: int) -> None:
    # The stdlib driver straight into the file the store created: a million rows through
    # SQLAlchemy's executemany would take most of the benchmark's minute. The data is
    # scratch, so the fill need not be crash-safe.
    con = sqlite3.connect(path)
    try:
        con.execute("PRAGMA synchronous=OFF")
        con.execute("PRAGMA cache_size=-262144")  # 256 MiB: the debtor index is random order
        with con:
            con.executemany(
                "INSERT INTO restrictions (id, debtor_id, kind, case_number, court, since,"
                " until, status, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                _rows(listed, seed),
            )
    finally:
        con.close()


def _rss() -> int:
    """This process's resident memory now, in bytes (Linux), else the peak."""
    try:
        with open("/proc/self/statm", encoding="ascii") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _process_rss(pid: int) -> int:
    """Resident memory of process ``pid`` in bytes (Linux ``/proc``), 0 if unknown."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _batches(
    listed: Sequence[str], unlisted: Sequence[str], batch: int, count: int, hit_ratio: float
) -> list[list[str]]:
    rng = random.Random(11)
    hits = max(0, min(batch, round(batch * hit_ratio)))
    return [rng.sample(listed, hits) + rng.sample(unlisted, batch - hits) for _ in range(count)]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _process_cpu(pid: int) -> float:
    """CPU seconds (user + system) process ``pid`` has used (Linux ``/proc``), 0 if unknown."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    # utime and stime are fields 14 and 15 of stat(5); here counted after the name.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _http(
    data_dir: Path,
    database_url: str,
    workloads: dict[str, list[bytes]],
    batch: int,
    concurrency: int,
) -> dict[str, float]:
    port = _free_port()
    env = dict(
        os.environ,
        LIANDONG_DATA_DIR=str(data_dir),
        LIANDONG_DATABASE_URL=database_url,
        LIANDONG_AUTH__SECRET=_SECRET,
        LIANDONG_PROFILE="prod",
    )
    env.pop("LIANDONG_CONFIG", None)
    started = time.perf_counter()
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "gateway.cli.main",
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        env=env,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    settings = load_settings(data_dir=data_dir, auth={"secret": _SECRET})
    token = issue_token(
        _SECRET.encode(),
        settings=settings.auth,
        subject="bench-airline",
        court="",
        roles=["agency"],
    )
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    figures: dict[str, float] = {}
    try:
        async with aiohttp.ClientSession() as session:
            figures["startup_s"] = await _wait_ready(session, url, proc, started)
            figures["server_rss_mib"] = _process_rss(proc.pid) / MIB
            hits = 0

            async def client(queue: list[bytes]) -> None:
                nonlocal hits
                while queue:
                    body = queue.pop()
                    async with session.post(url + "/v1/screen", data=body, headers=headers) as r:
                        answer = orjson.loads(await r.read())
                        if r.status != 200:
                            raise RuntimeError(f"screen answered {r.status}: {answer}")
                        hits += len(answer["hits"])

            for label, bodies in workloads.items():
                await client([bodies[0]])  # warm-up: connection, validation caches
                hits = 0
                queue = list(bodies)
                cpu0, t0 = _process_cpu(proc.pid), time.perf_counter()
                await asyncio.gather(*(client(queue) for _ in range(concurrency)))
                elapsed = time.perf_counter() - t0
                cpu = _process_cpu(proc.pid) - cpu0
                ids = batch * len(bodies)
                figures[f"http_ids_per_s_{label}"] = ids / elapsed
                if cpu > 0:
                    figures[f"http_ids_per_server_cpu_s_{label}"] = ids / cpu
                figures[f"http_hits_{label}"] = float(hits)
    finally:
        if proc.returncode is None:
            os.killpg(proc.pid, signal.SIGINT)
            try:
                async with asyncio.timeout(20):
                    await proc.wait()
            except TimeoutError:
                os.killpg(proc.pid, signal.SIGKILL)
                await proc.wait()
    return figures


async def _wait_ready(
    session: aiohttp.ClientSession, url: str, proc: asyncio.subprocess.Process, started: float
) -> float:
    async with asyncio.timeout(120):
        while True:
            if proc.returncode is not None:
                raise RuntimeError(f"the gateway exited with {proc.returncode} during start-up")
            try:
                async with session.get(url + "/readyz") as r:
                    if r.status == 200:
                        return time.perf_counter() - started
            except aiohttp.ClientConnectionError:
                pass
            await asyncio.sleep(0.05)


def _label(ratio: float) -> str:
    return f"hits{ratio * 100:g}pct"


async def run(
    *,
    entries: int = 1_000_000,
    batch: int = 10_000,
    batches: int = 30,
    hit_ratios: Sequence[float] = (0.01, 0.1),
    concurrency: int = 2,
    http: bool = True,
    seed: int = 7,
) -> dict[str, float]:
    """Build ``entries`` listed restrictions and measure screening; returns the figures.

    Each of ``hit_ratios`` is one workload of ``batches`` calls of ``batch`` ids, that
    share of them listed. ``index_ids_per_s`` and ``http_ids_per_s`` are the first
    workload's figures (1%: screening a population against the lists hits rarely); the
    others carry the workload's label, e.g. ``http_ids_per_s_hits10pct``.
    """
    figures: dict[str, float] = {"entries": float(entries), "batch": float(batch)}
    t0 = time.perf_counter()
    ids = await asyncio.to_thread(synthetic_ids, entries + batch * 2, seed)
    listed, unlisted = ids[:entries], ids[entries:]
    figures["generate_s"] = time.perf_counter() - t0
    with tempfile.TemporaryDirectory(prefix="liandong-bench-screening-") as tmp:
        data_dir = Path(tmp)
        database_url = f"sqlite+aiosqlite:///{data_dir / 'liandong.db'}"
        await (await Store.open(database_url)).close()  # creates the tables
        t0 = time.perf_counter()
        await asyncio.to_thread(_fill_sqlite, data_dir / "liandong.db", listed, seed)
        figures["fill_s"] = time.perf_counter() - t0
        store = await Store.open(database_url)
        try:
            rss_before = _rss()
            t0, cpu0 = time.perf_counter(), time.process_time()
            index = await ScreeningIndex.load(store)
            figures["load_s"] = time.perf_counter() - t0
            figures["load_cpu_s"] = time.process_time() - cpu0
            figures["load_rss_mib"] = (_rss() - rss_before) / MIB
        finally:
            await store.close()
        figures["listed_debtors"] = float(len(index))
        workloads = {_label(r): _batches(listed, unlisted, batch, batches, r) for r in hit_ratios}
        for label, work in workloads.items():
            screen_all(index, work[0])  # warm the validation caches
            t0 = time.perf_counter()
            hits = sum(len(screen_all(index, ids_).hits) for ids_ in work)
            figures[f"index_ids_per_s_{label}"] = batch * batches / (time.perf_counter() - t0)
            figures[f"index_hits_{label}"] = float(hits)
        del index
        if http:
            bodies = {
                label: [orjson.dumps({"ids": ids_}) for ids_ in work]
                for label, work in workloads.items()
            }
            figures.update(await _http(data_dir, database_url, bodies, batch, concurrency))
    first = _label(hit_ratios[0])
    figures["index_ids_per_s"] = figures[f"index_ids_per_s_{first}"]
    if http:
        figures["http_ids_per_s"] = figures[f"http_ids_per_s_{first}"]
    return figures


def main() -> None:
    """``python -m bench.screening``: print the figures, one per line."""
    figures = asyncio.run(run())
    for name, value in figures.items():
        print(f"screening.{name:<34} {value:>14,.2f}")
    target = figures.get("http_ids_per_s", figures["index_ids_per_s"])
    verdict = "met" if target >= 100_000 else "NOT met"
    print(
        f"screening: {target:,.0f} ids/s against {figures['entries']:,.0f} listed; "
        f"target 100,000 ids/s {verdict}"
    )


if __name__ == "__main__":
    main()
