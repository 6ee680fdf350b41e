"""The yardstick: a plain starlette app that answers with the gateway's own JSON bodies.

The bench captures the gateway's responses to the warm-throughput requests first, then
serves them from here under the same uvicorn and the same number of workers, so that the
ratio of the two request rates is what GraphQL execution (and everything else the gateway
does per request) costs. The endpoint still does what any server must: read the request,
parse its JSON, pick the answer by ``variables.id``, send it.

Started by ``bench.processes.start_plain`` as ``python -m bench.plain --workers N --port P``
(the gateway's own supervisor, ``gateway/web/worker_processes.py``, so that both spread
connections over
their workers the same way), with ``BENCH_PLAIN_BODIES`` naming a JSON-lines file of
``{"id": ..., "body": "..."}``.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

__all__ = ["BODIES_ENV", "app_factory", "create_app", "load_bodies", "main"]

BODIES_ENV = "BENCH_PLAIN_BODIES"
_NOT_FOUND = b'{"data":null,"errors":[{"message":"no captured body for this id"}]}'


def load_bodies(path: Path) -> dict[str, bytes]:
    """Captured response bodies by debtor id."""
    bodies: dict[str, bytes] = {}
    for line in path.read_bytes().splitlines():
        if line.strip():
            item = orjson.loads(line)
            bodies[item["id"]] = item["body"].encode()
    return bodies


def create_app(bodies: dict[str, bytes]) -> Starlette:
    """The app serving ``bodies`` at ``POST /graphql``."""

    async def graphql(request: Request) -> Response:
        payload = orjson.loads(await request.body())
        body = bodies.get(str(payload.get("variables", {}).get("id")))
        if body is None:
            return Response(_NOT_FOUND, status_code=404, media_type="application/json")
        return Response(body, media_type="application/json")

    async def ready(_request: Request) -> Response:
        return Response(b'{"status":"ok"}', media_type="application/json")

    return Starlette(
        routes=[
            Route("/graphql", graphql, methods=["POST"]),
            Route("/readyz", ready),
        ]
    )


def app_factory() -> Starlette:
    """The app over the bodies named by ``$BENCH_PLAIN_BODIES``."""
    return create_app(load_bodies(Path(os.environ[BODIES_ENV])))


def main() -> int:
    """Serve ``app_factory`` on 127.0.0.1 with ``--workers`` processes."""
    from gateway.web.worker_processes import serve_workers

    parser = argparse.ArgumentParser(description="the plain yardstick")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    return serve_workers(args.host, args.port, args.workers, app="bench.plain:app_factory")


if __name__ == "__main__":
    sys.exit(main())
