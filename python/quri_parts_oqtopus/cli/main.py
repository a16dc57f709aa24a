"""``oqtopus``: run one command, and the one place where errors become exit codes."""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence

from quri_parts.backend import BackendError

from quri_parts_oqtopus.cli import render
from quri_parts_oqtopus.cli.context import Context
from quri_parts_oqtopus.cli.errors import (
    EXIT_API,
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    CliError,
)
from quri_parts_oqtopus.cli.parser import PROG, build_parser

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Run one ``oqtopus`` command; the exit code (see ``oqtopus --help``)."""
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as e:  # --help (0) or a usage error argparse has already printed (2)
        return e.code if isinstance(e.code, int) else EXIT_USAGE
    _quiet_library_notices()
    ctx = Context(args)
    try:
        args.handler(ctx)
    except (Exception, KeyboardInterrupt) as e:  # every failure: one line, never a traceback
        code, message = _classify(e)
        print(f"{PROG}: error: {render.one_line(ctx.redact(message))}", file=sys.stderr)
        return code
    finally:
        ctx.close()
    return EXIT_OK


def _quiet_library_notices() -> None:
    """Keep the library's notices of repeated attempts off stderr: a command prints its outcome."""
    # Python's last-resort handler would print them; a failure already says its attempts.
    package = logging.getLogger("quri_parts_oqtopus")
    if not any(isinstance(handler, logging.NullHandler) for handler in package.handlers):
        package.addHandler(logging.NullHandler())


def _classify(error: BaseException) -> tuple[int, str]:
    """The exit code of a failure, and its message: the one error mapping of the CLI."""
    if isinstance(error, CliError):
        return error.exit_code, str(error)
    if isinstance(error, ValueError):  # bad arguments, also those that are a BackendError
        return EXIT_USAGE, str(error)
    if isinstance(error, BackendError):
        return EXIT_API, str(error)
    if isinstance(error, OSError):  # an unwritable --dir
        return EXIT_USAGE, str(error)
    if isinstance(error, KeyboardInterrupt):
        return EXIT_INTERRUPTED, "interrupted"
    return EXIT_INTERNAL, f"unexpected {type(error).__name__}: {error} (please report it)"
