"""The OQTOPUS backends of QURI Parts: sampling, estimation, SSE and devices."""

from quri_parts_oqtopus.backend.config import OqtopusConfig
from quri_parts_oqtopus.backend.devices import OqtopusDevice, OqtopusDeviceBackend
from quri_parts_oqtopus.backend.estimation import OqtopusEstimationBackend, OqtopusEstimationJob
from quri_parts_oqtopus.backend.job import OqtopusJobBackendBase
from quri_parts_oqtopus.backend.results import OqtopusEstimationResult, OqtopusSamplingResult
from quri_parts_oqtopus.backend.sampling import OqtopusSamplingBackend, OqtopusSamplingJob
from quri_parts_oqtopus.backend.sse import OqtopusSseBackend, OqtopusSseJob

__all__ = [
    "OqtopusConfig",
    "OqtopusDevice",
    "OqtopusDeviceBackend",
    "OqtopusEstimationBackend",
    "OqtopusEstimationJob",
    "OqtopusEstimationResult",
    "OqtopusJobBackendBase",
    "OqtopusSamplingBackend",
    "OqtopusSamplingJob",
    "OqtopusSamplingResult",
    "OqtopusSseBackend",
    "OqtopusSseJob",
]
