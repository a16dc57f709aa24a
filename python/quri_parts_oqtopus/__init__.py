"""A Rust-accelerated, drop-in QURI Parts backend for the OQTOPUS quantum cloud."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("quri-parts-oqtopus")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"

__all__ = ["__version__"]
