"""Running the ASGI app under uvicorn, in this process and this event loop."""

from __future__ import annotations

import asyncio
import socket
from contextlib import suppress

import uvicorn
from starlette.applications import Starlette

__all__ = ["RunningServer", "bind", "start_server"]


def bind(
    host: str = "127.0.0.1", port: int = 0, *, reuse_port: bool = False, listen: bool = True
) -> socket.socket:
    """A listening socket; port 0 takes a free one (read it back from ``getsockname``).

    ``reuse_port`` puts it in the port's ``SO_REUSEPORT`` group
    (``gateway/web/worker_processes.py``);
    ``listen=False`` only binds it.
    """
    # IPPROTO_TCP spelled out: asyncio sets TCP_NODELAY only on sockets whose proto says
    # TCP, and accepted sockets inherit it; with 0, a response written in two parts waits
    # for the client's delayed ACK (~40 ms).
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if reuse_port:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            # The bare errno text names no address; the command line shows this message.
            raise OSError(exc.errno, f"cannot bind {host}:{port}: {exc.strerror}") from exc
        if listen:
            sock.listen(2048)
            sock.setblocking(False)
    except BaseException:
        sock.close()
        raise
    return sock


class RunningServer:
    """A uvicorn server serving ``app`` on a pre-bound socket until ``stop``."""

    def __init__(self, app: Starlette, sock: socket.socket) -> None:
        self.sock = sock
        host, port = sock.getsockname()[:2]
        self.url = f"http://{host}:{port}"
        config = uvicorn.Config(app, log_level="warning", lifespan="on", access_log=False)
        self.server = uvicorn.Server(config)
        self.task: asyncio.Task[None] | None = None

    async def start(self) -> RunningServer:
        self.task = asyncio.create_task(self.server.serve(sockets=[self.sock]))
        while not self.server.started:
            if self.task.done():
                await self.task  # re-raises why it failed to start
                raise RuntimeError("server stopped during start-up")
            await asyncio.sleep(0.01)
        return self

    async def stop(self) -> None:
        self.server.should_exit = True
        if self.task is not None:
            with suppress(asyncio.CancelledError):
                await self.task
        self.sock.close()


async def start_server(app: Starlette, host: str = "127.0.0.1", port: int = 0) -> RunningServer:
    """Bind, start and wait until the server accepts connections."""
    return await RunningServer(app, bind(host, port)).start()
