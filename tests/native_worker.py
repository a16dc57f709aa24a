"""Calls `quri_parts_oqtopus._core` in a child process, so that a crash of native code
(abort, segfault, stack overflow, runaway allocation) is reported with the input that
caused it instead of killing pytest.

The parent sends `(function name, args)` pickled; the child calls the function and sends
back what happened."""

from __future__ import annotations

import os
import pickle
import resource
import select
import struct
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from tests.native_fakes import Boom

# What the native functions may raise, per their stub and docstrings, plus what Python
# itself raises for duck-typed objects (AttributeError) and what the fakes raise (Boom).
ALLOWED_ERRORS: tuple[type[BaseException], ...] = (
    ValueError,
    TypeError,
    OverflowError,
    LookupError,
    NotImplementedError,
    AssertionError,
    MemoryError,
    AttributeError,
    Boom,
)

# The child's address space: fuzz inputs are small, so needing more means amplification.
MEMORY_LIMIT = 4 << 30
CALL_TIMEOUT_SECONDS = 60.0
ROOT = Path(__file__).resolve().parent.parent
_HEADER = struct.Struct("<Q")


@dataclass(frozen=True)
class AsDocument:
    """Given as ``archive_as``: a ``JobInput`` comes back as its ``.document()`` instead."""


@dataclass(frozen=True)
class Outcome:
    """What one native call did: returned `value`, raised `error`, or crashed the process."""

    value: Any = None
    error: str | None = None  # "module.Type: message"
    error_allowed: bool = False
    crash: str | None = None  # how the child process died, with the end of its stderr

    @property
    def returned(self) -> bool:
        return self.error is None and self.crash is None


def _send(stream: IO[bytes], payload: Any) -> None:
    data = pickle.dumps(payload, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(_HEADER.pack(len(data)) + data)
    stream.flush()


def _read_exact(stream: IO[bytes], size: int) -> bytes | None:
    chunks = []
    while size:
        chunk = stream.read(size)
        if not chunk:
            return None
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def _receive(stream: IO[bytes]) -> Any:
    header = _read_exact(stream, _HEADER.size)
    if header is None:
        raise EOFError
    body = _read_exact(stream, _HEADER.unpack(header)[0])
    if body is None:
        raise EOFError
    return pickle.loads(body)  # our own child process, over a private pipe


class NativeWorker:
    """A child process that makes native calls; restarted after each crash."""

    def __init__(self) -> None:
        self._process: subprocess.Popen[bytes] | None = None
        self._stderr: IO[bytes] | None = None

    def __enter__(self) -> NativeWorker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _start(self) -> subprocess.Popen[bytes]:
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 -- lives as long as the child
        env = dict(os.environ, RUST_BACKTRACE="0")
        self._process = subprocess.Popen(
            [sys.executable, "-c", "from tests.native_worker import serve; serve()"],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            env=env,
        )
        return self._process

    def close(self) -> None:
        self._stop()

    def _stop(self) -> tuple[int | None, str]:
        """Kills the child; returns its exit status and the end of its stderr."""
        code, tail = None, ""
        if self._process is not None:
            self._process.kill()
            code = self._process.wait()
            for pipe in (self._process.stdin, self._process.stdout):
                if pipe is not None:
                    pipe.close()
            self._process = None
        if self._stderr is not None:
            self._stderr.seek(0)
            tail = self._stderr.read()[-2000:].decode(errors="replace")
            self._stderr.close()
            self._stderr = None
        return code, tail

    def call(self, name: str, *args: Any, archive_as: Any = None) -> Outcome:
        """`_core.<name>(*args)` in the child; a crash or a hang is an Outcome too.

        With `archive_as`, a `JobInput` result (or each of a list of them) comes back as
        its `.archive(archive_as)`, which is fuzzed that way.
        """
        process = self._process or self._start()
        assert process.stdin is not None
        assert process.stdout is not None
        try:
            _send(process.stdin, (name, args, archive_as))
        except BrokenPipeError:
            return self._crashed("died before the call")
        ready, _, _ = select.select([process.stdout], [], [], CALL_TIMEOUT_SECONDS)
        if not ready:
            return self._crashed(f"no answer within {CALL_TIMEOUT_SECONDS:.0f} s")
        try:
            result: Outcome = _receive(process.stdout)
        except EOFError:
            return self._crashed("died during the call")
        return result

    def _crashed(self, what: str) -> Outcome:
        code, tail = self._stop()
        return Outcome(crash=f"{what}; exit status {code}; stderr ends:\n{tail}")


def _describe(error: BaseException) -> str:
    kind = type(error)
    message = str(error)
    return f"{kind.__module__}.{kind.__qualname__}: {message[:500]}"


def serve() -> None:
    """The child's loop: read a call, make it, send back its Outcome, until stdin closes."""
    from quri_parts_oqtopus import _core  # noqa: PLC0415 -- only the child loads it

    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
    requests, replies = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr  # stray prints must not corrupt the reply stream
    while True:
        try:
            name, args, archive_as = _receive(requests)
        except EOFError:
            return
        try:
            value = getattr(_core, name)(*args)
            if isinstance(value, _core.JobInput) and isinstance(archive_as, AsDocument):
                value = value.document()
            elif isinstance(value, _core.JobInput):
                value = value.archive(archive_as)
            elif isinstance(value, list) and all(isinstance(v, _core.JobInput) for v in value):
                value = [v.archive(archive_as) for v in value]
            outcome = Outcome(value=value)
        except BaseException as error:  # PanicException is a BaseException
            allowed = isinstance(error, ALLOWED_ERRORS)
            outcome = Outcome(error=_describe(error), error_allowed=allowed)
        try:
            _send(replies, outcome)
        except (pickle.PicklingError, TypeError, AttributeError) as error:
            _send(replies, Outcome(error=f"reply not picklable: {error}"))
