"""One memory limit and one process limit for each SSE program as a whole: a cgroup per job.

``RLIMIT_AS`` bounds each process, so a program that forks N children may use N times
``sse_memory_bytes``; ``RLIMIT_NPROC`` counts every process of the uid, so programs (all
run as ``nobody``) share one count, and one of them can leave the others none. A cgroup
per job bounds the job itself: its memory (its scratch tmpfs included) and its processes.
The job's group is made inside the server's own, so every limit the server is under
still holds for its programs.

Used where the server may make such groups (as root): the cgroup v1 ``memory`` and
``pids`` hierarchies, or cgroup v2 where the server's own group already hands both
controllers to its children (``cgroup.subtree_control``, e.g. a systemd unit with
``Delegate=yes``). Elsewhere the rlimits alone apply.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path

_ROOT = Path("/sys/fs/cgroup")
_PREFIX = "oqtopus-sse-"
_REMOVE_SECONDS = 5.0


def _own_groups() -> dict[str, str]:
    """The server's group per v1 controller; under ``""`` its v2 group."""
    groups: dict[str, str] = {}
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        for name in controllers.split(",") if controllers else [""]:
            groups[name] = path.lstrip("/")
    return groups


def _write(path: Path, value: int | str) -> None:
    path.write_text(f"{value}\n")


@dataclass(frozen=True)
class JobCgroup:
    """The group(s) of one running SSE job: one directory in v2, a memory and a pids one in v1."""

    version: int
    directories: tuple[Path, ...]  # the memory group first

    @property
    def procs_files(self) -> list[str]:
        """Where the launcher writes its pid to join (before it starts anything)."""
        return [str(directory / "cgroup.procs") for directory in self.directories]

    def ran_out_of_memory(self) -> bool:
        """Whether the kernel killed a process of the job for passing the memory limit."""
        events = "memory.events" if self.version == 2 else "memory.oom_control"
        try:
            lines = (self.directories[0] / events).read_text().splitlines()
        except OSError:
            return False
        counts = dict(line.split(" ", 1) for line in lines if " " in line)
        return int(counts.get("oom_kill", "0")) > 0

    def remove(self) -> None:
        """Kill whatever is left in the job's groups, then remove them."""
        deadline = time.monotonic() + _REMOVE_SECONDS
        for directory in self.directories:
            while directory.exists():
                _kill_members(directory)
                try:
                    directory.rmdir()
                except FileNotFoundError:
                    break
                except OSError:  # busy while the killed processes are reaped
                    if time.monotonic() > deadline:
                        break  # left for remove_leftovers at the next start
                    time.sleep(0.02)


def _kill_members(directory: Path) -> None:
    with contextlib.suppress(OSError):
        if (directory / "cgroup.kill").exists():
            _write(directory / "cgroup.kill", 1)  # v2, Linux 5.14: the kernel does it at once
            return
        for pid in (directory / "cgroup.procs").read_text().split():
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(pid), signal.SIGKILL)


@dataclass(frozen=True)
class JobCgroups:
    """Where the groups of SSE jobs are made: inside the server's own group(s)."""

    version: int
    memory_parent: Path
    pids_parent: Path  # the same directory as memory_parent in v2

    @classmethod
    def find(cls) -> JobCgroups | None:
        """The server's place for job groups, tried once; None where it cannot make them."""
        if os.geteuid() != 0:
            return None
        try:
            own = _own_groups()
            found = cls._v2(own) if (_ROOT / "cgroup.controllers").is_file() else cls._v1(own)
            if found is not None:
                found.create(f"probe-{os.getpid()}", 64 << 20, 16).remove()
                found.remove_leftovers()
        except (OSError, ValueError):
            return None
        return found

    @classmethod
    def _v2(cls, own: dict[str, str]) -> JobCgroups | None:
        parent = _ROOT / own.get("", "")
        handed_down = set((parent / "cgroup.subtree_control").read_text().split())
        return cls(2, parent, parent) if {"memory", "pids"} <= handed_down else None

    @classmethod
    def _v1(cls, own: dict[str, str]) -> JobCgroups | None:
        memory = _ROOT / "memory" / own.get("memory", "")
        pids = _ROOT / "pids" / own.get("pids", "")
        if (memory / "memory.limit_in_bytes").is_file() and (pids / "cgroup.procs").is_file():
            return cls(1, memory, pids)
        return None

    def create(self, job_id: str, memory_bytes: int, processes: int) -> JobCgroup:
        """The groups of one job, with its limits set (nobody in them yet)."""
        name = f"{_PREFIX}{job_id}"
        directories = tuple(dict.fromkeys([self.memory_parent / name, self.pids_parent / name]))
        for directory in directories:
            directory.mkdir(exist_ok=True)
        group = JobCgroup(self.version, directories)
        try:
            memory, pids = directories[0], directories[-1]
            if self.version == 2:
                _write(memory / "memory.max", memory_bytes)
                if (memory / "memory.swap.max").exists():
                    _write(memory / "memory.swap.max", 0)
            else:
                _write(memory / "memory.limit_in_bytes", memory_bytes)
                if (memory / "memory.memsw.limit_in_bytes").exists():  # and no swap beyond it
                    _write(memory / "memory.memsw.limit_in_bytes", memory_bytes)
            _write(pids / "pids.max", processes)
        except OSError:
            group.remove()
            raise
        return group

    def remove_leftovers(self) -> None:
        """Remove empty job groups a killed server left; a live job's group stays (busy)."""
        for parent in {self.memory_parent, self.pids_parent}:
            for directory in parent.glob(f"{_PREFIX}*"):
                with contextlib.suppress(OSError):
                    directory.rmdir()
