"""Masking of unexpected errors without strawberry's costly check of every result.

A shortcut like the others here: it overrides ``MaskErrors._process_result``, a private
method of strawberry's, so it lives with them and is used only while the shortcuts are on;
with them off the schema masks with ``schema.error_codes.MaskInternal`` itself.
"""

from __future__ import annotations

from schema.error_codes import MaskInternal

__all__ = ["LeanMaskInternal"]


class LeanMaskInternal(MaskInternal):
    """``MaskInternal`` without strawberry's costly check of the result (a shortcut)."""

    def _process_result(self, result: object) -> None:
        # The same test as strawberry's, without its ``isinstance`` against a runtime
        # Protocol: that took ~20 µs on every answer, errors or not.
        errors = getattr(result, "errors", None)
        if errors:
            result.errors = self._process_errors(errors)  # type: ignore[attr-defined]
