"""The server's child processes: ended with their parent, killed as a group, logs read.

The server started by ``LocalServer`` and the server's archive helpers each watch their
parent; once it is gone (killed without a chance to stop them) they end. The simulator
workers, busy in native code a watching thread may not get to run beside, are also
killed by the kernel (``PR_SET_PDEATHSIG``). SSE programs are ended by their launcher
with ``PR_SET_PDEATHSIG`` too: it runs as a standard-library script in another
interpreter, and can start no thread inside its namespaces.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

__all__ = ["die_with_parent", "end_with_parent", "kill_group", "log_tail"]

_POLL_SECONDS = 0.5
_PR_SET_PDEATHSIG = 1  # prctl(2)


def die_with_parent(parent_pid: int) -> None:
    """Have this process killed the moment ``parent_pid``, its parent, is gone.

    On Linux the kernel sends SIGKILL (``PR_SET_PDEATHSIG``; it fires when the parent's
    thread that started this process ends, so start it from a thread that lives as long
    as the parent means to keep it). Elsewhere, and as a fallback, a thread exits once the
    parent changes. A parent gone already ends this process at once.
    """
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):  # no libc: the thread below
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent_pid:  # gone before the kernel was asked to tell
        os._exit(0)
    end_with_parent(parent_pid, lambda: os._exit(0))


def end_with_parent(parent_pid: int, end: Callable[[], object]) -> None:
    """Call ``end()`` (in a daemon thread) once ``parent_pid`` is no longer our parent."""

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(_POLL_SECONDS)
        end()

    threading.Thread(target=watch, name="end-with-parent", daemon=True).start()


def kill_group(pgid: int, wait: float = 0.0) -> None:
    """SIGKILL every process of the group ``pgid``; wait up to ``wait`` s until none is left."""
    deadline = time.monotonic() + wait
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)
        while time.monotonic() < deadline:
            os.killpg(pgid, 0)  # raises once no process of the group is left
            time.sleep(0.02)


def log_tail(path: Path, limit: int) -> str:
    """The last ``limit`` characters of a log file, stripped ('' when it cannot be read)."""
    try:
        data = path.read_bytes()
    except OSError:
        return ""
    return data[-limit:].decode("utf-8", errors="replace").strip()
