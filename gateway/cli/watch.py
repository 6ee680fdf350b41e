"""``liandong watch run-due``: one asset-watch pass, for deployments that schedule it by cron."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path
from typing import Any

__all__ = ["add_watch_commands"]


async def _run_due(settings: Any) -> str:
    from gateway.web.services import Services

    # One pass and out: neither the lifecycle worker nor the background scheduler runs here.
    settings = settings.model_copy(
        update={
            "assistance": settings.assistance.model_copy(update={"worker_enabled": False}),
            "watch": settings.watch.model_copy(update={"scheduler_enabled": False}),
        }
    )
    services = await Services.start(settings)
    try:
        assert services.watch is not None
        summary = await services.watch.run_pass()
    finally:
        await services.aclose()
    return summary.line()


def _cmd_run_due(args: argparse.Namespace) -> int:
    from gateway.settings import load_settings

    settings = load_settings(Path(args.config) if args.config else None)
    print(asyncio.run(_run_due(settings)))
    return 0


def add_watch_commands(sub: Any) -> None:
    """Add ``watch run-due`` to the ``liandong`` parser's sub-commands."""
    watch = sub.add_parser("watch", help="asset watches")
    watch_sub = watch.add_subparsers(dest="watch_command", required=True)
    run_due = watch_sub.add_parser(
        "run-due", help="re-query the due watches once, within the per-agency budget"
    )
    run_due.add_argument("--config", help="TOML settings file")
    run_due.set_defaults(func=_cmd_run_due)
