"""Pictures of results, devices and job timelines (the ``plot`` extra: matplotlib).

Each function draws on a matplotlib ``Axes`` (a new figure when none is given) and returns
it, so that a notebook shows it and a script can ``ax.figure.savefig(...)``. Nothing here
talks to the server: results, calibrations and jobs are drawn as they were last read.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from quri_parts_oqtopus._contract import CANCELLED, FAILED, SUCCEEDED
from quri_parts_oqtopus._values import is_int
from quri_parts_oqtopus.calibration import DeviceCalibration
from quri_parts_oqtopus.metrics import TimedJob, job_timing

if TYPE_CHECKING:  # matplotlib is optional: imported when a picture is drawn
    from matplotlib.axes import Axes

__all__ = ["PLOT_INSTALL", "plot_counts", "plot_device", "plot_timeline"]

#: How to install what the pictures need (the ``plot`` extra).
PLOT_INSTALL = "pip install 'quri-parts-oqtopus[plot]'"
_STATUS_COLOURS = {SUCCEEDED: "tab:green", FAILED: "tab:red", CANCELLED: "tab:gray"}


def _pyplot() -> Any:
    """``matplotlib.pyplot``, or the one-line error that names the extra."""
    try:
        import matplotlib.pyplot as plt  # noqa: PLC0415 - optional, loaded on demand
    except ImportError:
        raise ModuleNotFoundError(
            f"pictures need matplotlib, the [plot] extra: {PLOT_INSTALL}", name="matplotlib"
        ) from None
    return plt


def _axes(ax: Axes | None, size: tuple[float, float]) -> Axes:
    if ax is not None:
        return ax
    _figure, new = _pyplot().subplots(figsize=size, layout="constrained")
    result: Axes = new
    return result


def plot_counts(
    counts: Mapping[int, int] | Any,
    *,
    top_k: int = 16,
    bits: int | None = None,
    ax: Axes | None = None,
    title: str | None = None,
) -> Axes:
    """A bar chart of the ``top_k`` most frequent outcomes of a sampling result.

    Args:
        counts: A result's counts (``{outcome: count}``, QURI Parts' int keys), or a result
            with a ``counts`` attribute (``job.result()``).
        top_k: How many outcomes to show, most frequent first; the rest are summed in one
            ``other`` bar.
        bits: The width of the bit labels (None: the widest outcome's). Labels are bit
            strings in QURI Parts' order: qubit (classical bit) 0 is the rightmost.
        ax: The axes to draw on (None: a new figure).
        title: The title (None: the number of shots).

    Raises:
        ValueError: If ``top_k`` is not a positive int, or the counts are empty.
        ModuleNotFoundError: If matplotlib is not installed (the ``plot`` extra).

    """
    values: Mapping[int, int] = getattr(counts, "counts", counts)
    if not is_int(top_k) or top_k < 1:
        raise ValueError(f"top_k must be a positive int, got {top_k!r}")
    if not values:
        raise ValueError("no counts to plot")
    width = bits if bits is not None else max(1, *(int(v).bit_length() for v in values))
    ranked = sorted(values.items(), key=lambda item: (-item[1], item[0]))
    shown = ranked[:top_k]
    labels = [format(int(outcome), f"0{width}b") for outcome, _ in shown]
    heights = [count for _, count in shown]
    rest = sum(count for _, count in ranked[top_k:])
    if rest:
        labels.append(f"other ({len(ranked) - top_k})")
        heights.append(rest)
    axes = _axes(ax, (max(4.0, 0.45 * len(labels) + 1.5), 3.5))
    axes.bar(range(len(labels)), heights, color="tab:blue")
    axes.set_xticks(range(len(labels)), labels, rotation=60 if width > 4 else 0, ha="center")
    axes.set_xlabel("outcome (bit 0 rightmost)")
    axes.set_ylabel("count")
    axes.set_title(title if title is not None else f"{sum(values.values()):,} shots")
    return axes


def _positions(calibration: DeviceCalibration) -> dict[int, tuple[float, float]]:
    """Each qubit's drawing position: from ``device_info`` where every qubit has a distinct
    one spread over a plane, else a force-directed layout of the coupling map."""
    given = {q.id: q.position for q in calibration.qubits if q.position is not None}
    points = set(given.values())
    spread = len({x for x, _ in points}) > 1 and len({y for _, y in points}) > 1
    if len(given) == len(calibration.qubits) and len(points) == len(given) and spread:
        return {q: (x, -y) for q, (x, y) in given.items()}  # rows down, as chips are drawn
    return _graph_layout(calibration)


def _graph_layout(calibration: DeviceCalibration) -> dict[int, tuple[float, float]]:
    """rustworkx's spring layout of the coupling map (seeded: the same picture each time);
    around a circle where rustworkx is not installed."""
    ids = [q.id for q in calibration.qubits]
    try:
        import rustworkx  # noqa: PLC0415 - optional, as matplotlib
    except ImportError:
        count = max(len(ids), 1)
        return {
            q: (math.cos(2 * math.pi * i / count), math.sin(2 * math.pi * i / count))
            for i, q in enumerate(ids)
        }
    graph = rustworkx.PyGraph()
    nodes = dict(zip(ids, graph.add_nodes_from(ids), strict=True))
    graph.add_edges_from_no_data(
        [(nodes[c.control], nodes[c.target]) for c in calibration.couplings]
    )
    layout = rustworkx.spring_layout(graph, seed=1)
    return {q: (float(layout[nodes[q]][0]), float(layout[nodes[q]][1])) for q in ids}


def plot_device(
    device: DeviceCalibration | Any,
    *,
    ax: Axes | None = None,
    title: str | None = None,
) -> Axes:
    """A device's coupling map: qubits coloured by readout error, couplings by gate error.

    Args:
        device: A :class:`~quri_parts_oqtopus.calibration.DeviceCalibration`, or a device
            (``OqtopusDevice``) whose ``device_info`` holds calibration data.
        ax: The axes to draw on (None: a new figure).
        title: The title (None: the device id and when it was calibrated).

    Raises:
        ValueError: If the device has no usable calibration data.
        ModuleNotFoundError: If matplotlib is not installed (the ``plot`` extra).

    """
    calibration = (
        device if isinstance(device, DeviceCalibration) else DeviceCalibration.from_device(device)
    )
    plt = _pyplot()
    axes = _axes(ax, (7.0, 5.5))
    where = _positions(calibration)
    # Light is good, dark is bad, on both scales; qubit labels stay readable in black.
    gate_map, readout_map = plt.get_cmap("viridis_r"), plt.get_cmap("YlOrRd")
    gate_errors = [c.gate_error for c in calibration.couplings]
    readout_errors = [q.readout_error for q in calibration.qubits]
    gate_norm = plt.Normalize(0.0, max(gate_errors, default=0.0) or 1.0)
    readout_norm = plt.Normalize(0.0, max(readout_errors, default=0.0) or 1.0)
    for coupling in calibration.couplings:
        (x0, y0), (x1, y1) = where[coupling.control], where[coupling.target]
        axes.plot([x0, x1], [y0, y1], color=gate_map(gate_norm(coupling.gate_error)), lw=3,
                  zorder=1)  # fmt: skip
    xs = [where[q.id][0] for q in calibration.qubits]
    ys = [where[q.id][1] for q in calibration.qubits]
    axes.scatter(xs, ys, s=260, c=readout_errors, cmap=readout_map, norm=readout_norm,
                 edgecolors="black", zorder=2)  # fmt: skip
    for qubit in calibration.qubits:
        x, y = where[qubit.id]
        axes.annotate(str(qubit.id), (x, y), ha="center", va="center", fontsize=7, zorder=3)
    figure = axes.figure
    figure.colorbar(plt.cm.ScalarMappable(norm=gate_norm, cmap=gate_map), ax=axes,
                    label="two-qubit gate error (edges)", shrink=0.8)  # fmt: skip
    figure.colorbar(plt.cm.ScalarMappable(norm=readout_norm, cmap=readout_map), ax=axes,
                    label="readout error (qubits)", shrink=0.8)  # fmt: skip
    axes.set_aspect("equal")
    axes.set_axis_off()
    axes.set_title(title if title is not None else _device_title(calibration), fontsize=10)
    return axes


def _device_title(calibration: DeviceCalibration) -> str:
    name = calibration.device_id or "device"
    # ISO text to the minute: "2026-11-30T09:00:00.000000+00:00" -> "2026-11-30 09:00"
    when = (calibration.calibrated_at or "")[:16].replace("T", " ")
    return f"{name}: {calibration.n_qubits} qubits" + (f", calibrated {when}" if when else "")


def plot_timeline(
    jobs: Iterable[TimedJob | None] | Any,
    *,
    ax: Axes | None = None,
    title: str | None = None,
) -> Axes:
    """One row per job: queued (submitted to running) light, running (to its end) solid.

    Args:
        jobs: Jobs (``OqtopusSamplingJob`` ...), or a job set (its ``jobs``); None entries
            (programs never submitted) and jobs not yet submitted are left out.
        ax: The axes to draw on (None: a new figure).
        title: The title (None: how many jobs).

    Raises:
        ValueError: If no job has a submission time.
        ModuleNotFoundError: If matplotlib is not installed (the ``plot`` extra).

    """
    listed: Sequence[TimedJob | None] = list(getattr(jobs, "jobs", jobs))
    unique = {id(job): job for job in listed if job is not None}  # packed jobs repeat
    timings = [job_timing(job) for job in unique.values()]
    started = [t for t in timings if t.submitted_at is not None]
    if not started:
        raise ValueError("no submitted job to draw")
    origin = min(t.submitted_at for t in started if t.submitted_at is not None)
    timings = sorted(started, key=lambda t: t.submitted_at or origin)

    def offset(moment: Any) -> float:
        return float((moment - origin).total_seconds())

    axes = _axes(ax, (8.0, max(2.5, 0.3 * len(timings) + 1.2)))
    for row, timing in enumerate(timings):
        assert timing.submitted_at is not None
        start = offset(timing.submitted_at)
        began = timing.running_at
        end = timing.ended_at
        colour = _STATUS_COLOURS.get(timing.status, "tab:blue")
        queued_until = offset(began) if began is not None else (offset(end) if end else start)
        axes.barh(row, max(queued_until - start, 0.0), left=start, color=colour, alpha=0.3)
        if began is not None and end is not None:
            axes.barh(row, max(offset(end) - offset(began), 0.0), left=offset(began),
                      color=colour)  # fmt: skip
    # uuid7 ids begin with their time, so jobs of one batch share a prefix: show the end
    axes.set_yticks(range(len(timings)), [f"…{t.job_id[-8:]}" for t in timings], fontsize=7)
    axes.invert_yaxis()
    axes.set_xlabel("seconds since the first submission")
    axes.set_title(title if title is not None else f"{len(timings)} jobs: queued (light), running")
    return axes
