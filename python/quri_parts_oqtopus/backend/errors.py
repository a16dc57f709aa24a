"""The exceptions of the backends: each is what quri-parts-oqtopus 1.1.5 raises *and* what its
documentation promises, so that an ``except`` clause written for either catches it.

Messages start with the reference's fixed text (``"To refresh job is failed."`` ...), which
users match in tests and log filters, and go on with ours: the job id, the HTTP status and
the server's message.
"""

from __future__ import annotations

import configparser
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TypeVar

from quri_parts.backend import BackendError

__all__ = [
    "CANCEL_FAILED",
    "DEVICE_REFRESH_FAILED",
    "ESTIMATION_FAILED",
    "INVALID_RESULT",
    "REFRESH_FAILED",
    "RETRIEVE_FAILED",
    "SAMPLING_FAILED",
    "SSE_FAILED",
    "OqtopusArgumentTypeError",
    "OqtopusConfigError",
    "OqtopusConfigFileError",
    "OqtopusDeviceInfoError",
    "OqtopusDirectoryError",
    "OqtopusInvalidArgumentError",
    "OqtopusJobTypeError",
    "OqtopusMalformedResultError",
    "OqtopusMissingResultError",
    "OqtopusTimeoutError",
    "reported_as",
    "with_message",
]

# The reference's fixed texts, each the start of the messages of one failing operation.
SAMPLING_FAILED = "To execute sampling on OQTOPUS Cloud is failed."
ESTIMATION_FAILED = "To execute estimation on OQTOPUS Cloud is failed."
SSE_FAILED = "To perform sse on OQTOPUS Cloud is failed."
RETRIEVE_FAILED = "To retrieve_job from OQTOPUS Cloud is failed."
REFRESH_FAILED = "To refresh job is failed."
CANCEL_FAILED = "To cancel job is failed."
DEVICE_REFRESH_FAILED = "failed to refresh device info"
INVALID_RESULT = "The job result is not a valid type."


class OqtopusConfigError(ValueError, KeyError):
    """A configuration file, section or key is missing.

    The reference lets ``configparser``'s ``KeyError`` out; the documentation says
    ``ValueError``.
    """

    def __str__(self) -> str:
        # KeyError would print the message quoted, as if it were a key.
        return str(self.args[0]) if self.args else ""


class OqtopusConfigFileError(ValueError, configparser.Error):
    """A configuration file that ``configparser`` cannot read (the reference lets its error out)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message  # what configparser.Error carries


class OqtopusInvalidArgumentError(ValueError, BackendError):
    """An argument refused before anything is sent.

    The documentation says ``ValueError``; the reference raises ``BackendError`` for the
    arguments it only finds wrong once the service (or its request model) refuses them.
    """


class OqtopusArgumentTypeError(OqtopusInvalidArgumentError, TypeError):
    """An argument of a type the reference cannot even compare (``shots=None``): ``TypeError``."""


class OqtopusDirectoryError(IsADirectoryError, ValueError):
    """A directory where a file is needed: the reference fails reading it, with this class."""


class OqtopusDeviceInfoError(BackendError, ValueError):
    """A device's ``device_info`` that cannot be downloaded or read: ``BackendError`` for the
    download, ``ValueError`` as the calibration's other refusals."""


class OqtopusJobTypeError(TypeError, BackendError):
    """A job of another type than the operation needs (the log of a job that is not SSE)."""


class OqtopusMissingResultError(BackendError, KeyError):
    """A job that ended without a result: ``BackendError`` as documented, ``KeyError`` as the
    reference's sampling and estimation jobs raise (they index ``job_info["result"]``)."""

    def __str__(self) -> str:
        # KeyError would print the message quoted, as if it were a key.
        return str(self.args[0]) if self.args else ""


class OqtopusMalformedResultError(BackendError, ValueError):
    """A job's result that does not decode (a counts key that is not a bit string ...):
    ``BackendError`` as documented, ``ValueError`` as the reference's ``int(key, 2)`` raises."""


class OqtopusTimeoutError(BackendError, TimeoutError):
    """Waiting for a job timed out: ``BackendError`` as documented, ``TimeoutError`` as the
    reference's SSE wait raises."""


_E = TypeVar("_E", bound=BaseException)


def with_message(error: _E, message: str) -> _E:
    """A copy of ``error`` (same class, same attributes) carrying ``message``."""
    # __init__ is skipped: subclasses such as OqtopusHttpError take other arguments, and
    # their attributes come over with __dict__.
    copy = type(error).__new__(type(error), message)
    copy.__dict__.update(error.__dict__)
    copy.args = (message,)
    return copy


@contextmanager
def reported_as(summary: str) -> Iterator[None]:
    """Make a ``BackendError`` raised inside start with ``summary`` (the reference's text).

    The error keeps its class and attributes (HTTP status ...) and is chained to the
    original. Other exceptions, and errors that already start so, pass unchanged (so
    does everything when ``summary`` is ``""``).
    """
    try:
        yield
    except BackendError as error:
        if str(error).startswith(summary):
            raise
        raise with_message(error, f"{summary} {error}") from error
