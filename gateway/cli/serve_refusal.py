"""A refusal to start, said by ``liandong serve`` in one line on standard error.

When the gateway refuses to start on purpose (one of our own errors, with its code: the
audit start check's ``AUDIT_CHAIN_CONTRADICTED`` is the one that matters), starlette hands
uvicorn the whole traceback as the lifespan's failure message, and uvicorn logs it before
its own "Application startup failed". An operator then reads a page of frames to find one
sentence. ``StartRefusal`` wraps the app for ``serve`` and its workers: such a refusal is
written as ``liandong: refusing to start: CODE: message`` (the message names the chain and
what to do), and uvicorn is told that start-up failed with nothing more to say, so it exits
with its start-up failure status (3) as before, which the ``--workers`` supervisor reads as
"stop" (exit 1). Anything else that fails at start-up (a bug, a database that does not
answer) keeps its traceback: there the frames are what is needed.
"""

from __future__ import annotations

import logging
import sys
from typing import TextIO

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.errors import LiandongError

__all__ = ["SERVE_APP", "StartRefusal", "app_factory", "refusal_line"]

SERVE_APP = "gateway.cli.serve_refusal:app_factory"  # what ``serve`` and its workers load

_UVICORN_SAYS = "Application startup failed. Exiting."


def refusal_line(err: LiandongError) -> str:
    """The one line that says why the gateway does not start."""
    message = " ".join(err.message.split())  # one line, whatever the message holds
    return f"liandong: refusing to start: {err.code}: {message}"


class _Unsaid(logging.Filter):
    """Drops uvicorn's own start-up failure line once the refusal has been said."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != _UVICORN_SAYS


class StartRefusal:
    """``app``, with a refusal to start written as one line to ``stream`` (stderr)."""

    def __init__(self, app: ASGIApp, stream: TextIO | None = None) -> None:
        self.app = app
        self.stream = stream

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "lifespan":
            await self.app(scope, receive, send)
            return
        held: list[Message] = []

        async def hold_failure(message: Message) -> None:
            # Starlette sends the failure (with the traceback) before it re-raises: held
            # until the error itself says whether it is a refusal.
            if message["type"] == "lifespan.startup.failed":
                held.append(message)
                return
            await send(message)

        try:
            await self.app(scope, receive, hold_failure)
        except LiandongError as err:
            if not held:
                raise  # not at start-up: uvicorn says what it always says
            stream = self.stream or sys.stderr
            print(refusal_line(err), file=stream, flush=True)
            logging.getLogger("uvicorn.error").addFilter(_Unsaid())
            await send({"type": "lifespan.startup.failed", "message": ""})
            return
        except BaseException:
            for message in held:
                await send(message)
            raise
        for message in held:  # a failure sent without raising: passed on as it was
            await send(message)


def app_factory() -> StartRefusal:
    """The gateway as ``serve`` runs it (``gateway.web.asgi.app_factory``), wrapped."""
    # Imported here: the ``--workers`` supervisor names this factory but never builds it.
    from gateway.web.asgi import app_factory as gateway_factory

    return StartRefusal(gateway_factory())
