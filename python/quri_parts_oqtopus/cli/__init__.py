"""``oqtopus``: the command-line job client of OQTOPUS, configured like the backends."""

# The backends first: importing quri_parts_oqtopus._http before them is a circular import.
import quri_parts_oqtopus.backend  # noqa: F401
from quri_parts_oqtopus.cli.main import main

__all__ = ["main"]
