"""``quri_parts_oqtopus.backend.jobs.base`` of the reference: the job backends' base class."""

from quri_parts.backend import BackendError

from quri_parts_oqtopus.backend.base import OqtopusBackendBase
from quri_parts_oqtopus.backend.config import OqtopusConfig
from quri_parts_oqtopus.backend.estimation import OqtopusEstimationJob
from quri_parts_oqtopus.backend.job import OqtopusJobBackendBase
from quri_parts_oqtopus.backend.sampling import OqtopusSamplingJob
from quri_parts_oqtopus.backend.sse import OqtopusSseJob

__all__ = [
    "BackendError",
    "OqtopusBackendBase",
    "OqtopusConfig",
    "OqtopusEstimationJob",
    "OqtopusJobBackendBase",
    "OqtopusSamplingJob",
    "OqtopusSseJob",
]
