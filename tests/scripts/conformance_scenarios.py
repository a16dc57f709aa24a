"""Observe the quri-parts-oqtopus API scenario by scenario, as a user of 1.1.5 would call it.

Run by tests/interop/test_conformance.py twice against one local server: with the
reference package's interpreter and with ours. It writes a JSON object to the file named
by its argument: for each named scenario, what the calls gave (values, types) or raised
(exception classes along the MRO and the message), with what must differ between two runs
(job ids, timestamps, paths, signatures) replaced by placeholders. The test compares the
two objects. Only the documented API is used (and, like the reference's own tests,
``backend._client`` to build a job object by hand).

Environment: OQTOPUS_URL, OQTOPUS_API_TOKEN; SPARE_DEVICE (a device of this run alone,
for fault injection); the working directory is this run's own.
"""

import configparser
import datetime
import hashlib
import io
import json
import math
import os
import re
import sys
import time
import urllib.request
import warnings
import zipfile
from collections import Counter

from quri_parts.backend import BackendError
from quri_parts.circuit import QuantumCircuit
from quri_parts.core.operator import Operator, pauli_label

from quri_parts_oqtopus.backend import (
    OqtopusConfig,
    OqtopusDevice,
    OqtopusDeviceBackend,
    OqtopusEstimationBackend,
    OqtopusEstimationJob,
    OqtopusEstimationResult,
    OqtopusJobBackendBase,
    OqtopusSamplingBackend,
    OqtopusSamplingJob,
    OqtopusSamplingResult,
    OqtopusSseBackend,
    OqtopusSseJob,
)

URL = os.environ["OQTOPUS_URL"]
TOKEN = os.environ["OQTOPUS_API_TOKEN"]
SPARE_DEVICE = os.environ["SPARE_DEVICE"]
WORKDIR = os.getcwd()
CONFIG = OqtopusConfig(URL, TOKEN)
observations = {}

# -- normalising what differs between two runs ------------------------------------------
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(\.\d+)?(\+00:00|Z)?")
_EXECUTION_TIME = re.compile(r'"execution_time": [0-9.e+-]+')
_SIGNATURE = re.compile(r"signature=[0-9a-f]+")
_EXPIRES = re.compile(r"expires=[0-9]+")  # presigned URLs expire: the time differs per read
_TEMP = re.compile(r"/tmp/[^\s'\"/]+")


def text(value):
    value = str(value)
    for old, new in ((WORKDIR, "<dir>"), (URL, "<url>"), (SPARE_DEVICE, "<spare>")):
        value = value.replace(old, new)
    value = _UUID.sub("<id>", value)
    value = _TIMESTAMP.sub("<ts>", value)
    value = _EXECUTION_TIME.sub('"execution_time": <t>', value)
    value = _SIGNATURE.sub("signature=<sig>", value)
    value = _EXPIRES.sub("expires=<t>", value)
    return _TEMP.sub("<tmp>", value)


def describe(value):
    """A JSON-able, run-independent account of a value and its type."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, (int, float)):
        if isinstance(value, float) and math.isnan(value):
            return {"float": "nan"}
        return {type(value).__name__: value}
    if isinstance(value, str):
        return text(value)
    if isinstance(value, datetime.datetime):
        return {"datetime": "aware" if value.tzinfo is not None else "naive"}
    if isinstance(value, Counter):
        return {"Counter": [[describe(k), describe(v)] for k, v in sorted(value.items())]}
    if isinstance(value, dict):
        return {"dict": [[describe(k), describe(v)] for k, v in value.items()]}
    if isinstance(value, (list, tuple)):
        return {type(value).__name__: [describe(v) for v in value]}
    return {"object": type(value).__name__, "repr": text(repr(value))}


def plain(value):
    """``value`` (dicts, lists and scalars) with its strings normalised; other objects described."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, str):
        return text(value)
    if value is None or isinstance(value, (bool, int, float)):
        return value
    return describe(value)


def failure(error):
    return {
        "raised": [cls.__name__ for cls in type(error).__mro__],
        "message": text(error),
    }


def scenario(name, call):
    """Record what ``call()`` returns (a dict of observations) or raises."""
    started = time.monotonic()
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = call()
        observed = {"returned": plain(result)}
        seen = [w for w in caught if not issubclass(w.category, ResourceWarning)]
        if seen:
            observed["warnings"] = [[w.category.__name__, text(w.message)] for w in seen]
    except Exception as error:  # every failure is an observation
        observed = failure(error)
    observations[name] = observed
    print(f"{name}: {time.monotonic() - started:.2f}s", file=sys.stderr)


def raises(call):
    """What ``call()`` raised, or what it returned if it did not raise."""
    try:
        return {"did not raise": describe(call())}
    except Exception as error:
        return failure(error)


def job_properties(job):
    return {
        name: describe(getattr(job, name))
        for name in (
            "job_id",
            "name",
            "description",
            "job_type",
            "status",
            "device_id",
            "shots",
            "transpiler_info",
            "simulator_info",
            "mitigation_info",
            "submitted_at",
            "ready_at",
            "running_at",
            "ended_at",
        )
    } | {"execution_time": type(job.execution_time).__name__}


def ended_object(ended):
    """What wait_for_completion() returned: its type, repr and the attributes users read."""
    if ended is None:
        return None
    attributes = {}
    for name in ("job_id", "name", "description", "device_id", "shots", "message"):
        attributes[name] = describe(getattr(ended, name))
    for name in ("job_type", "status"):
        value = getattr(ended, name)
        attributes[name] = describe(getattr(value, "value", value))
        attributes[f"{name} == str"] = value == getattr(value, "value", value)
    for name in ("submitted_at", "ended_at"):
        attributes[name] = describe(getattr(ended, name))
    attributes["execution_time"] = type(ended.execution_time).__name__
    for name in ("is_sampling", "is_estimation", "is_multi_manual", "is_sse"):
        attributes[name] = getattr(ended, name)()
    return {"type": type(ended).__name__, "repr": text(repr(ended)), **attributes}


def json_text(job):
    return {"to_json": text(job.to_json()), "repr is to_json": repr(job) == job.to_json()}


def http(method, path):
    request = urllib.request.Request(URL + path, method=method, headers={"q-api-token": TOKEN})
    with urllib.request.urlopen(request, timeout=30) as answer:  # loopback only
        return json.loads(answer.read())


def admin_fault(**rule):
    body = json.dumps({"rules": [rule]}).encode()
    request = urllib.request.Request(
        URL + "/_admin/faults",
        data=body,
        method="POST",
        headers={"q-api-token": TOKEN, "Content-Type": "application/json"},
    )
    urllib.request.urlopen(request, timeout=30).close()


def circuit_x(qubit_count, *qubits):
    circuit = QuantumCircuit(qubit_count)
    for qubit in qubits:
        circuit.add_X_gate(qubit)
    return circuit


X1 = circuit_x(1, 0)  # always measures 1
X_ON_1_OF_2 = circuit_x(2, 1)  # always measures 0b10
QASM_X = 'OPENQASM 3;\ninclude "stdgates.inc";\nqubit[1] q;\nbit[1] c;\nx q[0];\nc = measure q;'
Z0 = Operator({pauli_label("Z0"): 1.0})


def write(name, content):
    path = os.path.join(WORKDIR, name)
    with open(path, "w" if isinstance(content, str) else "wb") as f:
        f.write(content)
    return name


sampling = OqtopusSamplingBackend(CONFIG)
estimation = OqtopusEstimationBackend(CONFIG)
sse = OqtopusSseBackend(CONFIG)
devices = OqtopusDeviceBackend(CONFIG)
bad_token = OqtopusConfig(URL, "not-the-token")

# SSE programs take seconds: submitted first, collected at the end.
write(
    "sse_sampling.py",
    "from quri_parts.circuit import QuantumCircuit\n"
    "from quri_parts_oqtopus.backend import OqtopusSamplingBackend\n"
    "c = QuantumCircuit(1)\nc.add_X_gate(0)\n"
    "job = OqtopusSamplingBackend().sample(c, device_id='sse', shots=8)\n"
    "print('sse counts', job.result(wait=0.1).counts)\n",
)
write(
    "sse_estimation.py",
    "from quri_parts.circuit import QuantumCircuit\n"
    "from quri_parts.core.operator import Operator, pauli_label\n"
    "from quri_parts_oqtopus.backend import OqtopusEstimationBackend\n"
    "c = QuantumCircuit(1)\nc.add_X_gate(0)\n"
    "job = OqtopusEstimationBackend().estimate(\n"
    "    c, Operator({pauli_label('Z0'): 1.0}), device_id='sse', shots=8\n)\n"
    "print(job.result(wait=0.1))\n",
)
write("sse_failing.py", "print('about to fail')\nraise RuntimeError('boom')\n")
write("sse_sleeping.py", "import time\ntime.sleep(60)\n")
sse_sampling = sse.run_sse("sse_sampling.py", device_id="qulacs", name="conformance sse")
sse_estimation = sse.run_sse("sse_estimation.py", device_id="qulacs", name="conformance sse est")
sse_failing = sse.run_sse("sse_failing.py", device_id="qulacs", name="conformance sse fail")


# -- module paths and base classes --------------------------------------------------------
def module_paths():
    import quri_parts_oqtopus.backend.devices.device as backend_device
    import quri_parts_oqtopus.backend.jobs.base as jobs_base
    import quri_parts_oqtopus.backend.jobs.estimation as jobs_estimation
    import quri_parts_oqtopus.backend.jobs.sampling as jobs_sampling
    import quri_parts_oqtopus.backend.jobs.sse as jobs_sse
    import quri_parts_oqtopus.models.devices.device as model_device
    import quri_parts_oqtopus.models.jobs.base as model_base
    import quri_parts_oqtopus.models.jobs.estimation as model_estimation
    import quri_parts_oqtopus.models.jobs.results.estimation as result_estimation
    import quri_parts_oqtopus.models.jobs.results.sampling as result_sampling
    import quri_parts_oqtopus.models.jobs.sampling as model_sampling
    import quri_parts_oqtopus.models.jobs.sse as model_sse

    return {
        "jobs.base": jobs_base.OqtopusJobBackendBase is OqtopusJobBackendBase,
        "jobs.sampling": jobs_sampling.OqtopusSamplingBackend is OqtopusSamplingBackend,
        "jobs.estimation": jobs_estimation.OqtopusEstimationBackend is OqtopusEstimationBackend,
        "jobs.sse": jobs_sse.OqtopusSseBackend is OqtopusSseBackend,
        "devices.device": backend_device.OqtopusDeviceBackend is OqtopusDeviceBackend,
        "models.jobs.sampling": model_sampling.OqtopusSamplingJob is OqtopusSamplingJob,
        "models.jobs.estimation": model_estimation.OqtopusEstimationJob is OqtopusEstimationJob,
        "models.jobs.sse": model_sse.OqtopusSseJob is OqtopusSseJob,
        "models.jobs.base": issubclass(OqtopusSamplingJob, model_base.OqtopusJobBase),
        "results.sampling": result_sampling.OqtopusSamplingResult is OqtopusSamplingResult,
        "results.estimation": result_estimation.OqtopusEstimationResult is OqtopusEstimationResult,
        "models.devices.device": model_device.OqtopusDevice is OqtopusDevice,
        "JOB_FINAL_STATUS": list(jobs_sampling.JOB_FINAL_STATUS),
    }


def model_base():
    from quri_parts_oqtopus.models.base import OqtopusModelBase
    from quri_parts_oqtopus.models.utils import DateTimeEncoder

    moment = datetime.datetime(2000, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)
    return {
        "jobs are models": issubclass(OqtopusSamplingJob, OqtopusModelBase)
        and issubclass(OqtopusEstimationJob, OqtopusModelBase)
        and issubclass(OqtopusSseJob, OqtopusModelBase),
        "devices are models": issubclass(OqtopusDevice, OqtopusModelBase),
        "refresh": raises(OqtopusModelBase().refresh),
        "to_json": raises(OqtopusModelBase().to_json),
        "DateTimeEncoder": json.dumps({"at": moment, "n": [1.5]}, cls=DateTimeEncoder),
        "DateTimeEncoder other": raises(lambda: json.dumps({"x": object()}, cls=DateTimeEncoder)),
    }


scenario("module paths re-export the same classes", module_paths)
scenario("models: base class and DateTimeEncoder", model_base)


# -- configuration -------------------------------------------------------------------------
def config_file():
    write(
        "oqtopus.ini",
        "[default]\nurl=default_url\napi_token=default_token\n\n"
        "[option]\nurl=test_url\napi_token=test_token\nproxy=https://testproxy:port\n\n"
        "[wrong]\nurl=test_url\n",
    )
    write("garbage.ini", "garbage\n")
    path = os.path.join(WORKDIR, "oqtopus.ini")
    default = OqtopusConfig.from_file(path=path)
    option = OqtopusConfig.from_file("option", path)
    return {
        "default": [default.url, default.api_token, default.proxy],
        "option": [option.url, option.api_token, option.proxy],
        "missing section": raises(lambda: OqtopusConfig.from_file("nope", path)),
        "missing key": raises(lambda: OqtopusConfig.from_file("wrong", path)),
        "missing file": raises(lambda: OqtopusConfig.from_file("default", path + ".none")),
        "path None": raises(lambda: OqtopusConfig.from_file("default", None)),
        "section None": raises(lambda: OqtopusConfig.from_file(None, path)),
    }


def config_unreadable():
    write("garbage.ini", "garbage\n")
    error = raises(lambda: OqtopusConfig.from_file("default", "garbage.ini"))
    caught = False
    try:
        OqtopusConfig.from_file("default", "garbage.ini")
    except configparser.Error:
        caught = True
    return {"classes": error["raised"], "caught as configparser.Error": caught}


def config_percent():
    write("percent.ini", "[default]\nurl=u\napi_token=abc%def\n")
    return raises(lambda: OqtopusConfig.from_file("default", "percent.ini").api_token)


def config_values():
    config = OqtopusConfig("dummy_url", "dummy_token", "https://dummy:1234")
    return {
        "properties": [config.url, config.api_token, config.proxy],
        "url None": raises(lambda: OqtopusConfig(None, "token")),
        "api_token None": raises(lambda: OqtopusConfig("url", None)),
    }


def config_in_sse_container():
    os.environ["OQTOPUS_ENV"] = "sse_container"
    try:
        config = OqtopusConfig.from_file()
    finally:
        del os.environ["OQTOPUS_ENV"]
    return [config.url, config.api_token, config.proxy]


scenario("config: from_file sections, keys, missing pieces", config_file)
scenario("config: an unreadable file", config_unreadable)
scenario("config: a token with %", config_percent)
scenario("config: constructor", config_values)
scenario("config: from_file inside an SSE container", config_in_sse_container)


def url_without_scheme(url):
    def observe():
        backend = OqtopusSamplingBackend(OqtopusConfig(url, TOKEN))
        return {
            "constructed": True,
            "sample": raises(lambda: backend.sample(X1, device_id="qulacs", shots=1)),
            "retrieve_job": raises(lambda: backend.retrieve_job("some-job")),
        }

    return observe


def url_without_scheme_devices():
    return raises(OqtopusDeviceBackend(OqtopusConfig("localhost:8080", TOKEN)).get_devices)


scenario("backend with a URL without scheme", url_without_scheme("localhost:8080"))
scenario("backend with an ftp:// URL", url_without_scheme("ftp://127.0.0.1"))
scenario("devices of a URL without scheme", url_without_scheme_devices)


def wrong_token():
    backend = OqtopusSamplingBackend(bad_token)
    return {
        "sample": raises(lambda: backend.sample(X1, device_id="qulacs", shots=1)),
        "retrieve_job": raises(lambda: backend.retrieve_job("some-job")),
    }


scenario("backend with a wrong token", wrong_token)


# -- sampling -------------------------------------------------------------------------------
def sample_one():
    job = sampling.sample(
        X1,
        device_id="qulacs",
        shots=10,
        name="conformance one",
        description="one circuit",
        transpiler_info={
            "transpiler_lib": "qiskit",
            "transpiler_options": {"optimization_level": 2},
        },
        simulator_info={"seed": 1},
        mitigation_info={},
    )
    result = job.result(wait=0.05)
    return {
        "counts": describe(result.counts),
        "divided_counts": describe(result.divided_counts),
        "result repr": text(repr(result)),
        "properties": job_properties(job),
        "job_info": describe(job.job_info),
        **json_text(job),
    }


def sample_default_infos():
    job = sampling.sample(X1, device_id="qulacs", shots=3)
    job.result(wait=0.05)
    return {"properties": job_properties(job), "job_info keys": list(job.job_info)}


def sample_many():
    job = sampling.sample([X1, X_ON_1_OF_2], device_id="qulacs", shots=4)
    result = job.result(wait=0.05)
    return {
        "counts": describe(result.counts),
        "divided_counts": describe(result.divided_counts),
        "result repr": text(repr(result)),
        "job_type": job.job_type,
        **json_text(job),
    }


def sample_qasm_forms():
    single = sampling.sample_qasm(QASM_X, device_id="qulacs", shots=2)
    listed = sampling.sample_qasm([QASM_X], device_id="qulacs", shots=2)
    manual = sampling.sample_qasm(
        [QASM_X, QASM_X], device_id="qulacs", shots=2, job_type="multi_manual"
    )
    return {
        "single": [single.job_type, describe(single.result(wait=0.05).counts)],
        "list": [listed.job_type, describe(listed.result(wait=0.05).divided_counts)],
        "multi_manual": [manual.job_type, describe(manual.result(wait=0.05).divided_counts)],
        "job_info program": describe(single.job_info["program"]),
    }


def sample_qasm_estimation_type():
    job = sampling.sample_qasm(QASM_X, device_id="qulacs", shots=2, job_type="estimation")
    return job.job_type


def wait_for_completion():
    job = sampling.sample(X1, device_id="qulacs", shots=2)
    ended = job.wait_for_completion(wait=0.05)
    again = job.wait_for_completion(wait=0.05)
    rebuilt = OqtopusSamplingJob(ended, sampling._client)
    return {
        "returned": ended_object(ended),
        "again": ended_object(again),
        "a job built from it": [rebuilt.job_id == job.job_id, rebuilt.status],
    }


def bad_shots(shots):
    return lambda: raises(lambda: sampling.sample(X1, device_id="qulacs", shots=shots))


def bad_qasm_shots(shots):
    return lambda: raises(lambda: sampling.sample_qasm(QASM_X, device_id="qulacs", shots=shots))


for shots in (0, -1, 0.5, 1.5, "10", None, True, 10**8):
    scenario(f"sample with shots={shots!r}", bad_shots(shots))
for shots in (0, 1.5, None):
    scenario(f"sample_qasm with shots={shots!r}", bad_qasm_shots(shots))
for device_id in (123, None, "no-such-device"):
    scenario(
        f"sample on device_id={device_id!r}",
        lambda device_id=device_id: raises(
            lambda: sampling.sample(X1, device_id=device_id, shots=1)
        ),
    )
for info in ("x", [1], 5):
    scenario(
        f"sample with transpiler_info={info!r}",
        lambda info=info: raises(
            lambda: sampling.sample(X1, device_id="qulacs", shots=1, transpiler_info=info)
        ),
    )
scenario(
    "sample an empty list", lambda: raises(lambda: sampling.sample([], device_id="qulacs", shots=1))
)
scenario(
    "sample_qasm an empty list",
    lambda: raises(lambda: sampling.sample_qasm([], device_id="qulacs", shots=1)),
)
scenario("sample one circuit", sample_one)
scenario("sample with the default infos", sample_default_infos)
scenario("sample a list of circuits", sample_many)
scenario("sample_qasm: one text, a list, multi_manual", sample_qasm_forms)
scenario("sample_qasm with job_type='estimation'", sample_qasm_estimation_type)
scenario("wait_for_completion returns the ended job", wait_for_completion)


def failed_job():
    job = sampling.sample_qasm("garbage", device_id="qulacs", shots=1)
    return {
        "result": raises(lambda: job.result(wait=0.05)),
        "ended": ended_object(job.wait_for_completion(wait=0.05)),
        "status": job.status,
        "message": describe(job.job_info["message"]),
        **json_text(job),
    }


def slow_job():
    job = sampling.sample(X1, device_id="slow", shots=1)
    timed_out = raises(lambda: job.result(timeout=0.3, wait=0.1))
    waited = job.wait_for_completion(timeout=0.3, wait=0.1)
    job.cancel()
    job.wait_for_completion(wait=0.05)
    return {
        "result(timeout=0.3)": timed_out,
        "wait_for_completion(timeout=0.3)": describe(waited),
        "status after cancel": job.status,
        "result after cancel": raises(lambda: job.result(wait=0.05)),
        "cancel again": raises(job.cancel),
        **json_text(job),
    }


def ended_job_cancel_and_refresh():
    job = sampling.sample(X1, device_id="qulacs", shots=1)
    job.result(wait=0.05)
    cancel = raises(job.cancel)
    http("DELETE", f"/jobs/{job.job_id}")
    return {
        "cancel": cancel,
        "refresh of a deleted job": raises(job.refresh),
        "result is kept": describe(job.result().counts),
    }


def retrieve():
    job = sampling.sample(X1, device_id="qulacs", shots=1)
    job.result(wait=0.05)
    retrieved = OqtopusJobBackendBase(CONFIG).retrieve_job(job.job_id)
    return {
        "type": type(retrieved).__name__,
        "same text": retrieved.to_json() == job.to_json(),
        "properties": job_properties(retrieved),
        "counts": describe(retrieved.result().counts),
        "missing": raises(lambda: sampling.retrieve_job("no-such-job")),
    }


def job_constructors():
    job = sampling.sample(X1, device_id="qulacs", shots=1)
    job.result(wait=0.05)
    ended = job.wait_for_completion()
    client = sampling._client
    return {
        "job None": raises(lambda: OqtopusSamplingJob(None, client)),
        "client None": raises(lambda: OqtopusSamplingJob(ended, None)),
        "keywords": OqtopusSamplingJob(job=ended, client=client).job_id == job.job_id,
        "estimation job None": raises(lambda: OqtopusEstimationJob(job=None, client=client)),
        "sse job client None": raises(lambda: OqtopusSseJob(job=ended, client=None)),
    }


def job_api_keyword():
    job = sampling.sample(X1, device_id="qulacs", shots=1)
    ended = job.wait_for_completion(wait=0.05)
    return OqtopusSamplingJob(ended, job_api=sampling._client).status


scenario("a failed job", failed_job)
scenario("a job that outlasts the timeout, then is cancelled", slow_job)
scenario("cancel and refresh of an ended job", ended_job_cancel_and_refresh)
scenario("retrieve_job", retrieve)
scenario("job constructors", job_constructors)
scenario("job constructor with job_api=", job_api_keyword)


# -- results built directly -----------------------------------------------------------------
def sampling_results():
    given = {
        "counts": {0: 6000, 2: 4000},
        "divided_counts": {"0": {"0": 10000}, "1": {"0": 6000, "1": 4000}},
    }
    string_keys = OqtopusSamplingResult(
        {"counts": {"11": 3, "0": 1}, "divided_counts": {"0": {"11": 2}}}
    )
    return {
        "int keys": describe(OqtopusSamplingResult(given).counts),
        "divided": describe(OqtopusSamplingResult(given).divided_counts),
        "repr": text(repr(OqtopusSamplingResult(given))),
        "string keys": describe(string_keys.counts),
        "string keys divided": describe(string_keys.divided_counts),
        "no divided": describe(OqtopusSamplingResult({"counts": {1: 1}}).divided_counts),
        "no counts": raises(lambda: OqtopusSamplingResult({"divided_counts": {}})),
        "empty": raises(lambda: OqtopusSamplingResult({})),
    }


def estimation_results():
    plain = OqtopusEstimationResult({"exp_value": 2, "stds": 1.1})
    empty = OqtopusEstimationResult({})
    return {
        "plain": [describe(plain.exp_value), describe(plain.stds), text(repr(plain))],
        "empty": [describe(empty.exp_value), describe(empty.stds), text(repr(empty))],
    }


def estimation_result_wrapped():
    wrapped = OqtopusEstimationResult({"estimation": {"exp_value": 2.0, "stds": 1.1}})
    return [describe(wrapped.exp_value), describe(wrapped.stds), text(repr(wrapped))]


scenario("OqtopusSamplingResult built directly", sampling_results)
scenario("OqtopusEstimationResult built directly", estimation_results)
scenario("OqtopusEstimationResult of the documented nested dict", estimation_result_wrapped)


# -- estimation -----------------------------------------------------------------------------
def estimate_one():
    operator = Operator({pauli_label("Z0"): 1.0, pauli_label("Z0 Z1"): 0.5})
    job = estimation.estimate(circuit_x(2, 0), operator, device_id="qulacs", shots=100)
    result = job.result(wait=0.05)
    return {
        "exp_value": describe(result.exp_value),
        "stds": describe(result.stds),
        "result repr": text(repr(result)),
        "properties": job_properties(job),
        "ended": ended_object(job.wait_for_completion()),
        **json_text(job),
    }


def estimate_qasm():
    job = estimation.estimate_qasm(QASM_X, Z0, device_id="qulacs", shots=10)
    return [describe(job.result(wait=0.05).exp_value), job.job_info["operator"]]


def bad_operator(operator):
    return lambda: raises(lambda: estimation.estimate(X1, operator, device_id="qulacs", shots=1))


scenario("estimate", estimate_one)
scenario("estimate_qasm", estimate_qasm)
scenario("estimate with a complex coefficient", bad_operator(Operator({pauli_label("Z0"): 1j})))
scenario("estimate with a NaN coefficient", bad_operator(Operator({pauli_label("Z0"): math.nan})))
scenario("estimate an empty operator", bad_operator(Operator()))
scenario(
    "estimate with shots=0",
    lambda: raises(lambda: estimation.estimate(X1, Z0, device_id="qulacs", shots=0)),
)
scenario(
    "estimate on device_id=None",
    lambda: raises(lambda: estimation.estimate(X1, Z0, device_id=None, shots=1)),
)


# -- devices --------------------------------------------------------------------------------
def device_listing():
    listed = devices.get_devices()
    # This run's own device: no job of the other run changes its n_pending_jobs.
    device = devices.get_device(SPARE_DEVICE)
    return {
        "ids": sorted(d.device_id for d in listed if not d.device_id.startswith("spare")),
        "properties": {
            name: describe(getattr(device, name))
            for name in (
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
        },
        "to_json": text(device.to_json()),
        "refresh": describe(device.refresh()),
    }


def device_repr():
    return text(repr(devices.get_device("offline")))


def offline_device():
    device = devices.get_device("offline")
    return {
        "available_at": describe(device.available_at),
        "to_json": text(device.to_json()),
        "status": device.status,
    }


def missing_device():
    return raises(lambda: devices.get_device("no-such-device"))


def device_refresh_failure():
    device = devices.get_device(SPARE_DEVICE)
    admin_fault(
        method="GET", path=f"/devices/{SPARE_DEVICE}$", status=404, body='{"message": "gone"}'
    )
    return raises(device.refresh)


def device_constructor():
    device = devices.get_device("qulacs")
    return {
        "device None": raises(lambda: OqtopusDevice(None, devices._client)),
        "client None": raises(lambda: OqtopusDevice(device._device, None)),
    }


scenario("devices: list, get, properties, to_json", device_listing)
scenario("devices: repr", device_repr)
scenario("devices: an unavailable device", offline_device)
scenario("devices: get_device of an unknown id", missing_device)
scenario("devices: refresh that fails", device_refresh_failure)
scenario("devices: constructor", device_constructor)


# -- SSE ------------------------------------------------------------------------------------
def run_sse_checks():
    write("notes.txt", "x")
    os.makedirs(os.path.join(WORKDIR, "folder.py"), exist_ok=True)
    write("latin1.py", b"print('\xe9')\n")
    write("huge.py", b"#" * (8 * 1024 * 1024))

    def run(path, device_id="qulacs"):
        return raises(lambda: sse.run_sse(path, device_id=device_id, name="conformance checks"))

    return {
        "None": run(None),
        "missing": run("nope/missing.py"),
        "not .py": run("notes.txt"),
        "directory": run("folder.py"),
        "not UTF-8": run("latin1.py"),
        "too large": run("huge.py"),
        "unknown device": run("sse_failing.py", device_id="no-such-device"),
    }


def sse_job_sampling():
    result = sse_sampling.result(wait=0.1)
    return {
        "type": type(result).__name__,
        "counts": describe(result.counts),
        "repr": text(repr(result)),
        "ended": ended_object(sse_sampling.wait_for_completion()),
        **json_text(sse_sampling),
    }


def sse_job_estimation():
    result = sse_estimation.result(wait=0.1)
    return {
        "type": type(result).__name__,
        "exp_value": describe(result.exp_value),
        "repr": text(repr(result)),
    }


def sse_job_failing():
    return {
        "result": raises(lambda: sse_failing.result(wait=0.1)),
        "status": sse_failing.status,
        **json_text(sse_failing),
    }


def sse_job_right_after_run():
    job = sse.run_sse("sse_failing.py", device_id="qulacs", name="conformance sse fresh")
    observed = {"status": job.status, **json_text(job)}
    job.wait_for_completion(wait=0.1)
    return observed


def sse_logs():
    first = os.path.basename(sse_sampling.download_log())
    target = os.path.join(WORKDIR, "logs")
    os.makedirs(target, exist_ok=True)
    saved = sse_sampling.download_log(save_dir=target)
    with zipfile.ZipFile(saved) as archive:
        members = {text(name): text(archive.read(name).decode()) for name in archive.namelist()}
    return {
        "default directory": text(first),
        "saved": text(saved),
        "members": members,
        "same bytes": hashlib.sha256(open(saved, "rb").read()).hexdigest()
        == hashlib.sha256(open(first, "rb").read()).hexdigest(),
        "again": raises(lambda: sse_sampling.download_log(save_dir=target)),
        "missing directory": raises(lambda: sse_sampling.download_log(save_dir="no/such/dir")),
        "a file as directory": raises(lambda: sse_sampling.download_log(save_dir="notes.txt")),
        "log of a failed job": text(os.path.basename(sse_failing.download_log(save_dir=target))),
    }


def sse_backend_logs():
    fresh = OqtopusSseBackend(CONFIG)
    sampling_job = sampling.sample(X1, device_id="qulacs", shots=1)
    directory = os.path.join(WORKDIR, "backend-logs")
    os.makedirs(directory, exist_ok=True)
    by_id = fresh.download_log(job_id=sse_estimation.job_id, save_dir=directory)
    return {
        "no job yet": raises(OqtopusSseBackend(CONFIG).download_log),
        "by id": text(by_id),
        "then the last one": text(fresh.download_log(save_dir=os.path.join(directory, ".."))),
        "not an SSE job": raises(lambda: fresh.download_log(job_id=sampling_job.job_id)),
        "unknown id": raises(lambda: fresh.download_log(job_id="no-such-job")),
    }


def sse_timeout_and_cancel():
    job = sse.run_sse("sse_sleeping.py", device_id="qulacs", name="conformance sse sleep")
    timed_out = raises(lambda: job.result(timeout=0.5, wait=0.1))
    caught = False
    try:
        job.result(timeout=0.2, wait=0.1)
    except TimeoutError:
        caught = True
    job.cancel()
    job.wait_for_completion(wait=0.1)
    return {
        "result(timeout=0.5)": timed_out,
        "caught as TimeoutError": caught,
        "status": job.status,
        "result of the cancelled job": raises(lambda: job.result(wait=0.1)),
    }


scenario("run_sse refuses bad files", run_sse_checks)
scenario("SSE job that samples", sse_job_sampling)
scenario("SSE job that estimates", sse_job_estimation)
scenario("SSE job that fails", sse_job_failing)
scenario("SSE job right after run_sse", sse_job_right_after_run)
scenario("SSE logs", sse_logs)
scenario("SSE logs through the backend (deprecated)", sse_backend_logs)
scenario("SSE job that outlasts the timeout", sse_timeout_and_cancel)


# -- today's OQTOPUS: mitigation_info and transpilers on an emulated QPU --------------------
EMULATED = "emu-ring-8"
BELL = QuantumCircuit(2)
BELL.add_H_gate(0)
BELL.add_CNOT_gate(0, 1)
ZZ = Operator({pauli_label("Z0 Z1"): 1.0})
READOUT = {"readout": {"method": "pseudo_inverse"}}
ZNE = {"zne": {"params": {"scale_factors": [1, 3], "folding": "random"}}}


def mitigation_details(result):
    return describe(getattr(result, "mitigation_details", "no such attribute"))


def readout_mitigated_sampling():
    job = sampling.sample(
        BELL, device_id=EMULATED, shots=300, simulator_info={"seed": 5}, mitigation_info=READOUT
    )
    result = job.result(wait=0.05)
    return {
        "counts": describe(result.counts),
        "properties": job_properties(job),
        "mitigation_details": mitigation_details(result),
    }


def zne_estimation():
    job = estimation.estimate(
        BELL,
        ZZ,
        device_id=EMULATED,
        shots=300,
        simulator_info={"seed": 5},
        mitigation_info={**READOUT, **ZNE},
    )
    result = job.result(wait=0.05)
    return {
        "exp_value": describe(result.exp_value),
        "stds": describe(result.stds),
        "mitigation_info": describe(job.mitigation_info),
        "mitigation_details": mitigation_details(result),
    }


def unknown_readout_method():
    job = sampling.sample(
        BELL, device_id=EMULATED, shots=10, mitigation_info={"readout": {"method": "twirl"}}
    )
    job.wait_for_completion(wait=0.05)
    return {"status": job.status, "result": raises(job.result)}


def transpilers():
    observed = {}
    for info in ({}, {"transpiler_lib": "tket"}, {"transpiler_lib": "ouqu-tp"}):
        job = sampling.sample(
            BELL, device_id=EMULATED, shots=10, simulator_info={"seed": 5}, transpiler_info=info
        )
        job.wait_for_completion(wait=0.05)
        observed[json.dumps(info)] = {
            "status": job.status,
            "transpiler_info": describe(job.transpiler_info),
            "message": describe(job.job_info.get("message")),
        }
    return observed


scenario("emulated QPU: readout.method mitigation", readout_mitigated_sampling)
scenario("emulated QPU: ZNE and readout mitigation of an estimation", zne_estimation)
scenario("emulated QPU: an unknown readout method", unknown_readout_method)
scenario("emulated QPU: transpilers and the default transpiler_info", transpilers)


# -- the last drop-in details ---------------------------------------------------------------
SIDE = SPARE_DEVICE  # this run's own name: ids and paths of the faults below are its own


def admin_answer(path, body):
    """Every GET of ``path`` (a regex) answers 200 with ``body``: a record the server would not make."""
    admin_fault(method="GET", path=path, status=200, body=json.dumps(body), times=-1)


def served_job(job_id, job_type, result):
    admin_answer(
        f"/jobs/{job_id}$",
        {
            "job_id": job_id,
            "name": "served",
            "description": "",
            "job_type": job_type,
            "status": "succeeded",
            "device_id": "qulacs",
            "shots": 3,
            "job_info": {"program": [QASM_X], "result": result},
            "transpiler_info": {},
            "simulator_info": {},
            "mitigation_info": {},
            "submitted_at": "2024-01-01T00:00:00Z",
        },
    )
    return sampling.retrieve_job(job_id)


def environment_dummy_url():
    saved = {key: os.environ.get(key) for key in ("OQTOPUS_URL", "OQTOPUS_API_TOKEN")}
    os.environ.update({"OQTOPUS_URL": "dummy_url", "OQTOPUS_API_TOKEN": "dummy_token"})
    try:
        built = {
            kind.__name__: kind().config.url
            for kind in (OqtopusSamplingBackend, OqtopusEstimationBackend, OqtopusSseBackend)
        }
        backend = OqtopusSamplingBackend()
        return {
            "constructed": built,
            "sample": raises(lambda: backend.sample(X1, device_id="qulacs", shots=1)),
            "retrieve_job": raises(lambda: backend.retrieve_job("some-job")),
        }
    finally:
        for key, value in saved.items():
            os.environ[key] = value


def result_none():
    return {
        job_type: raises(lambda: served_job(f"{SIDE}-none-{job_type}", job_type, None).result())
        for job_type in ("sampling", "estimation", "sse")
    }


def counts_not_bits():
    counts = {"sampling": {"counts": {"2x": 3}, "divided_counts": None}}
    divided = {"sampling": {"counts": {"01": 3}, "divided_counts": {"0": {"ab": 3}}}}
    return {
        "counts": raises(lambda: served_job(f"{SIDE}-2x", "sampling", counts).result()),
        "divided_counts": raises(
            lambda: served_job(f"{SIDE}-ab", "multi_manual", divided).result()
        ),
    }


def device_info_not_object():
    observed = {}
    for name, info in (("list", "[1, 2]"), ("number", "3"), ("null", "null")):
        device_id = f"{SIDE}-info-{name}"
        device = {
            "device_id": device_id,
            "device_type": "QPU",
            "status": "available",
            "n_pending_jobs": 0,
            "basis_gates": ["x"],
            "supported_instructions": ["measure"],
            "device_info": info,
            "description": "",
        }
        admin_answer(f"/devices/{device_id}$", device)
        observed[name] = describe(devices.get_device(device_id).device_info)
    return observed


def proxy_of_explicit_config():
    os.environ["OQTOPUS_PROXY"] = "http://127.0.0.1:9"  # nothing listens there
    try:
        without = OqtopusConfig(URL, TOKEN)
        with_own = OqtopusConfig(URL, TOKEN, "http://127.0.0.1:8")
        empty = OqtopusConfig(URL, TOKEN, "")
        return {
            "no proxy: config kept": OqtopusSamplingBackend(without).config is without,
            "no proxy: config.proxy": OqtopusSamplingBackend(without).config.proxy,
            "own proxy": OqtopusSamplingBackend(with_own).config.proxy,
            "empty proxy: sample": describe(
                OqtopusSamplingBackend(empty).sample(X1, "qulacs", 1).result(wait=0.05).counts
            ),
        }
    finally:
        del os.environ["OQTOPUS_PROXY"]


def config_unknown_keys():
    write(
        "extra.ini",
        "[default]\nurl=u\napi_token=t\ncolor=blue\ntimeout=soon\nretries=-1\n"
        "deadline=never\nmax_response_bytes=lots\n",
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ours warns about the values it cannot use
        config = OqtopusConfig.from_file("default", "extra.ini")
    return [config.url, config.api_token, config.proxy]


def final_statuses():
    import quri_parts_oqtopus.backend.jobs.estimation as jobs_estimation
    import quri_parts_oqtopus.backend.jobs.sampling as jobs_sampling
    import quri_parts_oqtopus.models.jobs.base as models_base
    import quri_parts_oqtopus.models.jobs.sse as models_sse

    return {
        module.__name__: describe(module.JOB_FINAL_STATUS)
        for module in (jobs_sampling, jobs_estimation, models_base, models_sse)
    }


scenario("a backend from OQTOPUS_URL=dummy_url", environment_dummy_url)
scenario("result() of a job whose result is None", result_none)
scenario("result() of counts keys that are not bit strings", counts_not_bits)
scenario("devices: a device_info that is not a JSON object", device_info_not_object)
scenario("OQTOPUS_PROXY and the proxy of an explicit config", proxy_of_explicit_config)
scenario("config: keys the reference does not know", config_unknown_keys)
scenario("JOB_FINAL_STATUS", final_statuses)


# -- the QURI Parts sampler factory ---------------------------------------------------------
def sampler_factory():
    from quri_parts_oqtopus.sampler import create_oqtopus_concurrent_sampler

    sampler = create_oqtopus_concurrent_sampler()
    return raises(lambda: list(sampler([(X1, 1)])))


scenario("create_oqtopus_concurrent_sampler()", sampler_factory)

with open(sys.argv[1], "w", encoding="utf-8") as out:
    json.dump(observations, out, indent=1, sort_keys=True)
print(f"{len(observations)} scenarios", file=sys.stderr)
