"""``quri_parts_oqtopus.models.jobs.estimation`` of the reference: the estimation job."""

from quri_parts.backend import BackendError

from quri_parts_oqtopus.backend.estimation import OqtopusEstimationJob
from quri_parts_oqtopus.backend.job import JOB_FINAL_STATUS, OqtopusJobBase
from quri_parts_oqtopus.backend.results import OqtopusEstimationResult

__all__ = [
    "JOB_FINAL_STATUS",
    "BackendError",
    "OqtopusEstimationJob",
    "OqtopusEstimationResult",
    "OqtopusJobBase",
]
