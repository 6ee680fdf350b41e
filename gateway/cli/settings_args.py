"""Settings, and the audit log's database, from a command's ``--config`` and ``--profile``.

Shared by the commands (``main``, ``token``, ``audit``, ``audit_tree``) so that none of them
imports another for it.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

__all__ = ["audit_url", "load_config", "settings_from_args"]


def settings_from_args(args: argparse.Namespace, **overrides: Any) -> Any:
    """Settings from the command's ``--config`` and ``--profile`` plus ``overrides``."""
    from gateway.settings import load_settings

    config = getattr(args, "config", None)
    if getattr(args, "profile", None):
        overrides["profile"] = args.profile
    return load_settings(Path(config) if config else None, **overrides)


def load_config(args: argparse.Namespace) -> Any:
    """The settings ``--config`` names (or the defaults and the environment)."""
    from gateway.settings import load_settings

    return load_settings(Path(args.config) if args.config else None)


def _sqlite_missing(url: str) -> Path | None:
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    path = Path(parsed.database)
    return None if path.exists() else path


def audit_url(settings: Any) -> str | None:
    """The audit log's database URL, or None (said on stderr) if its SQLite file is missing:
    reading must not create an empty log."""
    url: str = settings.audit.database_url
    missing = _sqlite_missing(url)
    if missing is not None:
        print(f"liandong: no audit log at {missing}", file=sys.stderr)
        return None
    return url
