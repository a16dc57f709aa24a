"""Pictures: each is rendered to a PNG and checked (size, not blank, its labels)."""

from __future__ import annotations

import io
import sys
from collections import Counter
from typing import Any

import matplotlib as mpl
import pytest

mpl.use("Agg")  # no display: render to memory

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from quri_parts.circuit import QuantumCircuit

from quri_parts_oqtopus import plot
from quri_parts_oqtopus.backend import (
    OqtopusConfig,
    OqtopusDeviceBackend,
    OqtopusSamplingBackend,
)
from quri_parts_oqtopus.calibration import DeviceCalibration

from .conftest import ghz


def _png(axes: Axes) -> np.ndarray[Any, Any]:
    """The figure rendered as a PNG, read back as RGBA pixels."""
    buffer = io.BytesIO()
    figure = axes.get_figure(root=True)
    assert isinstance(figure, Figure)
    figure.savefig(buffer, format="png", dpi=80)
    plt.close(figure)
    assert buffer.getvalue()[:8] == b"\x89PNG\r\n\x1a\n"
    buffer.seek(0)
    pixels: np.ndarray[Any, Any] = plt.imread(buffer)
    return pixels


def _assert_drawn(pixels: np.ndarray[Any, Any], min_size: tuple[int, int]) -> None:
    height, width = pixels.shape[:2]
    assert height >= min_size[0], pixels.shape
    assert width >= min_size[1], pixels.shape
    rgb = pixels[..., :3]
    assert rgb.std() > 0.05, "the image is blank"  # a plain white figure has 0
    colours = {tuple(p) for p in (rgb[::7, ::7].reshape(-1, 3) * 255).astype(int)}
    assert len(colours) > 8, f"only {len(colours)} colours drawn"


def _texts(axes: Axes) -> list[str]:
    return [label.get_text() for label in axes.get_xticklabels()]


def test_a_count_histogram_shows_the_top_outcomes_as_bit_strings_qubit_0_rightmost() -> None:
    counts = Counter({0b001: 500, 0b110: 300, 0b011: 120, 0b100: 50, 0b010: 30})
    axes = plot.plot_counts(counts, top_k=3)
    assert _texts(axes) == ["001", "110", "011", "other (2)"]
    heights = [bar.get_height() for bar in axes.containers[0]]
    assert heights == [500, 300, 120, 80]
    assert axes.get_title() == "1,000 shots"
    assert axes.get_xlabel() == "outcome (bit 0 rightmost)"
    _assert_drawn(_png(axes), (200, 250))


def test_a_histogram_of_a_real_result_and_a_given_bit_width(config: OqtopusConfig) -> None:
    job = OqtopusSamplingBackend(config).sample(ghz(3), device_id="qulacs", shots=400)
    axes = plot.plot_counts(job.result(timeout=120, wait=0.05), bits=5)
    assert sorted(_texts(axes)) == ["00000", "00111"]
    assert sum(bar.get_height() for bar in axes.containers[0]) == 400
    _assert_drawn(_png(axes), (200, 250))


@pytest.mark.parametrize("top_k", [0, -1, 1.5, True])
def test_a_bad_top_k_is_refused_naming_it(top_k: object) -> None:
    with pytest.raises(ValueError, match="top_k must be a positive int"):
        plot.plot_counts({1: 2}, top_k=top_k)  # type: ignore[arg-type]


def test_a_device_map_colours_the_calibrated_coupling_map(config: OqtopusConfig) -> None:
    device = OqtopusDeviceBackend(config).get_device("emu-heavyhex-16")
    axes = plot.plot_device(device)
    calibration = DeviceCalibration.from_device(device)
    labels = sorted(int(t.get_text()) for t in axes.texts)
    assert labels == list(range(16))
    assert len(axes.lines) == len(calibration.couplings)
    assert axes.get_title().startswith("emu-heavyhex-16: 16 qubits, calibrated 20")
    colour_bars = [a.get_ylabel() for a in axes.figure.axes if a is not axes]
    assert colour_bars == ["two-qubit gate error (edges)", "readout error (qubits)"]
    _assert_drawn(_png(axes), (300, 400))


def test_a_device_without_positions_is_drawn_around_a_circle() -> None:
    info = {
        "qubits": [{"id": i, "fidelity": 0.99} for i in range(4)],
        "couplings": [{"control": i, "target": (i + 1) % 4, "fidelity": 0.95} for i in range(4)],
    }
    axes = plot.plot_device(DeviceCalibration.from_device_info(info), title="ring")
    assert axes.get_title() == "ring"
    assert len(axes.lines) == 4
    _assert_drawn(_png(axes), (300, 400))


def test_a_timeline_has_a_row_per_job_queued_and_running(config: OqtopusConfig) -> None:
    backend = OqtopusSamplingBackend(config)
    circuit = QuantumCircuit(1)
    circuit.add_X_gate(0)
    jobs = [backend.sample(circuit, device_id="qulacs", shots=10) for _ in range(3)]
    for job in jobs:
        job.wait_for_completion(timeout=120, wait=0.05)
    axes = plot.plot_timeline([*jobs, None])
    rows = [label.get_text() for label in axes.get_yticklabels()]
    assert rows == [f"…{job.job_id[-8:]}" for job in jobs]
    assert len(axes.patches) == 6  # a queued and a running bar per job
    assert axes.get_xlabel() == "seconds since the first submission"
    _assert_drawn(_png(axes), (150, 300))


def test_without_matplotlib_a_picture_fails_in_one_line_naming_the_extra(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ModuleNotFoundError) as raised:
        plot.plot_counts({1: 2})
    assert str(raised.value) == (
        "pictures need matplotlib, the [plot] extra: pip install 'quri-parts-oqtopus[plot]'"
    )
