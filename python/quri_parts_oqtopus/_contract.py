"""The OQTOPUS wire contract: every job type, status, limit, header and field name, once.

The client, the CLI, job sets and the local server all import these names; no other
module spells a status, a job type or a limit (``tests/test_contract.py`` greps for
strays). The TypedDicts are the one definition of the JSON objects of the user API as the
service sends and receives them (absent keys allowed where the service may leave them
out): the field tuples, the client's typed returns and the server's response models derive
from them, and the tests check every other copy (properties, row columns, request models)
against them.
"""

from typing import Any, Final, Literal, NewType, get_args, get_type_hints

from typing_extensions import NotRequired, Required, TypedDict

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
    "DEVICE_TIMESTAMP_FIELDS",
    "DEVICE_TYPES",
    "ESTIMATION",
    "FAILED",
    "FINAL_LIMIT_CODES",
    "FINAL_STATUSES",
    "JOB_FIELDS",
    "JOB_INFO_FIELDS",
    "JOB_INPUT_FIELDS",
    "JOB_STATUSES",
    "JOB_TIMESTAMP_FIELDS",
    "JOB_TYPES",
    "LIST_ORDERS",
    "MAX_LIST_PAGE_SIZE",
    "MAX_SHOTS",
    "MAX_SSE_BASE64_BYTES",
    "MAX_TAGS",
    "MAX_TAG_LENGTH",
    "MULTI_MANUAL",
    "NOT_ENDED_STATUSES",
    "PENDING_STATUSES",
    "PROGRAM_INFO_FIELDS",
    "PSEUDO_INVERSE",
    "QPU",
    "QUBIT_ID",
    "READY",
    "REFERENCE_JOB_FIELDS",
    "REGISTERED",
    "REGISTERED_JOBS_QUOTA",
    "RESULT_FIELDS",
    "RUNNING",
    "SAMPLING",
    "SAMPLING_JOB_TYPES",
    "SIMULATOR",
    "SSE",
    "SUBMITTED",
    "SUBMIT_FIELDS",
    "SUCCEEDED",
    "TAGS_LINE_PREFIX",
    "TAG_CHARACTERS",
    "TAG_MARK",
    "TOKEN_HEADER",
    "UNAVAILABLE",
    "Device",
    "DeviceStatus",
    "DeviceType",
    "EstimationPayload",
    "Job",
    "JobInfo",
    "JobInput",
    "JobListQuery",
    "JobStatus",
    "JobStatusResponse",
    "JobType",
    "Message",
    "MitigationDetails",
    "OperatorTerm",
    "PresignedUpload",
    "ReferenceJob",
    "RegisteredJob",
    "ResultPayload",
    "SamplingPayload",
    "SselogResponse",
    "SubmitBody",
    "Timestamp",
    "TranspileResult",
    "ZneFallback",
    "ZneResults",
    "ZneScaleResult",
    "fields_of",
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

#: ``order`` of ``GET /jobs``: by creation, oldest or newest first.
LIST_ORDERS: Final = ("ASC", "DESC")
#: The largest ``size`` (jobs per page) of ``GET /jobs`` the specification allows.
MAX_LIST_PAGE_SIZE: Final = 65_535

# -- tags: the service has none, so they live in a job's description -------------------------
#: The description's last line holds the tags: this prefix, then each tag after TAG_MARK,
#: separated by one space (``tags: #chem #run-7``). The ``q`` search of ``GET /jobs``
#: finds ``#run-7`` in it; the client then checks tags exactly (it also matches ``#run-70``).
TAGS_LINE_PREFIX: Final = "tags: "
TAG_MARK: Final = "#"
#: Besides ASCII letters and digits, the characters a tag may hold (no space, no TAG_MARK).
TAG_CHARACTERS: Final = "-_.:/+=@"
MAX_TAG_LENGTH: Final = 64
MAX_TAGS: Final = 16

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

#: Keys of a device's ``device_info`` that describe its coupling map (OQTOPUS devices:
#: ``{"qubits": [{"id": 0, ...}], "couplings": [{"control": 0, "target": 1, ...}]}``).
DEVICE_INFO_QUBITS: Final = "qubits"
DEVICE_INFO_COUPLINGS: Final = "couplings"
QUBIT_ID: Final = "id"
COUPLING_CONTROL: Final = "control"
COUPLING_TARGET: Final = "target"


# -- the JSON objects ------------------------------------------------------------------------
# The one definition of every object of the user API: the client's typed returns, the
# server's response models (/openapi.json) and the field tuples below derive from these.
# ``typing_extensions.TypedDict``, which pydantic reads on 3.10 and 3.11; and no ``from
# __future__ import annotations`` in this module, so that ``Required``/``NotRequired``
# hold at run time too (``__required_keys__``, the schemas' ``required``).


#: An ISO 8601 timestamp as the service writes it: ``2022-10-19T11:45:34Z``.
Timestamp = NewType("Timestamp", str)


def fields_of(shape: type, holding: object = None) -> tuple[str, ...]:
    """The keys of a TypedDict, in the order they are declared (a base's keys first); with
    ``holding``, only those whose type is it or a union with it (``fields_of(Device,
    Timestamp)``)."""
    if holding is None:
        return tuple(shape.__annotations__)
    hints = get_type_hints(shape)
    return tuple(name for name, hint in hints.items() if holding in (hint, *get_args(hint)))


class OperatorTerm(TypedDict):
    """One Pauli term of an estimation: ``{"pauli": "X0 Z1", "coeff": 0.5}``."""

    pauli: str
    coeff: NotRequired[float]


class JobInput(TypedDict, total=False):
    """The uploaded job input: OpenQASM 3 programs (and an operator), or an SSE program."""

    program: list[str]
    operator: list[OperatorTerm]
    sse_program: str


class SubmitBody(TypedDict, total=False):
    """The body of ``POST /jobs/{job_id}/submit``: the job's settings."""

    device_id: Required[str]
    job_type: Required[JobType]
    shots: Required[int]
    name: str | None
    description: str | None
    transpiler_info: dict[str, Any] | None
    simulator_info: dict[str, Any] | None
    mitigation_info: dict[str, Any] | None


class SamplingPayload(TypedDict, total=False):
    """A sampling result: counts keyed by bit string (classical bit 0 last).

    Some servers send each of the two as a JSON text of that object.
    """

    counts: dict[str, int] | str
    divided_counts: dict[str, dict[str, int]] | str | None


class EstimationPayload(TypedDict, total=False):
    """An estimation result: the expectation value and its standard deviation."""

    exp_value: float
    stds: float


class ZneScaleResult(TypedDict):
    """The estimate of one noise scale factor of a zero-noise extrapolation."""

    scale_factor: float
    exp_value: float
    stds: float


class ZneResults(TypedDict):
    """A zero-noise extrapolation that ran: the estimate at each scale factor."""

    scale_results: list[ZneScaleResult]


class ZneFallback(TypedDict):
    """A zero-noise extrapolation that did not run (the plain estimate stands): why."""

    status: str
    stage: str
    reason: str


class MitigationDetails(TypedDict, total=False):
    """``mitigation_details`` of a result: what each mitigation did (loosely typed)."""

    readout: dict[str, Any]
    zne: ZneResults | ZneFallback


class ResultPayload(TypedDict, total=False):
    """``job_info.result``: the part of the job's type (the other null or absent), and
    what mitigation did when the job asked for it."""

    sampling: SamplingPayload | None
    estimation: EstimationPayload | None
    mitigation_details: MitigationDetails | None


class TranspileResult(TypedDict):
    """``job_info.transpile_result``; older servers send the two objects as JSON texts."""

    transpiled_program: str | None
    stats: dict[str, Any] | str | None
    virtual_physical_mapping: dict[str, Any] | str | None


class JobInfo(TypedDict, total=False):
    """``job_info``: each archived entry is a presigned ZIP URL, an inline value or null."""

    input: Required[str | JobInput | None]
    combined_program: str | None
    result: str | ResultPayload | None
    transpile_result: str | TranspileResult | None
    sse_log: str | None
    message: str | None


class ReferenceJob(TypedDict, total=False):
    """The job fields that quri-parts-oqtopus 1.1.5 knows (the published ``jobs.Job``):
    its ``to_json()`` writes exactly these, in this order. A registered job has only
    ``job_id`` and ``status``."""

    job_id: Required[str]
    name: str | None
    description: str | None
    job_type: JobType | None
    status: Required[JobStatus]
    device_id: str | None
    shots: int | None
    job_info: JobInfo | None
    transpiler_info: dict[str, Any] | None
    simulator_info: dict[str, Any] | None
    mitigation_info: dict[str, Any] | None
    execution_time: float | None
    submitted_at: Timestamp | None
    ready_at: Timestamp | None
    running_at: Timestamp | None
    ended_at: Timestamp | None


class Job(ReferenceJob, total=False):
    """A job object of ``GET /jobs/{job_id}``: the reference's fields, then any the
    service has added since (declared here; none so far)."""


class JobStatusResponse(TypedDict):
    """The answer of ``GET /jobs/{job_id}/status``: the cheap call to poll."""

    job_id: str
    status: JobStatus


class JobListQuery(TypedDict, total=False):
    """The query of ``GET /jobs``: ``fields`` a comma list, times ISO 8601 (``submitted_at``
    from/to), ``q`` a substring of id, name or description, ``page`` from 1, ``order``
    by creation."""

    fields: str
    start_time: str
    end_time: str
    status: JobStatus
    q: str
    page: int
    size: int
    order: Literal["ASC", "DESC"]


class Device(TypedDict, total=False):
    """A device object of ``GET /devices/{device_id}``; ``device_info`` is the calibration
    data as JSON text, or a presigned URL of a ZIP holding it."""

    device_id: Required[str]
    device_type: Required[DeviceType]
    status: Required[DeviceStatus]
    available_at: Timestamp | None
    n_pending_jobs: Required[int]
    n_qubits: int | None
    basis_gates: Required[list[str]]
    supported_instructions: Required[list[str]]
    device_info: str | None
    calibrated_at: Timestamp | None
    description: Required[str]


class PresignedUpload(TypedDict):
    """Where and how a job input is uploaded: a form POST of ``fields`` plus a ``file``.

    ``fields`` holds ``key`` (the object's name) and whatever the storage needs
    (``AWSAccessKeyId``, ``x-amz-security-token``, ``policy``, ``signature``), sent back
    verbatim; the service may leave optional ones null, which are left out of the form.
    """

    url: str
    fields: dict[str, str | None]


class RegisteredJob(TypedDict, total=False):
    """The answer of ``POST /jobs``: the new job's id and its upload target (the legacy
    one-step submission answers the id only)."""

    job_id: Required[str]
    presigned_url: PresignedUpload


class Message(TypedDict, total=False):
    """Every error body, and the answer of the action routes (``{"message": "job submitted"}``).

    ``message_code`` names a refusal that waiting does not clear (this project's servers).
    """

    message: Required[str]
    message_code: str


class SselogResponse(TypedDict):
    """The answer of the older ``GET /jobs/{job_id}/sselog``: the log archive in base64."""

    file: str
    file_name: str


# -- field names, in the service's order (derived from the objects above) ---------------------
#: A job's fields, in the order of the service's job object.
JOB_FIELDS: Final = fields_of(Job)
#: The fields the reference's ``to_json()`` writes, in its order.
REFERENCE_JOB_FIELDS: Final = fields_of(ReferenceJob)
#: The entries of ``job_info``, in the service's order.
JOB_INFO_FIELDS: Final = fields_of(JobInfo)
#: The ``job_info`` entries the service may send as a URL to a ZIP archive of their JSON.
ARCHIVED_INFO_FIELDS: Final = ("input", "combined_program", "result", "transpile_result")
#: The ``job_info`` entries that hold a program: their archive holds OpenQASM text, as the
#: OQTOPUS engine writes it, or that text as a JSON string. The others hold JSON objects.
PROGRAM_INFO_FIELDS: Final = ("combined_program",)
#: The keys of a job input document (what is uploaded).
JOB_INPUT_FIELDS: Final = fields_of(JobInput)
#: The keys of a submit body.
SUBMIT_FIELDS: Final = fields_of(SubmitBody)
#: The parts of a result payload.
RESULT_FIELDS: Final = fields_of(ResultPayload)
#: A device's fields, in the order of the service's device object.
DEVICE_FIELDS: Final = fields_of(Device)
#: The fields that hold a timestamp.
JOB_TIMESTAMP_FIELDS: Final = fields_of(Job, Timestamp)
DEVICE_TIMESTAMP_FIELDS: Final = fields_of(Device, Timestamp)
