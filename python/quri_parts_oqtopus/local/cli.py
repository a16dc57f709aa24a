"""``oqtopus-local serve``: run the local OQTOPUS server in the foreground."""

from __future__ import annotations

import argparse
import ipaddress
import os
import signal
import socket
import sys
import time
from pathlib import Path

from .children import end_with_parent
from .settings import (
    DEFAULT_HOST,
    DEFAULT_PORT,
    SSE_CONTAINMENT,
    TOKEN_VARIABLE,
    MiB,
    ServerSettings,
    default_data_dir,
    new_token,
)


def build_parser() -> argparse.ArgumentParser:
    """The command line of ``oqtopus-local``: ``serve`` and ``demo``."""
    parser = argparse.ArgumentParser(
        prog="oqtopus-local", description="A local OQTOPUS-compatible server (qulacs simulator)."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser(
        "demo",
        help="run the main job offline: a server, sampling, multi_manual and estimation jobs",
    )
    demo.add_argument("--jobs", type=int, default=8, help="sampling jobs in the batch")
    demo.add_argument("--shots", type=int, default=1000, help="shots of every job")
    serve = commands.add_parser("serve", help="run the server in the foreground")
    serve.add_argument(
        "--host", default=DEFAULT_HOST, help="loopback address to bind (default %(default)s)"
    )
    serve.add_argument(
        "--port",
        type=int,
        default=DEFAULT_PORT,
        help="TCP port, 0 for any free port (default %(default)s)",
    )
    serve.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help=f"database and job files (default {default_data_dir()})",
    )
    serve.add_argument(
        "--token",
        default=None,
        help=f"the q-api-token clients must send (default: ${TOKEN_VARIABLE}, else random); "
        "other local users can read a server's command line",
    )
    serve.add_argument(
        "--workers", type=int, default=1, help="simulator worker processes (default %(default)s)"
    )
    serve.add_argument(
        "--sse-slots", type=int, default=2, help="SSE programs run at once (default %(default)s)"
    )
    serve.add_argument(
        "--sse-timeout",
        type=float,
        default=300.0,
        help="wall-clock limit of an SSE program in s (default %(default)s)",
    )
    serve.add_argument(
        "--sse-memory-mb",
        type=int,
        default=4096,
        help="memory limit of an SSE program in MiB: each process's address space, and all"
        " its processes together where cgroups are available (default %(default)s)",
    )
    serve.add_argument(
        "--sse-python",
        default=None,
        help="the interpreter that runs SSE programs (default: this server's own)",
    )
    serve.add_argument(
        "--sse-containment",
        choices=SSE_CONTAINMENT,
        default="auto",
        help="contain SSE programs where possible and warn where not (auto), refuse to "
        "start without containment (require), or do not contain them (none)",
    )
    serve.add_argument(
        "--job-timeout",
        type=float,
        default=600.0,
        help="wall-clock limit of a simulation in s (default %(default)s)",
    )
    serve.add_argument(
        "--worker-memory-mb",
        type=int,
        default=6144,
        help="address-space limit of a simulator worker in MiB (default %(default)s)",
    )
    serve.add_argument(
        "--max-program-mb",
        type=int,
        default=8,
        help="largest program text (and Pauli string) of a job input in MiB (default %(default)s)",
    )
    serve.add_argument(
        "--input-quota-mb",
        type=int,
        default=1024,
        help="job inputs the user's jobs may keep on disk in all, in MiB, until jobs are"
        " deleted (default %(default)s)",
    )
    serve.add_argument(
        "--sse-input-quota-mb",
        type=int,
        default=256,
        help="job inputs the jobs of one SSE program may keep in all, in MiB (default %(default)s)",
    )
    serve.add_argument(
        "--public-url",
        default=None,
        help="base URL clients reach the server at, for the URLs it hands out"
        " (default http://HOST:PORT)",
    )
    serve.add_argument(
        "--presign-ttl",
        type=float,
        default=3600.0,
        help="seconds upload forms and download URLs stay valid (default %(default)s)",
    )
    serve.add_argument(
        "--header-timeout",
        type=float,
        default=10.0,
        help="seconds a connection has to send a request's headers (default %(default)s)",
    )
    serve.add_argument(
        "--body-timeout",
        type=float,
        default=60.0,
        help="seconds a request has to send its body (default %(default)s)",
    )
    serve.add_argument(
        "--max-connections",
        type=int,
        default=4096,
        help="open connections at most (default %(default)s, lowered to the open-file limit)",
    )
    serve.add_argument(
        "--max-registered-jobs",
        type=int,
        default=1000,
        help="jobs that may wait registered, never submitted, per owner: the user and each"
        " SSE program (default %(default)s)",
    )
    serve.add_argument(
        "--devices",
        type=Path,
        default=None,
        help="JSON file: a device object or a list of them (extra or overriding devices;"
        " one whose device_info holds calibration data is an emulated QPU)",
    )
    serve.add_argument(
        "--no-example-devices",
        action="store_true",
        help="leave out the example emulated QPUs (emu-square-64, emu-heavyhex-16, emu-ring-8)",
    )
    serve.add_argument(
        "--inline-job-info",
        action="store_true",
        help="serve job_info values inline instead of as ZIP URLs",
    )
    serve.add_argument(
        "--admin",
        action="store_true",
        help="enable /_admin (device switch, fault injection) for tests",
    )
    serve.add_argument(
        "--log-level", default="warning", help="uvicorn log level (default %(default)s)"
    )
    serve.add_argument("--quiet", action="store_true", help=argparse.SUPPRESS)
    # LocalServer writes the token to stdin: it is then in neither argv nor the environment.
    serve.add_argument("--token-stdin", action="store_true", help=argparse.SUPPRESS)
    serve.add_argument("--port-file", type=Path, default=None, help=argparse.SUPPRESS)
    serve.add_argument("--parent-pid", type=int, default=None, help=argparse.SUPPRESS)
    return parser


def _require_loopback(host: str) -> None:
    # The server runs uploaded Python programs: it must never be reachable from outside.
    if host == "localhost":
        return
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise SystemExit(f"oqtopus-local: refusing to bind {host!r}: only loopback addresses")


def _bind(host: str, port: int) -> socket.socket:
    # The backlog holds connections the event loop has not accepted yet (bursts).
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY only on sockets whose proto says TCP,
    # and without it every answer on a kept-alive connection waits ~40 ms (Nagle+delayed ACK).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as e:  # a port in use is a usage problem: one line, and the way out
        sock.close()
        hint = " (another server on it? --port 0 picks a free one)" if port else ""
        said = f"oqtopus-local: cannot listen on {host}:{port}: {e.strerror}{hint}"
        raise SystemExit(said) from e
    sock.listen(1024)
    sock.set_inheritable(False)
    return sock


def _stop_then_exit() -> None:
    # The parent died without stopping us: stop as on SIGTERM, and exit anyway if that hangs.
    os.kill(os.getpid(), signal.SIGTERM)
    time.sleep(10.0)
    os._exit(1)


def _write_port_file(path: Path, port: int) -> None:
    partial = path.with_suffix(".partial")
    partial.write_text(str(port), encoding="ascii")
    partial.replace(path)


def _token(args: argparse.Namespace) -> str:
    # Read once; not left in the environment the simulator workers inherit.
    from_environment = os.environ.pop(TOKEN_VARIABLE, None)
    if args.token_stdin:
        return sys.stdin.readline().strip()
    return args.token or from_environment or new_token()


def settings_from(args: argparse.Namespace, port: int) -> ServerSettings:
    return ServerSettings(
        data_dir=(args.data_dir or default_data_dir()).expanduser().resolve(),
        token=_token(args),
        host=args.host,
        port=port,
        workers=args.workers,
        sse_slots=args.sse_slots,
        admin=args.admin,
        inline_job_info=args.inline_job_info,
        devices_file=args.devices,
        example_devices=not args.no_example_devices,
        sse_timeout=args.sse_timeout,
        sse_memory_bytes=args.sse_memory_mb * MiB,
        sse_python=args.sse_python,
        sse_containment=args.sse_containment,
        job_timeout=args.job_timeout,
        worker_memory_bytes=args.worker_memory_mb * MiB,
        max_program_bytes=args.max_program_mb * MiB,
        input_quota_bytes=args.input_quota_mb * MiB,
        sse_input_quota_bytes=args.sse_input_quota_mb * MiB,
        public_url=args.public_url,
        presign_ttl=args.presign_ttl,
        header_timeout=args.header_timeout,
        body_timeout=args.body_timeout,
        max_connections=args.max_connections,
        max_registered_jobs=args.max_registered_jobs,
    )


def serve(args: argparse.Namespace) -> None:
    import uvicorn  # noqa: PLC0415 - only the serve command needs the web stack

    from .app import create_app, server_url  # noqa: PLC0415
    from .connections import (  # noqa: PLC0415
        MAX_HEAD_BYTES,
        connection_cap,
        guarded_protocol,
        raise_open_file_limit,
    )

    _require_loopback(args.host)
    open_files = raise_open_file_limit()
    sock = _bind(args.host, args.port)
    settings = settings_from(args, sock.getsockname()[1])
    try:
        app = create_app(settings)
    except RuntimeError as e:  # a data directory the server refuses: say why, no traceback
        raise SystemExit(f"oqtopus-local: {e}") from e
    url = server_url(settings)
    if not args.quiet:  # LocalServer knows the token; its log file must not hold it
        print(f"OQTOPUS local server on {url}  (data: {settings.data_dir})", flush=True)
        print(f"  export OQTOPUS_URL={url}", flush=True)
        print(f"  export OQTOPUS_API_TOKEN={settings.token}", flush=True)
    if args.parent_pid is not None:
        end_with_parent(args.parent_pid, _stop_then_exit)
    protocol = guarded_protocol(
        settings.header_timeout, connection_cap(settings.max_connections, open_files)
    )
    config = uvicorn.Config(
        app,
        http=protocol,
        log_level=args.log_level,
        timeout_graceful_shutdown=5,
        timeout_keep_alive=5,  # idle kept-alive connections close after 5 s
        h11_max_incomplete_event_size=MAX_HEAD_BYTES,  # request line and headers
    )
    server = uvicorn.Server(config)
    if args.port_file is not None:
        _write_port_file(args.port_file, settings.port)
    server.run(sockets=[sock])


def main(argv: list[str] | None = None) -> None:
    """``python -m quri_parts_oqtopus.local.cli serve ...``: the server alone.

    ``oqtopus-local`` (:mod:`quri_parts_oqtopus._local_main`) also runs the demo, which
    loads the client: the server's package does not.
    """
    args = build_parser().parse_args(argv)
    if args.command != "serve":
        raise SystemExit(f"oqtopus-local: run the {args.command} as `oqtopus-local {args.command}`")
    serve(args)


if __name__ == "__main__":
    main(sys.argv[1:])
