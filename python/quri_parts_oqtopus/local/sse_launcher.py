"""Entry point of an SSE child process: contain the user's program, limit it, run it, end it.

The server runs this file by path with the interpreter chosen for SSE programs (which may
be another venv than the server's), so it imports nothing but the standard library. It is
trusted code: it starts with the server's privileges and gives them up before the user's
program runs.

Where Linux namespaces are available (the server is root, or unprivileged user namespaces
are allowed) the program runs in new PID, mount and IPC namespaces:

- ``/proc`` shows only the program's own processes: the server's command line, environment
  and memory are out of reach, and no signal can reach the server;
- every mount is read-only except the scratch directory, a ``tmpfs`` whose size is the
  total disk quota (``/dev/shm`` lives in it too); the data directory and the OQTOPUS
  config file are hidden behind empty mounts;
- as root the program runs as an unprivileged uid/gid; in a user namespace it keeps no
  capability; in both ``no_new_privs`` is set;
- this process is PID 1 of the namespace: when the program ends, it ends the namespace,
  and the kernel kills every process left in it (``setsid`` and double forks included);
- SysV shared memory and message queues live in the program's IPC namespace and go with
  it (in the machine's, they would outlive the job, beyond every limit);
- the pipe on which PID 1 reports the program's exit status is closed in the program;
- with ``--server HOST:PORT``, PID 1 also gets a network namespace of its own that holds
  nothing but loopback: the program reaches no port of the machine and nothing beyond it,
  except the server's own address, where a forwarder of this (outer) process listens
  inside the namespace and connects each connection to the server outside it.

Without namespaces it falls back to a child subreaper (orphans of the program are
re-parented here and killed when the program ends), under the server's own uid.
The limits (address space, file size, process count, no core dumps) apply in both cases;
where the server gives it cgroups (``--cgroup``, see ``sse_cgroup.py``), it joins them
first, and the job's memory and process count are bounded as a whole.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import ctypes.util
import fcntl
import os
import resource
import runpy
import selectors
import signal
import socket
import struct
import sys
import time
import traceback
from pathlib import Path
from types import TracebackType

# Linux constants (see unshare(2), mount(2), prctl(2), capget(2)).
_CLONE_NEWNS = 0x00020000
_CLONE_NEWIPC = 0x08000000
_CLONE_NEWUSER = 0x10000000
_CLONE_NEWPID = 0x20000000
_CLONE_NEWNET = 0x40000000
# netdevice(7): an ifreq is the interface's name and, here, its flags (40 bytes on 64-bit).
_SIOCGIFFLAGS, _SIOCSIFFLAGS, _IFF_UP = 0x8913, 0x8914, 0x1
_IFREQ = "16sH22x"
_MS_RDONLY, _MS_NOSUID, _MS_NODEV, _MS_NOEXEC = 1, 2, 4, 8
_MS_REMOUNT, _MS_BIND, _MS_REC, _MS_PRIVATE = 32, 4096, 16384, 1 << 18
_MS_NOATIME, _MS_NODIRATIME, _MS_RELATIME = 1024, 2048, 1 << 21
# statvfs f_flag bits -> the mount flags a bind remount must keep (locked in a user ns).
_KEPT_FLAGS = {1: _MS_RDONLY, 2: _MS_NOSUID, 4: _MS_NODEV, 8: _MS_NOEXEC, 1024: _MS_NOATIME}
_KEPT_FLAGS.update({2048: _MS_NODIRATIME, 4096: _MS_RELATIME})
_PR_SET_PDEATHSIG, _PR_CAPBSET_DROP, _PR_SET_NO_NEW_PRIVS = 1, 24, 38
_PR_SET_CHILD_SUBREAPER, _PR_CAP_AMBIENT, _PR_CAP_AMBIENT_CLEAR_ALL = 36, 47, 4
_CAPABILITY_VERSION_3 = 0x20080522

_libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)


def _check(result: int, what: str) -> None:
    if result != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{what}: {os.strerror(errno)}")


def _c_text(text: str | None) -> bytes | None:
    return None if text is None else text.encode()


def _mount(source: str | None, target: str, fstype: str | None, flags: int, data: str = "") -> None:
    result = _libc.mount(_c_text(source), target.encode(), _c_text(fstype), flags, _c_text(data))
    _check(result, f"mount {target}")


def _prctl(option: int, value: int) -> None:
    _check(_libc.prctl(option, value, 0, 0, 0), f"prctl {option}")


# -- limits and privileges (in the program's process, just before it runs) ---------------


def _apply_limits(args: argparse.Namespace) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (args.memory_bytes, args.memory_bytes))
    # Also bounds the log: stdout is a file, so a runaway print loop hits this limit.
    resource.setrlimit(resource.RLIMIT_FSIZE, (args.file_bytes, args.file_bytes))
    if not args.cgroup:  # else the job's pids.max: RLIMIT_NPROC counts all of the uid
        resource.setrlimit(resource.RLIMIT_NPROC, (args.processes, args.processes))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def _join_cgroups(procs_files: list[str]) -> None:
    """Move this process into the job's cgroups, before it starts anything: all follow."""
    for procs in procs_files:
        Path(procs).write_text(f"{os.getpid()}\n")


def _drop_capabilities(*, keep_effective: bool) -> None:
    # The bounding set first (that needs CAP_SETPCAP), so that no exec can regain any.
    last = int(Path("/proc/sys/kernel/cap_last_cap").read_text())
    for capability in range(last + 1):
        _prctl(_PR_CAPBSET_DROP, capability)
    with contextlib.suppress(OSError):  # ambient capabilities need Linux 4.3
        _check(_libc.prctl(_PR_CAP_AMBIENT, _PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0), "ambient")
    if not keep_effective:
        header = (ctypes.c_uint32 * 2)(_CAPABILITY_VERSION_3, 0)
        data = (ctypes.c_uint32 * 6)()  # effective, permitted, inheritable: all empty
        _check(_libc.capset(header, data), "capset")


def _drop_privileges(args: argparse.Namespace, mode: str) -> None:
    if mode == "root":
        _drop_capabilities(keep_effective=True)  # setuid() below clears the rest
        os.setgroups([])
        os.setgid(args.gid)
        os.setuid(args.uid)
    elif mode == "user":
        _drop_capabilities(keep_effective=False)
    _prctl(_PR_SET_NO_NEW_PRIVS, 1)


# -- the namespaces ---------------------------------------------------------------------


def _enter_namespaces() -> str:
    """Unshare PID, mount and IPC namespaces (and a user namespace unless root); the mode.

    The IPC namespace: SysV shared memory and message queues outlive their processes, so in
    the machine's namespace a program could leave memory behind that no limit counts.
    """
    if os.geteuid() == 0:
        _check(_libc.unshare(_CLONE_NEWNS | _CLONE_NEWPID | _CLONE_NEWIPC), "unshare")
        return "root"
    uid, gid = os.geteuid(), os.getegid()
    flags = _CLONE_NEWUSER | _CLONE_NEWNS | _CLONE_NEWPID | _CLONE_NEWIPC
    _check(_libc.unshare(flags), "unshare")
    Path("/proc/self/setgroups").write_text("deny")
    Path("/proc/self/uid_map").write_text(f"0 {uid} 1")
    Path("/proc/self/gid_map").write_text(f"0 {gid} 1")
    return "user"


def _remount_read_only() -> None:
    """Every mount of this namespace read-only (their locked flags kept); /proc is replaced."""
    mount_points = []
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        point = line.split()[4].encode().decode("unicode_escape")
        if point != "/proc" and not point.startswith("/proc/"):
            mount_points.append(point)
    for point in mount_points:
        try:
            kept = os.statvfs(point).f_flag
        except OSError:
            continue  # hidden under a later mount: not reachable anyway
        flags = _MS_REMOUNT | _MS_BIND | _MS_RDONLY
        flags |= sum(flag for bit, flag in _KEPT_FLAGS.items() if kept & bit)
        _mount(None, point, None, flags)


def _prepare_filesystem(args: argparse.Namespace, mode: str, source: str) -> Path:
    """The mounts of the program's view of the system; the path of its program."""
    _mount(None, "/", None, _MS_REC | _MS_PRIVATE)  # nothing below propagates back out
    _remount_read_only()
    _mount("proc", "/proc", "proc", _MS_NOSUID | _MS_NODEV | _MS_NOEXEC)
    if mode == "root":
        _keep_reachable([*_interpreter_paths(), args.scratch])
    for hidden in args.hide:
        if os.path.isdir(hidden):
            _mount("tmpfs", hidden, "tmpfs", _MS_RDONLY | _MS_NOSUID | _MS_NODEV, "size=4k,mode=0")
        elif os.path.exists(hidden):
            _mount("/dev/null", hidden, None, _MS_BIND)
    owner = (args.uid, args.gid) if mode == "root" else (0, 0)
    quota = f"size={args.scratch_bytes},mode=0700,uid={owner[0]},gid={owner[1]}"
    _mount("tmpfs", args.scratch, "tmpfs", _MS_NOSUID | _MS_NODEV, quota)
    program = _fill_scratch(Path(args.scratch), source, owner)
    shared_memory = "/dev/shm"  # noqa: S108 - replaced by a directory of the scratch tmpfs
    if os.path.isdir(shared_memory):
        _mount(str(Path(args.scratch, "shm")), shared_memory, None, _MS_BIND)
    return program


def _interpreter_paths() -> list[str]:
    """What the program needs to reach: this interpreter, its standard library, sys.path."""
    paths = [sys.base_prefix, sys.prefix, os.path.dirname(sys.executable), *sys.path]
    return sorted({os.path.realpath(p) for p in paths if p and os.path.isdir(p)})


def _closed_ancestor(path: str) -> str | None:
    """The outermost directory above ``path`` that others may not enter (e.g. ``/root``)."""
    parts = Path(path).parts
    for depth in range(2, len(parts)):  # strictly above: a path's own mode is its owner's
        ancestor = os.path.join(*parts[:depth])
        if not os.stat(ancestor).st_mode & 0o001:
            return ancestor
    return None


def _keep_reachable(paths: list[str]) -> None:
    """Make ``paths`` readable for the program's uid where a closed directory is above them.

    The closed directory (say ``/root``) is covered by an empty tmpfs, which hides the rest
    of it, and each path is bound back at its place, read-only.
    """
    blocked: dict[str, list[str]] = {}
    for path in paths:
        ancestor = _closed_ancestor(path)
        inside = any(path.startswith(kept + os.sep) for kept in blocked.get(ancestor or "", []))
        if ancestor is not None and not inside:
            blocked.setdefault(ancestor, []).append(path)
    originals = {p: os.open(p, os.O_PATH) for kept in blocked.values() for p in kept}
    for ancestor, kept in blocked.items():
        _mount("tmpfs", ancestor, "tmpfs", _MS_NOSUID | _MS_NODEV, "size=64k,mode=0755")
        for path in kept:
            os.makedirs(path, mode=0o755, exist_ok=True)
            _mount(f"/proc/self/fd/{originals[path]}", path, None, _MS_BIND)
            _mount(None, path, None, _MS_REMOUNT | _MS_BIND | _MS_RDONLY | _MS_NOSUID | _MS_NODEV)
        _mount(None, ancestor, None, _MS_REMOUNT | _MS_RDONLY | _MS_NOSUID | _MS_NODEV)
    for fd in originals.values():
        os.close(fd)


def _fill_scratch(scratch: Path, source: str, owner: tuple[int, int]) -> Path:
    """``in/main.py``, ``out/``, ``tmp/`` and ``shm/`` as the program's; the program path."""
    for name in ("in", "out", "tmp", "shm"):
        (scratch / name).mkdir(exist_ok=True)
    program = scratch / "in" / "main.py"
    program.write_text(source, encoding="utf-8")
    for path in (scratch, *scratch.iterdir(), program):
        os.chown(path, *owner)
    return program


# -- the network: loopback only, and a forwarder to the server -----------------------------

#: Connections a program may hold to the server at once (more wait in the listen backlog).
_MAX_FORWARDED = 64
_FORWARD_CHUNK = 64 * 1024


def _server_address(text: str) -> tuple[str, int]:
    """``HOST:PORT`` (``[::1]:PORT`` for IPv6) as a socket address."""
    host, _, port = text.rpartition(":")
    return host.strip("[]"), int(port)


def _loopback_up() -> None:
    """Bring ``lo`` up: a new network namespace starts with it down."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        asked = struct.pack(_IFREQ, b"lo", 0)
        flags = struct.unpack(_IFREQ, fcntl.ioctl(sock, _SIOCGIFFLAGS, asked))[1]
        fcntl.ioctl(sock, _SIOCSIFFLAGS, struct.pack(_IFREQ, b"lo", flags | _IFF_UP))


def _isolate_network(server: tuple[str, int]) -> socket.socket:
    """Move this process into a network namespace of loopback only; a listener there on the
    server's address, for the forwarder outside to accept on."""
    _check(_libc.unshare(_CLONE_NEWNET), "unshare the network")
    _loopback_up()
    family = socket.AF_INET6 if ":" in server[0] else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(server)
    listener.listen(_MAX_FORWARDED)
    return listener


class _Link:
    """One forwarded connection: bytes copied both ways, a bounded buffer each way, EOF
    passed on as a half close."""

    def __init__(self, inner: socket.socket, outer: socket.socket) -> None:
        self.ends = (inner, outer)
        self.waiting = {inner: b"", outer: b""}  # bytes to be written to that socket
        self.ended = {inner: False, outer: False}  # that socket has sent its EOF
        self.closed_for_writing = {inner: False, outer: False}

    def peer(self, end: socket.socket) -> socket.socket:
        return self.ends[1] if end is self.ends[0] else self.ends[0]

    def interest(self, end: socket.socket) -> int:
        events = 0
        if not self.ended[end] and not self.waiting[self.peer(end)]:
            events |= selectors.EVENT_READ  # read only once the peer took the last chunk
        if self.waiting[end]:
            events |= selectors.EVENT_WRITE
        return events

    def step(self, end: socket.socket, events: int) -> bool:
        """Move bytes for one ready socket; False once the link is over."""
        try:
            if events & selectors.EVENT_WRITE and self.waiting[end]:
                sent = end.send(self.waiting[end])
                self.waiting[end] = self.waiting[end][sent:]
            if events & selectors.EVENT_READ:
                data = end.recv(_FORWARD_CHUNK)
                if data:
                    self.waiting[self.peer(end)] += data
                else:
                    self.ended[end] = True
            for sock in self.ends:
                drained = self.ended[self.peer(sock)] and not self.waiting[sock]
                if drained and not self.closed_for_writing[sock]:
                    sock.shutdown(socket.SHUT_WR)
                    self.closed_for_writing[sock] = True
        except (BlockingIOError, InterruptedError):
            return True
        except OSError:
            return False
        return not all(self.closed_for_writing.values())

    def close(self) -> None:
        for sock in self.ends:
            sock.close()


def _forward(listener: socket.socket, server: tuple[str, int], init: int) -> None:
    """Until PID 1 ends: accept the program's connections inside its namespace and copy
    each to a new connection to the server, out here. One thread: none can start now."""
    selector = selectors.DefaultSelector()
    exited = os.pidfd_open(init)
    selector.register(exited, selectors.EVENT_READ)
    listener.setblocking(False)
    selector.register(listener, selectors.EVENT_READ)
    links: dict[socket.socket, _Link] = {}
    try:
        while True:
            for key, events in selector.select():
                if key.fileobj == exited:
                    return
                if key.fileobj is listener:
                    _accept(listener, server, selector, links)
                else:
                    _step(key.fileobj, events, selector, links)  # type: ignore[arg-type]
            # At the cap, new connections wait in the backlog until one ends.
            full, listening = len(links) // 2 >= _MAX_FORWARDED, _registered(selector, listener)
            if full and listening:
                selector.unregister(listener)
            elif not full and not listening:
                selector.register(listener, selectors.EVENT_READ)
    finally:
        for link in {id(link): link for link in links.values()}.values():
            link.close()
        os.close(exited)


def _registered(selector: selectors.BaseSelector, sock: socket.socket) -> bool:
    try:
        selector.get_key(sock)
    except KeyError:
        return False
    return True


def _accept(
    listener: socket.socket,
    server: tuple[str, int],
    selector: selectors.BaseSelector,
    links: dict[socket.socket, _Link],
) -> None:
    try:
        inner, _ = listener.accept()
    except (BlockingIOError, InterruptedError):
        return
    try:
        outer = socket.create_connection(server, timeout=10)
    except OSError:
        inner.close()  # the server is gone: the program sees its connection end
        return
    link = _Link(inner, outer)
    for sock in link.ends:
        sock.setblocking(False)
        links[sock] = link
        selector.register(sock, link.interest(sock))


def _step(
    sock: socket.socket,
    events: int,
    selector: selectors.BaseSelector,
    links: dict[socket.socket, _Link],
) -> None:
    link = links[sock]
    if not link.step(sock, events):
        for end in link.ends:
            if _registered(selector, end):
                selector.unregister(end)
            links.pop(end, None)
        link.close()
        return
    for end in link.ends:
        wanted = link.interest(end)
        if wanted and _registered(selector, end):
            selector.modify(end, wanted)
        elif wanted:
            selector.register(end, wanted)
        elif _registered(selector, end):
            selector.unregister(end)


# -- ending the program's processes ------------------------------------------------------


def _descendants() -> list[int]:
    """Processes whose parent is this one (a subreaper: every orphan of the tree)."""
    me, found = os.getpid(), []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                stat = Path(f"/proc/{entry}/stat").read_text()
                if int(stat.rsplit(")", 1)[1].split()[1]) == me:
                    found.append(int(entry))
    return found


def _kill_everything_else(in_namespace: bool) -> None:
    """Kill and reap every process of the tree but this one."""
    while True:
        if in_namespace:
            with contextlib.suppress(ProcessLookupError):
                os.kill(-1, signal.SIGKILL)  # as PID 1: every process of the namespace
        else:
            for pid in _descendants():
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        try:
            while os.waitpid(-1, os.WNOHANG)[0] != 0:
                pass
        except ChildProcessError:
            return  # nothing left
        time.sleep(0.01)


def _run_init(args: argparse.Namespace, mode: str, program: Path, status_fd: int | None) -> None:
    """Start the program, reap every orphan, and end them all when the program ends."""
    pid = os.fork()
    if pid == 0:
        if status_fd is not None:
            os.close(status_fd)  # the relay trusts what comes through it: not the program's
        _run_program(args, mode, program)
    in_namespace = mode != "none"
    if not in_namespace:
        # A cancel, a timeout or the server's end (SIGTERM) also ends the escapees.
        signal.signal(signal.SIGTERM, lambda *_: _end_init(in_namespace, 128 + 15, status_fd))
        _end_with_parent(args.parent_pid)
    while True:
        try:
            done, status = os.waitpid(-1, 0)
        except ChildProcessError:
            status = 137 << 8
            break
        if done == pid:
            break
    _end_init(in_namespace, status, status_fd)


def _end_init(in_namespace: bool, status: int, status_fd: int | None) -> None:
    _kill_everything_else(in_namespace)
    if status_fd is not None:
        os.write(status_fd, f"{status}\n".encode())
    _exit_like(status)


def _exit_like(status: int) -> None:
    """Exit as a process with wait status ``status`` did (the same code or signal)."""
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        if sig not in (signal.SIGKILL, signal.SIGSTOP):
            signal.signal(sig, signal.SIG_DFL)
        os.kill(os.getpid(), sig)
        time.sleep(1.0)
    os._exit(os.waitstatus_to_exitcode(status) if os.WIFEXITED(status) else 137)


def _end_with_parent(parent_pid: int) -> None:
    """SIGTERM when the server thread that started us is gone (a killed server cannot stop us).

    A signal rather than a watching thread: no thread can start after unshare(CLONE_NEWPID).
    """
    _prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != parent_pid:
        os.kill(os.getpid(), signal.SIGTERM)  # it went before the line above


# -- the program ---------------------------------------------------------------------------


def _run_program(args: argparse.Namespace, mode: str, program: Path) -> None:
    try:
        _apply_limits(args)
        _drop_privileges(args, mode)
    except BaseException:
        traceback.print_exc()
        os._exit(126)
    os.chdir(program.parent.parent)
    script = str(program)
    sys.argv = [script]
    sys.path[0:0] = [os.path.dirname(script)]
    code = 0
    try:
        runpy.run_path(script, run_name="__main__")
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
        if not isinstance(e.code, int) and e.code is not None:
            print(e.code, file=sys.stderr)
    except BaseException as error:  # reported as Python would, minus the launcher frames
        traceback.print_exception(type(error), error, _user_frames(error, script))
        code = 1
    with contextlib.suppress(Exception):
        sys.stdout.flush()
        sys.stderr.flush()
    os._exit(code)


def _user_frames(error: BaseException, script: str) -> TracebackType | None:
    # The log should show the user's program, not the launcher and runpy around it.
    frames = error.__traceback__
    while frames is not None and frames.tb_frame.f_code.co_filename != script:
        frames = frames.tb_next
    return frames or error.__traceback__


# -- the two processes outside and inside the namespaces ---------------------------------


def _contained(args: argparse.Namespace, source: str) -> None:
    """This process stays outside and relays; its child is PID 1 of the new namespaces."""
    mode = _enter_namespaces()
    read_end, write_end = os.pipe()
    server = _server_address(args.server) if args.server else None
    # PID 1 hands the listener of its network namespace over this pair.
    handover = socket.socketpair() if server is not None else None
    init = os.fork()
    if init == 0:
        os.close(read_end)
        _prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)  # the relay's end is the namespace's
        try:
            if handover is not None and server is not None:
                handover[0].close()
                with _isolate_network(server) as listener:
                    socket.send_fds(handover[1], [b"L"], [listener.fileno()])
                handover[1].close()
            program = _prepare_filesystem(args, mode, source)
        except BaseException:
            traceback.print_exc()
            os._exit(125)
        _run_init(args, mode, program, write_end)
    os.close(write_end)
    # A cancel, a timeout or the server's end: killing PID 1 ends the whole namespace.
    signal.signal(signal.SIGTERM, lambda *_: os.kill(init, signal.SIGKILL))
    _end_with_parent(args.parent_pid)
    if handover is not None and server is not None:
        handover[1].close()
        _, fds, _, _ = socket.recv_fds(handover[0], 1, 1)
        handover[0].close()
        if fds:  # none if PID 1 failed before its network was ready
            with socket.socket(fileno=fds[0]) as listener:
                _forward(listener, server, init)
    _, raw = os.waitpid(init, 0)
    with os.fdopen(read_end) as status:
        reported = status.read().strip()
    _exit_like(int(reported) if reported else raw)


def probe() -> str:
    """``namespaces`` when this process could contain a program, else the reason it cannot."""
    pid = os.fork()
    if pid == 0:
        try:
            _enter_namespaces()
            init = os.fork()
            if init == 0:
                _mount(None, "/", None, _MS_REC | _MS_PRIVATE)
                _remount_read_only()
                _mount("proc", "/proc", "proc", _MS_NOSUID | _MS_NODEV | _MS_NOEXEC)
                try:
                    _isolate_network(("127.0.0.1", 9)).close()
                except OSError as e:
                    print(f"no network namespace: {e}", file=sys.stderr)
                    os._exit(3)
                os._exit(0)
            os._exit(os.waitstatus_to_exitcode(os.waitpid(init, 0)[1]))
        except BaseException as e:
            print(f"{type(e).__name__}: {e}", file=sys.stderr)
            os._exit(1)
    code = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
    if code == 3:
        return "namespaces"  # all but the network's
    return "namespaces network" if code == 0 else f"no namespaces (exit {code})"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="sse_launcher")
    parser.add_argument("--probe", action="store_true", help="report whether containment works")
    for name in ("memory-bytes", "file-bytes", "processes", "scratch-bytes", "parent-pid"):
        parser.add_argument(f"--{name}", type=int, default=0)
    parser.add_argument("--uid", type=int, default=65534)
    parser.add_argument("--gid", type=int, default=65534)
    parser.add_argument("--sandbox", choices=("namespaces", "none"), default="namespaces")
    parser.add_argument("--scratch", default="")
    parser.add_argument("--hide", action="append", default=[])
    parser.add_argument("--cgroup", action="append", default=[], help="a cgroup.procs to join")
    parser.add_argument("--server", default="", help="HOST:PORT: isolate the network but this")
    parser.add_argument("program", nargs="?", default="")
    return parser


def main(argv: list[str] | None = None) -> None:
    # Run by path: this file's directory must not shadow the program's imports.
    with contextlib.suppress(ValueError):
        sys.path.remove(os.path.dirname(os.path.abspath(__file__)))
    args = _parser().parse_args(argv)
    if args.probe:
        print(probe())
        return
    try:
        _join_cgroups(args.cgroup)
    except OSError as e:  # never run a program without the limits it was given
        print(f"the SSE program cannot be limited: {e}", file=sys.stderr)
        os._exit(125)
    source = Path(args.program).read_text(encoding="utf-8")  # before it is hidden
    if args.sandbox == "namespaces":
        try:
            _contained(args, source)
        except OSError as e:
            print(f"the SSE program cannot be contained: {e}", file=sys.stderr)
            os._exit(125)
    _prctl(_PR_SET_CHILD_SUBREAPER, 1)
    scratch = Path(args.scratch)
    program = _fill_scratch(scratch, source, (os.getuid(), os.getgid()))
    _run_init(args, "none", program, None)


if __name__ == "__main__":
    main()
