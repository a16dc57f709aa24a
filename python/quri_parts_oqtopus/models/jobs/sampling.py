"""``quri_parts_oqtopus.models.jobs.sampling`` of the reference: the sampling job."""

from quri_parts.backend import BackendError

from quri_parts_oqtopus.backend.job import JOB_FINAL_STATUS, OqtopusJobBase
from quri_parts_oqtopus.backend.results import OqtopusSamplingResult
from quri_parts_oqtopus.backend.sampling import OqtopusSamplingJob

__all__ = [
    "JOB_FINAL_STATUS",
    "BackendError",
    "OqtopusJobBase",
    "OqtopusSamplingJob",
    "OqtopusSamplingResult",
]
