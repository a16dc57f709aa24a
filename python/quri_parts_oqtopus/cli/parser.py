"""The command tree of ``oqtopus``: commands, options, help texts with examples."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import NoReturn, TypeAlias

from quri_parts_oqtopus._contract import (
    ESTIMATION,
    JOB_STATUSES,
    LIST_ORDERS,
    MAX_SHOTS,
    MAX_TAG_LENGTH,
    SAMPLING,
    SAMPLING_JOB_TYPES,
    SSE,
    TAG_CHARACTERS,
)
from quri_parts_oqtopus.backend.tags import check_tags
from quri_parts_oqtopus.cli import commands
from quri_parts_oqtopus.cli.context import PROG, Context
from quri_parts_oqtopus.cli.errors import EXIT_USAGE
from quri_parts_oqtopus.cli.operator_syntax import OPERATOR_SYNTAX

__all__ = ["PROG", "build_parser"]

DEFAULT_INTERVAL = 2.0

TOP_EPILOG = f"""\
configuration (first that applies):
  --url URL --token TOKEN         (other users can see it in ps: prefer the next ones)
  --config FILE [--section NAME]  INI file: url=, api_token=, proxy= (section: default;
                                  --section alone reads ~/.oqtopus)
  env OQTOPUS_URL + OQTOPUS_API_TOKEN (+ OQTOPUS_PROXY)
  ~/.oqtopus, section [default]

output:
  Tables for people by default; --json (accepted before or after the command) prints
  only JSON on stdout: the server's objects, or for results the outcome
  {{"job_id", "job_type", "status", "message", "result"}}, printed also when the job failed,
  the wait timed out or was interrupted. "result" is the typed result: {{"counts": {{...}},
  "divided_counts": {{...}}}} keyed by the measured value as an integer (classical bit 0
  is its bit 0, as result().counts in Python), or {{"exp_value", "stds"}}.
  Errors go to stderr, one line that says what to do.

Ctrl-C while waiting (submit --wait, jobs result) stops the wait, not the job: the message
gives the command that cancels it (exit 130).

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

Handler = Callable[[Context], None]


class _Parser(argparse.ArgumentParser):
    """argparse with usage errors on one stderr line, like every other error of the CLI."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


# A string: argparse's class is generic only in the type stubs.
Subcommands: TypeAlias = "argparse._SubParsersAction[_Parser]"


def _formatter(prog: str) -> argparse.HelpFormatter:
    return argparse.RawDescriptionHelpFormatter(prog, max_help_position=32)


def _common_options() -> _Parser:
    """Options every command accepts, before or after its name.

    Defaults are SUPPRESS so that a value given before the command is not reset by the
    subcommand's parser.
    """
    common = _Parser(add_help=False)
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


def tag(text: str) -> str:
    """One tag, refused at once if the API would refuse it (before anything is sent)."""
    try:
        check_tags([text])
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None
    return text


def resource_id(text: str) -> str:
    """A job or device id; refused if it would change the URL path it is put into."""
    if not text or any(c in "/?#%\\" or not c.isprintable() or c.isspace() for c in text):
        raise argparse.ArgumentTypeError(f"not a valid id: {text!r}")
    return text


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

    def __init__(self, common: _Parser) -> None:
        self.common = common

    def command(
        self,
        group: Subcommands,
        name: str,
        summary: str,
        examples: str,
        handler: Handler | None = None,
    ) -> _Parser:
        parser = group.add_parser(
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
        "--timeout",
        type=seconds,
        default=None,
        metavar="SECONDS",
        help="give up waiting after SECONDS, exit 4 (default: wait until the job ends)",
    )
    interval = ("--interval",) if flag else ("--wait", "--interval")
    parser.add_argument(
        *interval,
        dest="interval",
        type=seconds,
        default=DEFAULT_INTERVAL,
        metavar="SECONDS",
        help=(
            "longest gap between status polls; they start 0.05 s apart and double up to it"
            f" (default {DEFAULT_INTERVAL})"
        ),
    )


def _add_submit_settings(parser: argparse.ArgumentParser, *, shots: bool, name: bool) -> None:
    parser.add_argument(
        "--device", required=True, help="device id, e.g. qulacs (checked before submitting)"
    )
    if shots:
        # Checked by the command, whose message says the range and the value given.
        parser.add_argument("--shots", required=True, metavar="N", help=f"1 to {MAX_SHOTS:,}")
        parser.add_argument(
            "--no-qasm-check",
            action="store_true",
            help="upload without reading the program first with the local OpenQASM 3 reader"
            " (for constructs the server supports and the reader does not)",
        )
    parser.add_argument("--name", required=name, default=None, help="job name")
    parser.add_argument("--description", default=None, help="job description")
    _add_tag_option(parser, "a tag of the job, kept in its description (repeatable)")
    _add_wait_options(parser, flag=True)


def _add_tag_option(parser: argparse.ArgumentParser, summary: str) -> None:
    parser.add_argument(
        "--tag",
        dest="tags",
        action="append",
        type=tag,
        metavar="TAG",
        default=None,
        help=f"{summary}; letters, digits and {TAG_CHARACTERS}, at most {MAX_TAG_LENGTH}",
    )


def _add_devices(tree: _Tree, top: Subcommands) -> None:
    parser = tree.command(
        top,
        "devices",
        "list the devices, show one in detail, or save one for the local server",
        f"examples:\n  {PROG} devices\n  {PROG} devices qulacs\n  {PROG} devices --json"
        f"\n  {PROG} devices snapshot my-qpu -o my-qpu.json"
        "\n  oqtopus-local serve --devices my-qpu.json",
        commands.devices,
    )
    parser.add_argument(
        "device_id",
        nargs="*",
        metavar="DEVICE_ID",
        type=resource_id,
        help="one device in detail; 'snapshot DEVICE_ID' writes it as a device file",
    )
    parser.add_argument(
        "-o", "--output", metavar="FILE", default=None,
        help="with snapshot: the device file to write (JSON, for oqtopus-local --devices)",
    )  # fmt: skip
    parser.add_argument("--force", action="store_true", help="overwrite FILE if it exists")


def _add_jobs(tree: _Tree, top: Subcommands) -> None:
    jobs = tree.command(
        top,
        "jobs",
        "list, inspect, wait for, cancel and delete jobs",
        f"examples:\n  {PROG} jobs list\n  {PROG} jobs result JOB_ID --timeout 60",
    )
    group = jobs.add_subparsers(dest="jobs_command", metavar="COMMAND", required=True)
    _add_jobs_list(tree, group)
    for name, summary, handler in (
        ("get", "show a job as the server describes it", commands.jobs_get),
        ("status", "show a job's status", commands.jobs_status),
        ("cancel", "ask the server to cancel a job", commands.jobs_cancel),
        ("delete", "delete a job that has ended", commands.jobs_delete),
    ):
        example = f"examples:\n  {PROG} jobs {name} JOB_ID\n  {PROG} jobs {name} JOB_ID --json"
        parser = tree.command(group, name, summary, example, handler)
        parser.add_argument("job_id", metavar="ID", type=resource_id)
    _add_jobs_result(tree, group)
    _add_jobs_log(tree, group)


def _add_jobs_list(tree: _Tree, group: Subcommands) -> None:
    listing = tree.command(
        group,
        "list",
        "list jobs, newest first by default",
        f"examples:\n  {PROG} jobs list\n  {PROG} jobs list --status failed --q bell"
        f"\n  {PROG} jobs list --page 2 --size 20 --order ASC --json"
        f"\n  {PROG} jobs list --status succeeded --limit 500",
        commands.jobs_list,
    )
    listing.add_argument("--status", choices=JOB_STATUSES, help="only jobs with this status")
    listing.add_argument("--q", metavar="TEXT", help="substring of the id, name or description")
    _add_tag_option(listing, "only jobs with this tag (repeatable: every one)")
    listing.add_argument("--page", type=positive_int, help="page number, from 1")
    listing.add_argument("--size", type=positive_int, help="jobs per page (default 10)")
    listing.add_argument(
        "--limit",
        type=positive_int,
        help="at most this many jobs, reading page after page (default: one page)",
    )
    listing.add_argument("--order", type=str.upper, choices=LIST_ORDERS, help="by creation")


def _add_jobs_result(tree: _Tree, group: Subcommands) -> None:
    result = tree.command(
        group,
        "result",
        "wait for a job's end and show its result (counts or exp_value ± stds)",
        f"examples:\n  {PROG} jobs result JOB_ID\n  {PROG} jobs result JOB_ID --timeout 60"
        " --wait 1\n\nexit 1 if the job failed or was cancelled, 4 on timeout; with --json the"
        "\noutcome object is printed in those cases too.",
        commands.jobs_result,
    )
    result.add_argument("job_id", metavar="ID", type=resource_id)
    _add_wait_options(result, flag=False)


def _add_jobs_log(tree: _Tree, group: Subcommands) -> None:
    log = tree.command(
        group,
        "log",
        "print the log of an SSE job, or write it to a file",
        f"examples:\n  {PROG} jobs log JOB_ID\n  {PROG} jobs log JOB_ID --output run.log"
        f"\n  {PROG} jobs log JOB_ID --output run.log --force",
        commands.jobs_log,
    )
    log.add_argument("job_id", metavar="ID", type=resource_id)
    log.add_argument("--output", metavar="FILE", default=None, help="write the log text to FILE")
    log.add_argument("--force", action="store_true", help="overwrite FILE if it exists")


def _add_submit(tree: _Tree, top: Subcommands) -> None:
    submit = tree.command(
        top,
        "submit",
        "submit a sampling, estimation or SSE job; prints the job id",
        f"examples:\n  {PROG} submit sampling bell.qasm --device qulacs --shots 1000",
    )
    group = submit.add_subparsers(dest="submit_command", metavar="KIND", required=True)
    _add_submit_sampling(tree, group)
    _add_submit_estimation(tree, group)
    _add_submit_sse(tree, group)


def _add_submit_sampling(tree: _Tree, group: Subcommands) -> None:
    sampling = tree.command(
        group,
        SAMPLING,
        "sample OpenQASM 3 programs: one file is a sampling job, several a multi_manual job",
        f"examples:\n  {PROG} submit sampling bell.qasm --device qulacs --shots 1000 --wait"
        f"\n  {PROG} submit sampling a.qasm b.qasm --device qulacs --shots 500 --name pair",
        commands.submit_sampling,
    )
    sampling.add_argument("files", nargs="+", metavar="FILE.qasm", help="OpenQASM 3 programs")
    sampling.add_argument(
        "--job-type", choices=SAMPLING_JOB_TYPES, help="default: by number of files"
    )
    _add_submit_settings(sampling, shots=True, name=False)


def _add_submit_estimation(tree: _Tree, group: Subcommands) -> None:
    estimation = tree.command(
        group,
        ESTIMATION,
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


def _add_submit_sse(tree: _Tree, group: Subcommands) -> None:
    sse = tree.command(
        group,
        SSE,
        "run a Python program on the server (server-side execution)",
        f"examples:\n  {PROG} submit sse program.py --device qulacs --name my-run --wait"
        f"\n  {PROG} jobs log JOB_ID",
        commands.submit_sse,
    )
    sse.add_argument("program", metavar="PROGRAM.py", help="the Python program to upload")
    _add_submit_settings(sse, shots=False, name=True)


def _add_estimate(tree: _Tree, top: Subcommands) -> None:
    estimate = tree.command(
        top,
        "estimate",
        "estimate jobs, QPU time and success probability of programs on a calibrated device,"
        " before submitting anything",
        f"examples:\n  {PROG} estimate bell.qasm --device emu-ring-8 --shots 1000"
        f"\n  {PROG} estimate *.qasm --device emu-heavyhex-16 --shots 1000 --pack"
        f"\n  {PROG} estimate *.qasm --device emu-square-64 --shots 1000 --pack --keep-apart --json"
        "\n\nOnly the device is read. QPU time: shots x (gate durations along the critical"
        "\npath + readout) per job; success probability: the product of (1 - error) of each"
        "\nnative gate and measured qubit, from the device's calibration.",
        commands.estimate,
    )
    estimate.add_argument("files", nargs="+", metavar="FILE.qasm", help="OpenQASM 3 programs")
    estimate.add_argument("--device", required=True, help="a device with calibration data")
    estimate.add_argument("--shots", required=True, metavar="N", help=f"1 to {MAX_SHOTS:,}")
    estimate.add_argument(
        "--pack", action="store_true", help="as a packed job set (default: a job per program)"
    )
    estimate.add_argument(
        "--keep-apart", action="store_true", help="with --pack: a qubit between programs"
    )
    estimate.add_argument(
        "--max-qubits", type=positive_int, default=None, metavar="N",
        help="with --pack: qubits one job may use",
    )  # fmt: skip
    estimate.add_argument(
        "--readout-ns", type=seconds, default=None, metavar="NS",
        help="readout time per shot in ns where the calibration states none (default 1000)",
    )  # fmt: skip


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
    _add_estimate(tree, top)
    return parser
