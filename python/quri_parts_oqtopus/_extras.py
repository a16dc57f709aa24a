"""The optional parts of the distribution: what each extra brings, and the line that says so."""

from __future__ import annotations

from importlib.util import find_spec

__all__ = [
    "EMULATION_INSTALL",
    "LOCAL_INSTALL",
    "MITIGATION_INSTALL",
    "missing_local_packages",
    "require_local",
    "require_mitigation",
]

#: How to install the local server's packages (the ``local`` extra).
LOCAL_INSTALL = "pip install 'quri-parts-oqtopus[local]'"
#: How to add Qiskit, which transpiles jobs for the emulated QPUs (the ``emulation`` extra).
EMULATION_INSTALL = "pip install 'quri-parts-oqtopus[emulation]'"
#: How to add QURI Parts' mitigation (ZNE, readout filters): the ``mitigation`` extra.
MITIGATION_INSTALL = "pip install 'quri-parts-oqtopus[mitigation]'"
# The extra's distributions, each with the import names it may have (any one will do).
_LOCAL_MODULES = {
    "fastapi": ("fastapi",),
    "uvicorn": ("uvicorn",),
    "python-multipart": ("python_multipart", "multipart"),  # the older releases: multipart
    "quri-parts-qulacs": ("quri_parts.qulacs",),
}


def _importable(module: str) -> bool:
    try:
        return find_spec(module) is not None
    except (ImportError, ValueError):  # a parent package that is missing or broken
        return False


def missing_local_packages() -> list[str]:
    """The distributions of the ``local`` extra that cannot be imported here."""
    return [dist for dist, modules in _LOCAL_MODULES.items() if not any(map(_importable, modules))]


def require_local() -> None:
    """Refuse to load the local server without its packages, in one line that says why.

    Raises:
        ModuleNotFoundError: Naming the missing packages and the command that installs them.

    """
    missing = missing_local_packages()
    if missing:
        raise ModuleNotFoundError(
            f"the local OQTOPUS server needs the [local] extra ({', '.join(missing)} not "
            f"installed): {LOCAL_INSTALL}",
            name=missing[0],
        )


def require_mitigation() -> None:
    """Refuse client-side mitigation without ``quri-parts-algo``, naming the extra.

    Raises:
        ModuleNotFoundError: Naming the package and the command that installs it.

    """
    if not _importable("quri_parts.algo.mitigation"):
        raise ModuleNotFoundError(
            f"error mitigation needs quri-parts-algo (not installed): {MITIGATION_INSTALL}",
            name="quri_parts.algo",
        )
