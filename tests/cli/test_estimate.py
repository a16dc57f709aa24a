"""``oqtopus estimate``: the estimate of a run from the command line, nothing submitted."""

from __future__ import annotations

from quri_parts_oqtopus.local import LocalServer

from ..conftest import server_job_count
from .conftest import Cli


def test_estimate_prints_jobs_time_and_success_and_submits_nothing(
    cli: Cli, programs: dict[str, str], server: LocalServer
) -> None:
    before = server_job_count(server)
    files = [programs["bell"]] * 5
    run = cli.ok("estimate", *files, "--device", "emu-heavyhex-16", "--shots", "1000", "--pack")
    assert "1,000 shots: 1 jobs (5 programs; at most 8 per job)" in run.out, run.out
    assert "mean success probability" in run.out
    found = cli.ok("--json", "estimate", programs["bell"], "--device", "emu-ring-8",
                   "--shots", "10").json()  # fmt: skip
    assert found["jobs"] == 1
    assert found["programs"][0]["native_gates"] == {"sx": 1, "x": 0, "cx": 1}
    assert 0 < found["programs"][0]["success_probability"] < 1
    assert server_job_count(server) == before


def test_estimate_on_a_device_without_calibration_is_a_usage_error(
    cli: Cli, programs: dict[str, str]
) -> None:
    run = cli.fails(2, "estimate", programs["bell"], "--device", "qulacs", "--shots", "10")
    assert "no calibration data" in run.err


def test_packing_options_without_pack_are_refused(cli: Cli, programs: dict[str, str]) -> None:
    run = cli.fails(2, "estimate", programs["bell"], "--device", "emu-ring-8", "--shots", "10",
                    "--keep-apart")  # fmt: skip
    assert "go with --pack" in run.err
