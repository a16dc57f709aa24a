"""``cli/render.py``: the detail views show the contract's fields, in its order."""

from __future__ import annotations

from quri_parts_oqtopus._contract import DEVICE_FIELDS, JOB_FIELDS, Device, Job
from quri_parts_oqtopus.cli import render

from ..contract_samples import sample


def _lines(text: str) -> list[tuple[str, str]]:
    """The ``key: value`` lines of a detail view."""
    return [
        (key, value.strip()) for key, value in (line.split(":", 1) for line in text.splitlines())
    ]


def test_the_job_detail_shows_every_field_but_the_info_objects_then_the_message() -> None:
    job = sample(Job)
    lines = _lines(render.job_detail(job))
    assert [key for key, _ in lines] == [
        *(name for name in JOB_FIELDS if not name.endswith("_info")),
        "message",
    ]
    assert dict(lines)["message"] == job["job_info"]["message"]


def test_the_device_detail_shows_every_field_but_the_calibration_data() -> None:
    device = sample(Device)
    lines = _lines(render.device_detail(device))
    assert [key for key, _ in lines] == [name for name in DEVICE_FIELDS if name != "device_info"]
    assert dict(lines)["basis_gates"] == " ".join(device["basis_gates"])
