"""multi_manual jobs run block by block: wide jobs of small programs run, and their combined
counts and divided_counts are those of the combined circuit."""

from __future__ import annotations

from .helpers import Api, qasm


def _marginal(counts: dict[str, int], widths: list[int]) -> dict[str, dict[str, int]]:
    """Program 0 owns the last characters of a combined key (the contract's rule)."""
    out: dict[str, dict[str, int]] = {str(i): {} for i in range(len(widths))}
    for bits, count in counts.items():
        end = len(bits)
        for index, width in enumerate(widths):
            key = bits[end - width : end]
            end -= width
            out[str(index)][key] = out[str(index)].get(key, 0) + count
    return out


def test_sixteen_four_qubit_programs_run_on_64_qubits_as_their_product(api: Api) -> None:
    api.set_device("blocks64", n_qubits=64)
    # Program i: a Bell pair on qubits 0-1 and X on qubit 2 when i is odd; qubit 3 idle.
    programs = [
        qasm(4, "h q[0];\ncx q[0], q[1];" + ("\nx q[2];" if i % 2 else "")) for i in range(16)
    ]
    job = api.wait(
        api.submit("multi_manual", {"program": programs}, shots=500, device_id="blocks64")
    )
    assert job["status"] == "succeeded", job["job_info"]["message"]
    sampling = api.fetch(job["job_info"]["result"])["sampling"]
    counts, divided = sampling["counts"], sampling["divided_counts"]
    assert sum(counts.values()) == 500
    assert {len(key) for key in counts} == {64}
    assert divided == _marginal(counts, [4] * 16)
    for index in range(16):
        allowed = {"0100", "0111"} if index % 2 else {"0000", "0011"}
        assert set(divided[str(index)]) <= allowed, (index, divided[str(index)])
    # Independent blocks: the pairs of programs 0 and 2 agree on about half of the shots.
    same = sum(n for key, n in counts.items() if key[-2:] == key[-10:-8])
    assert 150 < same < 350, same


def test_a_multi_manual_job_is_reproducible_with_a_seed(api: Api) -> None:
    programs = [qasm(3, "h q[0];\nh q[1];\nh q[2];")] * 5
    seeded = {"simulator_info": {"seed": 5}, "shots": 300}
    first = api.result(api.submit("multi_manual", {"program": programs}, **seeded))
    second = api.result(api.submit("multi_manual", {"program": programs}, **seeded))
    assert first == second
