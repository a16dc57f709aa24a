"""An OQTOPUS-compatible server on loopback that runs jobs on the qulacs simulator.

Three ways to run it:

- ``oqtopus-local serve [--port 8080] [--data-dir DIR] [--token TOKEN] [--workers N]
  [--admin]`` runs it in the foreground and prints the ``OQTOPUS_URL`` and
  ``OQTOPUS_API_TOKEN`` to export (``--help`` lists every setting).
- ``with LocalServer() as server:`` runs it in a child process on a free port; use
  ``server.config`` (an ``OqtopusConfig``), ``server.url``, ``server.token``,
  ``server.restart()``.
- ``create_app(ServerSettings(...))`` builds the ASGI app for any ASGI server.

It serves the whole user API (devices, jobs, presigned uploads, ZIP downloads, SSE
logs) from SQLite and files in its data directory. Simulations run in a bounded pool
of worker processes and SSE programs in limited child processes, never in the server.

What a client can make it spend is bounded (each limit is a ``serve`` option): the token
and the size of a body are checked before the body is read (1 MiB for JSON, the archive
limit for uploads), headers and bodies have deadlines, connections a cap; registered
jobs a quota; a simulation a cost check before it runs, a wall-clock limit and an
address-space limit while it runs, and a cancel kills it. Every URL it hands out starts
with its configured public URL and expires.

With ``admin`` enabled, tests get ``PUT /_admin/devices/{id}`` (device fields, e.g.
``status`` or ``execution_delay``) and ``/_admin/faults`` (canned responses or delays
for requests matching a method and path regex).
"""

from quri_parts_oqtopus._extras import require_local

require_local()  # without the [local] extra: one line naming what to install

# After the check above: they import the extra's packages.
from .app import create_app  # noqa: E402
from .process import LocalServer  # noqa: E402
from .settings import ServerSettings, default_data_dir  # noqa: E402

__all__ = ["LocalServer", "ServerSettings", "create_app", "default_data_dir"]
