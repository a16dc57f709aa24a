"""``quri_parts_oqtopus.backend.jobs.sse`` of the reference: the SSE backend."""

from quri_parts.backend import BackendError

from quri_parts_oqtopus.backend.config import OqtopusConfig
from quri_parts_oqtopus.backend.job import OqtopusJobBackendBase
from quri_parts_oqtopus.backend.sse import OqtopusSseBackend, OqtopusSseJob

__all__ = [
    "BackendError",
    "OqtopusConfig",
    "OqtopusJobBackendBase",
    "OqtopusSseBackend",
    "OqtopusSseJob",
]
