"""The server's child processes: ended with their parent, killed as a group, logs read.

The server started by ``LocalServer`` and the server's archive helpers each watch their
parent; once it is gone (killed without a chance to stop them) they end. SSE programs are
ended by their launcher with ``PR_SET_PDEATHSIG`` instead: it runs as a standard-library
script in another interpreter, and can start no thread inside its namespaces.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path

__all__ = ["end_with_parent", "kill_group", "log_tail"]

_POLL_SECONDS = 0.5


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
