"""Smoke test of the wheel installed without the ``local`` extra (base dependencies only).

The client works; the server's command and package say in one line what to install:
``oqtopus-local`` exits 2 without a traceback, ``import quri_parts_oqtopus.local`` raises a
``ModuleNotFoundError`` naming the extra. Run from outside the source tree, in the venv.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

INSTALL = "pip install 'quri-parts-oqtopus[local]'"


def main() -> int:
    failures: list[str] = []
    checks = 0

    def check(ok: bool, what: str) -> None:
        nonlocal checks
        checks += 1
        if not ok:
            failures.append(what)

    from quri_parts_oqtopus.backend import OqtopusSamplingBackend  # noqa: F401, PLC0415

    check("fastapi" not in sys.modules, "the client loads without the server's packages")
    command = Path(sys.executable).with_name("oqtopus-local")
    for argv in ([str(command), "--help"], [str(command), "serve"]):
        done = subprocess.run(argv, capture_output=True, text=True, check=False)
        said = done.stderr.strip().splitlines()
        check(done.returncode == 2, f"{argv[1:]} exits 2 (got {done.returncode})")
        check(len(said) == 1 and INSTALL in said[0], f"{argv[1:]} says one line: {said}")
        check("Traceback" not in done.stderr, f"{argv[1:]} prints no traceback")
    try:
        import quri_parts_oqtopus.local  # noqa: F401, PLC0415
    except ModuleNotFoundError as e:
        check(INSTALL in str(e) and "\n" not in str(e), f"the import names the extra: {e}")
    else:
        check(False, "import quri_parts_oqtopus.local fails without the extra")
    for failure in failures:
        print(f"FAILED: {failure}")
    print(f"smoke without [local]: {checks - len(failures)} passed, {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
