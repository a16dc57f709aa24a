"""``oqtopus submit sampling|estimation|sse``: what is sent, and what is printed."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pytest

from .conftest import FAST, Cli

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


def test_submit_wait_json_holds_the_servers_result(cli: Cli, programs: dict[str, str]) -> None:
    outcome = cli.ok(
        "--json", "submit", "sampling", programs["x1"], *DEVICE, "--shots", "30", "--wait", *FAST
    ).json()
    assert outcome["status"] == "succeeded", outcome
    assert outcome["job_type"] == "sampling", outcome
    assert outcome["result"]["sampling"]["counts"] == {"10": 30}, outcome


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
    assert outcome["result"]["sampling"]["divided_counts"] == {"0": {"1": 5}}, outcome


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
    estimation = outcome["result"]["estimation"]
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


@pytest.mark.parametrize("shots", ["0", "-5", "10000001", "ten", "1.5"])
def test_bad_shots_are_bad_input(cli: Cli, programs: dict[str, str], shots: str) -> None:
    run = cli.fails(2, "submit", "sampling", programs["x1"], *DEVICE, "--shots", shots)
    assert "shots" in run.err, f"shots {shots!r}: {run}"


def test_missing_program_file_is_bad_input(cli: Cli, tmp_path: Path) -> None:
    missing = str(tmp_path / "missing.qasm")
    run = cli.fails(2, "submit", "sampling", missing, *DEVICE, "--shots", "5")
    assert missing in run.err, str(run)


def test_invalid_qasm_fails_the_job_with_exit_1(cli: Cli, programs: dict[str, str]) -> None:
    run = cli.fails(
        1, "submit", "sampling", programs["invalid"], *DEVICE, "--shots", "5", "--wait", *FAST
    )
    job_id = run.out.strip()
    assert UUID.match(job_id), f"the job id comes first, even for a failed job: {run}"
    assert f"job {job_id} ended failed" in run.err, str(run)
    outcome = cli("--json", "jobs", "result", job_id)
    assert outcome.code == 1, str(outcome)
    assert outcome.json()["status"] == "failed", str(outcome)
    assert outcome.json()["message"], f"the server's reason is kept: {outcome}"
    assert outcome.json()["result"] is None, str(outcome)


def test_sse_program_runs_and_its_log_downloads(
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
    monkeypatch.chdir(tmp_path)  # without --dir: the current directory
    saved_here = Path(cli.ok("jobs", "log", job_id).out.strip())
    assert saved_here == tmp_path / f"sselog_{job_id}.log", str(saved_here)
    assert saved_here.stat().st_size > 0

    logs = tmp_path / "logs"
    logs.mkdir()
    path = Path(cli.ok("jobs", "log", job_id, "--dir", str(logs)).out.strip())
    assert path == logs / f"sselog_{job_id}.log", str(path)
    with zipfile.ZipFile(path) as archive:  # the server's log archive, saved as is
        log = b"".join(archive.read(name) for name in archive.namelist()).decode()
    assert "counts:" in log, log
    again = cli.fails(2, "jobs", "log", job_id, "--dir", str(logs))
    assert "already exists" in again.err, str(again)
    other = tmp_path / "other"
    other.mkdir()
    saved = cli.ok("--json", "jobs", "log", job_id, "--dir", str(other)).json()
    assert saved == {"job_id": job_id, "path": str(other / f"sselog_{job_id}.log")}, saved


def test_log_of_a_sampling_job_is_bad_input(cli: Cli, programs: dict[str, str]) -> None:
    job_id = cli.ok("submit", "sampling", programs["x1"], *DEVICE, "--shots", "5").out.strip()
    run = cli.fails(2, "jobs", "log", job_id)
    assert "only SSE jobs" in run.err, str(run)


def test_sse_needs_a_name_and_a_python_file(cli: Cli, programs: dict[str, str]) -> None:
    cli.fails(2, "submit", "sse", programs["sse"], *DEVICE)
    run = cli.fails(2, "submit", "sse", programs["x1"], *DEVICE, "--name", "not-python")
    assert "not python file" in run.err, str(run)
