"""The enforcement console: settings of the ``[console]`` table.

The console (``/console``) is on by default in the dev profile and off in prod unless
``enabled = true``. ``demo_court`` is set by ``liandong demo`` only: the sign-in page then
offers the demo users of that court (officer, judge, auditor, agency), their tokens signed by
the gateway as the page is served. A prod gateway refuses it at start-up. ``page_size`` is how
many items of a list the pages ask for at a time (the newest first; "加载更多" asks for the
next ones), up to the API's 100.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["ConsoleSettings"]


class ConsoleSettings(BaseModel):
    """``/console``: whether it is served, the court whose demo users it offers, and how
    many items of a list it asks for at a time."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool | None = None  # None: on in the dev profile, off in prod
    demo_court: str = ""  # the demo's court; empty: no demo users on the sign-in page
    page_size: int = Field(default=100, ge=1, le=100)  # items a list asks for at a time

    def serves(self, profile: str) -> bool:
        """True if ``/console`` is served under ``profile``."""
        return self.enabled if self.enabled is not None else profile == "dev"
