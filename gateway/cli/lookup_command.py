"""The ``liandong lookup`` command: arguments in, progress bar, summary table, exit code.

The look-ups themselves are ``gateway.cli.lookup``; the files are
``gateway.cli.lookup_io``. Files
are read, repaired and the invalid ids recorded here with plain synchronous I/O before the
event loop starts; the loop only runs the requests (writing through a worker thread).
Only ``add_arguments`` is needed to build the CLI's parser, so the heavy imports (aiohttp,
rich) wait until the command runs.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console

    from gateway.cli.lookup import LookupOptions, RunStats
    from gateway.cli.lookup_io import Outcome, OutputFile

__all__ = ["EXIT_FAILED_IDS", "EXIT_INTERRUPTED", "EXIT_STOPPED", "EXIT_USAGE", "run_command"]

TOKEN_ENV = "LIANDONG_TOKEN"  # noqa: S105 - the variable's name, not a secret
EXIT_FAILED_IDS = 1  # finished; some ids failed (their lines say why)
EXIT_USAGE = 2  # bad arguments, unreadable files, a refused query
EXIT_STOPPED = 3  # the gateway stopped answering or refused the token: run again to resume
EXIT_INTERRUPTED = 130
MAX_CHUNK = 500  # the gateway's default limits.max_ids


class _Usage(Exception):
    pass


def _options(args: argparse.Namespace) -> LookupOptions:
    from gateway.cli.lookup import DEFAULT_QUERY, LookupOptions, graphql_url
    from gateway.errors import InvalidInput
    from gateway.validation import case_number

    token = args.token or os.environ.get(TOKEN_ENV, "")
    if not token.strip():
        raise _Usage(f"no token: pass --token or set {TOKEN_ENV}")
    try:
        graphql_url(args.url)
        number = case_number(args.case, "--case")
    except (ValueError, InvalidInput) as err:
        raise _Usage(str(err)) from None
    if not 1 <= args.chunk_size <= MAX_CHUNK:
        raise _Usage(f"--chunk-size must be 1 to {MAX_CHUNK}")
    if args.concurrency < 1:
        raise _Usage("--concurrency must be at least 1")
    query = DEFAULT_QUERY
    if args.query:
        try:
            query = Path(args.query).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as err:
            raise _Usage(f"--query: {err}") from None
        if "$ids" not in query or "$caseNumber" not in query or "debtors" not in query:
            raise _Usage("--query must select debtors(ids: $ids, caseNumber: $caseNumber)")
    return LookupOptions(
        url=args.url,
        case_number=number,
        token=token.strip(),
        query=query,
        chunk_size=args.chunk_size,
        concurrency=args.concurrency,
        timeout_s=args.timeout,
    )


async def _run(
    options: LookupOptions,
    pending: Sequence[str],
    out: OutputFile,
    console: Console | None,
    stats: RunStats,
) -> RunStats:
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TaskProgressColumn,
        TextColumn,
        TimeRemainingColumn,
    )

    from gateway.cli.lookup import run_lookup

    if console is None:
        return await run_lookup(options, pending, out, stats=stats)
    columns = (
        TextColumn("looking up"),
        BarColumn(),
        MofNCompleteColumn(),
        TaskProgressColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console) as progress:
        task = progress.add_task("lookup", total=len(pending))
        return await run_lookup(
            options, pending, out, lambda n: progress.advance(task, n), stats=stats
        )


def _summary(console: Console, counts: dict[Outcome, int], total: int) -> None:
    from rich.table import Table

    table = Table(title=f"{total:,} ids")
    table.add_column("status")
    table.add_column("code")
    table.add_column("ids", justify="right")
    for (status, code), n in sorted(counts.items(), key=lambda kv: (kv[0][0], kv[0][1] or "")):
        table.add_row(status, code or "", f"{n:,}")
    missing = total - sum(counts.values())
    if missing:
        table.add_row("not yet", "", f"{missing:,}")
    console.print(table)


def run_command(args: argparse.Namespace) -> int:
    """Run ``liandong lookup`` with parsed ``args``; returns the exit code."""
    from rich.console import Console

    from gateway.cli.lookup import (
        CaseRefused,
        GatewayUnavailable,
        QueryRefused,
        RunStats,
        TokenRefused,
    )
    from gateway.cli.lookup_io import FAILED, OutputError, OutputFile, read_ids

    # soft_wrap: messages stay on one line (paths are long), for people and for grep alike.
    out_console = Console(soft_wrap=True, highlight=False)
    err_console = Console(stderr=True, soft_wrap=True, highlight=False)
    try:
        options = _options(args)
        ids = read_ids(Path(args.ids))
        out = OutputFile.open(Path(args.out), drop_failed=args.retry_failed)
    except (_Usage, OutputError) as err:
        err_console.print(f"liandong lookup: {err}", markup=False)
        return EXIT_USAGE
    except (OSError, UnicodeDecodeError) as err:
        err_console.print(f"liandong lookup: {err}", markup=False)
        return EXIT_USAGE
    if out.repaired:
        err_console.print(f"repaired {args.out}: removed a cut-off last line", markup=False)
    every = [*ids.valid, *ids.invalid]
    before = sum(1 for key in every if key in out.done)
    out.append(
        [
            {
                "id": raw,
                "status": FAILED,
                "data": None,
                "errors": [{"message": err.message, "extensions": err.extensions}],
            }
            for raw, err in ids.invalid.items()
            if raw not in out.done
        ]
    )
    pending = [i for i in ids.valid if i not in out.done]
    show = sys.stdout.isatty() and not args.no_progress
    stopped, first = "", ""  # why the run stopped; what to do before running it again
    code = 0
    stats = RunStats()
    try:
        asyncio.run(_run(options, pending, out, out_console if show else None, stats))
    except KeyboardInterrupt:
        stopped, code = "interrupted", EXIT_INTERRUPTED
    except TokenRefused as err:
        stopped, code = (
            f"stopped: {err}: it has expired or was made for another gateway",
            EXIT_STOPPED,
        )
        first = "get a new token (liandong token, in the gateway's folder), then "
    except CaseRefused as err:
        stopped, code = f"stopped: {err} (unknown, or not a case you are on)", EXIT_USAGE
        first = "check --case, then "
    except GatewayUnavailable as err:
        stopped, code = f"stopped: {err}", EXIT_STOPPED
    except QueryRefused as err:
        stopped, code = f"the gateway refused the query: {err}", EXIT_USAGE
    finally:
        out.close()
    counts = out.summary(every)
    _summary(out_console, counts, len(every))
    written = sum(counts.values()) - before
    out_console.print(
        f"this run: {written:,} written in {stats.requests:,} requests,"
        f" {before:,} already in {args.out}"
        + (f", {ids.duplicates:,} duplicate ids ignored" if ids.duplicates else ""),
        markup=False,
    )
    if stopped:
        err_console.print(f"{stopped}; {first}run the same command again to resume", markup=False)
        return code
    if any(status == FAILED for status, _ in counts):
        return EXIT_FAILED_IDS
    return 0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The command's arguments (kept here, next to their meaning)."""
    parser.description = (
        "Look up a case's debtors in bulk: one JSON line per id in --out; ids already there"
        " are skipped, so an interrupted run is resumed by running it again."
    )
    parser.epilog = (
        "exit codes: 0 all answered, none failed; 1 all answered, some failed;"
        " 2 bad arguments or files; 3 the gateway stopped answering (run again);"
        " 130 interrupted"
    )
    parser.add_argument("--url", required=True, help="the gateway (…/graphql or its root)")
    parser.add_argument("--case", required=True, help="the case number (案号) of the debtors")
    parser.add_argument("--ids", required=True, help="CSV file, ids in the first column")
    parser.add_argument("--out", required=True, help="JSON-lines output, appended to")
    parser.add_argument("--token", help=f"bearer token (default: ${TOKEN_ENV})")
    parser.add_argument("--query", help="GraphQL file using $ids and $caseNumber")
    parser.add_argument("--chunk-size", type=int, default=50, help="ids per request")
    parser.add_argument("--concurrency", type=int, default=4, help="requests in flight")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per request")
    parser.add_argument(
        "--retry-failed", action="store_true", help="redo ids whose lines say failed"
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
