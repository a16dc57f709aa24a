"""Today's OQTOPUS mitigation on the local server: ``readout.method`` beside the released
``ro_error_mitigation``, zero-noise extrapolation of estimations with mitiq (failing open,
with the reason), ``mitigation_details`` in the result, and unknown methods refused.

Seeded jobs over real HTTP; each tolerance is several standard deviations of shot noise.
"""

from __future__ import annotations

import json
import math
import sys
from typing import Any

import pytest

from quri_parts_oqtopus.local.simulate import run_task
from quri_parts_oqtopus.local.tasks import CostLimits, Task

from ..local.helpers import Api
from .conftest import GATE_FIDELITIES, known_devices
from .test_noise_physics import AS_WRITTEN, FLIPPED, MITIGATED, QASM, counts_of, run

BELL = QASM + "qubit[2] q;\nh q[0];\ncx q[0], q[1];\n"
ZZ = [{"pauli": "Z0 Z1", "coeff": 1.0}]
# The Bell pair on coupling 0 -> 1 of depolarizing-4: one cx, no other noise.
ON_PAIR_01 = {"transpiler_lib": "qiskit", "transpiler_options": {"initial_layout": [0, 1]}}
ODD_SCALES = {"zne": {"params": {"scale_factors": [1, 3, 5]}}}


def details_of(job: dict[str, Any]) -> dict[str, Any]:
    details: dict[str, Any] = job["job_info"]["result"]["mitigation_details"]
    return details


def estimation_of(job: dict[str, Any]) -> dict[str, float]:
    estimation: dict[str, float] = job["job_info"]["result"]["estimation"]
    return estimation


# -- readout ------------------------------------------------------------------------------------


def test_readout_method_pseudo_inverse_is_applied_as_the_legacy_key_is(api: Api) -> None:
    fields: dict[str, Any] = {"device_id": "readout-3", "shots": 20000}
    fields["transpiler_info"] = AS_WRITTEN
    raw = counts_of(run(api, "sampling", {"program": [FLIPPED]}, **fields))
    legacy = run(api, "sampling", {"program": [FLIPPED]}, mitigation_info=MITIGATED, **fields)
    today = run(api, "sampling", {"program": [FLIPPED]}, **fields,
                mitigation_info={"readout": {"method": "pseudo_inverse"}})  # fmt: skip
    assert counts_of(today) == counts_of(legacy) != raw
    assert details_of(today) == {
        "readout": {"method": "pseudo_inverse", "applied": "pseudo_inverse",
                    "before": {"counts": raw}},
    }  # fmt: skip
    assert details_of(legacy)["readout"]["before"] == {"counts": raw}


@pytest.mark.parametrize("method", ["mthree", "local"])
def test_mthree_and_local_run_the_same_inversion_and_say_so(api: Api, method: str) -> None:
    fields: dict[str, Any] = {"device_id": "readout-3", "shots": 5000}
    fields["transpiler_info"] = AS_WRITTEN
    inverted = run(api, "sampling", {"program": [FLIPPED]}, mitigation_info=MITIGATED, **fields)
    named = run(api, "sampling", {"program": [FLIPPED]}, **fields,
                mitigation_info={"readout": {"method": method}})  # fmt: skip
    assert counts_of(named) == counts_of(inverted)
    readout = details_of(named)["readout"]
    assert (readout["method"], readout["applied"]) == (method, "pseudo_inverse")


@pytest.mark.parametrize("device_id", ["readout-3", "qulacs"])
def test_an_unknown_readout_method_is_refused_naming_it(api: Api, device_id: str) -> None:
    job = api.wait(api.submit("sampling", {"program": [FLIPPED]}, device_id=device_id,
                              transpiler_info=AS_WRITTEN,
                              mitigation_info={"readout": {"method": "twirl"}}))  # fmt: skip
    assert job["status"] == "failed"
    assert (
        "mitigation_info.readout.method must be one of ['pseudo_inverse', 'mthree', 'local'],"
        " got 'twirl'" in job["job_info"]["message"]
    )


def test_jobs_without_mitigation_have_no_mitigation_details(api: Api) -> None:
    job = run(api, "estimation", {"program": [BELL], "operator": ZZ}, device_id="readout-3")
    assert "mitigation_details" not in job["job_info"]["result"]


# -- zero-noise extrapolation -------------------------------------------------------------------


def test_zne_extrapolates_a_depolarized_bell_pair_to_the_ideal_value(api: Api) -> None:
    # Folding to the odd scale k runs the cx k times; each leaves <ZZ> times 1 - λ with
    # λ = 4(1 - F)/3, so scale k reads (1 - λ)^k and the extrapolation comes back to 1.
    shots = 20000
    job_input = {"program": [BELL], "operator": ZZ}
    fields: dict[str, Any] = {"device_id": "depolarizing-4", "shots": shots}
    fields["transpiler_info"] = ON_PAIR_01
    raw = estimation_of(run(api, "estimation", job_input, **fields))
    job = run(api, "estimation", job_input, mitigation_info=ODD_SCALES, **fields)
    decay = 1 - 4 * (1 - GATE_FIDELITIES[0, 1]) / 3
    scales = details_of(job)["zne"]["scale_results"]
    assert [s["scale_factor"] for s in scales] == [1.0, 3.0, 5.0]
    for scale in scales:
        predicted = decay ** scale["scale_factor"]
        sigma = math.sqrt((1 - predicted**2) / shots)
        assert abs(scale["exp_value"] - predicted) < 5 * sigma, (scale, predicted)
    estimate = estimation_of(job)
    assert abs(raw["exp_value"] - decay) < 0.02  # the noise is there to remove
    # Richardson through 1, 3, 5 weighs the scales 15/8, -5/4 and 3/8.
    spread = math.sqrt(
        sum((w * s["stds"]) ** 2 for w, s in zip((15 / 8, 5 / 4, 3 / 8), scales, strict=True))
    )
    assert abs(estimate["exp_value"] - 1.0) < 5 * spread + 0.002, (estimate, spread)
    assert estimate["stds"] == pytest.approx(sum(s["stds"] for s in scales) / 3)


@pytest.mark.parametrize("params", [{"factory": "linear"}, {"factory": "poly", "poly_order": 1}])
def test_zne_factories_and_random_folding_run(api: Api, params: dict[str, Any]) -> None:
    mitigation = {"zne": {"params": {"scale_factors": [1, 3, 5], "folding": "random", **params}}}
    job = run(api, "estimation", {"program": [BELL], "operator": ZZ}, device_id="depolarizing-4",
              shots=4000, transpiler_info=ON_PAIR_01, mitigation_info=mitigation)  # fmt: skip
    scales = details_of(job)["zne"]["scale_results"]
    values = [s["exp_value"] for s in scales]
    # A least-squares line through the three scales, at scale 0 (both factories).
    mean_s, mean_v = 3.0, sum(values) / 3
    slope = sum((s - mean_s) * (v - mean_v) for s, v in zip((1, 3, 5), values, strict=True)) / 8
    assert estimation_of(job)["exp_value"] == pytest.approx(mean_v - slope * mean_s)
    assert values[0] > values[2]  # more folds, more noise


def test_zne_with_readout_mitigation_counts_every_folded_run(api: Api) -> None:
    mitigation = {**ODD_SCALES, "readout": {"method": "pseudo_inverse"}}
    mitigation["zne"] = {"params": {"scale_factors": [1, 3], "num_to_average": 2,
                                    "folding": "random"}}  # fmt: skip
    job = run(api, "estimation", {"program": [BELL], "operator": ZZ}, device_id="readout-3",
              shots=1000, mitigation_info=mitigation)  # fmt: skip
    details = details_of(job)
    assert details["readout"]["zne_execution_results"] == {"result_count": 4, "total_shots": 4000}
    assert len(details["zne"]["scale_results"]) == 2


def test_zne_on_the_noiseless_simulator_runs_each_scale_of_the_same_state(api: Api) -> None:
    job = run(api, "estimation", {"program": [BELL], "operator": ZZ}, mitigation_info=ODD_SCALES)
    scales = details_of(job)["zne"]["scale_results"]
    assert [s["exp_value"] for s in scales] == [1.0, 1.0, 1.0]
    assert estimation_of(job)["exp_value"] == pytest.approx(1.0)


def test_zne_of_a_sampling_job_falls_back_saying_why(api: Api) -> None:
    program = BELL + "bit[2] c;\nc = measure q;\n"
    job = run(api, "sampling", {"program": [program]}, device_id="depolarizing-4", shots=100,
              mitigation_info=ODD_SCALES)  # fmt: skip
    assert details_of(job) == {
        "zne": {"status": "fallback", "stage": "pre_process",
                "reason": "zne is supported only for estimation jobs"},
    }  # fmt: skip
    assert sum(counts_of(job).values()) == 100


@pytest.mark.parametrize(
    ("zne", "message"),
    [
        ({"params": {"factory": "exponential"}}, "factory must be one of ['richardson', 'linear',"
                                                 " 'poly'], got 'exponential'"),
        ({"params": {"folding": "left"}}, "folding must be one of ['global', 'random'],"
                                          " got 'left'"),
        ({"params": {"scale_factors": [1]}}, "scale_factors must list at least two distinct"),
        ({"params": {"num_to_average": 0}}, "num_to_average must be an integer >= 1, got 0"),
        ({"params": {"shots_per_scale": 3}}, "zne.params has unknown keys ['shots_per_scale']"),
        ({"scale_factors": [1, 3]}, 'mitigation_info.zne must be {"params": {...}}'),
    ],
)  # fmt: skip
def test_bad_zne_settings_are_refused_naming_them(api: Api, zne: Any, message: str) -> None:
    job_input = {"program": [BELL], "operator": ZZ}
    job = api.wait(api.submit("estimation", job_input, device_id="depolarizing-4",
                              mitigation_info={"zne": zne}))  # fmt: skip
    assert job["status"] == "failed"
    assert message in job["job_info"]["message"]


# -- fail open, in the worker's own function ----------------------------------------------------


def _bell_task(**fields: Any) -> Task:
    info = json.dumps(known_devices()[0]["device_info"])  # depolarizing-4
    return Task(job_type="estimation", programs=[BELL], shots=2000, operator=ZZ, seed=3,
                device_id="depolarizing-4", device_info=info, transpiler_info=ON_PAIR_01,
                **fields)  # fmt: skip


def test_zne_beyond_the_cost_limit_falls_back_to_the_plain_estimate_naming_the_limit() -> None:
    plain_outcome, plain = run_task(_bell_task())
    assert plain_outcome.succeeded, plain_outcome.message
    # The Bell pair costs a few gates x 16; folded to 5 it passes 200.
    outcome, payloads = run_task(
        _bell_task(mitigation_info=ODD_SCALES, limits=CostLimits(max_gate_work=200))
    )
    assert outcome.succeeded, outcome.message
    zne = payloads["result"]["mitigation_details"]["zne"]
    assert zne["status"] == "fallback"
    assert "runs of ZNE would cost" in zne["reason"]
    assert "beyond the limit max_gate_work = 200" in zne["reason"]
    assert payloads["result"]["estimation"] == plain["result"]["estimation"]


def test_zne_without_mitiq_falls_back_naming_the_package(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "mitiq", None)  # import mitiq now raises ImportError
    outcome, payloads = run_task(_bell_task(mitigation_info=ODD_SCALES))
    assert outcome.succeeded, outcome.message
    zne = payloads["result"]["mitigation_details"]["zne"]
    assert zne["status"] == "fallback"
    assert "mitiq is not installed on the local server" in zne["reason"]
    assert "quri-parts-oqtopus[emulation]" in zne["reason"]


@pytest.mark.parametrize(
    ("device_id", "params"),
    [
        ("depolarizing-4", {"scale_factors": [1, 1e12]}),
        ("qulacs", {"scale_factors": [1, 3], "num_to_average": 10**12}),
    ],
)
def test_zne_beyond_the_cost_limit_falls_back_before_folding_naming_the_limit(
    api: Api, device_id: str, params: dict[str, Any]
) -> None:
    job = run(api, "estimation", {"program": [BELL], "operator": ZZ}, device_id=device_id,
              shots=100, mitigation_info={"zne": {"params": params}})  # fmt: skip
    zne = details_of(job)["zne"]
    assert zne["status"] == "fallback"
    assert "runs of ZNE would cost" in zne["reason"]
    assert "beyond the limit max_gate_work" in zne["reason"]
