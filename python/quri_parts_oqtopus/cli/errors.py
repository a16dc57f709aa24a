"""The CLI's own failures, each carrying the exit code it ends the command with."""

from __future__ import annotations

#: Exit codes; ``--help`` documents them and ``main`` is the only place that maps errors to them.
EXIT_OK = 0
EXIT_JOB_FAILED = 1
EXIT_USAGE = 2
EXIT_API = 3
EXIT_TIMEOUT = 4
EXIT_INTERNAL = 5
EXIT_INTERRUPTED = 130


class CliError(Exception):
    """A failure that ends the command with ``exit_code`` and one line on stderr."""

    exit_code = EXIT_USAGE


class UsageError(CliError):
    """Bad input found by the CLI itself (missing file, wrong kind of job, ...)."""

    exit_code = EXIT_USAGE


class JobFailedError(CliError):
    """The awaited job ended ``failed`` or ``cancelled``."""

    exit_code = EXIT_JOB_FAILED


class JobTimeoutError(CliError):
    """The awaited job had not ended when ``--timeout`` passed."""

    exit_code = EXIT_TIMEOUT


class UnknownDeviceError(CliError):
    """The device of a submission does not exist; found before anything was registered."""

    exit_code = EXIT_API


class WaitInterruptedError(CliError):
    """Ctrl-C while waiting for a job: the wait stopped, the job goes on."""

    exit_code = EXIT_INTERRUPTED
