"""Ending with the parent: a process the server (or LocalServer) started must not outlive it.

The server started by ``LocalServer`` and the server's archive helpers each watch their
parent; once it is gone (killed without a chance to stop them) they end. SSE programs are
ended by their launcher with ``PR_SET_PDEATHSIG`` instead (it can start no thread there).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable

__all__ = ["end_with_parent"]

_POLL_SECONDS = 0.5


def end_with_parent(parent_pid: int, end: Callable[[], object]) -> None:
    """Call ``end()`` (in a daemon thread) once ``parent_pid`` is no longer our parent."""

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(_POLL_SECONDS)
        end()

    threading.Thread(target=watch, name="end-with-parent", daemon=True).start()
