"""Everything an embedded server instance is configured with."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080
MiB = 1024 * 1024
# The token can come from the environment, so it need not appear in a process list.
TOKEN_VARIABLE = "OQTOPUS_LOCAL_TOKEN"  # noqa: S105 - a variable name, not a secret
SSE_CONTAINMENT = ("auto", "require", "none")


def default_data_dir() -> Path:
    """``$XDG_DATA_HOME/oqtopus-local`` (``~/.local/share/oqtopus-local`` when unset)."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "oqtopus-local"


def temporary_data_dir() -> Path:
    """A fresh private directory for a throw-away server."""
    return Path(tempfile.mkdtemp(prefix="oqtopus-local-"))


@dataclass(frozen=True)
class ServerSettings:
    """Configuration of one local OQTOPUS server.

    Attributes:
        data_dir: Where the SQLite database and the job files live.
        token: The ``q-api-token`` every user-API request must carry.
        host: Interface to bind (loopback unless explicitly changed).
        port: TCP port (0 = any free port).
        workers: Size of the simulator process pool.
        sse_slots: How many SSE programs may run at once.
        admin: Whether the ``/_admin`` routes (device switch, fault injection) exist.
        inline_job_info: Serve ``job_info`` values inline instead of as ZIP URLs.
        devices_file: Optional JSON file with extra or overriding device definitions.
        sse_timeout: Wall-clock limit of one SSE program, in seconds.
        sse_memory_bytes: Address-space limit of one SSE program.
        sse_python: The interpreter that runs SSE programs (None: the server's own); it
            needs only the standard library for the launcher, plus what programs import.
        sse_containment: ``"auto"`` contains SSE programs (own PID/mount namespaces, an
            unprivileged uid or a user namespace) where the system allows and warns
            loudly where it does not; ``"require"`` refuses to start without it;
            ``"none"`` does not contain them (only the limits apply).
        sse_max_processes: ``RLIMIT_NPROC`` of an SSE program (processes and threads).
        sse_scratch_bytes: Total size of what an SSE program may write (its scratch
            directory, a tmpfs when contained).
        max_upload_bytes: Largest accepted upload (the compressed ZIP).
        max_json_bytes: Largest accepted JSON file inside an uploaded ZIP.
        poll_interval: How often the scheduler looks for work when nothing wakes it.
    """

    data_dir: Path
    token: str
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    workers: int = 1
    sse_slots: int = 2
    admin: bool = False
    inline_job_info: bool = False
    devices_file: Path | None = None
    sse_timeout: float = 300.0
    sse_memory_bytes: int = 4096 * MiB
    sse_python: str | None = None
    sse_containment: str = "auto"
    sse_max_processes: int = 256
    sse_scratch_bytes: int = 64 * MiB
    max_upload_bytes: int = 16 * MiB
    max_json_bytes: int = 64 * MiB
    poll_interval: float = 0.5

    def __post_init__(self) -> None:
        if self.workers < 1:
            raise ValueError(f"workers must be >= 1, got {self.workers}")
        if self.sse_slots < 1:
            raise ValueError(f"sse_slots must be >= 1, got {self.sse_slots}")
        if not self.token:
            raise ValueError("token must not be empty")
        if self.sse_containment not in SSE_CONTAINMENT:
            raise ValueError(
                f"sse_containment must be one of {', '.join(SSE_CONTAINMENT)}, "
                f"got {self.sse_containment!r}"
            )
        if self.sse_python is not None and not os.access(self.sse_python, os.X_OK):
            raise ValueError(f"sse_python is not an executable file: {self.sse_python!r}")
        for name in ("sse_max_processes", "sse_scratch_bytes"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
