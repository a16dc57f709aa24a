"""``job_info`` archives read as the OQTOPUS engine writes them (``backend/job_info.py``).

The engine stores a ``multi_manual`` job's combined program as OpenQASM text, not JSON;
results are JSON. Each archive is downloaded from a storage stub that counts the
downloads: one that cannot be read fails at once, naming the job and the entry, since it
would read the same at every download.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from quri_parts.backend import BackendError

from quri_parts_oqtopus.backend import OqtopusConfig, OqtopusSamplingBackend
from quri_parts_oqtopus.backend.estimation import OqtopusEstimationBackend
from quri_parts_oqtopus.upload import write_archive_file

from ..http_stub import Received, Reply, StubServer, json_reply

TOKEN = "sentinel-Tk-transport-job-info"
COMBINED = 'OPENQASM 3;\ninclude "stdgates.inc";\nqubit[2] q;\nbit[2] c;\nc = measure q;\n'
SAMPLING_RESULT = b'{"sampling": {"counts": {"00": 5}, "divided_counts": {"0": {"0": 5}}}}'


class Storage:
    """Archives by name, served and counted; ``url(name)`` is where one is downloaded."""

    def __init__(self, archives: dict[str, bytes]) -> None:
        self.archives = archives
        self.stub = StubServer(self._serve)

    def _serve(self, request: Received) -> Reply:
        name = request.path.split("?")[0].lstrip("/")
        return Reply(200, self.archives[name], {"Content-Type": "application/zip"})

    def url(self, name: str) -> str:
        return f"{self.stub.url}/{name}?signature=s"

    def downloads(self, name: str) -> int:
        return sum(1 for r in self.stub.received if r.path.split("?")[0] == f"/{name}")


@pytest.fixture
def serve_job() -> Iterator[Any]:
    """``serve_job(job_type, archives)``: a job whose ``job_info`` entries are archive URLs."""
    opened: list[StubServer] = []

    def serve(job_type: str, archives: dict[str, bytes]) -> tuple[Any, Storage]:
        storage = Storage(
            {name: write_archive_file(f"{name}.json", data) for name, data in archives.items()}
        )
        job = {
            "job_id": "job-1",
            "job_type": job_type,
            "status": "succeeded",
            "device_id": "qulacs",
            "shots": 5,
            "job_info": {name: storage.url(name) for name in archives},
        }
        api = StubServer(lambda request: json_reply(job))
        opened.extend([storage.stub, api])
        storage.stub.__enter__()
        api.__enter__()
        config = OqtopusConfig(api.url, TOKEN, retries=5, backoff=0.0)
        backend = (
            OqtopusEstimationBackend(config)
            if job_type == "estimation"
            else OqtopusSamplingBackend(config)
        )
        return backend.retrieve_job("job-1"), storage

    yield serve
    for stub in opened:
        stub.__exit__(None, None, None)


@pytest.mark.parametrize(
    "stored",
    [COMBINED.encode(), b'"' + COMBINED.replace("\n", "\\n").replace('"', '\\"').encode() + b'"'],
    ids=["openqasm-text", "json-string"],
)
def test_a_multi_manual_jobs_combined_program_is_read_as_text_or_a_json_string(
    serve_job: Any, stored: bytes
) -> None:
    job, storage = serve_job(
        "multi_manual", {"combined_program": stored, "result": SAMPLING_RESULT}
    )
    assert job.job_info["combined_program"] == COMBINED
    assert '"combined_program": "OPENQASM 3;' in job.to_json()
    assert job.result().divided_counts == {0: {0: 5}}
    assert storage.downloads("combined_program") == 1  # downloaded once, read as it is


def test_null_fields_of_a_transpile_result_are_tolerated(serve_job: Any) -> None:
    stored = b'{"transpiled_program": null, "stats": null, "virtual_physical_mapping": null}'
    job, _ = serve_job("sampling", {"transpile_result": stored, "result": SAMPLING_RESULT})
    assert job.job_info["transpile_result"] == {}
    assert job.result().counts == {0: 5}


def test_a_transpile_result_holding_the_transpiled_program_as_text_is_read(serve_job: Any) -> None:
    job, _ = serve_job("sampling", {"transpile_result": COMBINED.encode()})
    assert job.job_info["transpile_result"] == {"transpiled_program": COMBINED}


@pytest.mark.parametrize(
    ("entry", "stored", "said"),
    [
        (
            "result",
            b"[1, 2]",
            "the archive holds [1, 2], not a JSON object",
        ),
        (
            "input",
            b'"OPENQASM 3;"',
            "the archive holds 'OPENQASM 3;', not a JSON object",
        ),
        (
            "result",
            b'{"estimation": {"exp_value": NaN}}',
            "archive entry 'result.json' is not JSON",
        ),
        (
            "transpile_result",
            b"{broken",
            "archive entry 'transpile_result.json' is neither JSON nor OpenQASM",
        ),
        (
            "combined_program",
            b"\xff\xfe OPENQASM",
            "archive entry 'combined_program.json' is neither JSON nor UTF-8 text",
        ),
        (
            "combined_program",
            b"[1]",
            "archive entry 'combined_program.json' holds a JSON array, not a program",
        ),
    ],
    ids=[
        "result-array",
        "input-string",
        "result-nan",
        "transpile-result-broken",
        "program-not-utf8",
        "program-array",
    ],
)
def test_an_archive_holding_what_its_entry_cannot_hold_fails_at_once_naming_both(
    serve_job: Any, entry: str, stored: bytes, said: str
) -> None:
    job, storage = serve_job("multi_manual", {entry: stored})
    with pytest.raises(BackendError) as raised:
        job.to_json()
    assert f"download {entry} of job job-1: {said}" in str(raised.value), str(raised.value)
    assert "gave up" not in str(raised.value)
    assert storage.downloads(entry) == 1


def test_an_estimation_result_holding_nan_fails_at_once_naming_the_entry(serve_job: Any) -> None:
    job, storage = serve_job(
        "estimation", {"result": b'{"estimation": {"exp_value": NaN, "stds": 0.0}}'}
    )
    with pytest.raises(BackendError) as raised:
        job.result()
    said = "download result of job job-1: archive entry 'result.json' is not JSON"
    assert said in str(raised.value), str(raised.value)
    assert storage.downloads("result") == 1


def test_a_sampling_result_whose_counts_do_not_decode_fails_at_once(serve_job: Any) -> None:
    job, storage = serve_job("sampling", {"result": b'{"sampling": {"counts": {"0x1": 5}}}'})
    with pytest.raises(
        BackendError, match="download result of job job-1: counts key is not a bit string"
    ):
        job.result()
    assert storage.downloads("result") == 1
