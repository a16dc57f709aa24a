"""Jobs on emulated QPUs are transpiled as OQTOPUS does: the transpiled programs are
equivalent to the originals, the options are honoured, the mapping is reported, and a
program the device cannot run fails with the reason."""

from __future__ import annotations

import random
from typing import Any

import numpy as np
import pytest
import qulacs
from quri_parts.circuit import QuantumCircuit, QuantumGate
from quri_parts.qulacs.circuit import convert_circuit

from quri_parts_oqtopus.local import LocalServer
from quri_parts_oqtopus.local.device_program import NATIVE_GATES
from quri_parts_oqtopus.qasm_reader import read_qasm

from ..local.helpers import Api, child_pids
from .test_noise_physics import QASM, qasm, run

ONE_QUBIT = ["h", "x", "y", "z", "s", "sdg", "t", "tdg", "sx"]
ROTATIONS = ["rx", "ry", "rz", "p"]
TWO_QUBIT = ["cx", "cz", "swap"]


def random_program(rng: random.Random, n_qubits: int, n_gates: int) -> str:
    lines = [QASM + f"qubit[{n_qubits}] q;", f"bit[{n_qubits}] c;"]
    for _ in range(n_gates):
        kind = rng.random()
        if kind < 0.4:
            lines.append(f"{rng.choice(ONE_QUBIT)} q[{rng.randrange(n_qubits)}];")
        elif kind < 0.6:
            angle = rng.uniform(-3.1, 3.1)
            lines.append(f"{rng.choice(ROTATIONS)}({angle!r}) q[{rng.randrange(n_qubits)}];")
        else:
            a, b = rng.sample(range(n_qubits), 2)
            lines.append(f"{rng.choice(TWO_QUBIT)} q[{a}], q[{b}];")
    lines.append("c = measure q;")
    return "\n".join(lines) + "\n"


def state_of(text: str, order: list[int] | None = None) -> tuple[np.ndarray[Any, Any], list[int]]:
    """The final state of ``text``'s gates on the qubits it uses (ascending, or ``order``)."""
    parsed = read_qasm(text)
    used = sorted({q for g in parsed.circuit.gates for q in (*g.target_indices, *g.control_indices)}
                  | {q for q, _ in parsed.measurements}) if order is None else order  # fmt: skip
    index = {q: i for i, q in enumerate(used)}
    compact = QuantumCircuit(len(used))
    for g in parsed.circuit.gates:
        compact.add_gate(QuantumGate(
            name=g.name,
            target_indices=tuple(index[q] for q in g.target_indices),
            control_indices=tuple(index[q] for q in g.control_indices),
            params=tuple(g.params),
        ))  # fmt: skip
    state = qulacs.QuantumState(len(used))
    convert_circuit(compact).update_quantum_state(state)
    return np.array(state.get_vector()), used


def embedded(
    original: np.ndarray[Any, Any], n: int, mapping: dict[int, int], used: list[int]
) -> np.ndarray[Any, Any]:
    """The original n-qubit state with virtual qubit v moved to physical ``mapping[v]``."""
    out = np.zeros(2 ** len(used), dtype=complex)
    position = {q: i for i, q in enumerate(used)}
    for i, amplitude in enumerate(original):
        j = sum(((i >> v) & 1) << position[mapping[v]] for v in range(n))
        out[j] = amplitude
    return out


def distribution(
    state: np.ndarray[Any, Any], measurements: Any, position: dict[int, int]
) -> dict[int, float]:
    """P(clbit value) of ``state`` measured as ``(qubit, clbit)`` pairs."""
    out: dict[int, float] = {}
    for i, p in enumerate(np.abs(state) ** 2):
        if p > 1e-15:
            value = sum(((i >> position[q]) & 1) << c for q, c in measurements)
            out[value] = out.get(value, 0.0) + float(p)
    return out


def transpile_result(job: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = job["job_info"]["transpile_result"]
    return result


@pytest.mark.parametrize("device_id", ["emu-heavyhex-16", "emu-square-64", "emu-ring-8"])
@pytest.mark.parametrize("level", [0, 1, 2, 3])
def test_transpiled_programs_are_equivalent_to_the_originals(
    api: Api, device_id: str, level: int
) -> None:
    rng = random.Random(f"{device_id}-{level}")
    for case in range(3):
        n = rng.choice([3, 4])
        program = random_program(rng, n, 14)
        info = {"transpiler_lib": "qiskit", "transpiler_options": {"optimization_level": level}}
        job = run(api, "sampling", {"program": [program]}, device_id=device_id, shots=10,
                  transpiler_info=info)  # fmt: skip
        result = transpile_result(job)
        text = result["transpiled_program"]
        gates = {g.name for g in read_qasm(text).circuit.gates}
        assert gates <= {"RZ", "SqrtX", "X", "CNOT"}, (case, gates)
        mapping = {
            int(v): p for v, p in result["virtual_physical_mapping"]["qubit_mapping"].items()
        }
        assert sorted(mapping) == list(range(n))
        physical, used = state_of(text, sorted(set(mapping.values()) | set(state_of(text)[1])))
        original, _ = state_of(program, list(range(n)))
        where = f"case {case}:\n{program}\n{text}"
        measured = read_qasm(text).measurements
        position = {q: i for i, q in enumerate(used)}
        expected = distribution(original, [(q, q) for q in range(n)], {q: q for q in range(n)})
        got = distribution(physical, measured, position)
        for key in set(expected) | set(got):
            assert got.get(key, 0.0) == pytest.approx(expected.get(key, 0.0), abs=1e-9), where
        if level <= 1:
            # From level 2 on, Qiskit drops diagonal gates just before the measurements (they
            # change no outcome), so the states agree only up to those; below, exactly.
            overlap = abs(np.vdot(embedded(original, n, mapping, used), physical))
            assert overlap == pytest.approx(1.0, abs=1e-6), where


def test_transpile_result_reports_stats_and_the_initial_layout(api: Api) -> None:
    program = (
        QASM + "qubit[3] q;\nbit[3] c;\nh q[0];\ncx q[0], q[1];\ncx q[1], q[2];\nc = measure q;\n"
    )
    info = {"transpiler_lib": "qiskit", "transpiler_options": {"initial_layout": [5, 6, 7]}}
    job = run(api, "sampling", {"program": [program]}, device_id="emu-ring-8", shots=100,
              transpiler_info=info)  # fmt: skip
    result = transpile_result(job)
    assert result["virtual_physical_mapping"] == {
        "qubit_mapping": {"0": 5, "1": 6, "2": 7},
        "bit_mapping": {"0": 0, "1": 1, "2": 2},
    }
    before, after = result["stats"]["before"], result["stats"]["after"]
    assert (before["n_qubits"], before["n_gates"], before["n_gates_2q"]) == (3, 3, 2)
    assert after["n_gates_2q"] == 2
    assert after["n_qubits"] == 8
    assert "$5" in result["transpiled_program"]
    assert "h " not in result["transpiled_program"]
    assert job["transpiler_info"] == info


def test_routing_inserts_swaps_on_a_sparse_coupling_map(api: Api) -> None:
    # q0 and q2 interact, then q0 and q1, then q1 and q2: no line layout avoids a SWAP on
    # the heavy-hex chip's degree-2/3 graph for a triangle.
    program = qasm("qubit[3] q;", "bit[3] c;", "h q[0];", "cx q[0], q[1];", "cx q[1], q[2];",
                   "cx q[2], q[0];", "c = measure q;")  # fmt: skip
    job = run(api, "sampling", {"program": [program]}, device_id="emu-heavyhex-16", shots=100)
    after = transpile_result(job)["stats"]["after"]
    assert after["n_gates_2q"] > 3  # the triangle needs routing


def test_skipping_the_transpiler_runs_a_native_program_as_written(api: Api) -> None:
    program = qasm("bit[2] c;", "rz(1.5707963267948966) $3;", "sx $3;", "cx $3, $4;",
                   "c[0] = measure $3;", "c[1] = measure $4;")  # fmt: skip
    job = run(api, "sampling", {"program": [program]}, device_id="emu-ring-8", shots=2000,
              transpiler_info={"transpiler_lib": None})  # fmt: skip
    assert job["job_info"]["transpile_result"] is None  # as OQTOPUS: no transpiler ran
    counts = job["job_info"]["result"]["sampling"]["counts"]
    assert counts.get("00", 0) + counts.get("11", 0) > 1600  # a Bell pair, with some noise


def test_multi_manual_jobs_run_combined_on_the_device(api: Api) -> None:
    program = QASM + "qubit[2] q;\nbit[2] c;\nx q[1];\nc = measure q;\n"
    job = run(api, "multi_manual", {"program": [program, program]}, device_id="emu-ring-8",
              shots=1000)  # fmt: skip
    divided = job["job_info"]["result"]["sampling"]["divided_counts"]
    assert set(divided) == {"0", "1"}
    for part in divided.values():
        assert sum(part.values()) == 1000
        assert max(part, key=part.get) == "10"
    assert transpile_result(job)["stats"]["before"]["n_qubits"] == 4


FAILURES = [
    (
        "h q[0];",
        {"transpiler_lib": None},
        "gate 0 (h on q[0]) is not a basis gate of device 'emu-ring-8' (sx, x, rz, cx) and"
        " transpiler_lib is null",
    ),
    (
        "cx q[0], q[4];",
        {"transpiler_lib": None},
        "gate 0 (cx on q[0], q[4]): device 'emu-ring-8' has no coupling 0 -> 4",
    ),
    (
        "x q[0];",
        {"transpiler_lib": "ouqu-tp", "transpiler_options": {}},
        "transpiler_lib 'ouqu-tp' is not available on the local server (use one of ['qiskit',"
        " 'tket'], or null",
    ),
    (
        "x q[0];",
        {"transpiler_lib": "qiskit", "transpiler_options": {"optimisation_level": 1}},
        "transpiler_options ['optimisation_level'] are not supported",
    ),
    (
        "cx q[0], q[1];",
        {"transpiler_lib": "qiskit", "transpiler_options": {"initial_layout": [0, 99]}},
        "transpiler_options.initial_layout must list 5 distinct physical qubits (0..7),"
        " one per program qubit, got [0, 99]",
    ),
    (
        "x q[0];",
        {"transpiler_lib": "qiskit", "transpiler_options": {"optimization_level": 7}},
        "the transpiler cannot map the program onto the device: Invalid optimization level 7",
    ),
]


@pytest.mark.parametrize(("body", "info", "reason"), FAILURES)
def test_a_program_the_device_cannot_run_fails_with_the_reason(
    api: Api, body: str, info: dict[str, Any], reason: str
) -> None:
    program = QASM + f"qubit[5] q;\nbit[1] c;\n{body}\n"
    job = api.wait(api.submit("sampling", {"program": [program]}, device_id="emu-ring-8",
                              transpiler_info=info))  # fmt: skip
    assert job["status"] == "failed"
    assert reason in job["job_info"]["message"], job["job_info"]["message"]
    assert job["job_info"]["result"] is None


def test_more_qubits_than_the_device_has_fail_with_the_counts(api: Api) -> None:
    program = QASM + "qubit[9] q;\nbit[9] c;\nx q[8];\nc = measure q;\n"
    job = api.wait(api.submit("sampling", {"program": [program]}, device_id="emu-ring-8"))
    assert job["status"] == "failed"
    assert "the program needs 9 qubits; the device has 8" in job["job_info"]["message"]


def test_a_program_too_wide_for_the_density_matrix_fails_with_the_limit(api: Api) -> None:
    # A chain of CNOTs links the 13 qubits into one component (each density matrix holds
    # one component: 13 unlinked qubits are 13 matrices of one qubit).
    body = "".join(f"cx q[{q}], q[{q + 1}];\n" for q in range(12))
    program = QASM + f"qubit[13] q;\nbit[13] c;\n{body}c = measure q;\n"
    job = api.wait(api.submit("sampling", {"program": [program]}, device_id="emu-heavyhex-16"))
    assert job["status"] == "failed"
    assert (
        "uses 13 qubits of the device; the noisy emulation simulates at most 12"
        in (job["job_info"]["message"])
    )


def test_a_program_too_wide_for_the_density_matrix_is_refused_before_transpiling(
    api: Api,
) -> None:
    # The layout method does not exist: had the transpiler run, it would be the reason.
    # A chain of CNOTs links the 13 qubits into one component (each density matrix holds
    # one component: 13 unlinked qubits are 13 matrices of one qubit).
    body = "".join(f"cx q[{q}], q[{q + 1}];\n" for q in range(12))
    program = QASM + f"qubit[13] q;\nbit[13] c;\n{body}c = measure q;\n"
    info = {"transpiler_lib": "qiskit", "transpiler_options": {"layout_method": "nope"}}
    job = api.wait(api.submit("sampling", {"program": [program]}, device_id="emu-heavyhex-16",
                              transpiler_info=info))  # fmt: skip
    assert job["status"] == "failed"
    message = job["job_info"]["message"]
    assert "uses 13 qubits of the device; the noisy emulation simulates at most 12" in message
    assert "transpiler" not in message, message


def test_a_program_too_long_for_the_density_matrix_is_refused_before_transpiling(
    api: Api,
) -> None:
    # 9,000 gates on 12 qubits: 9000 * 4^12 entry updates, beyond max_gate_work (2^37).
    body = "".join(f"cx q[{g % 12}], q[{(g + 1) % 12}];\n" for g in range(9000))
    program = QASM + f"qubit[12] q;\nbit[12] c;\n{body}c = measure q;\n"
    info = {"transpiler_lib": "qiskit", "transpiler_options": {"layout_method": "nope"}}
    job = api.wait(api.submit("sampling", {"program": [program]}, device_id="emu-square-64",
                              transpiler_info=info))  # fmt: skip
    assert job["status"] == "failed"
    message = job["job_info"]["message"]
    assert "9000 gates on 12 qubits of a density matrix cost 1.51e+11 entry updates" in message
    assert "transpiler" not in message, message


@pytest.mark.parametrize("device_id", ["emu-ring-8", "qulacs"])
def test_an_unknown_readout_mitigation_fails_with_the_value(api: Api, device_id: str) -> None:
    program = QASM + "qubit[1] q;\nbit[1] c;\nx q[0];\nc = measure q;\n"
    job = api.wait(api.submit("sampling", {"program": [program]}, device_id=device_id,
                              mitigation_info={"ro_error_mitigation": "twirl"}))  # fmt: skip
    assert job["status"] == "failed"
    assert (
        "ro_error_mitigation must be one of ['pseudo_inverse'] or null, got 'twirl'"
        in (job["job_info"]["message"])
    )


@pytest.mark.parametrize(
    ("job_type", "job_input"),
    [
        ("sampling", {"program": [QASM + "qubit[2] q;\nbit[2] c;\nx q[0];\nc = measure q;\n"]}),
        ("estimation", {"program": [QASM + "qubit[2] q;\nx q[0];\n"], "operator": [
            {"pauli": "Z1", "coeff": 1.0}]}),
    ],
)  # fmt: skip
def test_mitigation_of_a_readout_that_tells_nothing_fails_naming_the_qubit(
    api: Api, job_type: str, job_input: dict[str, Any]
) -> None:
    job = api.wait(api.submit(job_type, job_input, device_id="coin-readout-2",
                              mitigation_info={"ro_error_mitigation": "pseudo_inverse"},
                              transpiler_info={"transpiler_lib": None}))  # fmt: skip
    assert job["status"] == "failed"
    message = job["job_info"]["message"]
    assert "pseudo_inverse mitigation cannot undo the readout of qubit 1" in message, message


def test_a_multi_manual_job_beyond_64_bits_in_all_fails_naming_the_limit(api: Api) -> None:
    # Two one-qubit programs, each measured into the last of 33 bits: 66 bits in all.
    program = QASM + "qubit[1] q;\nbit[33] c;\nx q[0];\nc[32] = measure q[0];\n"
    job = api.wait(api.submit("multi_manual", {"program": [program, program]},
                              device_id="emu-ring-8"))  # fmt: skip
    assert job["status"] == "failed"
    message = job["job_info"]["message"]
    assert "the programs measure 66 classical bits in all" in message, message
    assert "at most 64 into divided_counts" in message, message


def test_native_gates_are_the_devices_basis_gates(api: Api) -> None:
    devices = {d["device_id"]: d for d in api.get("/devices").json()}
    for device_id in ("emu-square-64", "emu-heavyhex-16", "emu-ring-8"):
        assert devices[device_id]["basis_gates"] == list(NATIVE_GATES)


def test_an_angle_the_transpiler_cannot_export_fails_the_job_naming_it_not_the_worker(
    api: Api, emulator: LocalServer
) -> None:
    # Qiskit's QASM exporter raises OverflowError on rx(1e308); it once killed the worker
    # and the job blamed the worker memory limit.
    assert emulator.pid is not None
    workers = child_pids(emulator.pid)
    program = QASM + "qubit[2] q;\nbit[2] c;\nrx(1e308) q[0];\ncx q[0], q[1];\nc = measure q;\n"
    job = api.wait(api.submit("sampling", {"program": [program]}, device_id="emu-ring-8"))
    assert job["status"] == "failed"
    message = job["job_info"]["message"]
    assert "the job failed while transpiling: OverflowError: " in message, message
    assert "memory" not in message, message
    assert child_pids(emulator.pid) == workers  # no worker died, none was replaced
    assert api.wait(api.submit("sampling", {"program": [program.replace("1e308", "0.5")]},
                               device_id="emu-ring-8"))["status"] == "succeeded"  # fmt: skip
