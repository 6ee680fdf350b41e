"""``liandong db upgrade``: migrate the store and the audit databases to the newest schema."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path
from typing import Any

__all__ = ["add_db_commands"]


def _cmd_upgrade(args: argparse.Namespace) -> int:
    from gateway.migrations.runner import upgrade_all
    from gateway.settings import load_settings

    settings = load_settings(Path(args.config) if args.config else None)
    for database in asyncio.run(upgrade_all(settings)):
        print(f"{database} database: at the newest revision")
    return 0


def add_db_commands(sub: Any) -> None:
    """Add ``db upgrade`` to the CLI's sub-commands."""
    db = sub.add_parser("db", help="database schema migrations")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    upgrade = db_sub.add_parser("upgrade", help="upgrade the store and audit databases")
    upgrade.add_argument("--config", help="TOML settings file")
    upgrade.set_defaults(func=_cmd_upgrade)
