"""``quri_parts_oqtopus.backend.jobs.sampling`` of the reference: the sampling backend."""

from quri_parts.backend import BackendError
from quri_parts.circuit import NonParametricQuantumCircuit
from quri_parts.openqasm.circuit import convert_to_qasm_str

from quri_parts_oqtopus.backend.config import OqtopusConfig
from quri_parts_oqtopus.backend.job import JOB_FINAL_STATUS, OqtopusJobBackendBase
from quri_parts_oqtopus.backend.sampling import OqtopusSamplingBackend, OqtopusSamplingJob

__all__ = [
    "JOB_FINAL_STATUS",
    "BackendError",
    "NonParametricQuantumCircuit",
    "OqtopusConfig",
    "OqtopusJobBackendBase",
    "OqtopusSamplingBackend",
    "OqtopusSamplingJob",
    "convert_to_qasm_str",
]
