"""Everything an embedded server instance is configured with."""

from __future__ import annotations

import os
import secrets
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from .inputs import InputLimits
from .tasks import CostLimits

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


def new_token() -> str:
    """A random token for a server given none: URL-safe, and never starting with ``-``,
    which a command line (``oqtopus --token -x...``) would read as an option."""
    while True:
        token = secrets.token_urlsafe(24)
        if not token.startswith("-"):
            return token


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
        example_devices: Offer the example emulated QPUs shipped with the server.
        sse_timeout: Wall-clock limit of one SSE program, in seconds.
        sse_memory_bytes: Memory limit of one SSE program: the address space of each of
            its processes and, where the server can give each job a cgroup (as root, see
            ``sse_cgroup.py``), the memory of all its processes together.
        sse_python: The interpreter that runs SSE programs (None: the server's own); it
            needs only the standard library for the launcher, plus what programs import.
        sse_containment: ``"auto"`` contains SSE programs (own PID/mount namespaces, an
            unprivileged uid or a user namespace) where the system allows and warns
            loudly where it does not; ``"require"`` refuses to start without it;
            ``"none"`` does not contain them (only the limits apply).
        sse_max_processes: Processes and threads of one SSE program: the job cgroup's
            ``pids.max`` where there is one, else ``RLIMIT_NPROC`` (which counts every
            process of the uid, so concurrent programs then share it).
        sse_scratch_bytes: Total size of what an SSE program may write (its scratch
            directory, a tmpfs when contained).
        max_upload_bytes: Largest accepted upload (the compressed ZIP).
        max_json_bytes: Largest accepted JSON file inside an uploaded ZIP.
        max_program_bytes: Largest program text (and Pauli string) in a job input,
            checked when the upload arrives.
        input_quota_bytes: What the user's jobs may keep of job inputs on disk in all
            (each input's JSON file and ZIP, submitted jobs and ended ones too, until
            they are deleted); an upload past it is refused (413) naming it.
        sse_input_quota_bytes: The same for the jobs of each SSE program (its token is
            their owner).
        poll_interval: How often the scheduler looks for work when nothing wakes it.
        public_url: The base URL clients reach this server at, used for every URL it hands
            out (upload forms, ``job_info`` downloads); ``http://host:port`` when None.
            Never taken from a request's ``Host`` header.
        presign_ttl: Seconds an upload form or download URL stays valid.
        max_request_bytes: Largest body of any route but the upload (JSON bodies).
        header_timeout: Seconds a connection has to send a request's headers, from its
            opening or from the end of the previous response.
        body_timeout: Seconds a request has to send its whole body.
        max_connections: Open connections at most; past it the oldest one still waiting
            for its headers is closed (lowered to fit the open-file limit).
        max_registered_jobs: Jobs that may wait registered (never submitted) at once, per
            owner: the user, and each running SSE program for the jobs it registers.
        job_timeout: Wall-clock limit of one simulation, in seconds.
        worker_memory_bytes: Address-space limit of each simulator worker process.
        cost_limits: What a simulation may cost, checked before it runs.
    """

    data_dir: Path
    token: str = field(repr=False)  # never in a repr, a log or a traceback
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    workers: int = 1
    sse_slots: int = 2
    admin: bool = False
    inline_job_info: bool = False
    devices_file: Path | None = None
    example_devices: bool = True
    sse_timeout: float = 300.0
    sse_memory_bytes: int = 4096 * MiB
    sse_python: str | None = None
    sse_containment: str = "auto"
    sse_max_processes: int = 256
    sse_scratch_bytes: int = 64 * MiB
    max_upload_bytes: int = 16 * MiB
    max_json_bytes: int = 64 * MiB
    max_program_bytes: int = 8 * MiB
    input_quota_bytes: int = 1024 * MiB
    sse_input_quota_bytes: int = 256 * MiB
    poll_interval: float = 0.5
    public_url: str | None = None
    presign_ttl: float = 3600.0
    max_request_bytes: int = 1 * MiB
    header_timeout: float = 10.0
    body_timeout: float = 60.0
    max_connections: int = 4096
    max_registered_jobs: int = 1000
    job_timeout: float = 600.0
    worker_memory_bytes: int = 6144 * MiB
    cost_limits: CostLimits = field(default_factory=CostLimits)

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
        positive = ("presign_ttl", "header_timeout", "body_timeout", "job_timeout")
        for name in positive:
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be > 0, got {getattr(self, name)}")
        counts = ("max_request_bytes", "max_connections", "max_registered_jobs")
        sizes = ("worker_memory_bytes", "sse_max_processes", "sse_scratch_bytes")
        quotas = ("max_program_bytes", "input_quota_bytes", "sse_input_quota_bytes")
        for name in (*counts, *sizes, *quotas):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.public_url is not None:
            _check_public_url(self.public_url)

    @property
    def input_limits(self) -> InputLimits:
        """What one uploaded input document may hold."""
        return InputLimits(self.max_json_bytes, self.max_program_bytes)

    def input_quota(self, sse_job_id: str | None) -> tuple[str, int]:
        """The setting that bounds the inputs an owner keeps (the user's, or an SSE
        program's), and its value."""
        if sse_job_id is None:
            return "input_quota_bytes", self.input_quota_bytes
        return "sse_input_quota_bytes", self.sse_input_quota_bytes

    @property
    def bound_url(self) -> str:
        """The URL of the address this server listens on."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def url(self) -> str:
        """The base of every URL this server hands out (no trailing slash)."""
        return self.public_url.rstrip("/") if self.public_url is not None else self.bound_url


def _check_public_url(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ValueError(f"public_url must be an http(s) URL with a host, got {url!r}")
    if parts.query or parts.fragment or parts.username or parts.password:
        raise ValueError(f"public_url must not hold a query, fragment or user, got {url!r}")
