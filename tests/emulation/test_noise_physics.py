"""Emulated QPUs against known physics: noise as the calibration predicts, readout errors
undone by mitigation. Real HTTP to a server started for these tests; every job is seeded,
and each tolerance is several standard deviations of the shot noise."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from ..local.helpers import Api
from .conftest import GATE_FIDELITIES, READOUT

QASM = 'OPENQASM 3;\ninclude "stdgates.inc";\n'


def qasm(*statements: str) -> str:
    """An OpenQASM 3 program of ``statements``, one a line."""
    return QASM + "\n".join(statements) + "\n"


GHZ4 = qasm(
    "qubit[4] q;", "bit[4] c;", "h q[0];", "cx q[0], q[1];", "cx q[1], q[2];", "cx q[2], q[3];",
    "c = measure q;",
)  # fmt: skip
# Readout test state: qubits 0 and 2 flipped, qubit 1 left in 0 (native gates, run as written).
FLIPPED = (
    QASM + "bit[3] c;\nx $0;\nx $2;\nc[0] = measure $0;\nc[1] = measure $1;\nc[2] = measure $2;\n"
)
AS_WRITTEN = {"transpiler_lib": None}
MITIGATED = {"ro_error_mitigation": "pseudo_inverse"}


def run(api: Api, job_type: str, job_input: dict[str, Any], **fields: Any) -> dict[str, Any]:
    """Submit, wait, and return the finished job (job_info inline)."""
    fields.setdefault("simulator_info", {"seed": 7})
    job = api.wait(api.submit(job_type, job_input, **fields), timeout=120)
    assert job["status"] == "succeeded", job["job_info"]["message"]
    return job


def counts_of(job: dict[str, Any]) -> dict[str, int]:
    counts: dict[str, int] = job["job_info"]["result"]["sampling"]["counts"]
    return counts


def ghz_population(counts: dict[str, int]) -> float:
    return (counts.get("0000", 0) + counts.get("1111", 0)) / sum(counts.values())


# -- an independent model of the calibrated noise (numpy, textbook depolarizing form) --------


def _apply(
    rho: np.ndarray[Any, Any], matrix: np.ndarray[Any, Any], qubits: list[int], n: int
) -> np.ndarray[Any, Any]:
    """U rho U† for ``matrix`` on ``qubits`` (qubit 0 = most significant axis here)."""
    k = len(qubits)
    u = matrix.reshape((2,) * 2 * k)
    t = rho.reshape((2,) * 2 * n)
    letters = "abcdefghijklmnopqrstuvwxyz"
    rows, cols = letters[:n], letters[n : 2 * n]
    new = letters[2 * n : 2 * n + k]
    out_rows = "".join(new[qubits.index(i)] if i in qubits else rows[i] for i in range(n))
    left = f"{''.join(new)}{''.join(rows[q] for q in qubits)},{rows}{cols}->{out_rows}{cols}"
    t = np.einsum(left, u, t)
    new_c = letters[2 * n + k : 2 * n + 2 * k]
    out_cols = "".join(new_c[qubits.index(i)] if i in qubits else cols[i] for i in range(n))
    right = (
        f"{''.join(new_c)}{''.join(cols[q] for q in qubits)},{out_rows}{cols}->{out_rows}{out_cols}"
    )
    t = np.einsum(right, u.conj(), t)
    result: np.ndarray[Any, Any] = t.reshape(1 << n, 1 << n)
    return result


def _depolarize(
    rho: np.ndarray[Any, Any], qubits: list[int], fidelity: float, n: int
) -> np.ndarray[Any, Any]:
    """(1-λ) rho + λ Tr_qubits(rho) ⊗ I/d, with λ = d(1-F)/(d-1) for average fidelity F."""
    d = 2 ** len(qubits)
    lam = d * (1 - fidelity) / (d - 1)
    t = rho.reshape((2,) * 2 * n)
    for q in sorted(qubits, reverse=True):
        t = np.trace(t, axis1=q, axis2=q + t.ndim // 2)
    rest = [i for i in range(n) if i not in qubits]
    mixed = np.einsum("ij,kl->ikjl", t.reshape(2 ** len(rest), -1), np.eye(d) / d)
    full = mixed.reshape((2,) * 2 * n)  # axes: rest rows, qubits rows, rest cols, qubits cols
    order = rest + sorted(qubits)
    perm = [order.index(i) for i in range(n)]
    full = full.transpose(perm + [p + n for p in perm]).reshape(1 << n, 1 << n)
    result: np.ndarray[Any, Any] = (1 - lam) * rho + lam * full
    return result


def predicted_ghz4() -> tuple[float, float]:
    """(P(0000) + P(1111), <XXXX>) of the GHZ circuit under the couplings' fidelities."""
    n = 4
    rho = np.zeros((16, 16))
    rho[0, 0] = 1.0
    h = np.array([[1, 1], [1, -1]]) / math.sqrt(2)
    cx = np.array([[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 0, 1], [0, 0, 1, 0]])
    rho = _apply(rho, h, [0], n)
    for (a, b), fidelity in GATE_FIDELITIES.items():
        rho = _depolarize(_apply(rho, cx, [a, b], n), [a, b], fidelity, n)
    population = float(rho[0, 0].real + rho[15, 15].real)
    x = np.array([[0, 1], [1, 0]])
    xxxx = np.kron(np.kron(x, x), np.kron(x, x))
    return population, float(np.trace(rho @ xxxx).real)


def test_independent_model_gives_the_textbook_bell_fidelity() -> None:
    # Sanity of the test's own model: a CNOT with average fidelity F makes a Bell state of
    # fidelity F (1 - 3λ/4 with λ = 4(1-F)/3).
    rho = np.zeros((4, 4))
    rho[0, 0] = 1
    rho = _apply(rho, np.array([[1, 1], [1, -1]]) / math.sqrt(2), [0], 2)
    rho = _apply(rho, np.array([[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 0, 1], [0, 0, 1, 0]]), [0, 1], 2)
    rho = _depolarize(rho, [0, 1], 0.9, 2)
    bell = np.array([1, 0, 0, 1]) / math.sqrt(2)
    assert float(bell @ rho @ bell) == pytest.approx(0.9)


# -- noise ------------------------------------------------------------------------------------


def test_ghz_fidelity_drops_as_the_coupling_fidelities_predict(api: Api) -> None:
    shots = 20000
    layout = {"transpiler_lib": "qiskit", "transpiler_options": {"initial_layout": [0, 1, 2, 3]}}
    sampled = run(api, "sampling", {"program": [GHZ4]}, device_id="depolarizing-4",
                  shots=shots, transpiler_info=layout)  # fmt: skip
    operator = [{"pauli": "X0 X1 X2 X3", "coeff": 1.0}]
    estimated = run(api, "estimation", {"program": [GHZ4], "operator": operator},
                    device_id="depolarizing-4", shots=shots, transpiler_info=layout)  # fmt: skip
    population, parity = predicted_ghz4()
    measured_population = ghz_population(counts_of(sampled))
    measured_parity = estimated["job_info"]["result"]["estimation"]["exp_value"]
    sigma_p = math.sqrt(population * (1 - population) / shots)
    sigma_x = math.sqrt((1 - parity**2) / shots)
    assert abs(measured_population - population) < 5 * sigma_p, (measured_population, population)
    assert abs(measured_parity - parity) < 5 * sigma_x, (measured_parity, parity)
    fidelity = (measured_population + measured_parity) / 2
    predicted = (population + parity) / 2
    assert predicted < 0.85  # the noise is large enough to see
    assert abs(fidelity - predicted) < 5 * (sigma_p + sigma_x) / 2, (fidelity, predicted)


def test_ghz_on_the_noiseless_simulator_never_leaves_the_two_outcomes(api: Api) -> None:
    job = run(api, "sampling", {"program": [GHZ4]}, device_id="qulacs", shots=5000)
    assert ghz_population(counts_of(job)) == 1.0


def test_bell_fidelity_follows_each_couplings_calibration(api: Api) -> None:
    # After a CNOT of average fidelity F (depolarizing λ = 4(1-F)/3, perfect 1q gates) the
    # Bell state's P(00) + P(11) is (1 - λ) + λ/2 = 1 - 2(1-F)/3.
    shots = 20000
    measured = {}
    for pair, fidelity in GATE_FIDELITIES.items():
        program = QASM + "qubit[2] q;\nbit[2] c;\nh q[0];\ncx q[0], q[1];\nc = measure q;\n"
        layout = {"transpiler_lib": "qiskit", "transpiler_options": {"initial_layout": list(pair)}}
        job = run(api, "sampling", {"program": [program]}, device_id="depolarizing-4",
                  shots=shots, transpiler_info=layout)  # fmt: skip
        counts = counts_of(job)
        population = (counts.get("00", 0) + counts.get("11", 0)) / shots
        expected = 1 - 2 * (1 - fidelity) / 3
        sigma = math.sqrt(expected * (1 - expected) / shots)
        assert abs(population - expected) < 5 * sigma, (pair, population, expected)
        measured[pair] = population
    assert measured[(1, 2)] < measured[(2, 3)] < measured[(0, 1)]  # ordered as the fidelities


# -- readout errors and their mitigation --------------------------------------------------------


def _readout_prediction() -> dict[str, float]:
    prepared = {0: 1, 1: 0, 2: 1}
    predicted = {}
    for value in range(8):
        p = 1.0
        for qubit, bit in prepared.items():
            p10, p01 = READOUT[qubit]
            read = (value >> qubit) & 1
            flip = p10 if bit == 0 else p01
            p *= flip if read != bit else 1 - flip
        predicted[format(value, "03b")] = p
    return predicted


def test_readout_errors_give_the_confusion_the_calibration_states(api: Api) -> None:
    shots = 50000
    job = run(api, "sampling", {"program": [FLIPPED]}, device_id="readout-3", shots=shots,
              transpiler_info=AS_WRITTEN)  # fmt: skip
    counts = counts_of(job)
    assert sum(counts.values()) == shots
    for key, p in _readout_prediction().items():
        sigma = math.sqrt(p * (1 - p) / shots)
        assert abs(counts.get(key, 0) / shots - p) < 5 * sigma + 1e-4, (key, counts, p)


def test_pseudo_inverse_mitigation_undoes_readout_only_noise(api: Api) -> None:
    shots = 50000
    raw = counts_of(run(api, "sampling", {"program": [FLIPPED]}, device_id="readout-3",
                        shots=shots, transpiler_info=AS_WRITTEN))  # fmt: skip
    mitigated = counts_of(run(api, "sampling", {"program": [FLIPPED]}, device_id="readout-3",
                              shots=shots, transpiler_info=AS_WRITTEN,
                              mitigation_info=MITIGATED))  # fmt: skip
    assert raw["101"] / shots < 0.86
    assert mitigated["101"] / shots > 0.985, mitigated
    # int(p * shots) per outcome, as the OQTOPUS engine rounds: at most one count lost each.
    assert shots - 8 <= sum(mitigated.values()) <= shots


def test_mitigated_estimation_recovers_the_ideal_expectation(api: Api) -> None:
    shots = 50000
    operator = [{"pauli": f"Z{q}", "coeff": 1.0} for q in range(3)]
    job_input = {"program": [FLIPPED], "operator": operator}
    raw = run(api, "estimation", job_input, device_id="readout-3", shots=shots,
              transpiler_info=AS_WRITTEN)  # fmt: skip
    mitigated = run(api, "estimation", job_input, device_id="readout-3", shots=shots,
                    transpiler_info=AS_WRITTEN, mitigation_info=MITIGATED)  # fmt: skip
    # Ideal: Z0 = -1, Z1 = +1, Z2 = -1. Read with errors: -(1-2·p01), (1-2·p10), -(1-2·p01).
    noisy = -(1 - 2 * READOUT[0][1]) + (1 - 2 * READOUT[1][0]) - (1 - 2 * READOUT[2][1])
    raw_value = raw["job_info"]["result"]["estimation"]["exp_value"]
    assert abs(raw_value - noisy) < 0.02, (raw_value, noisy)
    value = mitigated["job_info"]["result"]["estimation"]["exp_value"]
    assert abs(value - (-1.0)) < 0.02, value


def test_mitigation_without_readout_errors_changes_nothing(api: Api) -> None:
    job = run(api, "sampling", {"program": [GHZ4]}, device_id="qulacs", shots=1000,
              mitigation_info=MITIGATED)  # fmt: skip
    assert set(counts_of(job)) <= {"0000", "1111"}
