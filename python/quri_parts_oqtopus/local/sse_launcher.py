"""Entry point of an SSE child process: apply the limits, then run the user's program.

Started by the server as ``python -m quri_parts_oqtopus.local.sse_launcher``; the
limits are set here rather than in a ``preexec_fn`` because the server is threaded.
"""

from __future__ import annotations

import argparse
import os
import resource
import runpy
import sys
import threading
import time


def _exit_when_orphaned(parent_pid: int) -> None:
    # A server that was killed cannot stop us; do not outlive it.
    while True:
        time.sleep(1.0)
        if os.getppid() != parent_pid:
            os._exit(137)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="sse_launcher")
    parser.add_argument("--memory-bytes", type=int, required=True)
    parser.add_argument("--parent-pid", type=int, required=True)
    parser.add_argument("script")
    args = parser.parse_args(argv)
    resource.setrlimit(resource.RLIMIT_AS, (args.memory_bytes, args.memory_bytes))
    threading.Thread(target=_exit_when_orphaned, args=(args.parent_pid,), daemon=True).start()
    script = os.path.abspath(args.script)
    sys.argv = [script]
    sys.path.insert(0, os.path.dirname(script))
    runpy.run_path(script, run_name="__main__")


if __name__ == "__main__":
    main()
