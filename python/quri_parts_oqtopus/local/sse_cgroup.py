"""One memory limit and one process limit for each SSE program as a whole: a cgroup per job.

``RLIMIT_AS`` bounds each process, so a program that forks N children may use N times
``sse_memory_bytes``; ``RLIMIT_NPROC`` counts every process of the uid, so programs (all
run as ``nobody``) share one count, and one of them can leave the others none. A cgroup
per job bounds the job itself: its memory (its scratch tmpfs included) and its processes.
The job's group is made inside a group of this server, inside the server's own cgroup, so
every limit the server is under still holds for its programs.

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
_SERVER_PREFIX = "oqtopus-sse-server-"
# A dead server's group is removed only once it is this old: its pid may only look dead
# from here (another PID namespace), and its jobs are over long before.
_LEFTOVER_SECONDS = 600.0
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
    """Where the groups of SSE jobs are made: one group per server, inside its own.

    Job groups live in a group of this server (``oqtopus-sse-server-<pid>``), never beside
    other servers' job groups: a server cleaning up what a killed one left must not remove
    the empty group of a job another server has just made for its launcher to join.
    """

    version: int
    memory_parent: Path
    pids_parent: Path  # the same directory as memory_parent in v2

    @classmethod
    def find(cls) -> JobCgroups | None:
        """The groups the server is in, where it may make groups below them; else None."""
        if os.geteuid() != 0:
            return None
        try:
            own = _own_groups()
            return cls._v2(own) if (_ROOT / "cgroup.controllers").is_file() else cls._v1(own)
        except (OSError, ValueError):
            return None

    @classmethod
    def open(cls) -> JobCgroups | None:
        """This server's group for its jobs, tried once (a probe job group made and
        removed); None where it cannot make them. What dead servers left is removed."""
        found = cls.find()
        if found is None:
            return None
        try:
            found.remove_leftovers()
            server = found.server_group(os.getpid())
            server.create("probe", 64 << 20, 16).remove()
        except (OSError, ValueError):
            return None
        return server

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

    def server_group(self, pid: int) -> JobCgroups:
        """The group (per hierarchy) of the server ``pid``, made if missing."""
        name = f"{_SERVER_PREFIX}{pid}"
        server = JobCgroups(self.version, self.memory_parent / name, self.pids_parent / name)
        server._remake()  # v2: both controllers handed down to the job groups
        return server

    def create(self, job_id: str, memory_bytes: int, processes: int) -> JobCgroup:
        """The groups of one job, with its limits set (nobody in them yet)."""
        name = f"{_PREFIX}{job_id}"
        if not (self.memory_parent.is_dir() and self.pids_parent.is_dir()):
            self._remake()  # removed under us (an older server's clean-up): made again
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

    def _remake(self) -> None:
        for directory in dict.fromkeys([self.memory_parent, self.pids_parent]):
            directory.mkdir(exist_ok=True)
        if self.version == 2:
            _write(self.memory_parent / "cgroup.subtree_control", "+memory +pids")

    def close(self) -> None:
        """Remove this server's (empty) groups: its jobs' groups were removed with them."""
        for directory in dict.fromkeys([self.memory_parent, self.pids_parent]):
            for job in directory.glob(f"{_PREFIX}*"):
                JobCgroup(self.version, (job,)).remove()
            with contextlib.suppress(OSError):
                directory.rmdir()

    def remove_leftovers(self) -> None:
        """Remove the groups of servers that are gone (killed before they could)."""
        for parent in dict.fromkeys([self.memory_parent, self.pids_parent]):
            for server in parent.glob(f"{_SERVER_PREFIX}*"):
                if _server_alive(server) or _younger_than(server, _LEFTOVER_SECONDS):
                    continue  # a live server's, or one another namespace may still use
                JobCgroups(self.version, server, server).close()


def _server_alive(group: Path) -> bool:
    try:
        os.kill(int(group.name.removeprefix(_SERVER_PREFIX)), 0)
    except ProcessLookupError:
        return False
    except (ValueError, PermissionError):
        return True  # not ours to judge
    return True


def _younger_than(path: Path, seconds: float) -> bool:
    try:
        return time.time() - path.stat().st_mtime < seconds
    except OSError:
        return True
