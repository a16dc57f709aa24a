"""``quri_parts_oqtopus.models.jobs.sse`` of the reference: the SSE job."""

from quri_parts.backend import BackendError

from quri_parts_oqtopus.backend.estimation import OqtopusEstimationJob
from quri_parts_oqtopus.backend.job import JOB_FINAL_STATUS, OqtopusJobBase
from quri_parts_oqtopus.backend.results import OqtopusEstimationResult, OqtopusSamplingResult
from quri_parts_oqtopus.backend.sampling import OqtopusSamplingJob
from quri_parts_oqtopus.backend.sse import OqtopusSseJob

__all__ = [
    "JOB_FINAL_STATUS",
    "BackendError",
    "OqtopusEstimationJob",
    "OqtopusEstimationResult",
    "OqtopusJobBase",
    "OqtopusSamplingJob",
    "OqtopusSamplingResult",
    "OqtopusSseJob",
]
