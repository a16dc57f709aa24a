"""Side-by-side timings: quri-parts-oqtopus 1.1.5 from PyPI (the reference) against ours.

The reference runs in a subprocess of its own virtualenv (the import names clash):
``--reference-python`` (or ``OQTOPUS_REFERENCE_PYTHON``) picks its interpreter, else the
Makefile's ``.ref-venv/``, else ``.bench-venv/`` is created with ``quri-parts-oqtopus==1.1.5``.
Both sides build the same seeded inputs, time each case as the best of ``--repeat`` runs,
and fingerprint their outputs so the table also says whether the results mean the same.
Case (c) is the client's CPU time (``time.process_time``, all its threads) for one whole
``sample()`` of the batch against a local OQTOPUS server whose device is switched off, so
the server only stores the job. Case (g) turns 1,000 parameter sets of one parametric
circuit into QASM: the reference binds each and converts it, ours takes a
``ParameterSweep``; (g') times the conversion alone of circuits bound beforehand. Case (h)
is the wall time of 1,000 small sampling jobs submitted and collected through one local
server, each side as its users write it: the reference a loop of ``sample()`` then a loop
of ``result()`` (defaults), ours one ``OqtopusJobSet`` (default concurrency, ``wait()``,
``results()``). Each case prints its floor beside the ratio: what the QURI Parts objects
alone cost, or the server's own time. Peak memory of (a)+(b) is the growth of each side's
peak RSS over a fresh process that has just built the circuits.
``--quick`` uses smaller sizes, for CI.

    python benches/compare.py [--quick] [--reference-python PATH]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import subprocess
import sys
import tempfile
import time
import venv
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

SIZES: dict[str, dict[str, int]] = {
    "full": {
        "circuits": 1000,
        "qubits": 64,
        "gates": 2000,
        "terms": 10_000,
        "outcomes": 200_000,
        "bindings": 1000,
        "jobs": 1000,
    },
    "quick": {
        "circuits": 60,
        "qubits": 64,
        "gates": 500,
        "terms": 2000,
        "outcomes": 50_000,
        "bindings": 40,
        "jobs": 30,
    },
}
PROGRAM_BITS = [5, 5, 5, 5]
TARGETS = {"a": 10.0, "b": 15.0, "c": 10.0, "d": 20.0, "e": 5.0, "f": 20.0, "g": 15.0, "h": 5.0}
CASES = {
    "a": "(a) circuits -> QASM",
    "b": "(b) QASM -> upload ZIP",
    "ab": "(a+b) circuits -> upload ZIP (fused)",
    "c": "(c) client CPU of one sample() call",
    "d": "(d) operator -> payload terms",
    "e": "(e) result ZIP -> counts + divided",
    "f": "(f) split_counts vs plain Python",
    "g": "(g) parameter sets -> QASM (sweep)",
    "g2": "(g') bound circuits -> QASM",
    "h": "(h) small jobs submitted + collected",
}
FLOORS = {
    "a": "the gates tuples and the getters the writer needs take",
    "d": "iterating each PauliLabel takes",
    "g": "QURI Parts' bind_parameters of every set takes",
    "g2": "the bound circuits' gates tuples take",
    "h": "the server's simulator runs our side's jobs (over its 2 workers) in",
}
BEYOND = {
    "a": "through the public API (the direct read goes past it)",
    "d": "for any reader of the PauliLabels",
    "g": "for a reader of bound circuits (a ParameterSweep binds none)",
    "g2": "through the public API (the direct read goes past it)",
    "h": "if HTTP cost nothing",
}
JOB_SHOTS = 100
JOB_QUBITS = 4
REPO = Path(__file__).resolve().parent.parent


def make_circuits(size: dict[str, int]) -> list[Any]:
    from quri_parts.circuit import QuantumCircuit

    rng = random.Random(1)
    circuits = []
    qubits = size["qubits"]
    for _ in range(size["circuits"]):
        circuit = QuantumCircuit(qubits)
        for _ in range(size["gates"]):
            kind = rng.randrange(4)
            if kind == 0:
                circuit.add_H_gate(rng.randrange(qubits))
            elif kind == 1:
                circuit.add_X_gate(rng.randrange(qubits))
            elif kind == 2:
                circuit.add_RZ_gate(rng.randrange(qubits), rng.uniform(-3.2, 3.2))
            else:
                control, target = rng.sample(range(qubits), 2)
                circuit.add_CNOT_gate(control, target)
        circuits.append(circuit)
    return circuits


def make_sweep(size: dict[str, int]) -> tuple[Any, list[list[float]]]:
    """A parametric circuit like ``make_circuits``' (RZ angles left open) and its bindings."""
    from quri_parts.circuit import UnboundParametricQuantumCircuit

    rng = random.Random(4)
    qubits = size["qubits"]
    circuit = UnboundParametricQuantumCircuit(qubits)
    for _ in range(size["gates"]):
        kind = rng.randrange(4)
        if kind == 0:
            circuit.add_H_gate(rng.randrange(qubits))
        elif kind == 1:
            circuit.add_X_gate(rng.randrange(qubits))
        elif kind == 2:
            circuit.add_ParametricRZ_gate(rng.randrange(qubits))
        else:
            control, target = rng.sample(range(qubits), 2)
            circuit.add_CNOT_gate(control, target)
    count = circuit.parameter_count
    sets = [[rng.uniform(-3.2, 3.2) for _ in range(count)] for _ in range(size["bindings"])]
    return circuit, sets


def make_small_jobs(size: dict[str, int]) -> list[Any]:
    """Small circuits of X, CNOT and SWAP gates: each has one outcome, so counts compare."""
    from quri_parts.circuit import QuantumCircuit

    rng = random.Random(5)
    circuits = []
    for _ in range(size["jobs"]):
        circuit = QuantumCircuit(JOB_QUBITS)
        for _ in range(10):
            a, b = rng.sample(range(JOB_QUBITS), 2)
            kind = rng.randrange(3)
            if kind == 0:
                circuit.add_X_gate(a)
            elif kind == 1:
                circuit.add_CNOT_gate(a, b)
            else:
                circuit.add_SWAP_gate(a, b)
        circuits.append(circuit)
    return circuits


def make_operator(size: dict[str, int]) -> Any:
    from quri_parts.core.operator import Operator, pauli_label

    rng = random.Random(2)
    terms: dict[Any, float] = {}
    while len(terms) < size["terms"]:
        qubits = rng.sample(range(size["qubits"]), rng.randint(1, size["qubits"]))
        label = pauli_label({(q, rng.randint(1, 3)) for q in qubits})
        terms[label] = rng.uniform(-1.0, 1.0)
    return Operator(terms)


def make_result_archive(size: dict[str, int], path: Path) -> None:
    """A result ZIP as the server writes it: json.dumps + ZIP_DEFLATED."""
    import io
    import zipfile

    rng = random.Random(3)
    width = sum(PROGRAM_BITS)
    keys = rng.sample(range(2**width), size["outcomes"])
    counts = {format(k, f"0{width}b"): rng.randint(1, 50) for k in keys}
    divided: dict[str, dict[str, int]] = {}
    shift = 0
    for index, bits in enumerate(PROGRAM_BITS):
        part: dict[str, int] = {}
        for key, count in counts.items():
            sub = format((int(key, 2) >> shift) & ((1 << bits) - 1), f"0{bits}b")
            part[sub] = part.get(sub, 0) + count
        divided[str(index)] = part
        shift += bits
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        document = {"sampling": {"counts": counts, "divided_counts": divided}}
        archive.writestr("result.json", json.dumps(document))
    path.write_bytes(buffer.getvalue())


def best_of(repeat: int, function: Callable[[], Any]) -> tuple[float, Any]:
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = function()
        best = min(best, time.perf_counter() - start)
    return best, result


def fingerprint(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True).encode()).hexdigest()[:12]


def zip_meaning(data: bytes) -> Any:
    import io
    import zipfile

    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        (info,) = archive.infolist()
        return [info.filename, json.loads(archive.read(info))]


def counts_meaning(counts: Any, divided: Any) -> Any:
    return [sorted(counts.items()), sorted((k, sorted(v.items())) for k, v in divided.items())]


def peak_rss_growth(prepare: Callable[[], Any], work: Callable[[Any], Any]) -> float:
    """MiB the resident set peaks above its level before ``work`` runs on ``prepare()``.

    Linux: writing 5 to ``/proc/self/clear_refs`` resets the peak (VmHWM) to the current
    RSS, so the peak of building the inputs does not hide the peak of the work.
    """

    def status_kib(field: str) -> int:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
        raise RuntimeError(f"no {field} in /proc/self/status")

    prepared = prepare()
    Path("/proc/self/clear_refs").write_text("5")
    before = status_kib("VmRSS")
    work(prepared)
    return (status_kib("VmHWM") - before) / 1024


def sample_cpu(backend: Any, circuits: list[Any]) -> tuple[float, str]:
    """Client CPU seconds of one ``sample()`` of the whole batch, and the job id."""
    started = time.process_time()
    job = backend.sample(circuits, device_id="qulacs", shots=100)
    return time.process_time() - started, job.job_id


def run_reference(size: dict[str, int], repeat: int, result_zip: Path) -> dict[str, Any]:
    from oqtopus_client.services.storage import OqtopusStorage  # type: ignore[import-not-found,unused-ignore]

    from quri_parts_oqtopus.backend.jobs.estimation import OqtopusEstimationBackend  # type: ignore[import-not-found,unused-ignore]
    from quri_parts_oqtopus.backend.jobs.sampling import _convert_to_qasm_str_with_measure  # type: ignore[import-not-found,attr-defined,unused-ignore]
    from quri_parts_oqtopus.models.jobs.sampling import OqtopusSamplingJob  # type: ignore[import-not-found,unused-ignore]

    out: dict[str, Any] = {}
    circuits = make_circuits(size)
    out["a"], qasm = best_of(
        repeat, lambda: [_convert_to_qasm_str_with_measure(c) for c in circuits]
    )
    out["a_fp"] = fingerprint(qasm)
    build = OqtopusStorage._build_zip_payload
    out["b"], archive = best_of(repeat, lambda: build({"program": qasm}, "job.zip"))
    out["b_fp"] = fingerprint(zip_meaning(archive))
    out["ab"] = out["a"] + out["b"]

    operator = make_operator(size)
    captured: dict[str, Any] = {}

    class CapturedError(Exception):
        pass

    def capture(spec: Any) -> Any:
        captured["operator"] = spec.operator
        raise CapturedError

    # estimate_qasm encodes the operator, builds the job spec, then would submit it.
    backend = OqtopusEstimationBackend.__new__(OqtopusEstimationBackend)
    backend._run_job_spec = capture  # type: ignore[attr-defined,unused-ignore]

    def estimate() -> Any:
        try:
            backend.estimate_qasm("OPENQASM 3;", operator, device_id="d", shots=1)
        except Exception as e:  # BackendError wrapping CapturedError
            if not isinstance(e.__cause__, CapturedError):
                raise
        return captured["operator"]

    out["d"], terms = best_of(repeat, estimate)
    out["d_fp"] = fingerprint(terms)

    data = result_zip.read_bytes()

    def decode() -> Any:
        document = OqtopusStorage._extract_zip_object(data)
        job = SimpleNamespace(status="succeeded", job_info={"result": document})
        result = OqtopusSamplingJob(job, object()).result()  # type: ignore[arg-type,unused-ignore]
        return result.counts, result.divided_counts

    out["e"], (counts, divided) = best_of(repeat, decode)
    out["e_fp"] = fingerprint(counts_meaning(counts, divided))

    circuit, sets = make_sweep(size)
    out["g"], texts = best_of(
        repeat,
        lambda: [_convert_to_qasm_str_with_measure(circuit.bind_parameters(p)) for p in sets],
    )
    out["g_fp"] = fingerprint(texts)
    bound = [circuit.bind_parameters(p) for p in sets]
    out["g2"], texts = best_of(
        repeat, lambda: [_convert_to_qasm_str_with_measure(b) for b in bound]
    )
    out["g2_fp"] = fingerprint(texts)
    return out


def plain_python_split(counts: dict[int, int], widths: list[int]) -> dict[int, dict[int, int]]:
    parts: dict[int, dict[int, int]] = {i: {} for i in range(len(widths))}
    for key, count in counts.items():
        shift = 0
        for index, width in enumerate(widths):
            part = parts[index]
            sub = (key >> shift) & ((1 << width) - 1)
            part[sub] = part.get(sub, 0) + count
            shift += width
    return parts


def api_floors(circuits: list[Any], operator: Any, repeat: int) -> dict[str, float]:
    """What any reader pays through the public QURI Parts objects, however fast the rest is.

    (a): ``circuit.gates`` plus the getters the writer must call (name and target of every
    gate, one more for RZ/CNOT); each getter clones the gate inside quri_parts_rust.
    (d): iterating every PauliLabel (a frozenset) once.
    """
    from operator import attrgetter

    name, target, params = (attrgetter(a) for a in ("name", "target_indices", "params"))

    def read_gates() -> None:
        for circuit in circuits:
            gates = circuit.gates
            list(map(name, gates))
            list(map(target, gates))
            list(map(params, gates[::2]))  # RZ and CNOT are half the gates: one more getter

    return {
        "a": best_of(repeat, read_gates)[0],
        "d": best_of(repeat, lambda: [list(label) for label in operator])[0],
    }


def sweep_floors(circuit: Any, sets: list[list[float]], repeat: int) -> dict[str, float]:
    """(g): what binding every set costs in QURI Parts (the floor of any reader of bound
    circuits); (g'): reading every bound circuit's gates through the public getters."""
    bound = [circuit.bind_parameters(p) for p in sets]
    return {
        "g": best_of(repeat, lambda: [circuit.bind_parameters(p) for p in sets])[0],
        "g2": best_of(repeat, lambda: [b.gates for b in bound])[0],
    }


def run_reference_memory(size: dict[str, int]) -> dict[str, Any]:
    from oqtopus_client.services.storage import OqtopusStorage  # type: ignore[import-not-found,unused-ignore]

    from quri_parts_oqtopus.backend.jobs.sampling import _convert_to_qasm_str_with_measure  # type: ignore[import-not-found,attr-defined,unused-ignore]

    def work(circuits: list[Any]) -> Any:
        qasm = [_convert_to_qasm_str_with_measure(c) for c in circuits]
        return OqtopusStorage._build_zip_payload({"program": qasm}, "job.zip")

    return {"mem_ab": peak_rss_growth(lambda: make_circuits(size), work)}


def run_reference_sample(size: dict[str, int], url: str, token: str) -> dict[str, Any]:
    from quri_parts_oqtopus.backend import OqtopusConfig, OqtopusSamplingBackend  # type: ignore[import-not-found,unused-ignore]

    backend = OqtopusSamplingBackend(OqtopusConfig(url, token))
    circuits = make_circuits(size)
    seconds, job_id = sample_cpu(backend, circuits)
    return {"c": seconds, "c_job": job_id}


def run_reference_jobs(size: dict[str, int], url: str, token: str) -> dict[str, Any]:
    """(h), the reference's way: a loop of sample(), then a loop of result() (defaults)."""
    from quri_parts_oqtopus.backend import OqtopusConfig, OqtopusSamplingBackend  # type: ignore[import-not-found,unused-ignore]

    backend = OqtopusSamplingBackend(OqtopusConfig(url, token))
    circuits = make_small_jobs(size)
    started = time.perf_counter()
    jobs = [backend.sample(c, device_id="qulacs", shots=JOB_SHOTS, name="h-ref") for c in circuits]
    counts = [dict(job.result().counts) for job in jobs]
    return {"h": time.perf_counter() - started, "h_fp": fingerprint(sorted_counts(counts))}


def run_ours_jobs(size: dict[str, int], url: str, token: str) -> dict[str, Any]:
    """(h), ours: one job set at its default concurrency, wait(), results()."""
    from quri_parts_oqtopus.backend import OqtopusConfig
    from quri_parts_oqtopus.jobset import OqtopusJobSet

    circuits = make_small_jobs(size)
    config = OqtopusConfig(url, token)
    started = time.perf_counter()
    job_set = OqtopusJobSet.submit(circuits, "qulacs", JOB_SHOTS, config, name="h-ours")
    job_set.wait()
    counts = [dict(result.counts) for result in job_set.results()]  # type: ignore[union-attr]
    return {"h": time.perf_counter() - started, "h_fp": fingerprint(sorted_counts(counts))}


def sorted_counts(counts: list[dict[int, Any]]) -> list[list[tuple[int, Any]]]:
    return [sorted(c.items()) for c in counts]


def run_ours_memory(size: dict[str, int]) -> dict[str, Any]:
    from quri_parts_oqtopus.qasm import convert_to_qasm_strs
    from quri_parts_oqtopus.upload import build_programs_archive

    def work(circuits: list[Any]) -> Any:
        return build_programs_archive("job.zip", convert_to_qasm_strs(circuits))

    return {"mem_ab": peak_rss_growth(lambda: make_circuits(size), work)}


def run_ours_sample(size: dict[str, int], url: str, token: str) -> dict[str, Any]:
    from quri_parts_oqtopus.backend import OqtopusConfig, OqtopusSamplingBackend

    backend = OqtopusSamplingBackend(OqtopusConfig(url, token))
    circuits = make_circuits(size)
    seconds, job_id = sample_cpu(backend, circuits)
    return {"c": seconds, "c_job": job_id}


def run_ours(size: dict[str, int], repeat: int, result_zip: Path) -> dict[str, Any]:
    from quri_parts_oqtopus.counts import decode_sampling_archive, split_counts
    from quri_parts_oqtopus.operator import encode_operator
    from quri_parts_oqtopus.qasm import convert_to_qasm_strs
    from quri_parts_oqtopus.upload import build_circuits_archive, build_programs_archive

    out: dict[str, Any] = {}
    circuits = make_circuits(size)
    out["a"], qasm = best_of(repeat, lambda: convert_to_qasm_strs(circuits))
    out["a_fp"] = fingerprint(qasm)
    out["b"], archive = best_of(repeat, lambda: build_programs_archive("job.zip", qasm))
    out["b_fp"] = fingerprint(zip_meaning(archive))
    out["ab"], fused = best_of(repeat, lambda: build_circuits_archive("job.zip", circuits))
    out["ab_fp"] = fingerprint(zip_meaning(fused))
    out["sizes"] = {"b_zip_bytes": len(archive), "json_bytes": len(json.dumps({"program": qasm}))}

    operator = make_operator(size)
    out["d"], terms = best_of(repeat, lambda: encode_operator(operator))
    out["d_fp"] = fingerprint(terms)

    data = result_zip.read_bytes()
    out["e"], (counts, divided, _details) = best_of(repeat, lambda: decode_sampling_archive(data))
    out["e_fp"] = fingerprint(counts_meaning(counts, divided or {}))

    out["floor"] = api_floors(circuits, operator, repeat)

    from quri_parts_oqtopus.sweep import ParameterSweep

    circuit, sets = make_sweep(size)
    out["g"], texts = best_of(repeat, lambda: convert_to_qasm_strs(ParameterSweep(circuit, sets)))
    out["g_fp"] = fingerprint(texts)
    bound = [circuit.bind_parameters(p) for p in sets]
    out["g2"], texts = best_of(repeat, lambda: convert_to_qasm_strs(bound))
    out["g2_fp"] = fingerprint(texts)
    out["floor"] |= sweep_floors(circuit, sets, repeat)

    combined = dict(counts)
    out["f_ref"], expected = best_of(repeat, lambda: plain_python_split(combined, PROGRAM_BITS))
    out["f"], split = best_of(repeat, lambda: split_counts(combined, PROGRAM_BITS))
    out["f_fp"] = fingerprint(counts_meaning(split, {}))
    out["f_ref_fp"] = fingerprint(counts_meaning(expected, {}))
    return out


def reference_python(given: str | None) -> str:
    """The reference's interpreter: the one given, the Makefile's ``.ref-venv``, or a
    ``.bench-venv`` created here."""
    if given:
        return given
    if (REPO / ".ref-venv" / "bin" / "python").exists():
        return str(REPO / ".ref-venv" / "bin" / "python")
    bench_venv = REPO / ".bench-venv"
    python = bench_venv / "bin" / "python"
    if not python.exists():
        print(f"creating {bench_venv} with quri-parts-oqtopus==1.1.5 ...", file=sys.stderr)
        venv.create(bench_venv, with_pip=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", "quri-parts-oqtopus==1.1.5"], check=True
        )
    return str(python)


def print_table(ours: dict[str, Any], reference: dict[str, Any], mode: str) -> None:
    cpus = os.cpu_count()
    python = sys.version.split()[0]
    print(f"mode: {mode}, sizes: {json.dumps(SIZES[mode])}, cpus: {cpus}, python {python}")
    print(f"{'case':40} {'reference s':>12} {'ours s':>10} {'ratio':>8} {'target':>7}  same result")
    ratios = []
    for case, title in CASES.items():
        ref_time = ours["f_ref"] if case == "f" else reference[case]
        ratio = ref_time / ours[case]
        same = (
            ours["f_fp"] == ours["f_ref_fp"]
            if case == "f"
            else ours.get(f"{case}_fp", ours.get("b_fp"))
            == reference.get(f"{case}_fp", reference["b_fp"])
        )
        target = TARGETS.get(case)
        if target is not None:
            ratios.append(ratio)
        target_text = f"{target:.0f}x" if target else "-"
        print(
            f"{title:40} {ref_time:12.4f} {ours[case]:10.4f} {ratio:7.1f}x {target_text:>7}  {same}"
        )
    for case, floor in ours["floor"].items():
        most = reference[case] / floor
        print(f"floor {case}: {FLOORS[case]} {floor:.4f} s, so {most:.1f}x at most {BEYOND[case]}")
    sizes = ours["sizes"]
    print(f"upload ZIP: {sizes['b_zip_bytes']} bytes for {sizes['json_bytes']} bytes of JSON")
    print(
        f"peak memory growth of (a)+(b): reference {reference['mem_ab']:.1f} MiB, "
        f"ours {ours['mem_ab']:.1f} MiB"
    )
    print(f"min ratio vs reference: {min(ratios):.1f}x")


SIDES: dict[str, Callable[[argparse.Namespace, dict[str, int]], dict[str, Any]]] = {
    "reference": lambda a, size: run_reference(size, a.repeat, a.input),
    "reference-memory": lambda a, size: run_reference_memory(size),
    "reference-sample": lambda a, size: run_reference_sample(size, *bench_server()),
    "ours-memory": lambda a, size: run_ours_memory(size),
    "ours-sample": lambda a, size: run_ours_sample(size, *bench_server()),
    "reference-jobs": lambda a, size: run_reference_jobs(size, *bench_server()),
    "ours-jobs": lambda a, size: run_ours_jobs(size, *bench_server()),
}


def bench_server() -> tuple[str, str]:
    """The server a side talks to: URL and token from the environment, as the other benches
    pass them (a token in argv is visible to every user, and one starting with ``-`` reads
    as an option)."""
    return os.environ["BENCH_URL"], os.environ["BENCH_TOKEN"]


def run_side(
    python: str, side: str, args: list[str], cwd: str, server: Any = None
) -> dict[str, Any]:
    """One side's measurement in a fresh process, run from ``cwd`` so that nothing of this
    checkout shadows the package that side imports; ``server`` (a LocalServer) is passed
    in the environment."""
    command = [python, str(Path(__file__).resolve()), "--side", side, *args]
    env = dict(os.environ)
    if server is not None:
        env |= {"BENCH_URL": server.url, "BENCH_TOKEN": server.token}
    child = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    if child.returncode != 0:
        sys.exit(f"{side} run failed:\n{child.stderr}")
    result: dict[str, Any] = json.loads(child.stdout)
    return result


def measure_sample_cpu(
    reference_py: str, mode_args: list[str], repeat: int, tmp: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(c) on both sides against one local server whose device is off (jobs only stored)."""
    import requests

    from quri_parts_oqtopus.backend import OqtopusSamplingBackend
    from quri_parts_oqtopus.local import LocalServer

    with LocalServer(admin=True) as server:
        requests.put(
            f"{server.url}/_admin/devices/qulacs",
            json={"status": "unavailable"},
            headers={"q-api-token": server.token},
            timeout=10,
        ).raise_for_status()
        runs = {
            side: [run_side(python, side, mode_args, tmp, server) for _ in range(repeat)]
            for side, python in (
                ("reference-sample", reference_py),
                ("ours-sample", sys.executable),
            )
        }
        backend = OqtopusSamplingBackend(server.config)
        uploaded = [
            backend.retrieve_job(runs[side][0]["c_job"]).job_info["input"]["program"]
            for side in runs
        ]
    same = fingerprint(uploaded[0]) == fingerprint(uploaded[1])
    best = {side: min(run["c"] for run in results) for side, results in runs.items()}
    return (
        {"c": best["reference-sample"], "c_fp": "same" if same else "reference"},
        {"c": best["ours-sample"], "c_fp": "same" if same else "ours"},
    )


def measure_jobs(reference_py: str, mode_args: list[str], tmp: str) -> tuple[Any, Any, float]:
    """(h) on both sides against one local server (two simulator workers), one run each;
    and the floor: the simulator time of our side's jobs over the server's two workers."""
    import requests

    from quri_parts_oqtopus.local import LocalServer

    with LocalServer(workers=2) as server:
        reference = run_side(reference_py, "reference-jobs", mode_args, tmp, server)
        ours = run_side(sys.executable, "ours-jobs", mode_args, tmp, server)
        simulated = 0.0
        page = 1
        while True:
            query: dict[str, str | int] = {"q": "h-ours", "page": page, "size": 1000}
            listed = requests.get(
                f"{server.url}/jobs",
                params=query,
                headers={"q-api-token": server.token},
                timeout=60,
            )
            listed.raise_for_status()
            batch = listed.json()
            simulated += sum(float(job.get("execution_time") or 0.0) for job in batch)
            if len(batch) < 1000:
                break
            page += 1
    return reference, ours, simulated / 2


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, for CI")
    parser.add_argument("--repeat", type=int, default=None, help="best of N runs (3; quick 2)")
    parser.add_argument(
        "--reference-python",
        default=os.environ.get("OQTOPUS_REFERENCE_PYTHON"),
        help="interpreter with quri-parts-oqtopus==1.1.5 (default: .ref-venv, else .bench-venv)",
    )
    parser.add_argument("--side", choices=sorted(SIDES), help=argparse.SUPPRESS)
    parser.add_argument("--input", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    mode = "quick" if args.quick else "full"
    args.repeat = args.repeat or (2 if args.quick else 3)
    size = SIZES[mode]
    if args.side is not None:
        json.dump(SIDES[args.side](args, size), sys.stdout)
        return
    reference_py = reference_python(args.reference_python)
    mode_args = ["--quick"] if args.quick else []
    with tempfile.TemporaryDirectory() as tmp:
        result_zip = Path(tmp) / "result.zip"
        make_result_archive(size, result_zip)
        timing_args = [*mode_args, "--input", str(result_zip), "--repeat", str(args.repeat)]
        reference = run_side(reference_py, "reference", timing_args, tmp)
        reference |= run_side(reference_py, "reference-memory", mode_args, tmp)
        ours = run_ours(size, args.repeat, result_zip)
        ours |= run_side(sys.executable, "ours-memory", mode_args, tmp)
        reference_c, ours_c = measure_sample_cpu(reference_py, mode_args, args.repeat, tmp)
        reference |= reference_c
        ours |= ours_c
        reference_h, ours_h, ours["floor"]["h"] = measure_jobs(reference_py, mode_args, tmp)
        reference |= reference_h
        ours |= ours_h
    print_table(ours, reference, mode)


if __name__ == "__main__":
    main()
