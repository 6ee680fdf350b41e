"""The ``liandong`` command line."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from gateway.cli.settings_args import settings_from_args

__all__ = ["main"]


def _cmd_demo(args: argparse.Namespace) -> int:
    from gateway.cli.demo import run_demo
    from gateway.log_setup import configure_logging

    settings = settings_from_args(args, port=args.port)
    configure_logging(settings.log)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run_demo(settings, seed=args.seed, people=args.people))
    return 0


def _cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from gateway.cli.serve_refusal import SERVE_APP
    from gateway.log_setup import configure_logging
    from gateway.web.announcing_server import AnnouncingServer
    from gateway.web.server import bind
    from gateway.web.worker_processes import can_share_port, serve_workers

    settings = settings_from_args(args)  # fail here, naming the key, rather than in every worker
    configure_logging(settings.log)  # this process's (the workers' supervisor's) own lines
    if args.config:
        os.environ["LIANDONG_CONFIG"] = str(Path(args.config).resolve())
    if args.profile:
        os.environ["LIANDONG_PROFILE"] = args.profile
    host = args.host or settings.host
    port = args.port if args.port is not None else settings.port
    if args.workers > 1 and can_share_port():
        # Each worker listens itself, so connections spread over them
        # (gateway/web/worker_processes.py).
        return serve_workers(
            host,
            port,
            args.workers,
            app=SERVE_APP,
            announce=lambda url: _say_listening(settings, url, args.workers),
        )
    if args.workers == 1:
        # Bound here, not by uvicorn: a port in use is then one line (see main), and the
        # address printed is the one really listening (port 0 picks a free one).
        sock = bind(host, port)
        bound_host, bound_port = sock.getsockname()[:2]
        url = f"http://{bound_host}:{bound_port}"
        config = uvicorn.Config(SERVE_APP, factory=True, log_level="warning", access_log=False)
        # Said once the app has started: a refused start never says it is serving.
        server = AnnouncingServer(config, lambda: _say_listening(settings, url, 1))
        # Ctrl-C is how a person stops it: as uvicorn.run does, no traceback for it.
        with contextlib.suppress(KeyboardInterrupt):
            server.run(sockets=[sock])
        return 0
    sock = bind(host, port)  # only to fail in one line if taken; uvicorn binds it again
    sock.close()
    _say_listening(settings, f"http://{host}:{port}", args.workers)
    uvicorn.run(
        SERVE_APP,
        factory=True,
        host=host,
        port=port,
        workers=args.workers,
        log_level="warning",
        access_log=False,
    )
    return 0


def _say_listening(settings: Any, url: str, workers: int) -> None:
    extra = f", {workers} workers" if workers > 1 else ""
    ui = "GraphiQL and " if settings.profile == "dev" else ""
    print(
        f"liandong: serving {ui}the API on {url}/graphql ({settings.profile} profile{extra});"
        " Ctrl-C stops",
        flush=True,
    )


def _cmd_mocks_serve(args: argparse.Namespace) -> int:
    from mocks.runner import serve
    from mocks.world import World

    names = ("public_security", "civil_affairs", "land_registry", "market_regulation")
    ports = {name: args.base_port + i if args.base_port else 0 for i, name in enumerate(names)}
    world = World(seed=args.seed, people=args.people)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(world, "127.0.0.1", ports))
    return 0


def _cmd_lookup(args: argparse.Namespace) -> int:
    from gateway.cli.lookup_command import run_command

    return run_command(args)


def _cmd_schema_print(args: argparse.Namespace) -> int:
    from schema import SchemaOptions, build_schema
    from schema.federation import public_sdl, subgraph_sdl

    if args.federation:
        sys.stdout.write(subgraph_sdl(build_schema(SchemaOptions(federation=True))))
    else:
        sys.stdout.write(public_sdl(build_schema()))
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="liandong", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="mock agencies + gateway on SQLite, with a dev token")
    demo.add_argument("--config", help="TOML settings file")
    demo.add_argument("--port", type=int, default=8000)
    demo.add_argument("--people", type=int, default=1000)
    demo.add_argument("--seed", type=int, default=7)
    demo.set_defaults(func=_cmd_demo)

    serve = sub.add_parser("serve", help="run the gateway")
    serve.add_argument("--config", help="TOML settings file")
    serve.add_argument("--profile", choices=["dev", "prod"])
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument("--workers", type=int, default=1)
    serve.set_defaults(func=_cmd_serve)

    mocks = sub.add_parser("mocks", help="the mock agencies")
    mocks_sub = mocks.add_subparsers(dest="mocks_command", required=True)
    mserve = mocks_sub.add_parser("serve", help="serve the four mock agencies on 127.0.0.1")
    mserve.add_argument("--people", type=int, default=1000)
    mserve.add_argument("--seed", type=int, default=7)
    mserve.add_argument(
        "--base-port", type=int, default=8101, help="first of four consecutive ports (0: ephemeral)"
    )
    mserve.set_defaults(func=_cmd_mocks_serve)

    from gateway.cli.witness import add_witness_command

    add_witness_command(mocks_sub)

    from gateway.cli.token import add_token_command

    add_token_command(sub)

    from gateway.cli.lookup_command import add_arguments as add_lookup_arguments

    lookup = sub.add_parser("lookup", help="bulk look-ups of a case's debtors into JSON lines")
    add_lookup_arguments(lookup)
    lookup.set_defaults(func=_cmd_lookup)

    schema = sub.add_parser("schema", help="the GraphQL schema")
    schema_sub = schema.add_subparsers(dest="schema_command", required=True)
    sprint = schema_sub.add_parser("print", help="print the SDL")
    sprint.add_argument(
        "--federation", action="store_true", help="the Federation v2 subgraph SDL (@link, @key)"
    )
    sprint.set_defaults(func=_cmd_schema_print)

    from gateway.cli.audit import add_audit_commands

    add_audit_commands(sub)

    from gateway.cli.db import add_db_commands

    add_db_commands(sub)

    from gateway.cli.watch import add_watch_commands

    add_watch_commands(sub)

    from gateway.cli.config import add_config_commands

    add_config_commands(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``liandong`` console script."""
    from gateway.cli.errors import CliError, describe_os_error
    from gateway.settings import SettingsError

    args = _parser().parse_args(argv)
    try:
        code: int = args.func(args)
    except (SettingsError, CliError) as err:
        print(f"liandong: {err}", file=sys.stderr)
        return getattr(err, "exit_code", 2)
    except OSError as err:
        hint = "choose another with --base-port" if args.command == "mocks" else ""
        if args.command in ("demo", "serve"):
            hint = "choose another with --port (agencies: their base_url in the config)"
        print(f"liandong: {describe_os_error(err, port_hint=hint)}", file=sys.stderr)
        return 1
    return code


if __name__ == "__main__":
    sys.exit(main())
