"""``quri_parts_oqtopus.backend.jobs.estimation`` of the reference: the estimation backend."""

from quri_parts.backend import BackendError
from quri_parts.circuit import NonParametricQuantumCircuit
from quri_parts.core.operator import Operator
from quri_parts.openqasm.circuit import convert_to_qasm_str

from quri_parts_oqtopus.backend.config import OqtopusConfig
from quri_parts_oqtopus.backend.estimation import OqtopusEstimationBackend, OqtopusEstimationJob
from quri_parts_oqtopus.backend.job import JOB_FINAL_STATUS, OqtopusJobBackendBase

__all__ = [
    "JOB_FINAL_STATUS",
    "BackendError",
    "NonParametricQuantumCircuit",
    "Operator",
    "OqtopusConfig",
    "OqtopusEstimationBackend",
    "OqtopusEstimationJob",
    "OqtopusJobBackendBase",
    "convert_to_qasm_str",
]
