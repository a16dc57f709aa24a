"""How SSE programs are contained: found out once per server, then one command per job.

``sse_launcher.py`` does the containing (namespaces, mounts, uid, limits); this module
checks once that it can, in the interpreter chosen for SSE programs, and builds its
command lines. See the launcher's docstring for what containment means.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from .settings import ServerSettings
from .sse_cgroup import JobCgroup, JobCgroups

LAUNCHER = Path(__file__).with_name("sse_launcher.py")
#: The directory put on the programs' PYTHONPATH: it holds the ``sse_driver`` module.
DRIVER_DIR = Path(__file__).with_name("sse_runtime")
# Largest file (the log included) an SSE program may write.
SSE_FILE_BYTES = 64 * 1024 * 1024
_PROBE_SECONDS = 30.0
_UNPRIVILEGED_USER = "nobody"


def _unprivileged_ids() -> tuple[int, int]:
    try:
        entry = pwd.getpwnam(_UNPRIVILEGED_USER)
    except KeyError:
        return 65534, 65534
    return entry.pw_uid, entry.pw_gid


def _probe(python: str) -> tuple[bool, bool, str]:
    """Whether the launcher can contain programs here, and also their network; what it said."""
    try:
        done = subprocess.run(  # noqa: S603 - the configured interpreter and our launcher
            [python, str(LAUNCHER), "--probe"],
            capture_output=True,
            text=True,
            timeout=_PROBE_SECONDS,
            check=False,
            env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")},
        )
    except (OSError, subprocess.SubprocessError) as e:
        raise ValueError(f"sse_python {python!r} cannot run the SSE launcher: {e}") from e
    said = f"{done.stdout.strip()} {done.stderr.strip()}".strip()[-500:]
    if done.returncode != 0:
        raise ValueError(f"sse_python {python!r} cannot run the SSE launcher: {said}")
    found = done.stdout.split()
    return found[:1] == ["namespaces"], found == ["namespaces", "network"], said


@dataclass(frozen=True)
class Sandbox:
    """What every SSE job of one server runs in.

    Attributes:
        python: The interpreter of the programs.
        contained: Whether programs run in their own namespaces (see the launcher).
        network_isolated: Whether they also run in a network namespace of loopback only,
            reaching nothing but the server (through the launcher's forwarder).
        reason: Why not, when they do not (either).
        uid: The uid/gid programs run as when the server is root.
        scratch_root: Where each job's scratch mount point is made (removed by ``close``).
        cgroups: Where each job gets cgroups bounding its memory and processes as a
            whole; None where the server cannot make them (then only the rlimits apply).

    """

    python: str
    contained: bool
    network_isolated: bool
    reason: str
    uid: int
    gid: int
    scratch_root: Path
    cgroups: JobCgroups | None

    @classmethod
    def open(cls, settings: ServerSettings) -> Sandbox:
        """Probe the interpreter and the kernel once.

        Raises:
            ValueError: If the interpreter cannot run the launcher, or if containment is
                required (``sse_containment="require"``) and not available.

        """
        python = settings.sse_python or sys.executable
        contained, isolated, said = False, False, "disabled by sse_containment='none'"
        if settings.sse_containment != "none":
            contained, isolated, said = _probe(python)
        if not isolated and settings.sse_containment == "require":
            what = "contained" if not contained else "kept off the network"
            raise ValueError(f"SSE programs cannot be {what} on this system: {said}")
        if contained and not isolated and settings.sse_containment == "auto":
            print(
                "WARNING: SSE programs share the server's network (no network namespace: "
                f"{said}): they can reach every port the server reaches. "
                "Use sse_containment='require' to refuse this.",
                file=sys.stderr,
                flush=True,
            )
        if not contained and settings.sse_containment == "auto":
            print(  # the server's log: whoever runs it must know
                "WARNING: SSE programs are NOT contained (no PID/mount/user namespaces: "
                f"{said}). They run as the server's user and can read its files and signal "
                "it; only the time, memory, file size and process limits apply. "
                "Use sse_containment='require' to refuse this.",
                file=sys.stderr,
                flush=True,
            )
        root = Path(tempfile.mkdtemp(prefix="oqtopus-sse-"))
        root.chmod(0o711)  # programs under another uid must reach their own mount point
        uid, gid = _unprivileged_ids()
        reason = "" if isolated else said
        return cls(python, contained, isolated, reason, uid, gid, root, JobCgroups.open())

    def scratch(self, job_id: str) -> Path:
        """A fresh, empty mount point for the job's scratch directory."""
        path = self.scratch_root / job_id
        shutil.rmtree(path, ignore_errors=True)
        path.mkdir(mode=0o700)
        return path

    def cgroup(self, settings: ServerSettings, job_id: str) -> JobCgroup | None:
        """The job's cgroups with its limits, where the server can make them."""
        if self.cgroups is None:
            return None
        return self.cgroups.create(job_id, settings.sse_memory_bytes, settings.sse_max_processes)

    def command(
        self,
        settings: ServerSettings,
        program: Path,
        scratch: Path,
        cgroup: JobCgroup | None = None,
    ) -> list[str]:
        """The launcher's command line for one job (no secret on it: it may be listed)."""
        command = [
            self.python, str(LAUNCHER),
            "--sandbox", "namespaces" if self.contained else "none",
            "--memory-bytes", str(settings.sse_memory_bytes),
            "--file-bytes", str(SSE_FILE_BYTES),
            "--processes", str(settings.sse_max_processes),
            "--scratch-bytes", str(settings.sse_scratch_bytes),
            "--uid", str(self.uid), "--gid", str(self.gid),
            "--parent-pid", str(os.getpid()),
            "--scratch", str(scratch),
        ]  # fmt: skip
        for hidden in _hidden_paths(settings):
            command.extend(["--hide", hidden])
        if self.network_isolated:  # the one address the program's network leads to
            command.extend(["--server", urlsplit(settings.bound_url).netloc])
        for procs in cgroup.procs_files if cgroup is not None else []:
            command.extend(["--cgroup", procs])
        command.append(str(program))
        return command

    def close(self) -> None:
        shutil.rmtree(self.scratch_root, ignore_errors=True)
        if self.cgroups is not None:
            self.cgroups.close()


def _hidden_paths(settings: ServerSettings) -> list[str]:
    """What a program must not see: the data directory and the OQTOPUS config file."""
    paths = [settings.data_dir, Path("~/.oqtopus").expanduser()]
    return [str(path) for path in paths if path.exists()]
