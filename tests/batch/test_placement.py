"""Placement of packed circuits on a coupling map: regions that hold each circuit's own
interaction graph (VF2), disjoint (or a qubit apart), best calibrated preferred, pinned by
initial_layout and kept by the transpiler; many more circuits per job on heavy-hex."""

from __future__ import annotations

import json
import random
import re
import statistics
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from quri_parts.circuit import QuantumCircuit

from quri_parts_oqtopus.backend import OqtopusConfig
from quri_parts_oqtopus.calibration import DeviceCalibration
from quri_parts_oqtopus.jobset import OqtopusJobSet
from quri_parts_oqtopus.local import LocalServer
from quri_parts_oqtopus.packing import Layout, PackingPolicy, plan_packs
from quri_parts_oqtopus.placement import DeviceMap, ProgramGraph, random_region_error

EXAMPLES = Path(__file__).parents[2] / "python" / "quri_parts_oqtopus" / "local" / "example_devices"


def calibration_of(device_id: str) -> DeviceCalibration:
    device = json.loads((EXAMPLES / f"{device_id}.json").read_text())[0]
    return DeviceCalibration.from_device_info(device["device_info"])


def placed_layout(device_id: str, policy: PackingPolicy) -> Layout:
    calibration = calibration_of(device_id)
    capacity = min(calibration.n_qubits, policy.max_qubits or 64)
    device_map = DeviceMap.of_calibration(calibration)
    return Layout(capacity, device_map, placed=True, keep_apart=policy.keep_apart)


def chain(width: int = 4, flips: int = 0) -> QuantumCircuit:
    """X on the qubits of ``flips``, then a CNOT chain: a path of ``width`` qubits."""
    circuit = QuantumCircuit(width)
    for qubit in range(width):
        if flips >> qubit & 1:
            circuit.add_X_gate(qubit)
    for qubit in range(width - 1):
        circuit.add_CNOT_gate(qubit, qubit + 1)
    return circuit


def chain_outcome(width: int, flips: int) -> int:
    value = 0
    bit = 0
    for qubit in range(width):
        bit ^= flips >> qubit & 1
        value |= bit << qubit
    return value


def test_six_four_qubit_chains_take_two_jobs_on_heavy_hex_not_six() -> None:
    policy = PackingPolicy(max_qubits=12)
    packs = plan_packs([chain()] * 6, range(6), placed_layout("emu-heavyhex-16", policy), policy)
    assert [len(p.slots) for p in packs] == [3, 3]


@pytest.mark.parametrize(("device_id", "at_least"), [("emu-square-64", 12), ("emu-heavyhex-16", 3)])
def test_four_qubit_chains_fill_a_job_close_to_the_bound(device_id: str, at_least: int) -> None:
    policy = PackingPolicy()
    layout = placed_layout(device_id, policy)
    packs = plan_packs([chain()] * 40, range(40), layout, policy)
    assert min(len(p.slots) for p in packs[:-1]) >= at_least, [len(p.slots) for p in packs]


def random_tree_program(rng: random.Random, width: int) -> QuantumCircuit:
    """CNOTs along a random tree of ``width`` qubits (each gate may repeat): a graph a
    lattice or heavy-hex map can hold."""
    circuit = QuantumCircuit(width)
    links = [(rng.randrange(q), q) for q in range(1, width)]
    for _ in range(width + 2):
        if links:
            a, b = rng.choice(links)
            circuit.add_CNOT_gate(*rng.sample((a, b), 2))
        else:
            circuit.add_X_gate(0)
    return circuit


# (A ring cannot hold a star of three links: such a program goes on a path there.)
@pytest.mark.parametrize("device_id", ["emu-square-64", "emu-heavyhex-16"])
@pytest.mark.parametrize("keep_apart", [False, True])
def test_each_region_holds_its_programs_graph_and_regions_never_share_a_qubit(
    device_id: str, keep_apart: bool
) -> None:
    calibration = calibration_of(device_id)
    rng = random.Random(device_id)
    programs = [random_tree_program(rng, rng.choice([1, 2, 3, 4])) for _ in range(30)]
    policy = PackingPolicy(keep_apart=keep_apart)
    for pack in plan_packs(programs, range(30), placed_layout(device_id, policy), policy):
        assert pack.layout is not None
        assert len(set(pack.layout)) == len(pack.layout), pack.layout
        start = 0
        regions = []
        for slot in pack.slots:
            program = programs[slot.index]
            region = pack.layout[start : start + program.qubit_count]
            start += program.qubit_count
            regions.append(region)
            for gate in program.gates:
                if not gate.control_indices:
                    continue
                a, b = gate.control_indices[0], gate.target_indices[0]
                assert calibration.coupling(region[a], region[b]) is not None, (region, gate)
        if keep_apart:
            for i, first in enumerate(regions):
                for second in regions[i + 1 :]:
                    links = [(a, b) for a in first for b in second if calibration.coupling(a, b)]
                    assert links == [], (first, second)


@pytest.mark.parametrize("device_id", ["emu-square-64", "emu-heavyhex-16"])
def test_chosen_regions_have_less_calibrated_error_than_a_random_placement(
    device_id: str,
) -> None:
    # Three chains per job, on 64 qubits: room to choose the best calibrated regions.
    policy = PackingPolicy(max_programs=3)
    layout = placed_layout(device_id, policy)
    assert layout.device_map is not None
    graph = ProgramGraph.of_gates(4, [(0, 1), (1, 2), (2, 3)])
    pack = plan_packs([chain()] * 3, range(3), layout, policy)[0]
    assert pack.layout is not None
    chosen = statistics.mean(
        layout.device_map.region_error(graph, pack.layout[i : i + 4]) for i in (0, 4, 8)
    )
    assert chosen < random_region_error(layout.device_map, graph)


def test_the_first_region_is_the_best_calibrated_path_of_the_device() -> None:
    calibration = calibration_of("emu-heavyhex-16")
    device_map = DeviceMap.of_calibration(calibration)
    graph = ProgramGraph.of_gates(4, [(0, 1), (1, 2), (2, 3)])
    policy = PackingPolicy(max_programs=1)
    pack = plan_packs([chain()], [0], placed_layout("emu-heavyhex-16", policy), policy)[0]
    assert pack.layout is not None
    errors = [e.error for e in device_map.embeddings(graph, 0)]
    assert device_map.region_error(graph, pack.layout) == pytest.approx(min(errors))


def test_a_graph_the_map_cannot_hold_goes_on_a_connected_region() -> None:
    triangle = QuantumCircuit(3)
    for a, b in ((0, 1), (1, 2), (0, 2)):
        triangle.add_CNOT_gate(a, b)
    policy = PackingPolicy()
    layout = placed_layout("emu-square-64", policy)
    assert layout.device_map is not None
    pack = plan_packs([triangle] * 2, range(2), layout, policy)[0]
    assert pack.layout is not None
    assert layout.device_map.connected(pack.layout[:3])
    assert layout.device_map.connected(pack.layout[3:])


def test_an_initial_layout_of_the_users_own_is_refused_when_packing_places(
    emulator: LocalServer,
) -> None:
    info = {"transpiler_lib": "qiskit", "transpiler_options": {"initial_layout": [0, 1]}}
    with pytest.raises(ValueError, match=re.escape("transpiler_options.initial_layout cannot")):
        OqtopusJobSet.submit([chain(2)], "emu-ring-8", 10, emulator.config, pack=True,
                             transpiler_info=info)  # fmt: skip


@pytest.fixture(scope="module")
def emulator() -> Iterator[LocalServer]:
    with LocalServer(workers=2) as local:
        yield local


def test_packed_chains_on_heavy_hex_run_where_placed_with_the_layout_kept(
    emulator: LocalServer,
) -> None:
    config: OqtopusConfig = emulator.config
    flips = [0b0001, 0b0000, 0b0110, 0b1000, 0b0011, 0b0101]
    circuits = [chain(4, f) for f in flips]
    job_set = OqtopusJobSet.submit(circuits, "emu-heavyhex-16", 2000, config, pack=True,
                                   simulator_info={"seed": 3})  # fmt: skip
    assert job_set.wait(timeout=300, wait=0.1)
    assert job_set.failures() == []
    for f, result in zip(flips, job_set.results(), strict=True):
        counts = Counter(result.counts)  # type: ignore[union-attr]
        assert counts.most_common(1)[0][0] == chain_outcome(4, f), (f, counts.most_common(3))
    jobs = {job.job_id: job for job in job_set.jobs if job is not None}
    assert len(jobs) == 2
    for job in jobs.values():
        layout = job.transpiler_info["transpiler_options"]["initial_layout"]
        mapping = job.job_info["transpile_result"]["virtual_physical_mapping"]["qubit_mapping"]
        assert [mapping[str(v)] for v in range(len(layout))] == layout  # kept by Qiskit
