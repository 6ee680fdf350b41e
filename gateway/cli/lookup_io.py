"""The files of ``liandong lookup``: the ids to read and the JSON-lines output to resume.

Plain synchronous file I/O: reading runs before the event loop starts, appending runs in a
worker thread (``asyncio.to_thread``), one chunk at a time.

The output holds one line per id, ``{"id", "status", "data", "errors"}``, appended and
fsync'd a chunk at a time, so a killed run loses at most the chunks in flight and at worst
leaves a last line cut short. ``OutputFile.open`` repairs that (the partial line is cut off)
and reports which ids are done, so that a rerun skips them: each id ends up exactly once.
"""

from __future__ import annotations

import csv
import os
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import orjson

from gateway.errors import InvalidInput
from gateway.validation import debtor_id

__all__ = ["FAILED", "OK", "PARTIAL", "IdsFile", "Outcome", "OutputError", "OutputFile", "read_ids"]

OK, PARTIAL, FAILED = "ok", "partial", "failed"
Outcome = tuple[str, str | None]  # status, and the error code when it failed


def outcome_of(record: Mapping[str, Any]) -> Outcome:
    """A result line's status and, for a failure, the code of its first error."""
    status = str(record["status"])
    if status != FAILED:
        return status, None
    errors = record.get("errors") or [{}]
    code = (errors[0].get("extensions") or {}).get("code")
    return status, str(code) if code else "UNKNOWN"


class OutputError(Exception):
    """The output file cannot be resumed safely (say why, name the line)."""


@dataclass(slots=True)
class IdsFile:
    """The ids of a CSV file: valid ones normalised and de-duplicated, invalid ones kept
    with the reason (they are reported as failures, not fatal)."""

    valid: list[str] = field(default_factory=list)
    invalid: dict[str, InvalidInput] = field(default_factory=dict)
    duplicates: int = 0


def read_ids(path: Path) -> IdsFile:
    """Ids from the first column of ``path``; a header row and blank lines are skipped.

    The first non-blank row is a header when its first cell is not a valid id and holds no
    digit (``id``, ``身份证号``); any other invalid cell is an invalid id.
    """
    found = IdsFile()
    seen: set[str] = set()
    first = True
    # utf-8-sig: spreadsheets save CSV with a byte-order mark.
    with path.open(newline="", encoding="utf-8-sig") as f:
        for line, row in enumerate(csv.reader(f), start=1):
            cell = row[0].strip() if row else ""
            if not cell:
                continue
            try:
                number = debtor_id(cell, f"line {line}")[0]
            except InvalidInput as err:
                if first and not any(c.isdigit() for c in cell):
                    first = False
                    continue
                found.invalid.setdefault(cell, err)
            else:
                if number in seen:
                    found.duplicates += 1
                else:
                    seen.add(number)
                    found.valid.append(number)
            first = False
    return found


class OutputFile:
    """The JSON-lines output: what it already holds, and appending whole chunks to it."""

    def __init__(self, path: Path, done: Mapping[str, Outcome], repaired: int) -> None:
        self.path = path
        self.done = dict(done)  # id -> (status, code of a failure) of the ids written
        self.repaired = repaired  # bytes of a cut-off last line that were removed
        self._handle: BinaryIO | None = None

    @classmethod
    def open(cls, path: Path, *, drop_failed: bool = False) -> OutputFile:
        """Read what ``path`` holds (creating it if missing), cutting off a partial last
        line; with ``drop_failed``, rewrite it without its failed lines first."""
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists():
            path.touch()
        data = path.read_bytes()
        keep = data.rfind(b"\n") + 1  # everything after the last newline is a cut-off line
        repaired = len(data) - keep
        if repaired:
            with path.open("r+b") as f:
                f.truncate(keep)
                f.flush()
                os.fsync(f.fileno())
        lines = data[:keep].splitlines()
        done: dict[str, Outcome] = {}
        failed: set[int] = set()
        for number, line in enumerate(lines, start=1):
            try:
                record = orjson.loads(line)
                done[str(record["id"])] = outcome_of(record)
            except (orjson.JSONDecodeError, KeyError, TypeError, AttributeError):
                raise OutputError(f"{path}: line {number} is not a lookup result") from None
            if record["status"] == FAILED:
                failed.add(number)
        if drop_failed and failed:
            _replace(path, [ln for n, ln in enumerate(lines, start=1) if n not in failed])
            done = {k: v for k, v in done.items() if v[0] != FAILED}
        return cls(path, done, repaired)

    def append(self, records: Sequence[Mapping[str, Any]]) -> None:
        """Write ``records`` as lines in one write and make them durable (fsync)."""
        payload = b"".join(orjson.dumps(r) + b"\n" for r in records)
        if not payload:
            return
        if self._handle is None:
            self._handle = self.path.open("ab")
        self._handle.write(payload)
        self._handle.flush()
        os.fsync(self._handle.fileno())
        for r in records:
            self.done[str(r["id"])] = outcome_of(r)

    def close(self) -> None:
        """Close the file handle (appending opens it again)."""
        if self._handle is not None:
            self._handle.close()
            self._handle = None

    def summary(self, ids: Sequence[str] | None = None) -> dict[Outcome, int]:
        """How many ids (of ``ids``, else all) the file holds per (status, failure code)."""
        counts: dict[Outcome, int] = {}
        for key in self.done if ids is None else ids:
            outcome = self.done.get(key)
            if outcome is not None:
                counts[outcome] = counts.get(outcome, 0) + 1
        return counts


def _replace(path: Path, lines: list[bytes]) -> None:
    # Write-then-rename: a crash leaves the old file or the new one, never half of each.
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(b"".join(line + b"\n" for line in lines))
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
