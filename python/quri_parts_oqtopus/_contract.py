"""The OQTOPUS wire contract: every job type, status, limit, header and field name, once.

The client, the CLI, job sets and the local server all import these names; no other
module spells a status, a job type or a limit (``tests/test_contract.py`` greps for
strays). The TypedDicts describe the JSON objects of the user API as the service sends
and receives them; absent keys are allowed where the service may leave them out.
"""

from __future__ import annotations

from typing import Any, Final, Literal, TypedDict

__all__ = [
    "ARCHIVED_INFO_FIELDS",
    "AVAILABLE",
    "CANCELLABLE_STATUSES",
    "CANCELLED",
    "CANCELLING",
    "COUPLING_CONTROL",
    "COUPLING_TARGET",
    "DEFAULT_TRANSPILER_INFO",
    "DELETABLE_STATUSES",
    "DEVICE_FIELDS",
    "DEVICE_INFO_COUPLINGS",
    "DEVICE_INFO_QUBITS",
    "DEVICE_STATUSES",
    "DEVICE_TYPES",
    "ESTIMATION",
    "FAILED",
    "FINAL_LIMIT_CODES",
    "FINAL_STATUSES",
    "JOB_FIELDS",
    "JOB_INFO_FIELDS",
    "JOB_INPUT_FIELDS",
    "JOB_STATUSES",
    "JOB_TYPES",
    "MAX_SHOTS",
    "MAX_SSE_BASE64_BYTES",
    "MULTI_MANUAL",
    "NOT_ENDED_STATUSES",
    "PENDING_STATUSES",
    "PROGRAM_INFO_FIELDS",
    "PSEUDO_INVERSE",
    "QPU",
    "QUBIT_ID",
    "READY",
    "REGISTERED",
    "REGISTERED_JOBS_QUOTA",
    "RUNNING",
    "SAMPLING",
    "SAMPLING_JOB_TYPES",
    "SIMULATOR",
    "SSE",
    "SUBMITTED",
    "SUCCEEDED",
    "TOKEN_HEADER",
    "UNAVAILABLE",
    "Device",
    "DeviceStatus",
    "DeviceType",
    "EstimationPayload",
    "Job",
    "JobInfo",
    "JobInput",
    "JobStatus",
    "JobType",
    "OperatorTerm",
    "PresignedUpload",
    "RegisteredJob",
    "ResultPayload",
    "SamplingPayload",
    "SubmitBody",
]

# -- job types -------------------------------------------------------------------------------
JobType = Literal["sampling", "multi_manual", "estimation", "sse"]
SAMPLING: Final = "sampling"
MULTI_MANUAL: Final = "multi_manual"
ESTIMATION: Final = "estimation"
SSE: Final = "sse"
JOB_TYPES: Final[tuple[JobType, ...]] = (SAMPLING, MULTI_MANUAL, ESTIMATION, SSE)
#: The job types whose result is counts (one program, or several side by side).
SAMPLING_JOB_TYPES: Final[tuple[JobType, ...]] = (SAMPLING, MULTI_MANUAL)

# -- job statuses ----------------------------------------------------------------------------
JobStatus = Literal[
    "registered", "submitted", "ready", "running", "succeeded", "failed", "cancelling", "cancelled"
]
REGISTERED: Final = "registered"
SUBMITTED: Final = "submitted"
READY: Final = "ready"
RUNNING: Final = "running"
SUCCEEDED: Final = "succeeded"
FAILED: Final = "failed"
CANCELLING: Final = "cancelling"
CANCELLED: Final = "cancelled"
#: Every status, in the order a job goes through them (progress reports keep this order).
JOB_STATUSES: Final[tuple[JobStatus, ...]] = (
    REGISTERED,
    SUBMITTED,
    READY,
    RUNNING,
    SUCCEEDED,
    FAILED,
    CANCELLING,
    CANCELLED,
)
#: A job in one of these has ended for good (in the reference's order).
FINAL_STATUSES: Final[tuple[JobStatus, ...]] = (SUCCEEDED, FAILED, CANCELLED)
#: A cancel is accepted in these.
CANCELLABLE_STATUSES: Final[frozenset[JobStatus]] = frozenset({SUBMITTED, READY, RUNNING})
#: Submitted and not ended yet (a cancel may be under way).
NOT_ENDED_STATUSES: Final[frozenset[JobStatus]] = CANCELLABLE_STATUSES | {CANCELLING}
#: Waiting for a device: what a device's ``n_pending_jobs`` counts.
PENDING_STATUSES: Final[tuple[JobStatus, ...]] = (SUBMITTED, READY)
#: Nothing runs for these: an ended job, or one whose submission never came.
DELETABLE_STATUSES: Final[frozenset[JobStatus]] = frozenset({*FINAL_STATUSES, REGISTERED})

# -- devices ---------------------------------------------------------------------------------
DeviceType = Literal["QPU", "simulator"]
QPU: Final = "QPU"
SIMULATOR: Final = "simulator"
DEVICE_TYPES: Final[tuple[DeviceType, ...]] = (QPU, SIMULATOR)
DeviceStatus = Literal["available", "unavailable"]
AVAILABLE: Final = "available"
UNAVAILABLE: Final = "unavailable"
DEVICE_STATUSES: Final[tuple[DeviceStatus, ...]] = (AVAILABLE, UNAVAILABLE)

# -- limits and the header -------------------------------------------------------------------
#: Shots of one job: 1 to this.
MAX_SHOTS: Final = 10_000_000
#: The service refuses SSE programs whose base64 text reaches this many bytes.
MAX_SSE_BASE64_BYTES: Final = 10 * 1024 * 1024
#: The header that carries the API token.
TOKEN_HEADER: Final = "q-api-token"  # noqa: S105 - a header name, not a secret

#: The ``message_code`` of the 429 that refuses a new job while the caller's registered,
#: never submitted jobs fill the server's quota: submitting or deleting them clears it.
REGISTERED_JOBS_QUOTA: Final = "registered_jobs_quota"
#: ``message_code`` values of 429 answers that no wait clears: the client does not retry them.
FINAL_LIMIT_CODES: Final = frozenset({REGISTERED_JOBS_QUOTA})

#: What the service stores as a job's ``transpiler_info`` when the submit gives none.
DEFAULT_TRANSPILER_INFO: Final = {
    "transpiler_lib": "qiskit",
    "transpiler_options": {"optimization_level": 1},
}

#: ``mitigation_info.ro_error_mitigation`` for readout-error mitigation by the inverse of
#: each qubit's assignment matrix (what the OQTOPUS engine implements).
PSEUDO_INVERSE: Final = "pseudo_inverse"

# -- error mitigation and transpilers: the words of mitigation_info and transpiler_info --------
#: ``mitigation_info`` keys: the released engine's one key, and today's schema
#: ``{"readout": {"method": ...}, "zne": {"params": {...}}}``.
RO_ERROR_MITIGATION: Final = "ro_error_mitigation"
READOUT: Final = "readout"
ZNE: Final = "zne"
#: ``readout.method`` values. OQTOPUS runs one algorithm (the inverse of each qubit's
#: assignment matrix) for all three; so does the local server, saying so in its details.
MTHREE: Final = "mthree"
LOCAL_READOUT: Final = "local"
READOUT_METHODS: Final = (PSEUDO_INVERSE, MTHREE, LOCAL_READOUT)
#: ``zne.params`` keys, the extrapolations (mitiq's factories) and foldings OQTOPUS knows,
#: and its defaults (the first factory and folding are the default ones).
ZNE_SCALE_FACTORS: Final = "scale_factors"
ZNE_FACTORY: Final = "factory"
ZNE_FOLDING: Final = "folding"
ZNE_NUM_TO_AVERAGE: Final = "num_to_average"
ZNE_POLY_ORDER: Final = "poly_order"
RICHARDSON: Final = "richardson"
LINEAR: Final = "linear"
POLY: Final = "poly"
ZNE_FACTORIES: Final = (RICHARDSON, LINEAR, POLY)
GLOBAL_FOLDING: Final = "global"
RANDOM_FOLDING: Final = "random"
ZNE_FOLDINGS: Final = (GLOBAL_FOLDING, RANDOM_FOLDING)
ZNE_DEFAULT_SCALE_FACTORS: Final = (1.0, 2.0, 3.0)
ZNE_DEFAULT_NUM_TO_AVERAGE: Final = 1
ZNE_DEFAULT_POLY_ORDER: Final = 2
#: ``result.mitigation_details``: what each mitigation did. A ZNE that could not run leaves
#: ``{"zne": {"status": "fallback", "stage": "pre_process", "reason": ...}}`` and the plain
#: estimate (it fails open, as OQTOPUS's does).
MITIGATION_DETAILS: Final = "mitigation_details"
ZNE_FALLBACK: Final = "fallback"
ZNE_PRE_PROCESS: Final = "pre_process"
#: ``transpiler_info.transpiler_lib`` values of OQTOPUS's transpiler service (tranqu).
QISKIT: Final = "qiskit"
TKET: Final = "tket"
OUQU_TP: Final = "ouqu-tp"
TRANSPILER_LIBS: Final = (QISKIT, TKET, OUQU_TP)

__all__ += [  # kept beside its section, so that merges stay apart
    "GLOBAL_FOLDING",
    "LINEAR",
    "LOCAL_READOUT",
    "MITIGATION_DETAILS",
    "MTHREE",
    "OUQU_TP",
    "POLY",
    "QISKIT",
    "RANDOM_FOLDING",
    "READOUT",
    "READOUT_METHODS",
    "RICHARDSON",
    "RO_ERROR_MITIGATION",
    "TKET",
    "TRANSPILER_LIBS",
    "ZNE",
    "ZNE_DEFAULT_NUM_TO_AVERAGE",
    "ZNE_DEFAULT_POLY_ORDER",
    "ZNE_DEFAULT_SCALE_FACTORS",
    "ZNE_FACTORIES",
    "ZNE_FACTORY",
    "ZNE_FALLBACK",
    "ZNE_FOLDING",
    "ZNE_FOLDINGS",
    "ZNE_NUM_TO_AVERAGE",
    "ZNE_POLY_ORDER",
    "ZNE_PRE_PROCESS",
    "ZNE_SCALE_FACTORS",
]

# -- field names -----------------------------------------------------------------------------
#: A job's fields, in the order of the service's job object (and the reference's to_json).
JOB_FIELDS: Final = (
    "job_id",
    "name",
    "description",
    "job_type",
    "status",
    "device_id",
    "shots",
    "job_info",
    "transpiler_info",
    "simulator_info",
    "mitigation_info",
    "execution_time",
    "submitted_at",
    "ready_at",
    "running_at",
    "ended_at",
)
#: The entries of ``job_info``, in the service's order.
JOB_INFO_FIELDS: Final = (
    "input",
    "combined_program",
    "result",
    "transpile_result",
    "sse_log",
    "message",
)
#: The ``job_info`` entries the service may send as a URL to a ZIP archive of their JSON.
ARCHIVED_INFO_FIELDS: Final = ("input", "combined_program", "result", "transpile_result")
#: The ``job_info`` entries that hold a program: their archive holds OpenQASM text, as the
#: OQTOPUS engine writes it, or that text as a JSON string. The others hold JSON objects.
PROGRAM_INFO_FIELDS: Final = ("combined_program",)
#: The keys of a job input document (what is uploaded).
JOB_INPUT_FIELDS: Final = ("program", "operator", "sse_program")
#: A device's fields, in the order of the service's device object.
DEVICE_FIELDS: Final = (
    "device_id",
    "device_type",
    "status",
    "available_at",
    "n_pending_jobs",
    "n_qubits",
    "basis_gates",
    "supported_instructions",
    "device_info",
    "calibrated_at",
    "description",
)

#: Keys of a device's ``device_info`` that describe its coupling map (OQTOPUS devices:
#: ``{"qubits": [{"id": 0, ...}], "couplings": [{"control": 0, "target": 1, ...}]}``).
DEVICE_INFO_QUBITS: Final = "qubits"
DEVICE_INFO_COUPLINGS: Final = "couplings"
QUBIT_ID: Final = "id"
COUPLING_CONTROL: Final = "control"
COUPLING_TARGET: Final = "target"


# -- the JSON objects ------------------------------------------------------------------------
class OperatorTerm(TypedDict):
    """One Pauli term of an estimation: ``{"pauli": "X0 Z1", "coeff": 0.5}``."""

    pauli: str
    coeff: float


class JobInput(TypedDict, total=False):
    """The uploaded job input: OpenQASM 3 programs (and an operator), or an SSE program."""

    program: list[str]
    operator: list[OperatorTerm]
    sse_program: str


class SubmitBody(TypedDict, total=False):
    """The body of ``POST /jobs/{job_id}/submit`` (``device_id``, ``job_type``, ``shots``
    are required by the service)."""

    device_id: str
    job_type: JobType
    shots: int
    name: str | None
    description: str | None
    transpiler_info: dict[str, Any] | None
    simulator_info: dict[str, Any] | None
    mitigation_info: dict[str, Any] | None


class SamplingPayload(TypedDict, total=False):
    """A sampling result: counts keyed by bit string (classical bit 0 last)."""

    counts: dict[str, int]
    divided_counts: dict[str, dict[str, int]] | None


class EstimationPayload(TypedDict, total=False):
    """An estimation result: the expectation value and its standard deviation."""

    exp_value: float
    stds: float


class ResultPayload(TypedDict, total=False):
    """``job_info.result``: one of the two parts, by the job's type."""

    sampling: SamplingPayload
    estimation: EstimationPayload


class JobInfo(TypedDict, total=False):
    """``job_info``: each archived entry is a presigned ZIP URL, an inline value or null."""

    input: str | JobInput | None
    combined_program: str | None
    result: str | ResultPayload | None
    transpile_result: str | dict[str, Any] | None
    sse_log: str | None
    message: str | None


class Job(TypedDict, total=False):
    """A job object of ``GET /jobs/{job_id}`` (``job_id`` and ``status`` always present)."""

    job_id: str
    name: str | None
    description: str | None
    job_type: JobType | None
    status: JobStatus
    device_id: str | None
    shots: int | None
    job_info: JobInfo | None
    transpiler_info: dict[str, Any] | None
    simulator_info: dict[str, Any] | None
    mitigation_info: dict[str, Any] | None
    execution_time: float | None
    submitted_at: str | None
    ready_at: str | None
    running_at: str | None
    ended_at: str | None


class Device(TypedDict, total=False):
    """A device object of ``GET /devices/{device_id}``."""

    device_id: str
    device_type: DeviceType
    status: DeviceStatus
    available_at: str | None
    n_pending_jobs: int
    n_qubits: int | None
    basis_gates: list[str]
    supported_instructions: list[str]
    device_info: str | None
    calibrated_at: str | None
    description: str


class PresignedUpload(TypedDict):
    """Where and how a job input is uploaded: a form POST of ``fields`` plus a ``file``.

    The service's optional fields may be null; they are left out of the form.
    """

    url: str
    fields: dict[str, str | None]


class RegisteredJob(TypedDict, total=False):
    """The answer of ``POST /jobs``: the new job's id and its upload target."""

    job_id: str
    presigned_url: PresignedUpload
