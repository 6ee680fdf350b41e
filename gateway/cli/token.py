"""``liandong token``: a dev JWT signed with the secret of the gateway it is meant for.

The command never makes a secret: a token signed with a new one would be refused by the
running gateway as a bad signature, with nothing to say why. It uses the secret the settings
name, or, with the default relative data dir, the nearest ``.liandong`` in this folder or a
parent (the gateway's folder); otherwise it says where it looked.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from gateway.auth import Role
from gateway.cli.errors import CliError

__all__ = ["add_token_command"]


def _find_data_dir(settings: Any) -> Any:
    """``settings`` pointing at a data dir that holds the JWT secret, or ``CliError``."""
    if settings.auth.secret is not None:
        return settings
    secret_file: Path = settings.auth.secret_file
    if secret_file.is_file():
        return settings
    looked = [secret_file.resolve()]
    data_dir: Path = settings.data_dir
    if not data_dir.is_absolute() and secret_file == data_dir / "jwt-secret":
        for parent in Path.cwd().resolve().parents:
            candidate = parent / data_dir / "jwt-secret"
            looked.append(candidate)
            if candidate.is_file():
                update = {"secret_file": candidate}
                return settings.model_copy(
                    update={
                        "data_dir": parent / data_dir,
                        "auth": settings.auth.model_copy(update=update),
                    }
                )
    where = str(looked[0]) if len(looked) == 1 else f"{looked[0]} and {len(looked) - 1} parents"
    raise CliError(
        f"no JWT secret at {where}; the gateway makes it when it first starts: run this in"
        " the gateway's folder, or give the gateway's --config (or LIANDONG_DATA_DIR)"
    )


def _cmd_token(args: argparse.Namespace) -> int:
    from gateway.cli.demo import DEMO_OFFICER, DemoWorld, demo_token
    from gateway.cli.settings_args import settings_from_args

    settings = _find_data_dir(settings_from_args(args))
    court = args.court or DemoWorld.make().court
    print(
        demo_token(
            settings,
            court,
            officer=args.officer or DEMO_OFFICER,
            roles=tuple(args.role or [Role.OFFICER.value]),
            scopes=tuple(args.scope or ()),
        )
    )
    return 0


def add_token_command(sub: Any) -> None:
    """Register ``liandong token`` on the top-level subparsers."""
    roles = [role.value for role in Role]
    token = sub.add_parser(
        "token",
        help="print a dev JWT signed with the local secret",
        description="A dev JWT signed with the secret of the gateway whose folder this is.",
    )
    token.add_argument("--config", help="the gateway's TOML settings file")
    token.add_argument("--officer", help="subject / officer id (default: the demo officer)")
    token.add_argument(
        "--role",
        action="append",
        choices=roles,
        metavar="ROLE",
        help=f"role, repeatable (default officer): {', '.join(roles)}",
    )
    token.add_argument("--scope", action="append", help="scope such as unmask (repeatable)")
    token.add_argument("--court", help="court name (default: the demo court)")
    token.set_defaults(func=_cmd_token)
