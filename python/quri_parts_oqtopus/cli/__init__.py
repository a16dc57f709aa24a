"""``oqtopus``: the command-line job client of OQTOPUS, configured like the backends."""

from quri_parts_oqtopus.cli.main import main

__all__ = ["main"]
