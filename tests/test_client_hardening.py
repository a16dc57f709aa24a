"""The client attacks of issue 10, each over real loopback HTTP against a server started here.

The token stays with the API's origin; every call has one retry budget and one deadline;
answers, archives and ``file://`` results are read within limits; a registered job whose
submission fails is deleted or said to be left; signed URLs are logged without their query.
Where memory or connects are the point, the client runs in a process of its own
(``scripts/client_probe.py``) whose figures are printed (``pytest -s``) for the README.
"""

from __future__ import annotations

import io
import json
import logging
import math
import os
import re
import socket
import subprocess
import sys
import time
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import requests
from quri_parts.backend import BackendError
from quri_parts.core.operator import Operator, pauli_label

from quri_parts_oqtopus._http import OqtopusHttpClient
from quri_parts_oqtopus.backend import (
    OqtopusConfig,
    OqtopusDevice,
    OqtopusEstimationBackend,
    OqtopusSamplingBackend,
)
from quri_parts_oqtopus.calibration import DeviceCalibration
from quri_parts_oqtopus.cli import main
from quri_parts_oqtopus.counts import decode_sampling_archive
from quri_parts_oqtopus.jobset import OqtopusJobSet
from quri_parts_oqtopus.local import LocalServer
from quri_parts_oqtopus.packing import Layout, PackingPolicy
from quri_parts_oqtopus.qasm import convert_to_qasm_str
from quri_parts_oqtopus.upload import build_job_archive, prepare_programs_input

from .conftest import bell
from .http_stub import Received, Reply, StubServer, json_reply

TOKEN = "sentinel-Tk-client-hardening-stays-home"
PROBE = Path(__file__).parent / "scripts" / "client_probe.py"
UNUSED_API = "http://127.0.0.1:9"  # a storage test's API: never contacted
MIB = 1 << 20


def config_for(url: str, **settings: Any) -> OqtopusConfig:
    return OqtopusConfig(url, TOKEN, **{"backoff": 0.0, **settings})


@pytest.fixture
def refused_port() -> Iterator[int]:
    """A loopback port nothing listens on: connecting to it is refused. It stays bound (not
    listening) for the test, so that no server started beside it can take it meanwhile."""
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        port: int = holder.getsockname()[1]
        yield port


def probe(**spec: Any) -> dict[str, Any]:
    """Run one client call in a process of its own; its outcome, seconds, connects and RSS."""
    run = subprocess.run(
        [sys.executable, str(PROBE), json.dumps(spec)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    result: dict[str, Any] = json.loads(run.stdout.strip().splitlines()[-1])
    return result


def growth_mib(outcome: dict[str, Any]) -> float:
    return float(outcome["peak_mib"] - outcome["baseline_mib"])


class FakeApi:
    """Just enough of the OQTOPUS user API for one submission of job ``job-1``.

    ``overrides[(method, path)]`` replaces a route; ``status`` is what ``/status`` says.
    """

    def __init__(self) -> None:
        self.status = "registered"
        self.overrides: dict[tuple[str, str], Callable[[Received], Reply | None]] = {}
        self.stub = StubServer(self.respond)
        self._routes: dict[tuple[str, str], Callable[[], Reply]] = {
            ("POST", "/jobs"): self._register,
            ("POST", "/upload"): lambda: Reply(204),
            ("POST", "/jobs/job-1/submit"): lambda: self._moved("submitted", "job submitted"),
            ("GET", "/jobs/job-1/status"): self._job,
            ("GET", "/jobs/job-1"): self._job,
            ("DELETE", "/jobs/job-1"): lambda: self._moved("deleted", "job deleted"),
        }

    @property
    def url(self) -> str:
        return self.stub.url

    def respond(self, request: Received) -> Reply | None:
        key = (request.method, request.path.split("?")[0])
        if key in self.overrides:
            return self.overrides[key](request)
        if key in self._routes:
            return self._routes[key]()
        return json_reply({"message": f"no route {key}"}, 404)

    def _register(self) -> Reply:
        upload = {"url": f"{self.url}/upload", "fields": {"key": "jobs/job-1/input.zip"}}
        return json_reply({"job_id": "job-1", "presigned_url": upload})

    def _job(self) -> Reply:
        return json_reply({"job_id": "job-1", "status": self.status})

    def _moved(self, status: str, message: str) -> Reply:
        self.status = status
        return json_reply({"message": message})

    def seen(self, method: str, path: str) -> list[Received]:
        return [r for r in self.stub.received if (r.method, r.path) == (method, path)]


def submit(api: FakeApi, **settings: Any) -> str:
    client = OqtopusHttpClient(config_for(api.url, **settings))
    return client.submit_new_job(
        prepare_programs_input(["OPENQASM 3;"]), {"device_id": "qpu", "shots": 10}
    )


@pytest.fixture
def elsewhere() -> Iterator[StubServer]:
    """Another origin (same host, another port): it must never hear from the client."""
    with StubServer(lambda request: json_reply({"job_id": "job-1", "status": "ready"})) as stub:
        yield stub


def redirect_to(target: StubServer, status: int) -> Callable[[Received], Reply]:
    return lambda request: Reply(status, headers={"Location": target.url + request.path})


# -- 1. the token goes only to the configured API origin -------------------------------------
REDIRECTS = [302, 307, 308]


@pytest.mark.parametrize("status", REDIRECTS)
def test_get_job_redirected_to_another_origin_is_refused_and_nothing_reaches_it(
    status: int, elsewhere: StubServer
) -> None:
    api = FakeApi()
    api.overrides[("GET", "/jobs/job-1")] = redirect_to(elsewhere, status)
    with api.stub, pytest.raises(BackendError) as info:
        OqtopusHttpClient(config_for(api.url)).get_job("job-1")
    assert elsewhere.received == [], f"the other origin received {elsewhere.received}"
    assert f"redirected (HTTP {status}) to http://127.0.0.1:{elsewhere.port}" in str(info.value)
    assert "not followed" in str(info.value)


@pytest.mark.parametrize("status", REDIRECTS)
def test_register_redirected_to_another_origin_is_refused_and_nothing_reaches_it(
    status: int, elsewhere: StubServer
) -> None:
    api = FakeApi()
    api.overrides[("POST", "/jobs")] = redirect_to(elsewhere, status)
    with api.stub, pytest.raises(BackendError, match=rf"register job: .*{elsewhere.port}"):
        submit(api, retries=2)
    assert elsewhere.received == [], f"the other origin received {elsewhere.received}"
    assert len(api.seen("POST", "/jobs")) == 1  # a refused redirect is final: not repeated


@pytest.mark.parametrize("status", REDIRECTS)
def test_submit_redirected_to_another_origin_is_refused_and_nothing_reaches_it(
    status: int, elsewhere: StubServer
) -> None:
    api = FakeApi()
    api.overrides[("POST", "/jobs/job-1/submit")] = redirect_to(elsewhere, status)
    with api.stub, pytest.raises(BackendError) as info:
        submit(api)
    assert elsewhere.received == [], f"the other origin received {elsewhere.received}"
    message = str(info.value)
    assert f"submit job job-1: the server redirected (HTTP {status})" in message
    assert message.endswith("; job job-1 was deleted")  # a redirect is an answer: not acted on


def test_a_same_origin_redirect_is_followed_with_the_token_method_and_body() -> None:
    api = FakeApi()
    api.overrides[("GET", "/jobs/job-1")] = lambda r: Reply(307, headers={"Location": "/v2/j"})
    api.overrides[("GET", "/v2/j")] = lambda r: json_reply({"job_id": "job-1", "status": "ready"})
    api.overrides[("POST", "/jobs/job-1/submit")] = lambda r: Reply(
        308, headers={"Location": f"{api.url}/v2/submit"}
    )
    api.overrides[("POST", "/v2/submit")] = lambda r: json_reply({"message": "job submitted"})
    with api.stub:
        client = OqtopusHttpClient(config_for(api.url))
        assert client.get_job("job-1")["status"] == "ready"
        assert submit(api) == "job-1"
    (moved_get,) = api.seen("GET", "/v2/j")
    (moved_submit,) = api.seen("POST", "/v2/submit")
    assert moved_get.headers["q-api-token"] == TOKEN
    assert moved_submit.headers["q-api-token"] == TOKEN
    assert json.loads(moved_submit.body) == {"device_id": "qpu", "shots": 10}


def test_storage_never_gets_the_token_even_where_it_redirects() -> None:
    with (
        StubServer(lambda r: Reply(200, b"the log")) as final_store,
        StubServer(lambda r: Reply(302, headers={"Location": f"{final_store.url}/x"})) as store,
    ):
        client = OqtopusHttpClient(config_for(UNUSED_API))
        assert client.download(f"{store.url}/log?signature=s", operation="download") == b"the log"
    seen = store.received + final_store.received
    assert len(seen) == 2
    assert all("q-api-token" not in r.headers for r in seen), seen


# -- 2. one retry budget per call ----------------------------------------------------------
@pytest.mark.parametrize("retries", [0, 2])
def test_with_the_server_down_a_call_makes_at_most_retries_plus_one_connection_attempts(
    retries: int, refused_port: int
) -> None:
    port = refused_port
    settings = {"retries": retries, "backoff": 0.0}
    outcome = probe(url=f"http://127.0.0.1:{port}", call="sample", settings=settings)
    assert outcome["connects"] == retries + 1, outcome
    attempts = "1 attempt" if retries == 0 else f"{retries + 1} attempts"
    expected = (
        # The reference's fixed text first (drop-in), then what happened.
        r"OqtopusHttpError: To execute sampling on OQTOPUS Cloud is failed\. "
        rf"register job: cannot connect to http://127\.0\.0\.1:{port}/jobs: "
        rf"connection refused \({attempts} in \d+\.\d s\)"
    )
    assert re.fullmatch(expected, outcome["error"]), outcome


@pytest.mark.slow  # 15 s of the default budget's waits
def test_with_the_server_down_the_default_config_gives_up_after_six_connection_attempts(
    refused_port: int,
) -> None:
    outcome = probe(url=f"http://127.0.0.1:{refused_port}", call="sample")
    print(
        f"\nserver down, default config (retries=5): {outcome['connects']} connection attempts, "
        f"gave up after {outcome['seconds']} s"
    )
    assert outcome["connects"] == 6, outcome
    # Counted, not timed: the budget's waits add up to ~15 s (was 104 s, 36 connects).
    assert "connection refused (6 attempts in" in outcome["error"]


@pytest.mark.timing
def test_cli_devices_with_the_server_down_prints_one_line_at_once(
    capsys: pytest.CaptureFixture[str], refused_port: int
) -> None:
    port = refused_port
    code = main(["devices", "--url", f"http://127.0.0.1:{port}", "--token", TOKEN])
    err = capsys.readouterr().err
    expected = (
        rf"oqtopus: error: list devices: cannot connect to http://127\.0\.0\.1:{port}/devices: "
        r"connection refused \(1 attempt in \d+\.\d s\)\n"
    )
    assert re.fullmatch(expected, err), err  # one attempt: nothing to wait for between two
    assert code == 3


def test_cli_honours_connect_retries_from_the_config_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], refused_port: int
) -> None:
    port = refused_port
    config_file = tmp_path / "oqtopus"
    config_file.write_text(
        f"[default]\nurl=http://127.0.0.1:{port}\napi_token={TOKEN}\n"
        "connect_retries=2\nbackoff=0\n",
        encoding="utf-8",
    )
    code = main(["devices", "--config", str(config_file)])
    err = capsys.readouterr().err
    assert code == 3
    assert re.fullmatch(r"oqtopus: error: .*connection refused \(3 attempts in \S+ s\)\n", err), err


def test_cli_prints_nothing_about_attempts_it_repeated(capsys: pytest.CaptureFixture[str]) -> None:
    answers = iter([json_reply({"message": "busy"}, 503)] * 2 + [json_reply([])])
    with StubServer(lambda request: next(answers)) as stub:
        code = main(["devices", "--json", "--url", stub.url, "--token", TOKEN])
    captured = capsys.readouterr()
    assert (code, captured.err, json.loads(captured.out)) == (0, "", [])
    assert len(stub.received) == 3


@pytest.mark.timing
@pytest.mark.parametrize("retries", [0, 3])
def test_a_server_dropping_every_connection_gets_retries_plus_one_attempts(retries: int) -> None:
    with StubServer(lambda request: None) as stub, pytest.raises(BackendError, match="devices"):
        OqtopusHttpClient(config_for(stub.url, retries=retries)).list_devices()
    assert stub.connections == retries + 1
    assert len(stub.received) == retries + 1


@pytest.mark.timing
def test_retry_after_is_honoured_within_the_budget() -> None:
    answers = iter(
        [json_reply({"message": "busy"}, 503, **{"Retry-After": "1"})] * 2
        + [json_reply([{"device_id": "qpu"}])]
    )
    with StubServer(lambda request: next(answers)) as stub:
        started = time.monotonic()
        devices = OqtopusHttpClient(config_for(stub.url, retries=2)).list_devices()
        elapsed = time.monotonic() - started
    assert [dict(device) for device in devices] == [{"device_id": "qpu"}]
    assert len(stub.received) == 3
    assert elapsed >= 1.9  # it waited what the server asked, twice


@pytest.mark.timing
def test_retries_stop_at_the_call_deadline() -> None:
    with StubServer(lambda request: json_reply({"message": "busy"}, 503)) as stub:
        config = config_for(stub.url, retries=1000, backoff=0.05, deadline=2)
        with pytest.raises(BackendError) as info:
            OqtopusHttpClient(config).list_devices()
    expected = (
        r"list devices gave up after \d+ attempts in \S+ s; the next attempt would start after "
        r"the 2 s deadline; last cause: list devices failed: HTTP 503: busy"
    )
    assert re.fullmatch(expected, str(info.value)), str(info.value)
    assert len(stub.received) < 20  # the backoff's waits pass 2 s after a few (1,000 allowed)


@pytest.mark.timing
def test_each_attempt_is_bounded_by_the_read_timeout() -> None:
    def stall(request: Received) -> Reply:
        time.sleep(30)
        return json_reply([])

    with StubServer(stall) as stub:
        config = config_for(stub.url, retries=2, timeout=(1, 1))
        with pytest.raises(BackendError, match=r"no answer within 1 s \(read timeout\)"):
            OqtopusHttpClient(config).list_devices()
    # Each of the three attempts ended at its read timeout: unbounded, the first would have
    # had its answer after the stub's 30 s, and the call would have succeeded.
    assert len(stub.received) == 3


# -- 3. bounded answers ----------------------------------------------------------------------
GB_1_5 = 1_500_000_000


def zeros(total: int) -> Iterator[bytes]:
    piece = bytes(MIB)
    for start in range(0, total, MIB):
        yield piece[: min(MIB, total - start)]


def test_a_job_body_announcing_1_5_gb_is_refused_without_being_read() -> None:
    with StubServer(lambda r: Reply(200, zeros(GB_1_5), length=GB_1_5)) as stub:
        outcome = probe(url=stub.url, call="get_job")
    print(f"\n1.5 GB job body with Content-Length: {outcome}")
    assert "the answer of 1,500,000,000 bytes is larger than max_response_bytes" in outcome["error"]
    assert "(268,435,456); not read" in outcome["error"]
    assert growth_mib(outcome) < 64


def test_a_1_5_gb_job_body_without_a_length_is_cut_at_the_limit() -> None:
    with StubServer(lambda r: Reply(200, zeros(GB_1_5), length=None)) as stub:
        outcome = probe(url=stub.url, call="get_job")
    print(f"\n1.5 GB job body, no Content-Length: {outcome}")
    assert "the answer is larger than max_response_bytes (268,435,456)" in outcome["error"]
    assert growth_mib(outcome) < 512  # the limit's 256 MiB, never the 1.5 GB (was 4.3 GiB)


@pytest.mark.timing
def test_a_body_dripping_a_byte_a_second_ends_at_the_deadline() -> None:
    def drip(request: Received) -> Reply:
        def pieces() -> Iterator[bytes]:
            for _ in range(1000):
                yield b" "
                time.sleep(1)

        return Reply(200, pieces(), length=1000)

    with StubServer(drip) as stub:
        config = config_for(stub.url, timeout=(2, 3), retries=3, deadline=4)
        started = time.monotonic()
        with pytest.raises(BackendError) as info:
            OqtopusHttpClient(config).list_devices()
        elapsed = time.monotonic() - started
    print(f"\nbody dripping 1 byte/s, read timeout 3 s, deadline 4 s: ended after {elapsed:.1f} s")
    assert "list devices: the answer did not arrive within the deadline of 4 s" in str(info.value)
    # Ended by the deadline, not by the drip (1,000 s; 47 s before) nor a read timeout (a
    # byte comes every second, within the 3 s): the message above says which.
    assert len(stub.received) == 1


@pytest.fixture(scope="session")
def zip_bomb() -> bytes:
    """A result ZIP of ~1 MB holding ~1 GB of valid sampling JSON."""
    buffer = io.BytesIO()
    with (
        zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive,
        archive.open("result.json", "w") as entry,
    ):
        entry.write(b'{"sampling": {"counts": {"0": 1}}, "padding": "')
        for _ in range(1000):
            entry.write(b"0" * 1_000_000)
        entry.write(b'"}')
    return buffer.getvalue()


def test_a_1_mb_result_zip_holding_1_gb_of_json_is_refused_before_inflating(
    zip_bomb: bytes,
) -> None:
    assert len(zip_bomb) < 1_100_000
    with StubServer(lambda r: Reply(200, zip_bomb)) as storage:
        target = f"{storage.url}/result.zip?signature=s"
        outcome = probe(url=UNUSED_API, call="download_sampling_result", target=target)
    print(f"\n{len(zip_bomb):,}-byte ZIP holding 1 GB of JSON: {outcome}")
    error = outcome["error"]
    assert "holds 1000000049 bytes once inflated, more than the limit of 536870912" in error
    assert "(max_inflated_bytes); not inflated" in error
    assert len(storage.received) == 1  # refused for good: not downloaded again
    assert growth_mib(outcome) < 64


def test_the_inflate_limit_is_configurable() -> None:
    archive = build_job_archive("result.zip", {"sampling": {"counts": {"01": 7}}})
    with StubServer(lambda r: Reply(200, archive)) as storage:
        target = f"{storage.url}/result.zip"
        roomy = OqtopusHttpClient(config_for(UNUSED_API))
        counts, _, _ = roomy.download_archive(target, decode_sampling_archive, operation="download")
        assert counts == {1: 7}
        tight = OqtopusHttpClient(config_for(UNUSED_API, max_inflated_bytes=16))
        with pytest.raises(BackendError, match="more than the limit of 16 bytes"):
            tight.download_archive(target, decode_sampling_archive, operation="download")


def test_dev_zero_as_a_file_result_is_refused_at_once() -> None:
    outcome = probe(url=UNUSED_API, call="download", target="file:///dev/zero")
    print(f"\nfile:///dev/zero: {outcome}")
    assert "download probe: '/dev/zero' is not a regular file; not read" in outcome["error"]
    assert growth_mib(outcome) < 64  # was a MemoryError at 2.6 GiB


def test_a_program_of_gigabytes_is_refused_by_its_size_without_being_read(
    tmp_path: Path,
) -> None:
    program = tmp_path / "sparse.py"
    with program.open("wb") as f:
        f.truncate(16 << 30)  # 16 GiB, sparse: no disk used, all of it read would be RAM
    outcome = probe(url=UNUSED_API, call="run_sse", target=str(program))
    print(f"\n16 GiB SSE program: {outcome}")
    assert outcome["error"] == (
        "ValueError: size of the base64 encoded file is larger than 10485760: "
        f"{4 * (((16 << 30) + 2) // 3)} bytes ({program})"
    )
    assert growth_mib(outcome) < 64  # was the whole file: 16,443 MiB of peak RSS


def test_a_fifo_or_a_link_to_a_device_as_a_file_result_is_refused(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    link = tmp_path / "link"
    link.symlink_to("/dev/zero")
    for path in (fifo, link):
        outcome = probe(url=UNUSED_API, call="download", target=path.as_uri())
        assert "is not a regular file; not read" in outcome["error"], outcome


def test_file_results_are_read_only_within_max_response_bytes(tmp_path: Path) -> None:
    small, large = tmp_path / "small", tmp_path / "large"
    small.write_bytes(b"x" * 100)
    large.write_bytes(b"x" * 101)
    client = OqtopusHttpClient(config_for(UNUSED_API, max_response_bytes=100))
    assert client.download(small.as_uri(), operation="read") == b"x" * 100
    with pytest.raises(BackendError, match=r"is larger than max_response_bytes \(100\); not read"):
        client.download(large.as_uri(), operation="read")


# -- 4. a registered job whose submission fails ----------------------------------------------
def test_a_submit_refused_for_good_deletes_the_registered_job() -> None:
    api = FakeApi()
    refusal = json_reply({"message": "unknown device_id 'qpu'"}, 400)
    api.overrides[("POST", "/jobs/job-1/submit")] = lambda r: refusal
    with api.stub, pytest.raises(BackendError) as info:
        submit(api)
    message = str(info.value)
    assert message.startswith("submit job job-1 failed: HTTP 400: unknown device_id 'qpu'")
    assert message.endswith("; job job-1 was deleted")
    assert len(api.seen("DELETE", "/jobs/job-1")) == 1
    assert api.status == "deleted"


def test_an_upload_refused_for_good_deletes_the_registered_job() -> None:
    api = FakeApi()
    api.overrides[("POST", "/upload")] = lambda r: Reply(403, b"<Error>AccessDenied</Error>")
    with api.stub, pytest.raises(BackendError) as info:
        submit(api)
    message = str(info.value)
    assert message.startswith("upload input of job job-1 failed: HTTP 403: <Error>AccessDenied")
    assert message.endswith("; job job-1 was deleted")
    assert api.seen("POST", "/jobs/job-1/submit") == []
    assert len(api.seen("DELETE", "/jobs/job-1")) == 1


def test_a_refused_delete_is_reported_with_the_servers_reason() -> None:
    api = FakeApi()
    api.overrides[("POST", "/jobs/job-1/submit")] = lambda r: json_reply({"message": "bad"}, 400)
    refusal = json_reply({"message": "job job-1 cannot be deleted in status registered"}, 400)
    api.overrides[("DELETE", "/jobs/job-1")] = lambda r: refusal
    with api.stub, pytest.raises(BackendError) as info:
        submit(api)
    assert str(info.value).endswith(
        "; job job-1 could not be deleted (delete job job-1 failed: HTTP 400: "
        "job job-1 cannot be deleted in status registered)"
    )


def test_a_submit_whose_answers_are_lost_leaves_the_job_alone_and_says_so() -> None:
    # Each submit gets a 503 and /status still says registered: a submit may be in flight,
    # and deleting the job now could delete one that is about to run.
    api = FakeApi()
    lost = json_reply({"message": "gateway timeout"}, 503)
    api.overrides[("POST", "/jobs/job-1/submit")] = lambda r: lost
    with api.stub, pytest.raises(BackendError) as info:
        submit(api, retries=2)
    message = str(info.value)
    assert message.startswith("submit job job-1 gave up after 3 attempts")
    assert "; job job-1 was left as it is: an earlier submit got no clear answer" in message
    assert api.seen("DELETE", "/jobs/job-1") == []
    assert len(api.seen("POST", "/jobs/job-1/submit")) == 3


def test_a_submit_whose_answer_was_lost_after_it_took_effect_returns_the_job() -> None:
    api = FakeApi()

    def acted_then_dropped(request: Received) -> None:
        api.status = "submitted"

    api.overrides[("POST", "/jobs/job-1/submit")] = acted_then_dropped
    with api.stub:
        assert submit(api, retries=2) == "job-1"
    assert len(api.seen("POST", "/jobs/job-1/submit")) == 1
    assert api.seen("DELETE", "/jobs/job-1") == []


def test_on_the_local_server_a_refused_submission_says_what_became_of_its_job(
    server: LocalServer, config: OqtopusConfig
) -> None:
    with pytest.raises(BackendError) as info:
        OqtopusSamplingBackend(config).sample(bell(), "no-such-device", 10)
    message = str(info.value)
    found = re.search(r"submit job (\S+) failed: HTTP 400: unknown device_id", message)
    assert found, message
    job_id = found.group(1)
    status = requests.get(
        f"{server.url}/jobs/{job_id}/status", headers={"q-api-token": server.token}, timeout=10
    )
    if message.endswith(f"; job {job_id} was deleted"):
        assert status.status_code == 404, status.text
    else:
        assert re.search(rf"; job {job_id} could not be deleted \(.+\)$", message), message
        assert status.json()["status"] == "registered"


# -- 5. signed URLs are logged without their query ---------------------------------------------
def test_debug_logs_carry_no_query_strings_of_signed_urls(
    config: OqtopusConfig, caplog: pytest.LogCaptureFixture
) -> None:
    client = OqtopusHttpClient(config)
    with caplog.at_level(logging.DEBUG):
        job = OqtopusSamplingBackend(config).sample(bell(), "qulacs", 10)
        job.result(timeout=60, wait=0.05)
        job_info = client.get_job(job.job_id)["job_info"]
        assert job_info is not None
        result_url = str(job_info["result"])
        client.download(result_url, operation="download result")
    query = result_url.split("?", 1)[1]
    assert "signature=" in query, result_url
    messages = [record.getMessage() for record in caplog.records]
    assert any(result_url.split("?", maxsplit=1)[0] in message for message in messages), messages
    leaking = [message for message in messages if query in message or "signature=" in message]
    assert leaking == []


# -- 6. a token that cannot go in a header is refused before any request, never shown ---------
@pytest.mark.parametrize(
    "token",
    [TOKEN + "\n", " " + TOKEN, TOKEN + "\r\nX-Injected: 1", TOKEN + "\t", TOKEN + "\x00"],
    ids=["trailing-newline", "leading-space", "crlf-header", "trailing-tab", "nul"],
)
def test_a_token_unfit_for_a_header_is_refused_at_once_without_showing_it(token: str) -> None:
    with StubServer(lambda request: json_reply([])) as stub:
        backend = OqtopusSamplingBackend(OqtopusConfig(stub.url, token, backoff=0.0))
        with pytest.raises(BackendError) as raised:
            backend.retrieve_job("job-1")
    assert isinstance(raised.value, ValueError), raised.value
    message = str(raised.value)
    assert "api_token" in message, message
    assert TOKEN not in message, message
    assert TOKEN not in repr(raised.value)
    assert stub.received == []  # refused before anything was sent, not repeated six times


# -- 7. what a hostile server says cannot forge log lines or drive the terminal ---------------
FORGED = "refused\n2026-01-01 00:00:00 CRITICAL forged line\r\x1b[2J\x1b]0;title\x07\u202e"


@pytest.mark.parametrize("body", ["json", "text"])
def test_control_characters_of_an_error_answer_are_shown_escaped(
    body: str, caplog: pytest.LogCaptureFixture
) -> None:
    def answer(request: Received) -> Reply:
        if body == "json":
            return json_reply({"message": FORGED}, 503)
        return Reply(503, FORGED.encode(), {"Content-Type": "text/plain"})

    with StubServer(answer) as stub, caplog.at_level(logging.WARNING):
        client = OqtopusHttpClient(config_for(stub.url, retries=1))
        with pytest.raises(BackendError) as raised:
            client.list_devices()
    shown = [str(raised.value), *(record.getMessage() for record in caplog.records)]
    assert len(shown) == 2  # the error, and the warning of the repeated attempt
    for text in shown:
        assert "CRITICAL forged line" in text, text  # what the server said is still there
        assert not any(c in text for c in "\n\r\x1b\x07\u202e"), repr(text)
    assert "refused\\n2026" in str(raised.value)


# -- 8. odd answers of a broken server are bounded and reported at once -----------------------
def job_object(**fields: Any) -> dict[str, Any]:
    return {"job_id": "job-1", "job_type": "sampling", "status": "succeeded", **fields}


def serving_job(job: dict[str, Any], status: str | None = None) -> StubServer:
    """A server that knows one job: ``GET /jobs/job-1`` and its ``/status``."""

    def respond(request: Received) -> Reply:
        if request.path == "/jobs/job-1/status":
            return json_reply(
                {"job_id": "job-1", "status": job["status"] if status is None else status}
            )
        return json_reply(job)

    return StubServer(respond)


@pytest.mark.parametrize(
    "fields",
    [{"shots": "many"}, {"execution_time": "slow"}, {"shots": {"n": 10}}, {"shots": [10]}],
    ids=["shots-text", "execution-time-text", "shots-object", "shots-list"],
)
def test_repr_of_a_job_with_fields_that_are_not_numbers_does_not_raise(
    fields: dict[str, Any],
) -> None:
    with serving_job(job_object(**fields)) as stub:
        job = OqtopusSamplingBackend(config_for(stub.url)).retrieve_job("job-1")
    shown = repr(job)
    assert shown.startswith("OqtopusSamplingJob(job_id='job-1'"), shown
    (name,) = fields
    with pytest.raises(BackendError, match=rf"job job-1: {name} is not a number: "):
        getattr(job, name)
    with pytest.raises(BackendError, match=rf"{name} is not a number"):
        job.to_json()


def test_a_60_kb_failure_message_of_a_job_is_cut_in_its_report() -> None:
    message = "the device caught fire. " * 2_500  # 60,000 characters
    job = job_object(status="failed", job_info={"message": message})
    with serving_job(job) as stub, pytest.raises(BackendError) as raised:
        OqtopusSamplingBackend(config_for(stub.url)).retrieve_job("job-1").result()
    text = str(raised.value)
    assert "Job job-1 ended with status failed: the device caught fire. the device" in text
    assert text.endswith("... [59,000 more characters]"), text[-80:]
    assert len(text) < 1_300, len(text)


def test_a_100_000_character_counts_key_is_cut_in_the_error() -> None:
    result = {"sampling": {"counts": {"2" * 100_000: 1}}}
    with serving_job(job_object(job_info={"result": result})) as stub:
        job = OqtopusSamplingBackend(config_for(stub.url)).retrieve_job("job-1")
        with pytest.raises(BackendError) as raised:
            job.result()
    text = str(raised.value)
    assert "Job job-1 has a malformed sampling result: counts key is not a bit string" in text
    assert " more characters]" in text, text[-200:]
    assert len(text) < 1_300, len(text)


@pytest.mark.timeout(60)  # before the fix, the wait never ended
@pytest.mark.parametrize("status", ["SUCCEEDED", "done", ""])
def test_an_unknown_status_fails_the_wait_at_once_naming_it(status: str) -> None:
    with serving_job(job_object(status="submitted"), status=status) as stub:
        job = OqtopusSamplingBackend(config_for(stub.url)).retrieve_job("job-1")
        with pytest.raises(BackendError) as raised:
            job.result()  # no timeout: the documented default waits for ever
        polls = [r for r in stub.received if r.path == "/jobs/job-1/status"]
    assert f"Job job-1 has the status {status!r}, which is not an OQTOPUS job status" in str(
        raised.value
    )
    assert "waiting for it could never end" in str(raised.value)
    assert len(polls) == 1


@pytest.fixture
def device_info_unreachable() -> Iterator[OqtopusDevice]:
    """A QPU whose ``device_info`` archive answers 503 for ever."""
    with StubServer(lambda request: json_reply({"message": "store down"}, 503)) as storage:
        device = {
            "device_id": "qpu-8",
            "device_type": "QPU",
            "status": "available",
            "n_qubits": 8,
            "device_info": f"{storage.url}/device_info.zip?signature=s",
        }
        client = OqtopusHttpClient(config_for(UNUSED_API, retries=1))
        yield OqtopusDevice(device, client)


def test_a_failed_device_info_download_is_empty_for_the_property_and_named_elsewhere(
    device_info_unreachable: OqtopusDevice,
) -> None:
    device = device_info_unreachable
    assert device.device_info == {}  # the reference's answer, for drop-in code
    with pytest.raises(BackendError) as raised:
        device.read_device_info()
    assert isinstance(raised.value, ValueError)
    text = str(raised.value)
    assert text.startswith("device qpu-8: its device_info cannot be read: download device_info")
    assert "HTTP 503: store down" in text


def test_calibration_of_a_device_whose_device_info_failed_names_the_cause(
    device_info_unreachable: OqtopusDevice,
) -> None:
    with pytest.raises(BackendError, match=r"device qpu-8: its device_info cannot be read.*503"):
        DeviceCalibration.from_device(device_info_unreachable)


def test_packing_on_a_device_whose_device_info_failed_refuses_to_drop_the_coupling_map(
    device_info_unreachable: OqtopusDevice,
) -> None:
    device = device_info_unreachable
    with pytest.raises(BackendError, match=r"device qpu-8: its device_info cannot be read.*503"):
        Layout.of_device(device, PackingPolicy())
    # Told not to follow a coupling map, packing needs no device_info.
    assert Layout.of_device(device, PackingPolicy(follow_coupling_map=False)).capacity == 8


# -- 9. settings that JSON cannot carry are refused before a job is registered ---------------
UNSENDABLE = {
    "numpy-integer": ({"simulator_info": {"seed": np.int64(7)}}, "simulator_info['seed']"),
    "beyond-64-bits": ({"transpiler_info": {"seed": [1, 2**70]}}, "transpiler_info['seed'][1]"),
    "lone-surrogate-name": ({"name": "\ud800"}, "name cannot"),
    "nan": ({"mitigation_info": {"threshold": math.nan}}, "mitigation_info['threshold']"),
    "integer-key": ({"simulator_info": {1: "one"}}, "simulator_info cannot"),
}


def submit_one(kind: str, config: OqtopusConfig, settings: dict[str, Any]) -> object:
    if kind == "sampling":
        return OqtopusSamplingBackend(config).sample(bell(), "qulacs", 10, **settings)
    if kind == "estimation":
        zz = Operator({pauli_label("Z0 Z1"): 1.0})
        return OqtopusEstimationBackend(config).estimate(bell(), zz, "qulacs", 10, **settings)
    return OqtopusJobSet.submit([bell()], "qulacs", 10, config, check_device=False, **settings)


@pytest.mark.parametrize(("settings", "named"), UNSENDABLE.values(), ids=UNSENDABLE.keys())
@pytest.mark.parametrize("kind", ["sampling", "estimation", "job-set"])
def test_a_setting_json_cannot_carry_is_a_value_error_before_anything_is_sent(
    settings: dict[str, Any], named: str, kind: str
) -> None:
    api = FakeApi()  # would register, take the upload and the submit
    with api.stub, pytest.raises(BackendError) as raised:
        submit_one(kind, config_for(api.url), settings)
    assert isinstance(raised.value, ValueError), repr(raised.value)
    assert named in str(raised.value), str(raised.value)
    assert "cannot be sent as JSON" in str(raised.value)
    assert api.stub.received == []  # no job registered, none left behind


def test_the_cli_reports_a_name_json_cannot_carry_as_bad_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    program = tmp_path / "bell.qasm"
    program.write_text(convert_to_qasm_str(bell()), encoding="utf-8")
    device = {"device_id": "qulacs", "device_type": "simulator", "status": "available"}
    with StubServer(lambda request: json_reply(device)) as stub:
        argv = ["submit", "sampling", str(program), "--device", "qulacs", "--shots", "10"]
        code = main([*argv, "--name", "\udcff", "--url", stub.url, "--token", TOKEN])
    err = capsys.readouterr().err
    assert code == 2, err  # bad input: not "unexpected TypeError (please report it)"
    assert "name cannot be sent as JSON" in err
    assert [r.method for r in stub.received if r.path.startswith("/jobs")] == []


@pytest.fixture(scope="module")
def quota_of_one() -> Iterator[LocalServer]:
    with LocalServer(token=TOKEN, options={"max_registered_jobs": 1}) as server:
        yield server


def test_a_full_registered_jobs_quota_fails_at_once_saying_what_clears_it(
    quota_of_one: LocalServer, caplog: pytest.LogCaptureFixture
) -> None:
    config = config_for(quota_of_one.url, retries=5)
    client = OqtopusHttpClient(config)
    waiting = client.register_job()["job_id"]  # fills the quota: registered, never submitted
    try:
        with caplog.at_level(logging.WARNING), pytest.raises(BackendError) as raised:
            OqtopusSamplingBackend(config).sample(bell(), "qulacs", 10)
    finally:
        client.delete_job(waiting)
    text = str(raised.value)
    assert "register job failed: HTTP 429: 1 jobs are registered and not submitted" in text
    assert "submit or delete some of them first (message_code registered_jobs_quota)" in text
    assert text.endswith("; not repeated, since waiting does not clear this limit")
    assert [r for r in caplog.records if "attempt 1 failed" in r.getMessage()] == []


def test_a_plain_429_is_still_repeated() -> None:
    answers = iter([json_reply({"message": "slow down"}, 429), json_reply([])])
    with StubServer(lambda request: next(answers)) as stub:
        assert OqtopusHttpClient(config_for(stub.url)).list_devices() == []
    assert len(stub.received) == 2
