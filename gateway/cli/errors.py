"""What the command line says when it fails: one line naming what to do, never a traceback.

Commands raise :class:`CliError` for failures they understand; ``liandong``'s entry point
also turns the operating system's refusals (a port in use, a missing file) into one line,
because those reach it from deep inside uvicorn, aiohttp or ``pathlib``.
"""

from __future__ import annotations

import errno

__all__ = ["CliError", "describe_os_error"]

_LISTEN_ERRORS = frozenset({errno.EADDRINUSE, errno.EADDRNOTAVAIL, errno.EACCES})


class CliError(Exception):
    """A failure the user can act on; ``str()`` is the whole message, ``exit_code`` the status."""

    def __init__(self, message: str, exit_code: int = 2) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def describe_os_error(exc: OSError, *, port_hint: str = "") -> str:
    """One line for ``exc``: what failed, on which file or address, and what to try."""
    reason = exc.strerror or str(exc)
    if exc.errno in _LISTEN_ERRORS and exc.filename is None:
        # aiohttp and gateway.web.server.bind put the address into the message itself.
        hint = "; stop the process that holds it" + (f" or {port_hint}" if port_hint else "")
        if exc.errno == errno.EADDRINUSE and "in use" not in reason.lower():
            reason += " (address already in use)"
        return f"cannot listen: {reason}{hint}"
    if exc.filename is not None:
        return f"{exc.filename}: {reason}"
    return reason
