"""``/metrics`` on an address of its own (``[metrics] listen``), for the monitoring network.

A small aiohttp server in the gateway's event loop, so that no second uvicorn (and no second
set of signal handlers) runs in the process. Each worker process binds the address with
``SO_REUSEPORT``, as the gateway's own port is shared; figures are per process either way.
"""

from __future__ import annotations

from aiohttp import web

from gateway.metrics_settings import split_address
from gateway.web.metrics import MetricsEndpoint
from gateway.web.server import bind

__all__ = ["MetricsListener"]


class MetricsListener:
    """Serves ``endpoint`` at ``GET /metrics`` on ``address`` (``host:port``) until closed."""

    def __init__(self, endpoint: MetricsEndpoint, address: str) -> None:
        self.endpoint = endpoint
        self.address = address
        self.url = ""
        self._runner: web.AppRunner | None = None

    async def _metrics(self, request: web.Request) -> web.Response:
        status, body, headers = self.endpoint.render(request.headers.get("Authorization"))
        return web.Response(body=body, status=status, headers=headers)

    async def start(self) -> MetricsListener:
        """Bind and serve; ``url`` then names where (with the port taken, for port 0)."""
        app = web.Application()
        app.router.add_get("/metrics", self._metrics)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        host, port = split_address(self.address)
        sock = bind(host, port, reuse_port=True)
        try:
            await web.SockSite(runner, sock).start()
        except BaseException:
            sock.close()
            await runner.cleanup()
            raise
        self._runner = runner
        bound_host, bound_port = sock.getsockname()[:2]
        self.url = f"http://{bound_host}:{bound_port}"
        return self

    async def aclose(self) -> None:
        """Stop serving."""
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()
