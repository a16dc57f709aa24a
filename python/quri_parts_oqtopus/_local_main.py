"""``oqtopus-local``: the local server's command (``serve``) and its demo (``demo``).

Outside the server's package, so that without the ``local`` extra it can say in one line
what to install instead of failing on an import.
"""

from __future__ import annotations

import sys

from quri_parts_oqtopus._extras import require_local

__all__ = ["main"]

_EXIT_USAGE = 2


def main(argv: list[str] | None = None) -> None:
    """Console entry point ``oqtopus-local``; exit 2 with one line if the extra is missing."""
    try:
        require_local()
    except ModuleNotFoundError as e:
        print(f"oqtopus-local: {e}", file=sys.stderr)
        sys.exit(_EXIT_USAGE)
    from quri_parts_oqtopus.local import cli  # noqa: PLC0415 - needs the extra checked above

    args = cli.build_parser().parse_args(argv)
    if args.command == "demo":
        from quri_parts_oqtopus.demo import run_demo  # noqa: PLC0415 - loads the client too

        sys.exit(run_demo(args.jobs, args.shots))
    cli.serve(args)
