"""``oqtopus``: the parser, the command tree, and the one place errors become exit codes."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import NoReturn

from quri_parts.backend import BackendError

from quri_parts_oqtopus.cli import commands, render
from quri_parts_oqtopus.cli.errors import (
    EXIT_API,
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    CliError,
)
from quri_parts_oqtopus.cli.operator_syntax import OPERATOR_SYNTAX

__all__ = ["build_parser", "main"]

PROG = "oqtopus"
JOB_STATUSES = (
    "registered",
    "submitted",
    "ready",
    "running",
    "succeeded",
    "failed",
    "cancelling",
    "cancelled",
)
DEFAULT_INTERVAL = 2.0

TOP_EPILOG = f"""\
configuration (first that applies):
  --url URL --token TOKEN         (other users can see it in ps: prefer the next ones)
  --config FILE [--section NAME]  INI file: url=, api_token=, proxy= (section: default)
  env OQTOPUS_URL + OQTOPUS_API_TOKEN (+ OQTOPUS_PROXY)
  ~/.oqtopus, section [default]

output:
  Tables for people by default; --json (accepted before or after the command) prints
  only JSON on stdout: the server's objects, or for results
  {{"job_id", "job_type", "status", "message", "result"}}. Errors go to stderr, one line.

exit codes:
  0  success
  1  the job failed or was cancelled (jobs result, submit --wait)
  2  usage or bad input (unknown option, bad shots, unreadable file, bad operator, no config)
  3  server or API error (unknown job or device, refused action, connection failure)
  4  timeout: the job had not ended when --timeout passed
  5  unexpected internal error (a bug: please report it)
  130 interrupted (Ctrl-C)

examples:
  {PROG} devices
  {PROG} jobs list --status succeeded --size 20
  {PROG} submit sampling bell.qasm --device qulacs --shots 1000 --wait
  {PROG} jobs result 0f1e... --timeout 60
  {PROG} --json jobs get 0f1e... | jq .status
"""

Handler = Callable[[commands.Context], None]


class _Parser(argparse.ArgumentParser):
    """argparse with usage errors on one stderr line, like every other error of the CLI."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _formatter(prog: str) -> argparse.HelpFormatter:
    return argparse.RawDescriptionHelpFormatter(prog, max_help_position=32)


def _common_options() -> argparse.ArgumentParser:
    """Options every command accepts, before or after its name.

    Defaults are SUPPRESS so that a value given before the command is not reset by the
    subcommand's parser.
    """
    common = argparse.ArgumentParser(add_help=False)
    group = common.add_argument_group("connection and output")
    group.add_argument("--url", default=argparse.SUPPRESS, help="OQTOPUS base URL")
    group.add_argument("--token", default=argparse.SUPPRESS, help="API token (goes with --url)")
    group.add_argument("--config", default=argparse.SUPPRESS, metavar="FILE", help="INI file")
    group.add_argument("--section", default=argparse.SUPPRESS, metavar="NAME", help="its section")
    group.add_argument(
        "--json",
        action="store_true",
        default=argparse.SUPPRESS,
        help="print machine-readable JSON only",
    )
    return common


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"should be 1 or more: {text!r}")
    return value


def seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not value >= 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"should be a finite number >= 0: {text!r}")
    return value


class _Tree:
    """Adds commands with the shared options, formatter and example epilogs."""

    def __init__(self, common: argparse.ArgumentParser) -> None:
        self.common = common

    def command(
        self,
        group: argparse._SubParsersAction,  # type: ignore[type-arg]
        name: str,
        summary: str,
        examples: str,
        handler: Handler | None = None,
    ) -> argparse.ArgumentParser:
        parser: argparse.ArgumentParser = group.add_parser(
            name,
            help=summary,
            description=summary,
            epilog=examples,
            formatter_class=_formatter,
            parents=[self.common] if handler is not None else [],
        )
        if handler is not None:
            parser.set_defaults(handler=handler)
        return parser


def _add_wait_options(parser: argparse.ArgumentParser, *, flag: bool) -> None:
    if flag:
        parser.add_argument("--wait", action="store_true", help="wait for the job's result")
    parser.add_argument(
        "--timeout", type=seconds, default=None, help="give up waiting after SECONDS (exit 4)"
    )
    interval = ("--interval",) if flag else ("--wait", "--interval")
    parser.add_argument(
        *interval,
        dest="interval",
        type=seconds,
        default=DEFAULT_INTERVAL,
        metavar="SECONDS",
        help=f"seconds between status polls (default {DEFAULT_INTERVAL})",
    )


def _add_submit_settings(parser: argparse.ArgumentParser, *, shots: bool, name: bool) -> None:
    parser.add_argument("--device", required=True, help="device id, e.g. qulacs")
    if shots:
        parser.add_argument("--shots", type=int, required=True, help="1 to 10,000,000")
    parser.add_argument("--name", required=name, default=None, help="job name")
    parser.add_argument("--description", default=None, help="job description")
    _add_wait_options(parser, flag=True)


def _add_devices(tree: _Tree, top: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = tree.command(
        top,
        "devices",
        "list the devices, or show one in detail",
        f"examples:\n  {PROG} devices\n  {PROG} devices qulacs\n  {PROG} devices --json",
        commands.devices,
    )
    parser.add_argument("device_id", nargs="?", metavar="DEVICE_ID", help="one device in detail")


def _add_jobs(tree: _Tree, top: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    jobs = tree.command(
        top,
        "jobs",
        "list, inspect, wait for, cancel and delete jobs",
        f"examples:\n  {PROG} jobs list\n  {PROG} jobs result JOB_ID --timeout 60",
    )
    group = jobs.add_subparsers(dest="jobs_command", metavar="COMMAND", required=True)
    listing = tree.command(
        group,
        "list",
        "list jobs, newest first by default",
        f"examples:\n  {PROG} jobs list\n  {PROG} jobs list --status failed --q bell"
        f"\n  {PROG} jobs list --page 2 --size 20 --order ASC --json",
        commands.jobs_list,
    )
    listing.add_argument("--status", choices=JOB_STATUSES, help="only jobs with this status")
    listing.add_argument("--q", metavar="TEXT", help="substring of the id, name or description")
    listing.add_argument("--page", type=positive_int, help="page number, from 1")
    listing.add_argument("--size", type=positive_int, help="jobs per page (server default 10)")
    listing.add_argument("--order", type=str.upper, choices=("ASC", "DESC"), help="by creation")
    for name, summary, handler in (
        ("get", "show a job as the server describes it", commands.jobs_get),
        ("status", "show a job's status", commands.jobs_status),
        ("cancel", "ask the server to cancel a job", commands.jobs_cancel),
        ("delete", "delete a job that has ended", commands.jobs_delete),
    ):
        example = f"examples:\n  {PROG} jobs {name} JOB_ID\n  {PROG} jobs {name} JOB_ID --json"
        tree.command(group, name, summary, example, handler).add_argument("job_id", metavar="ID")
    result = tree.command(
        group,
        "result",
        "wait for a job's end and show its result (counts or exp_value ± stds)",
        f"examples:\n  {PROG} jobs result JOB_ID\n  {PROG} jobs result JOB_ID --timeout 60"
        f" --wait 1\n\nexit 1 if the job failed or was cancelled, 4 on timeout.",
        commands.jobs_result,
    )
    result.add_argument("job_id", metavar="ID")
    _add_wait_options(result, flag=False)
    log = tree.command(
        group,
        "log",
        "download the log of an SSE job as sselog_<ID>.log",
        f"examples:\n  {PROG} jobs log JOB_ID\n  {PROG} jobs log JOB_ID --dir logs/",
        commands.jobs_log,
    )
    log.add_argument("job_id", metavar="ID")
    log.add_argument("--dir", default=None, help="directory to save into (default: current)")


def _add_submit(tree: _Tree, top: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    submit = tree.command(
        top,
        "submit",
        "submit a sampling, estimation or SSE job; prints the job id",
        f"examples:\n  {PROG} submit sampling bell.qasm --device qulacs --shots 1000",
    )
    group = submit.add_subparsers(dest="submit_command", metavar="KIND", required=True)
    sampling = tree.command(
        group,
        "sampling",
        "sample OpenQASM 3 programs: one file is a sampling job, several a multi_manual job",
        f"examples:\n  {PROG} submit sampling bell.qasm --device qulacs --shots 1000 --wait"
        f"\n  {PROG} submit sampling a.qasm b.qasm --device qulacs --shots 500 --name pair",
        commands.submit_sampling,
    )
    sampling.add_argument("files", nargs="+", metavar="FILE.qasm", help="OpenQASM 3 programs")
    sampling.add_argument(
        "--job-type", choices=("sampling", "multi_manual"), help="default: by number of files"
    )
    _add_submit_settings(sampling, shots=True, name=False)
    estimation = tree.command(
        group,
        "estimation",
        "estimate the expectation value of a Pauli operator on an OpenQASM 3 program",
        f"{OPERATOR_SYNTAX}\n\nexamples:\n  {PROG} submit estimation bell.qasm"
        f' --operator "Z0 Z1:1.0,X0:0.5" --device qulacs --shots 1000 --wait',
        commands.submit_estimation,
    )
    estimation.add_argument("file", metavar="FILE.qasm", help="an OpenQASM 3 program")
    estimation.add_argument(
        "--operator", required=True, help='e.g. "Z0 Z1:1.0,X0:0.5" (syntax below)'
    )
    _add_submit_settings(estimation, shots=True, name=False)
    sse = tree.command(
        group,
        "sse",
        "run a Python program on the server (server-side execution)",
        f"examples:\n  {PROG} submit sse program.py --device qulacs --name my-run --wait"
        f"\n  {PROG} jobs log JOB_ID",
        commands.submit_sse,
    )
    sse.add_argument("program", metavar="PROGRAM.py", help="the Python program to upload")
    _add_submit_settings(sse, shots=False, name=True)


def build_parser() -> argparse.ArgumentParser:
    """The whole command tree."""
    common = _common_options()
    parser = _Parser(
        prog=PROG,
        description="Command-line client of OQTOPUS: devices, jobs, submissions.",
        epilog=TOP_EPILOG,
        formatter_class=_formatter,
        parents=[common],
    )
    top = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    tree = _Tree(common)
    _add_devices(tree, top)
    _add_jobs(tree, top)
    _add_submit(tree, top)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one ``oqtopus`` command; the exit code (see ``oqtopus --help``)."""
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as e:  # --help (0) or a usage error argparse has already printed (2)
        return e.code if isinstance(e.code, int) else EXIT_USAGE
    ctx = commands.Context(args)
    try:
        args.handler(ctx)
    except (Exception, KeyboardInterrupt) as e:  # every failure: one line, never a traceback
        code, message = _classify(e)
        print(f"{PROG}: error: {render.one_line(ctx.redact(message))}", file=sys.stderr)
        return code
    return EXIT_OK


def _classify(error: BaseException) -> tuple[int, str]:
    """The exit code of a failure, and its message: the one error mapping of the CLI."""
    if isinstance(error, CliError):
        return error.exit_code, str(error)
    if isinstance(error, BackendError):
        return EXIT_API, str(error)
    if isinstance(error, (ValueError, OSError)):  # bad arguments; an unwritable --dir
        return EXIT_USAGE, str(error)
    if isinstance(error, KeyboardInterrupt):
        return EXIT_INTERRUPTED, "interrupted"
    return EXIT_INTERNAL, f"unexpected {type(error).__name__}: {error} (please report it)"
