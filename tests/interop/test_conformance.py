"""Side by side with quri-parts-oqtopus 1.1.5: the same scenarios give the same observations.

``tests/scripts/conformance_scenarios.py`` runs under the reference's interpreter and under
ours, at the same time, against one local server started here. For every scenario the
values, types and ``to_json`` texts must be equal; where the reference raises, ours must
raise an instance of every class of the reference's exception (by name, along its MRO)
with a message that starts with the reference's message. The differences we keep are
listed in ``KEPT``, each with its reason (README, "What is different from the reference
client"); each of them must still be a difference, so that the list cannot rot.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from quri_parts_oqtopus.local import LocalServer

from .test_reference_client import reference_python

SCRIPT = Path(__file__).parent.parent / "scripts" / "conformance_scenarios.py"
DEVICES = [
    # Its jobs never end on their own (1 h; the scenario cancels them), so they outlast the
    # scenarios' 0.3 s timeouts on any machine.
    {"device_id": "slow", "execution_delay": 3600},
    {
        "device_id": "offline",
        "status": "unavailable",
        "available_at": "2030-01-01T00:00:00Z",
        "device_type": "QPU",
        "n_qubits": 5,
    },
    # One device per side: for the fault the scenarios inject (faults are server-wide), and
    # without the other side's jobs in its n_pending_jobs.
    {"device_id": "spare-reference"},
    {"device_id": "spare-ours"},
]
MIN_SCENARIOS = 60

# Differences kept on purpose: scenario (or "scenario / key / ...") -> why.
KEPT = {
    # Bugs of the reference that we fix.
    "sample_qasm with job_type='estimation'": (
        "the reference runs the job as sampling; ours refuses the job type"
    ),
    "config: a token with %": (
        "the reference's configparser interpolates, so a token with '%' cannot be read"
    ),
    "create_oqtopus_concurrent_sampler()": (
        "the reference's factory takes no device and its sampler raises TypeError on use; "
        "ours takes the device id"
    ),
    "OqtopusEstimationResult of the documented nested dict": (
        "the reference returns None for the nested form its own docstring shows"
    ),
    "SSE job right after run_sse": (
        "the reference makes up the job's record (status 'submitted', the program under "
        "'program', no timestamps) instead of reading it; ours reads it from the server"
    ),
    # Where the reference lets a third-party exception out (oqtopus-client, aiohttp,
    # configparser, a failed comparison), ours raises its documented, clearer error; its
    # classes are the reference's where they are ours to derive from.
    "devices of a URL without scheme / returned": (
        "aiohttp's NonHttpUrlClientError; ours a BackendError and ValueError naming the URL"
    ),
    "devices: get_device of an unknown id / returned": (
        "oqtopus-client's UserApiError; ours a BackendError with the HTTP status and message"
    ),
    "config: an unreadable file / returned / classes": (
        "configparser's exact subclass; ours a ValueError and configparser.Error"
    ),
    "config: from_file sections, keys, missing pieces / returned / missing file": (
        "a KeyError whose text is only the section; ours names the file and the section"
    ),
    "config: from_file sections, keys, missing pieces / returned / missing section": (
        "a KeyError whose text is only the section; ours names the file and the section"
    ),
    "config: from_file sections, keys, missing pieces / returned / missing key": (
        "a KeyError whose text is only the key; ours names the file, section and key"
    ),
    "result() of a job whose result is None / returned / sampling": (
        "the KeyError of job_info['result'], whose text is the key alone; ours is a KeyError "
        "too, with the reference's 'The job result is not a valid type.' and the job id"
    ),
    "result() of a job whose result is None / returned / estimation": (
        "the KeyError of job_info['result'], whose text is the key alone; ours is a KeyError "
        "too, with the reference's 'The job result is not a valid type.' and the job id"
    ),
    "result() of counts keys that are not bit strings / returned": (
        "int()'s own message; ours is a ValueError too, naming the job and the key"
    ),
    "sample with shots='10' / returned": (
        "the TypeError of a failed comparison; ours says what shots should be"
    ),
    "sample with shots=None / returned": (
        "the TypeError of a failed comparison; ours says what shots should be"
    ),
    "sample_qasm with shots=None / returned": (
        "the TypeError of a failed comparison; ours says what shots should be"
    ),
    # An extension.
    "job constructor with job_api=": (
        "the documented OqtopusSamplingJob(job, job_api): the reference only takes 'client'"
    ),
    # Today's OQTOPUS result key, which 1.1.5 predates.
    "emulated QPU: readout.method mitigation / returned / mitigation_details": (
        "ours exposes the result's mitigation_details; the reference has no such attribute"
    ),
    "emulated QPU: ZNE and readout mitigation of an estimation / returned / mitigation_details": (
        "ours exposes the result's mitigation_details; the reference has no such attribute"
    ),
}
# Texts that differ only in how a third party spells the same thing.
SPELLINGS = {
    # pydantic's UTC tzinfo prints as TzInfo(0), the standard library's as timezone.utc.
    "devices: repr": ("tzinfo=TzInfo(0)", "tzinfo=datetime.timezone.utc"),
}

Observations = dict[str, Any]


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Observations, Observations]:
    """The observations of the reference's run and of ours, made at the same time."""
    reference = reference_python()
    root = tmp_path_factory.mktemp("conformance")
    devices_file = root / "devices.json"
    devices_file.write_text(json.dumps(DEVICES), encoding="utf-8")
    with LocalServer(admin=True, workers=2, devices_file=devices_file, sse_timeout=60) as server:
        sides = {"reference": reference, "ours": sys.executable}
        started = {name: _start(python, name, server, root) for name, python in sides.items()}
        for name, process in started.items():
            out, err = process.communicate(timeout=300)
            assert process.returncode == 0, f"{name} run failed:\n{out}\n{err}"
    loaded = [json.loads((root / f"{name}.json").read_text()) for name in sides]
    return loaded[0], loaded[1]


def _start(python: str, side: str, server: LocalServer, root: Path) -> subprocess.Popen[str]:
    workdir = root / side
    workdir.mkdir()
    env = {
        **os.environ,
        "OQTOPUS_URL": server.url,
        "OQTOPUS_API_TOKEN": server.token,
        "SPARE_DEVICE": f"spare-{side}",
        "HOME": str(workdir),  # no ~/.oqtopus
    }
    env.pop("OQTOPUS_ENV", None)
    if side == "reference":
        env.pop("PYTHONPATH", None)  # its own venv only: our package has the same name
    return subprocess.Popen(
        [python, str(SCRIPT), str(root / f"{side}.json")],
        cwd=workdir,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def differences(reference: Any, ours: Any, path: str) -> Iterator[tuple[str, str]]:
    """``(path, what differs)`` for every place where ours does not match the reference."""
    if isinstance(reference, dict) and isinstance(ours, dict):
        if "raised" in reference or "raised" in ours:
            yield from _failure_differences(reference, ours, path)
            return
        for key in sorted(set(reference) | set(ours)):
            if key not in reference or key not in ours:
                side = "the reference" if key in reference else "ours"
                yield f"{path} / {key}", f"only {side} has it"
            else:
                yield from differences(reference[key], ours[key], f"{path} / {key}")
    elif reference != ours:
        yield (
            path,
            f"reference {json.dumps(reference)[:2000]}\n  ours      {json.dumps(ours)[:2000]}",
        )


def _failure_differences(
    reference: dict[str, Any], ours: dict[str, Any], path: str
) -> Iterator[tuple[str, str]]:
    if "raised" not in reference or "raised" not in ours:
        yield path, f"reference {json.dumps(reference)[:600]}\n  ours      {json.dumps(ours)[:600]}"
        return
    missing = [name for name in reference["raised"] if name not in ours["raised"]]
    if missing:
        yield path, f"ours ({ours['raised'][0]}) is not a {missing}"
    if not ours["message"].startswith(reference["message"]):
        yield path, f"message {ours['message']!r} does not start with {reference['message']!r}"


def spelled_alike(scenario: str, observed: Any) -> Any:
    if scenario in SPELLINGS and isinstance(observed.get("returned"), str):
        theirs, ours = SPELLINGS[scenario]
        return {**observed, "returned": observed["returned"].replace(theirs, ours)}
    return observed


def all_differences(runs: tuple[Observations, Observations]) -> dict[str, list[str]]:
    reference, ours = runs
    found: dict[str, list[str]] = {}
    for scenario in sorted(set(reference) | set(ours)):
        if scenario not in reference or scenario not in ours:
            found.setdefault(scenario, []).append("run by one side only")
            continue
        pair = (spelled_alike(scenario, reference[scenario]), ours[scenario])
        for path, what in differences(*pair, scenario):
            found.setdefault(path, []).append(what)
    return found


def kept_entry(path: str) -> str | None:
    return next((entry for entry in KEPT if path == entry or path.startswith(entry + " / ")), None)


def test_both_sides_ran_every_scenario(runs: tuple[Observations, Observations]) -> None:
    reference, ours = runs
    assert sorted(reference) == sorted(ours)
    assert len(reference) >= MIN_SCENARIOS, sorted(reference)


def test_ours_behaves_as_the_reference(runs: tuple[Observations, Observations]) -> None:
    unexpected = {
        path: whats for path, whats in all_differences(runs).items() if kept_entry(path) is None
    }
    report = "\n".join(f"{path}:\n  " + "\n  ".join(whats) for path, whats in unexpected.items())
    assert not unexpected, f"{len(unexpected)} differences from the reference:\n{report}"


def test_every_kept_difference_still_differs(runs: tuple[Observations, Observations]) -> None:
    found = all_differences(runs)
    stale = [entry for entry in KEPT if not any(kept_entry(path) == entry for path in found)]
    assert not stale, f"no longer different, remove from KEPT: {stale}"
    reference, _ = runs
    for scenario, (theirs, _ours) in SPELLINGS.items():
        assert theirs in reference[scenario]["returned"], f"{scenario}: spelling not needed"
