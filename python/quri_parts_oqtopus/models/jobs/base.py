"""``quri_parts_oqtopus.models.jobs.base`` of the reference: the base class of every job."""

from quri_parts.backend import BackendError

from quri_parts_oqtopus.backend.job import JOB_FINAL_STATUS, OqtopusJobBase
from quri_parts_oqtopus.backend.results import OqtopusEstimationResult, OqtopusSamplingResult
from quri_parts_oqtopus.models.base import OqtopusModelBase
from quri_parts_oqtopus.models.utils import DateTimeEncoder

__all__ = [
    "JOB_FINAL_STATUS",
    "BackendError",
    "DateTimeEncoder",
    "OqtopusEstimationResult",
    "OqtopusJobBase",
    "OqtopusModelBase",
    "OqtopusSamplingResult",
]
