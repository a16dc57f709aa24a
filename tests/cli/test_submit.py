"""``oqtopus submit sampling|estimation|sse``: what is sent, and what is printed."""

from __future__ import annotations

import re
import uuid
import zipfile
from pathlib import Path

import pytest

from quri_parts_oqtopus._contract import Job
from quri_parts_oqtopus._http import OqtopusHttpClient
from quri_parts_oqtopus.backend.job import OqtopusJobBase
from quri_parts_oqtopus.local import LocalServer

from ..admin import Admin
from .conftest import FAST, Cli
from .request_log import logged_requests

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
DEVICE = ("--device", "qulacs")


def counts_rows(text: str) -> list[tuple[str, int]]:
    """The ``bits count`` rows of one counts table."""
    header, *rows = text.strip().splitlines()
    assert header.split() == ["BITS", "COUNT"], text
    return [(bits, int(count)) for bits, count in (row.split() for row in rows)]


def test_submit_prints_only_the_job_id(cli: Cli, programs: dict[str, str]) -> None:
    run = cli.ok("submit", "sampling", programs["x1"], *DEVICE, "--shots", "10")
    assert UUID.match(run.out.strip()), str(run)
    assert run.out.count("\n") == 1, str(run)


def test_submit_json_is_the_servers_job_object(cli: Cli, programs: dict[str, str]) -> None:
    job = cli.ok(
        "submit", "sampling", programs["x1"], *DEVICE, "--shots", "12", "--json",
        "--name", "cli-json", "--description", "made by the CLI test",
    ).json()  # fmt: skip
    assert UUID.match(job["job_id"]), job
    assert (job["job_type"], job["shots"], job["device_id"]) == ("sampling", 12, "qulacs"), job
    assert (job["name"], job["description"]) == ("cli-json", "made by the CLI test"), job


def test_submit_wait_prints_the_id_then_the_counts(cli: Cli, programs: dict[str, str]) -> None:
    run = cli.ok("submit", "sampling", programs["x1"], *DEVICE, "--shots", "50", "--wait", *FAST)
    job_id, table = run.out.split("\n", 1)
    assert UUID.match(job_id), str(run)
    assert counts_rows(table) == [("10", 50)], str(run)


def test_counts_table_is_sorted_by_bits(cli: Cli, programs: dict[str, str]) -> None:
    run = cli.ok("submit", "sampling", programs["bell"], *DEVICE, "--shots", "400", "--wait", *FAST)
    rows = counts_rows(run.out.split("\n", 1)[1])
    assert [bits for bits, _ in rows] == ["00", "11"], str(run)
    assert sum(count for _, count in rows) == 400, str(run)


def test_submit_wait_json_holds_the_typed_result(cli: Cli, programs: dict[str, str]) -> None:
    outcome = cli.ok(
        "--json", "submit", "sampling", programs["x1"], *DEVICE, "--shots", "30", "--wait", *FAST
    ).json()
    assert outcome["status"] == "succeeded", outcome
    assert outcome["job_type"] == "sampling", outcome
    assert outcome["result"] == {"counts": {"2": 30}}, "keys are measured values: 2 is bits 10"


def test_two_files_make_a_multi_manual_job_with_a_table_per_program(
    cli: Cli, programs: dict[str, str]
) -> None:
    run = cli.ok(
        "submit", "sampling", programs["x1"], programs["x0"], *DEVICE, "--shots", "20",
        "--wait", *FAST,
    )  # fmt: skip
    job_id, rest = run.out.split("\n", 1)
    whole, program0, program1 = rest.split("\n\n")
    assert counts_rows(whole) == [("110", 20)], str(run)
    assert program0.startswith("program 0\n"), str(run)
    assert counts_rows(program0.split("\n", 1)[1]) == [("10", 20)], str(run)
    assert counts_rows(program1.split("\n", 1)[1]) == [("1", 20)], str(run)
    assert cli.ok("jobs", "get", job_id, "--json").json()["job_type"] == "multi_manual"


def test_job_type_multi_manual_with_one_file(cli: Cli, programs: dict[str, str]) -> None:
    outcome = cli.ok(
        "--json", "submit", "sampling", programs["x0"], *DEVICE, "--shots", "5",
        "--job-type", "multi_manual", "--wait", *FAST,
    ).json()  # fmt: skip
    assert outcome["job_type"] == "multi_manual", outcome
    assert outcome["result"] == {"counts": {"1": 5}, "divided_counts": {"0": {"1": 5}}}, outcome


def test_job_type_sampling_with_two_files_is_bad_input(cli: Cli, programs: dict[str, str]) -> None:
    run = cli.fails(
        2, "submit", "sampling", programs["x1"], programs["x0"], *DEVICE, "--shots", "5",
        "--job-type", "sampling",
    )  # fmt: skip
    assert "one program" in run.err, str(run)


def test_estimation_prints_exp_value_plus_minus_stds(cli: Cli, programs: dict[str, str]) -> None:
    # |1>: <Z0> = -1 exactly, so 2 Z0 - 0.5 I is -2.5 whatever the shots.
    run = cli.ok(
        "submit", "estimation", programs["x0"], "--operator", "Z0:2,I:-0.5", *DEVICE,
        "--shots", "100", "--name", "cli-estimate", "--description", "2 Z0 - 0.5",
        "--wait", *FAST,
    )  # fmt: skip
    value = run.out.splitlines()[1]
    exp_value, plus_minus, stds = value.split()
    assert plus_minus == "±", str(run)
    assert float(exp_value) == pytest.approx(-2.5), str(run)
    assert float(stds) >= 0, str(run)
    job = cli.ok("jobs", "get", run.out.splitlines()[0], "--json").json()
    assert (job["name"], job["description"]) == ("cli-estimate", "2 Z0 - 0.5"), job


def test_estimation_json_holds_exp_value_and_stds(cli: Cli, programs: dict[str, str]) -> None:
    outcome = cli.ok(
        "--json", "submit", "estimation", programs["bell"], "--operator", "Z0 Z1:1.0,X0:0.5",
        *DEVICE, "--shots", "2000", "--wait", *FAST,
    ).json()  # fmt: skip
    estimation = outcome["result"]
    assert set(estimation) == {"exp_value", "stds"}, outcome
    assert outcome["job_type"] == "estimation", outcome
    # Bell: <Z0 Z1> = 1, <X0> = 0.
    assert abs(estimation["exp_value"] - 1.0) <= 6 * estimation["stds"] + 1e-9, outcome


@pytest.mark.parametrize(
    "operator",
    ["", "Z0 Z1:abc", "Q0", "Z0 Z0", "Z0,", "Z0:nan", "Z0:1+2j", ":1.0"],
)
def test_bad_operator_is_bad_input(cli: Cli, programs: dict[str, str], operator: str) -> None:
    run = cli.fails(
        2, "submit", "estimation", programs["x0"], "--operator", operator, *DEVICE, "--shots", "5"
    )
    assert "operator" in run.err, f"operator {operator!r}: {run}"


@pytest.mark.parametrize(
    ("shots", "given"),
    [("0", "0"), ("-5", "-5"), ("10000001", "10000001"), ("ten", "'ten'"), ("1.5", "'1.5'")],
)
@pytest.mark.parametrize("kind", ["sampling", "estimation"])
def test_bad_shots_say_the_range_and_the_value_before_anything_is_sent(
    cli: Cli, server: LocalServer, programs: dict[str, str], shots: str, given: str, kind: str
) -> None:
    operator = ("--operator", "Z0:1") if kind == "estimation" else ()
    with logged_requests(server) as log:
        run = cli.fails(
            2, "--url", log.url, "--token", server.token,
            "submit", kind, programs["x1"], *operator, *DEVICE, "--shots", shots,
        )  # fmt: skip
        assert log.take() == [], str(run)
    assert f"--shots must be 1..10,000,000, got {given}" in run.err, f"shots {shots!r}: {run}"


def test_missing_program_file_is_bad_input(cli: Cli, tmp_path: Path) -> None:
    missing = str(tmp_path / "missing.qasm")
    run = cli.fails(2, "submit", "sampling", missing, *DEVICE, "--shots", "5")
    assert missing in run.err, str(run)


@pytest.mark.parametrize(
    ("text", "place", "reason"),
    [
        ("OPENQASM 3;\nqubit[2] q;\nthis is not qasm;\n", ":3:1: ", "unknown gate 'this'"),
        ("OPENQASM 3;\nqubit[2] q;\nx q[0];   x q[5];\n", ":3:11: ", "index 5 out of range"),
        ("OPENQASM 3;\nqubit[2] q;\n\n  rz(1.2.3) q[0];\n", ":4:3: ", "expected ')'"),
        ("OPENQASM 3;\nqubit[1] q;\nx q[0]\n", ":3:1: ", "statement does not end"),
    ],
)
def test_bad_qasm_is_found_before_upload_with_its_file_line_and_column(
    cli: Cli, server: LocalServer, tmp_path: Path, text: str, place: str, reason: str
) -> None:
    program = tmp_path / "bad.qasm"
    program.write_text(text, encoding="utf-8")
    for kind, extra in (("sampling", ()), ("estimation", ("--operator", "Z0:1"))):
        with logged_requests(server) as log:
            run = cli.fails(
                2, "--url", log.url, "--token", server.token,
                "submit", kind, str(program), *extra, *DEVICE, "--shots", "5",
            )  # fmt: skip
            assert log.take() == [], f"nothing is sent for a program the reader refuses: {run}"
        assert f"error: {program}{place}{reason}" in run.err, f"{kind}: {run}"
        assert "--no-qasm-check" in run.err, f"{kind}: {run}"


def test_invalid_qasm_fails_the_job_with_exit_1(cli: Cli, programs: dict[str, str]) -> None:
    run = cli.fails(
        1, "submit", "sampling", programs["invalid"], *DEVICE, "--shots", "5", "--no-qasm-check",
        "--wait", *FAST,
    )  # fmt: skip
    job_id = run.out.strip()
    assert UUID.match(job_id), f"the job id comes first, even for a failed job: {run}"
    assert f"job {job_id} ended failed" in run.err, str(run)
    outcome = cli("--json", "jobs", "result", job_id)
    assert outcome.code == 1, str(outcome)
    assert outcome.json()["status"] == "failed", str(outcome)
    assert outcome.json()["message"], f"the server's reason is kept: {outcome}"
    assert outcome.json()["result"] is None, str(outcome)


def test_sse_program_runs_and_its_log_prints_as_text(
    cli: Cli, programs: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run = cli.ok(
        "submit", "sse", programs["sse"], *DEVICE, "--name", "cli-sse",
        "--description", "sse via the CLI", "--wait", *FAST,
    )  # fmt: skip
    job_id, table = run.out.split("\n", 1)
    assert counts_rows(table) == [("10", 64)], str(run)
    job = cli.ok("jobs", "get", job_id, "--json").json()
    assert (job["job_type"], job["name"], job["description"]) == (
        "sse",
        "cli-sse",
        "sse via the CLI",
    ), job
    monkeypatch.chdir(tmp_path)
    printed = cli.ok("jobs", "log", job_id)
    assert "counts: Counter({2: 64})" in printed.out, str(printed)
    assert not printed.out.startswith("PK"), "the text, not its ZIP archive"
    assert list(tmp_path.glob("sselog_*")) == [], "printing writes no file"
    assert cli.ok("jobs", "log", job_id).out == printed.out, "a second call prints it again"
    as_json = cli.ok("--json", "jobs", "log", job_id).json()
    assert as_json == {"job_id": job_id, "log": printed.out.removesuffix("\n") + "\n"}, as_json


def test_log_output_writes_the_text_and_overwrites_only_with_force(
    cli: Cli, programs: dict[str, str], tmp_path: Path
) -> None:
    job_id = cli.ok(
        "--json", "submit", "sse", programs["sse"], *DEVICE, "--name", "cli-sse-log", "--wait",
        *FAST,
    ).json()["job_id"]  # fmt: skip
    target = tmp_path / "run.log"
    assert cli.ok("jobs", "log", job_id, "--output", str(target)).out == f"{target}\n"
    written = target.read_bytes()
    assert not zipfile.is_zipfile(target), "never a ZIP under a .log name"
    assert b"counts: Counter({2: 64})" in written, written
    target.write_text("kept", encoding="utf-8")
    refused = cli.fails(2, "jobs", "log", job_id, "--output", str(target))
    assert f"{target} exists: give --force to overwrite it" in refused.err, str(refused)
    assert target.read_text(encoding="utf-8") == "kept"
    saved = cli.ok("--json", "jobs", "log", job_id, "--output", str(target), "--force").json()
    assert saved == {"job_id": job_id, "path": str(target)}, saved
    assert target.read_bytes() == written
    nowhere = tmp_path / "missing-dir" / "run.log"
    failed = cli.fails(2, "jobs", "log", job_id, "--output", str(nowhere))
    assert f"cannot write {nowhere}" in failed.err, str(failed)


def test_log_from_the_older_sselog_route_is_text_too(
    cli: Cli, server: LocalServer, programs: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Servers without ``job_info.sse_log`` serve the base64 ZIP of ``GET /jobs/{id}/sselog``."""
    job_id = cli.ok(
        "--json", "submit", "sse", programs["sse"], *DEVICE, "--name", "cli-sse-old", "--wait",
        *FAST,
    ).json()["job_id"]  # fmt: skip
    real_get_job = OqtopusHttpClient.get_job

    def without_sse_log(client: OqtopusHttpClient, job: str) -> Job:
        record = real_get_job(client, job)
        record["job_info"] = {**(record["job_info"] or {"input": None}), "sse_log": None}
        return record

    monkeypatch.setattr(OqtopusHttpClient, "get_job", without_sse_log)
    with logged_requests(server) as log:
        printed = cli.ok("--url", log.url, "--token", server.token, "jobs", "log", job_id)
        assert log.take() == [("GET", f"/jobs/{job_id}"), ("GET", f"/jobs/{job_id}/sselog")]
    assert "counts: Counter({2: 64})" in printed.out, str(printed)


def test_log_of_a_sampling_job_is_bad_input(cli: Cli, programs: dict[str, str]) -> None:
    job_id = cli.ok("submit", "sampling", programs["x1"], *DEVICE, "--shots", "5").out.strip()
    run = cli.fails(2, "jobs", "log", job_id)
    assert "only SSE jobs" in run.err, str(run)


def test_sse_needs_a_name_and_a_python_file(cli: Cli, programs: dict[str, str]) -> None:
    cli.fails(2, "submit", "sse", programs["sse"], *DEVICE)
    run = cli.fails(2, "submit", "sse", programs["x1"], *DEVICE, "--name", "not-python")
    assert "not python file" in run.err, str(run)


@pytest.mark.parametrize("kind", ["sampling", "estimation", "sse"])
def test_unknown_device_is_found_before_registering_and_the_known_ones_are_listed(
    cli: Cli, server: LocalServer, admin: Admin, programs: dict[str, str], kind: str
) -> None:
    admin.set_device_status("qulacs", "unavailable")
    argv = {
        "sampling": ("sampling", programs["x1"], "--shots", "5"),
        "estimation": ("estimation", programs["x1"], "--operator", "Z0:1", "--shots", "5"),
        "sse": ("sse", programs["sse"], "--name", "cli-no-device"),
    }[kind]
    with logged_requests(server) as log:
        run = cli.fails(
            3, "--url", log.url, "--token", server.token,
            "submit", *argv, "--device", "no-such-device",
        )  # fmt: skip
        seen = log.take()
    assert seen == [("GET", "/devices/no-such-device"), ("GET", "/devices")], "nothing registered"
    assert "device 'no-such-device' not found, nothing was submitted" in run.err, str(run)
    assert "the devices are: " in run.err, str(run)
    assert "qulacs (unavailable)" in run.err, str(run)


def test_ctrl_c_as_the_jobs_end_is_read_points_to_its_result(
    cli: Cli, programs: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    real_wait = OqtopusJobBase.wait_for_completion

    def ended_then_interrupted(
        job: OqtopusJobBase, timeout: float | None = None, wait: float = 10.0
    ) -> object:
        real_wait(job, timeout, wait)
        raise KeyboardInterrupt

    monkeypatch.setattr(OqtopusJobBase, "wait_for_completion", ended_then_interrupted)
    run = cli.fails(130, "submit", "sampling", programs["x1"], *DEVICE, "--shots", "5", "--wait")
    job_id = run.out.strip()
    expected = f"job {job_id} has ended succeeded; its result: oqtopus jobs result {job_id}"
    assert expected in run.err, str(run)


def test_submit_tag_is_kept_in_the_description_and_jobs_list_tag_finds_it(
    cli: Cli, programs: dict[str, str]
) -> None:
    unique = uuid.uuid4().hex[:10]
    tags = ("--tag", f"{unique}-7", "--tag", "chem")
    job = cli.ok("--json", "submit", "sampling", programs["x1"], *DEVICE, "--shots", "5",
                 "--description", "my run", *tags).json()  # fmt: skip
    assert job["description"] == f"my run\ntags: #{unique}-7 #chem", job
    other = cli.ok("submit", "estimation", programs["x1"], *DEVICE, "--shots", "5",
                   "--operator", "Z0", "--tag", f"{unique}-70").out.strip()  # fmt: skip
    listed = cli.ok("--json", "jobs", "list", "--tag", f"{unique}-7").json()
    assert [found["job_id"] for found in listed] == [job["job_id"]]
    both = cli.ok("--json", "jobs", "list", "--tag", "chem", "--tag", f"{unique}-70").json()
    assert both == []
    assert [j["job_id"] for j in cli.ok("--json", "jobs", "list", "--q", unique).json()] == [
        other,
        job["job_id"],
    ]


@pytest.mark.parametrize("bad", ["two words", "#chem", "x" * 65, "é"])
def test_a_bad_tag_is_a_usage_error_before_anything_is_sent(
    cli: Cli, programs: dict[str, str], server: LocalServer, bad: str
) -> None:
    with logged_requests(server) as log:
        config = ("--url", log.url, "--token", server.token)
        run = cli.fails(2, *config, "submit", "sampling", programs["x1"], *DEVICE,
                        "--shots", "5", "--tag", bad)  # fmt: skip
        assert "--tag" in run.err, str(run)
        listing = cli.fails(2, *config, "jobs", "list", "--tag", bad)
        assert "--tag" in listing.err, str(listing)
        assert log.take() == []
