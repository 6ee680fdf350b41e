"""``liandong config check``: every setting validated before a gateway is started with it.

Loading the settings validates every key (agency names included); each enabled agency's
connector is then built from its options, as the gateway would at start-up, without
sending anything. ``--connect`` also tries what the settings point at: the databases,
Redis and each agency's base URL, each with a short timeout.
"""

from __future__ import annotations

import argparse
import asyncio
import os
from pathlib import Path
from typing import Any

from gateway.cli.errors import CliError

__all__ = ["add_config_commands"]

CONNECT_TIMEOUT_S = 5.0


async def _build_connectors(settings: Any) -> list[str]:
    from connectors import registry
    from connectors.http import HttpClient

    built = []
    async with HttpClient() as http:
        for name, agency in settings.agencies.items():
            if not agency.enabled:
                continue
            try:
                registry.build(
                    agency.connector, agency.options, http.for_agency(name, agency.http())
                )
            except (ValueError, TypeError) as err:
                raise CliError(f"agencies.{name}: {err}") from None
            built.append(name)
    return built


def _sqlite_file(path: Path) -> str:
    # Connecting would create the file; say what start-up will find instead. Start-up
    # makes missing folders, so the nearest existing one must take new files.
    if path.is_file():
        return f"SQLite file {path}"
    existing = next(p for p in path.absolute().parents if p.exists())
    if not existing.is_dir() or not os.access(existing, os.W_OK | os.X_OK):
        raise PermissionError(f"{existing} cannot take new files (for {path})")
    return f"SQLite file {path} (made at first start)"


async def _try_database(url: str) -> str:
    from sqlalchemy import text
    from sqlalchemy.engine import make_url
    from sqlalchemy.ext.asyncio import create_async_engine

    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return await asyncio.to_thread(_sqlite_file, Path(parsed.database or ""))
    engine = create_async_engine(url)
    try:
        async with asyncio.timeout(CONNECT_TIMEOUT_S), engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
    finally:
        await engine.dispose()
    return f"{parsed.get_backend_name()} at {parsed.host}:{parsed.port or ''}"


async def _try_redis(url: str) -> str:
    from redis.asyncio import Redis

    client = Redis.from_url(url, socket_connect_timeout=CONNECT_TIMEOUT_S)
    try:
        async with asyncio.timeout(CONNECT_TIMEOUT_S):
            await client.ping()
    finally:
        await client.aclose()
    return "PING answered"


async def _try_agency(base_url: str) -> str:
    import aiohttp

    timeout = aiohttp.ClientTimeout(total=CONNECT_TIMEOUT_S)
    async with aiohttp.ClientSession(timeout=timeout) as session, session.get(base_url) as resp:
        # Any answer at all means something listens there; the path may well be a 404.
        return f"answers (HTTP {resp.status})"


async def _connect(settings: Any) -> list[tuple[str, str, bool]]:
    checks: list[tuple[str, Any]] = [
        ("database_url", _try_database(settings.database_url)),
        ("audit.database_url", _try_database(settings.audit.database_url)),
    ]
    if settings.cache.redis_url:
        checks.append(("cache.redis_url", _try_redis(settings.cache.redis_url)))
    for name, agency in settings.agencies.items():
        if agency.enabled:
            checks.append((f"agencies.{name}.base_url", _try_agency(agency.base_url)))
    results = await asyncio.gather(*(c for _, c in checks), return_exceptions=True)
    lines = []
    for (key, _), result in zip(checks, results, strict=True):
        if isinstance(result, BaseException):
            reason = str(result) or type(result).__name__
            lines.append((key, f"{type(result).__name__}: {reason}".replace("\n", " "), False))
        else:
            lines.append((key, result, True))
    return lines


def _heads_line(settings: Any) -> str:
    # The key's mode is checked here as at start-up: a readable key is refused either way.
    heads = settings.heads
    if not heads.enabled:
        return "tree heads: not signed (heads.enabled = false)"
    if not heads.key_file.exists():
        return f"tree heads OK: key made at first start ({heads.key_file}), witness {heads.witness}"
    from gateway.audit.head_keys import load_or_create_key
    from gateway.audit.signed_head import key_id

    kid = key_id(load_or_create_key(heads.key_file).public_key())
    return f"tree heads OK: key {kid}, witness {heads.witness}"


def _cmd_check(args: argparse.Namespace) -> int:
    from gateway.settings import load_settings

    settings = load_settings(Path(args.file) if args.file else None)
    agencies = asyncio.run(_build_connectors(settings))
    print(f"settings OK: {args.file or 'defaults and environment'}, profile {settings.profile}")
    print(f"connectors OK: {', '.join(agencies) or 'none enabled'}")
    print(_heads_line(settings))
    if not args.connect:
        return 0
    failed = 0
    for key, what, ok in asyncio.run(_connect(settings)):
        failed += not ok
        print(f"{'ok  ' if ok else 'FAIL'} {key}: {what}")
    if failed:
        raise CliError(f"{failed} of the connections failed (FAIL lines above)", exit_code=1)
    return 0


def add_config_commands(sub: Any) -> None:
    """Register ``liandong config check`` on the top-level subparsers."""
    config = sub.add_parser("config", help="the settings file")
    config_sub = config.add_subparsers(dest="config_command", required=True)
    check = config_sub.add_parser(
        "check",
        help="validate every setting (and, with --connect, try each connection)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    check.add_argument("file", nargs="?", help="TOML settings file (default: $LIANDONG_CONFIG)")
    check.add_argument(
        "--connect", action="store_true", help="try the databases, Redis and each agency"
    )
    check.set_defaults(func=_cmd_check)
