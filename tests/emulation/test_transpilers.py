"""The transpilers of OQTOPUS's transpiler service, through tranqu: ``qiskit`` always (Qiskit
itself where tranqu is not installed, with the same result), ``tket`` where tranqu is
installed (refused naming it where not), anything else refused naming it; and the default
``transpiler_info`` written back to the job on every device."""

from __future__ import annotations

import json
import os
import random
import sys
from pathlib import Path
from typing import Any

import pytest

import quri_parts_oqtopus.local
from quri_parts_oqtopus.calibration import DeviceCalibration
from quri_parts_oqtopus.local.programs import load_program
from quri_parts_oqtopus.local.tranqu_transpile import tranqu_installed
from quri_parts_oqtopus.local.transpile import to_device
from quri_parts_oqtopus.qasm_reader import read_qasm

from ..local.helpers import Api
from .test_noise_physics import QASM, run
from .test_transpilation import distribution, random_program, state_of, transpile_result

DEVICES = ["emu-heavyhex-16", "emu-ring-8", "emu-square-64"]
# Skipped without tranqu, except under CI=true: `make ci` installs it (`make tranqu`), so
# there a missing tranqu is a failure, not a silent skip.
needs_tranqu = pytest.mark.skipif(
    not tranqu_installed() and os.environ.get("CI") != "true",
    reason="tranqu is not installed (the [tranqu] extra, or `make tranqu`)",
)


def calibration_of(device_id: str) -> DeviceCalibration:
    folder = Path(quri_parts_oqtopus.local.__file__).parent / "example_devices"
    (device,) = json.loads((folder / f"{device_id}.json").read_text(encoding="utf-8"))
    return DeviceCalibration.from_device_info(json.dumps(device["device_info"]))


def transpiled_text(text: str, device_id: str, info: dict[str, Any]) -> tuple[str, Any]:
    program = to_device(load_program(text), text, calibration_of(device_id), info,
                        device_id=device_id, seed=5)  # fmt: skip
    return program.transpile_result["transpiled_program"], program.qubit_mapping


@needs_tranqu
@pytest.mark.parametrize("device_id", DEVICES)
@pytest.mark.parametrize("level", [0, 1, 2])
def test_tket_transpiles_equivalent_programs_with_cx_only_on_couplings(
    api: Api, device_id: str, level: int
) -> None:
    coupled = {(c.control, c.target) for c in calibration_of(device_id).couplings}
    rng = random.Random(f"tket-{device_id}-{level}")
    for case in range(3):
        n = rng.choice([3, 4])
        program = random_program(rng, n, 14)
        info = {"transpiler_lib": "tket", "transpiler_options": {"optimization_level": level}}
        job = run(api, "sampling", {"program": [program]}, device_id=device_id, shots=10,
                  transpiler_info=info)  # fmt: skip
        result = transpile_result(job)
        text = result["transpiled_program"]
        parsed = read_qasm(text)
        where = f"case {case}:\n{program}\n{text}"
        assert {g.name for g in parsed.circuit.gates} <= {"RZ", "SqrtX", "X", "CNOT"}, where
        for gate in parsed.circuit.gates:
            if gate.name == "CNOT":
                pair = (gate.control_indices[0], gate.target_indices[0])
                assert pair in coupled, (pair, where)
        mapping = {
            int(v): p for v, p in result["virtual_physical_mapping"]["qubit_mapping"].items()
        }
        assert sorted(mapping) == list(range(n))
        physical, used = state_of(text, sorted(set(mapping.values()) | set(state_of(text)[1])))
        original, _ = state_of(program, list(range(n)))
        position = {q: i for i, q in enumerate(used)}
        expected = distribution(original, [(q, q) for q in range(n)], {q: q for q in range(n)})
        got = distribution(physical, parsed.measurements, position)
        for key in set(expected) | set(got):
            assert got.get(key, 0.0) == pytest.approx(expected.get(key, 0.0), abs=1e-9), where
        assert set(result["stats"]) == {"before", "after"}


@needs_tranqu
@pytest.mark.parametrize("device_id", DEVICES)
def test_qiskit_through_tranqu_gives_what_qiskit_gives_without_it(
    device_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = random.Random(device_id)
    programs = [random_program(rng, 4, 16) for _ in range(3)]
    infos = [{"transpiler_lib": "qiskit", "transpiler_options": {"optimization_level": level}}
             for level in (0, 1, 3)]  # fmt: skip
    through = [transpiled_text(p, device_id, i) for p in programs for i in infos]
    monkeypatch.setitem(sys.modules, "tranqu", None)  # import tranqu now raises ImportError
    assert not tranqu_installed()
    assert [transpiled_text(p, device_id, i) for p in programs for i in infos] == through


def test_tket_without_tranqu_is_refused_naming_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "tranqu", None)
    text = QASM + "qubit[2] q;\nbit[2] c;\nh q[0];\ncx q[0], q[1];\nc = measure q;\n"
    with pytest.raises(ValueError, match=r"transpiler_lib 'tket' needs tranqu on the local") as e:
        transpiled_text(text, "emu-ring-8", {"transpiler_lib": "tket"})
    assert "pip install 'quri-parts-oqtopus[tranqu]'" in str(e.value)


def test_tket_options_it_does_not_read_are_refused_naming_them(api: Api) -> None:
    program = QASM + "qubit[2] q;\nbit[2] c;\nx q[0];\nc = measure q;\n"
    info = {"transpiler_lib": "tket", "transpiler_options": {"initial_layout": [0, 1]}}
    job = api.wait(api.submit("sampling", {"program": [program]}, device_id="emu-ring-8",
                              transpiler_info=info))  # fmt: skip
    assert job["status"] == "failed"
    assert (
        "transpiler_options ['initial_layout'] are not supported by tket; known:"
        " ['optimization_level']" in job["job_info"]["message"]
    )


@pytest.mark.parametrize("device_id", ["qulacs", "emu-ring-8"])
@pytest.mark.parametrize("given", [{}, None])
def test_the_default_transpiler_info_is_written_back_on_every_device(
    api: Api, device_id: str, given: dict[str, Any] | None
) -> None:
    program = QASM + "qubit[2] q;\nbit[2] c;\nh q[0];\ncx q[0], q[1];\nc = measure q;\n"
    job = run(api, "sampling", {"program": [program]}, device_id=device_id, shots=10,
              transpiler_info=given)  # fmt: skip
    assert job["transpiler_info"] == {
        "transpiler_lib": "qiskit",
        "transpiler_options": {"optimization_level": 1},
    }
    assert job["job_info"]["transpile_result"]["transpiled_program"]
    skipped = run(api, "sampling", {"program": [program]}, shots=10,
                  transpiler_info={"transpiler_lib": None})  # fmt: skip
    assert skipped["transpiler_info"] == {"transpiler_lib": None}
    assert skipped["job_info"]["transpile_result"] is None
