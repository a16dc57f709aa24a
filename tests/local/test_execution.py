"""Real execution on qulacs: sampling, multi_manual and estimation results."""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests

from .helpers import Api, bell_qasm, qasm, unzip_one

SHOTS = 10_000


def _counts(api: Api, job_id: str) -> dict[str, int]:
    counts: dict[str, int] = api.result(job_id)["sampling"]["counts"]
    return counts


def test_bell_circuit_gives_only_00_and_11_near_half_each(api: Api) -> None:
    counts = _counts(api, api.submit("sampling", {"program": [bell_qasm()]}, shots=SHOTS))
    assert set(counts) == {"00", "11"}
    assert sum(counts.values()) == SHOTS
    # 6 standard deviations of a fair binomial: fails by chance about once in 10^9 runs.
    assert abs(counts["00"] - SHOTS / 2) < 6 * (SHOTS / 4) ** 0.5


def test_a_seed_makes_sampling_reproducible(api: Api) -> None:
    program = qasm(4, "h q[0];\nh q[1];\nh q[2];\nh q[3];")
    runs = [
        _counts(api, api.submit("sampling", {"program": [program]}, simulator_info={"seed": s}))
        for s in (7, 7, 8)
    ]
    assert runs[0] == runs[1]
    assert runs[0] != runs[2]


@pytest.mark.parametrize(
    ("program", "expected"),
    [
        (qasm(3, "x q[0];"), "001"),
        (qasm(3, "x q[2];"), "100"),
        (qasm(2, "x q[1];", measure=None), "10"),
        (qasm(2, "x q[0];", "c[1] = measure q[0];\nc[0] = measure q[1];"), "10"),
        (qasm(3, "x q[0];\nx q[1];", "c[0] = measure q[0];"), "001"),
        ("OPENQASM 3;\nqubit[2] q;\nbit[1] b;\nx q[1];\nb[0] = measure q[1];", "1"),
    ],
    ids=["bit0-last", "bit2-first", "no-measure-measures-all", "crossed", "partial", "narrow"],
)
def test_counts_keys_are_the_classical_register_with_bit_zero_last(
    api: Api, program: str, expected: str
) -> None:
    assert _counts(api, api.submit("sampling", {"program": [program]}, shots=50)) == {expected: 50}


@pytest.mark.parametrize("shots", [1, 10_000_000])
def test_counts_add_up_to_the_shots_at_both_limits(api: Api, shots: int) -> None:
    counts = _counts(api, api.submit("sampling", {"program": [bell_qasm()]}, shots=shots))
    assert sum(counts.values()) == shots


def _marginal(counts: dict[str, int], widths: list[int]) -> dict[str, dict[str, int]]:
    """The contract's rule, written independently: program 0 owns the last characters."""
    out: dict[str, dict[str, int]] = {str(i): {} for i in range(len(widths))}
    for bits, count in counts.items():
        start = len(bits)
        for index, width in enumerate(widths):
            key = bits[start - width : start]
            start -= width
            out[str(index)][key] = out[str(index)].get(key, 0) + count
    return out


def test_multi_manual_combines_programs_and_divides_counts_per_program(api: Api) -> None:
    first = qasm(2, "x q[0];")  # always "01"
    second = bell_qasm()  # "00" or "11"
    third = "OPENQASM 3;\nqubit[1] q;\nbit[1] c;\nx q[0];\nc[0] = measure q[0];"
    job_id = api.submit("multi_manual", {"program": [first, second, third]}, shots=2000)
    job = api.wait(job_id)
    assert job["status"] == "succeeded", job["job_info"]["message"]
    sampling = api.fetch(job["job_info"]["result"])["sampling"]
    counts, divided = sampling["counts"], sampling["divided_counts"]
    assert all(len(bits) == 5 for bits in counts)
    assert set(counts) <= {"10001", "11101"}
    assert divided == _marginal(counts, [2, 2, 1])
    assert divided["0"] == {"01": 2000}
    assert divided["2"] == {"1": 2000}
    assert set(divided["1"]) == {"00", "11"}
    combined = api.fetch(job["job_info"]["combined_program"])
    assert isinstance(combined, str)
    assert combined.startswith("OPENQASM 3;")
    assert "qubit[5] q;" in combined
    assert "cx q[2], q[3];" in combined
    transpiled = api.fetch(job["job_info"]["transpile_result"])
    assert transpiled["transpiled_program"] == combined
    assert transpiled["virtual_physical_mapping"]["qubit_mapping"] == {str(i): i for i in range(5)}


def test_sampling_job_has_no_divided_counts_and_a_transpile_result(api: Api) -> None:
    job = api.wait(api.submit("sampling", {"program": [bell_qasm()]}, shots=10))
    assert api.fetch(job["job_info"]["result"])["sampling"]["divided_counts"] is None
    assert job["job_info"]["combined_program"] is None
    transpiled = api.fetch(job["job_info"]["transpile_result"])
    assert transpiled["transpiled_program"] == bell_qasm()
    assert transpiled["stats"]["before"]["n_gates"] == 2
    assert transpiled["virtual_physical_mapping"]["bit_mapping"] == {"0": 0, "1": 1}


def _estimate(api: Api, program: str, operator: list[dict[str, Any]], **fields: Any) -> Any:
    job_id = api.submit("estimation", {"program": [program], "operator": operator}, **fields)
    return api.result(job_id)["estimation"]


def test_estimation_of_z0_z1_on_bell_is_one(api: Api) -> None:
    result = _estimate(api, bell_qasm(), [{"pauli": "Z0 Z1", "coeff": 1.0}], shots=SHOTS)
    assert abs(result["exp_value"] - 1.0) <= 3 * result["stds"] + 1e-12


def test_estimation_of_x0_on_zero_is_zero_within_its_standard_error(api: Api) -> None:
    result = _estimate(api, qasm(1, "id q[0];"), [{"pauli": "X0", "coeff": 1.0}], shots=SHOTS)
    assert result["stds"] == pytest.approx(SHOTS**-0.5, rel=0.01)
    assert abs(result["exp_value"]) <= 6 * result["stds"]


def _strict_json(data: bytes) -> Any:
    def refuse(constant: str) -> None:
        raise AssertionError(f"{constant} in a result: not JSON")

    return json.loads(data, parse_constant=refuse)


def test_an_estimation_with_coefficients_of_1e200_gives_finite_values_in_json(api: Api) -> None:
    # Their squares (1e400) once overflowed: stds was NaN in result.json, the job succeeded.
    operator = [{"pauli": "Z0", "coeff": 1e200}, {"pauli": "Z1", "coeff": -1e200}]
    job = api.wait(api.submit("estimation", {"program": [qasm(2, "h q[0];\nh q[1];")],
                                             "operator": operator}, shots=SHOTS))  # fmt: skip
    assert job["status"] == "succeeded", job["job_info"]["message"]
    archive = requests.get(job["job_info"]["result"], timeout=30).content
    estimation = _strict_json(unzip_one(archive)[1])["estimation"]
    # Two independent terms of |coeff| 1e200, each of standard error 1/sqrt(shots).
    assert estimation["stds"] == pytest.approx(1e200 * (2 / SHOTS) ** 0.5, rel=0.05)
    assert abs(estimation["exp_value"]) <= 6 * estimation["stds"]


def test_an_estimation_beyond_the_float_range_fails_naming_the_overflow(api: Api) -> None:
    # <Z0> = <Z1> = 1 exactly: 1e308 + 1e308 is beyond the largest float.
    operator = [{"pauli": "Z0", "coeff": 1e308}, {"pauli": "Z1", "coeff": 1e308}]
    job_id = api.submit("estimation", {"program": [qasm(2, "id q[0];")], "operator": operator})
    job = api.wait(job_id)
    assert job["status"] == "failed"
    message = job["job_info"]["message"]
    assert "OverflowError: the estimate is beyond the range of a float" in message, message
    assert job["job_info"]["result"] is None


def test_both_pauli_spellings_and_identity_give_the_same_estimate(api: Api) -> None:
    seed = {"seed": 11}
    program = qasm(2, "h q[0];\nrx(0.3) q[1];")
    spaced = [{"pauli": "X 0 Z 1", "coeff": 1.5}, {"pauli": "I", "coeff": 0.25}]
    compact = [{"pauli": "X0 Z1", "coeff": 1.5}, {"pauli": "I", "coeff": 0.25}]
    assert _estimate(api, program, spaced, simulator_info=seed) == _estimate(
        api, program, compact, simulator_info=seed
    )


def test_identity_and_deterministic_terms_are_exact(api: Api) -> None:
    operator: list[dict[str, Any]] = [
        {"pauli": "I", "coeff": 0.5},
        {"pauli": "Z0", "coeff": 2},
        {"pauli": "Z1"},
    ]
    result = _estimate(api, qasm(2, "x q[0];"), operator, shots=7)
    assert result == {"exp_value": 0.5 - 2.0 + 1.0, "stds": 0.0}


@pytest.mark.parametrize(
    ("job_type", "job_input", "needle"),
    [
        ("sampling", {"program": ["OPENQASM 3;\nqubit[1] q;\nfrobnicate q[0];"]}, "line 3"),
        ("sampling", {"program": ["OPENQASM 3;\nqubit[40] q;\nh q[0];"]}, "40 qubits"),
        ("sampling", {"program": [qasm(1, "", "c = measure q;\nx q[0];")]}, "terminal"),
        (
            "multi_manual",
            {"program": [bell_qasm(), "OPENQASM 3;\nqubit[1] q;\nh q[9];"]},
            "program 1",
        ),
        ("estimation", {"program": [bell_qasm()], "operator": [{"pauli": "X7"}]}, "X7"),
        ("estimation", {"program": [bell_qasm()], "operator": [{"pauli": "Q0"}]}, "Q0"),
    ],
    ids=[
        "unknown-gate",
        "too-many-qubits",
        "gate-after-measure",
        "multi",
        "pauli-range",
        "pauli-text",
    ],
)
def test_invalid_programs_fail_with_the_reason_and_nothing_run(
    api: Api, job_type: str, job_input: dict[str, Any], needle: str
) -> None:
    job = api.wait(api.submit(job_type, job_input))
    assert job["status"] == "failed"
    assert needle in job["job_info"]["message"]
    assert job["running_at"] is None
    assert job["execution_time"] is None
    assert job["job_info"]["result"] is None
    assert job["job_info"]["transpile_result"] is None
    assert job["ended_at"] is not None


def test_a_bad_seed_fails_the_job_with_a_message(api: Api) -> None:
    job = api.wait(api.submit("sampling", {"program": [bell_qasm()]}, simulator_info={"seed": "x"}))
    assert job["status"] == "failed"
    assert "seed" in job["job_info"]["message"]
