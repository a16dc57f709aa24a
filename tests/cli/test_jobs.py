"""``oqtopus jobs ...``: listing, reading, waiting, cancelling, deleting; exit codes."""

from __future__ import annotations

import json
import time
import uuid

import pytest

from quri_parts_oqtopus.cli import commands
from quri_parts_oqtopus.cli.context import Context
from quri_parts_oqtopus.local import LocalServer

from ..admin import Admin
from .conftest import FAST, Cli
from .request_log import logged_requests, logged_server

DEVICE = ("--device", "qulacs")


def submit(cli: Cli, program: str, *options: str) -> str:
    """Submit a sampling job and wait for it to end; its id."""
    run = cli.ok("--json", "submit", "sampling", program, *DEVICE, "--shots", "5", *options)
    job_id: str = run.json()["job_id"]
    return job_id


@pytest.fixture
def three_jobs(cli: Cli, programs: dict[str, str]) -> tuple[str, list[str]]:
    """A name unique to this test, and the ids of three ended jobs of that name, oldest first."""
    tag = f"cli-list-{uuid.uuid4().hex[:12]}"
    ids = [submit(cli, programs["x1"], "--name", tag, "--wait", *FAST) for _ in range(3)]
    return tag, ids


def listed(cli: Cli, *options: str) -> list[str]:
    return [job["job_id"] for job in cli.ok("jobs", "list", "--json", *options).json()]


def test_list_q_finds_jobs_by_name_and_order_sorts_them(
    cli: Cli, three_jobs: tuple[str, list[str]]
) -> None:
    tag, ids = three_jobs
    assert listed(cli, "--q", tag, "--order", "ASC") == ids
    assert listed(cli, "--q", tag, "--order", "desc") == ids[::-1]


def test_list_page_and_size_page_through_the_jobs(
    cli: Cli, three_jobs: tuple[str, list[str]]
) -> None:
    tag, ids = three_jobs
    pages = [listed(cli, "--q", tag, "--order", "ASC", "--size", "2", "--page", p) for p in "123"]
    assert pages == [ids[:2], ids[2:], []], pages


def test_list_limit_reads_page_after_page_through_the_job_api(
    cli: Cli, three_jobs: tuple[str, list[str]], server: LocalServer
) -> None:
    tag, ids = three_jobs
    with logged_requests(server) as log:
        options = ("--q", tag, "--size", "2", "--limit", "3")
        run = cli.ok("--url", log.url, "--token", server.token, "jobs", "list", "--json", *options)
        seen = log.take()
    assert [job["job_id"] for job in run.json()] == ids[::-1], str(run)
    assert seen == [("GET", "/jobs"), ("GET", "/jobs")], seen  # two pages of two


def test_list_status_filters_by_status(cli: Cli, three_jobs: tuple[str, list[str]]) -> None:
    tag, ids = three_jobs
    assert sorted(listed(cli, "--q", tag, "--status", "succeeded")) == sorted(ids)
    assert listed(cli, "--q", tag, "--status", "failed") == []


def test_list_table_shows_each_job_in_a_row(cli: Cli, three_jobs: tuple[str, list[str]]) -> None:
    tag, ids = three_jobs
    run = cli.ok("jobs", "list", "--q", tag)
    header, *rows = run.out.splitlines()
    assert header.split()[:3] == ["JOB", "ID", "TYPE"], run.out
    assert [row.split()[0] for row in rows] == ids[::-1], run.out
    assert all(row.split()[1:3] == ["sampling", "succeeded"] for row in rows), run.out
    assert all(row.endswith(tag) for row in rows), run.out
    assert cli.ok("jobs", "list", "--q", "no-job-has-this-" + tag).out == "no jobs\n"


@pytest.mark.parametrize(
    "options",
    [
        ("--order", "sideways"),
        ("--page", "0"),
        ("--size", "-1"),
        ("--status", "bogus"),
        ("--limit", "0"),
    ],
)
def test_bad_list_options_are_usage_errors(cli: Cli, options: tuple[str, str]) -> None:
    run = cli.fails(2, "jobs", "list", *options)
    assert options[0] in run.err, f"options {options}: {run}"


def test_get_and_status_of_an_ended_job(cli: Cli, programs: dict[str, str]) -> None:
    job_id = submit(cli, programs["x1"], "--name", "cli-get", "--wait", *FAST)
    job = cli.ok("jobs", "get", job_id, "--json").json()
    assert (job["job_id"], job["name"], job["status"]) == (job_id, "cli-get", "succeeded"), job
    detail = dict(line.split(":", 1) for line in cli.ok("jobs", "get", job_id).out.splitlines())
    assert detail["job_id"].strip() == job_id, detail
    assert detail["status"].strip() == "succeeded", detail
    assert cli.ok("jobs", "status", job_id).out == "succeeded\n"
    status = cli.ok("jobs", "status", job_id, "--json").json()
    assert status == {"job_id": job_id, "status": "succeeded"}, status


def test_result_of_an_ended_job_prints_its_counts(cli: Cli, programs: dict[str, str]) -> None:
    job_id = submit(cli, programs["x1"])  # not waited for: result waits
    run = cli.ok("jobs", "result", job_id, "--wait", "0.05", "--timeout", "120")
    assert run.out.split() == ["BITS", "COUNT", "10", "5"], str(run)
    outcome = cli.ok("jobs", "result", job_id, "--json").json()
    assert outcome["result"] == {"counts": {"2": 5}}, "measured value 2 is bits 10"


def ended_job(cli: Cli, programs: dict[str, str], kind: str, *connection: str) -> str:
    """The id of an ended job of ``kind``, submitted and awaited by the CLI."""
    argv = {
        "sampling": ("sampling", programs["bell"], "--shots", "20"),
        "multi_manual": ("sampling", programs["x1"], programs["x0"], "--shots", "20"),
        "estimation": ("estimation", programs["bell"], "--operator", "Z0 Z1:1", "--shots", "20"),
        "sse": ("sse", programs["sse"], "--name", "cli-requests"),
    }[kind]
    run = cli.ok(*connection, "--json", "submit", *argv, *DEVICE, "--wait", *FAST)
    outcome = run.json()
    assert (outcome["job_type"], outcome["status"]) == (kind, "succeeded"), outcome
    job_id: str = outcome["job_id"]
    return job_id


@pytest.mark.parametrize("kind", ["sampling", "multi_manual", "estimation", "sse"])
def test_result_of_an_ended_job_is_one_read_of_the_job_and_one_download_of_its_result(
    cli: Cli, server: LocalServer, programs: dict[str, str], kind: str
) -> None:
    with logged_server(server.token) as (own, log):
        through_proxy = ("--url", log.url, "--token", own.token)
        job_id = ended_job(cli, programs, kind, *through_proxy)
        log.take()
        expected = [("GET", f"/jobs/{job_id}"), ("GET", f"/_storage/jobs/{job_id}/result.zip")]
        table = cli.ok(*through_proxy, "jobs", "result", job_id)
        assert log.take() == expected, f"{kind}: {table}"
        as_json = cli.ok(*through_proxy, "--json", "jobs", "result", job_id)
        assert log.take() == expected, f"{kind} --json: {as_json}"
    result = as_json.json()["result"]
    if kind == "estimation":
        assert set(result) == {"exp_value", "stds"}, result
        assert table.out.split()[1] == "±", str(table)
    else:
        assert set(result["counts"]) <= {"0", "1", "2", "3", "6"}, result
        assert table.out.startswith("BITS"), str(table)
    assert ("divided_counts" in result) == (kind == "multi_manual"), result


@pytest.mark.parametrize(
    "command",
    [
        ("jobs", "get"),
        ("jobs", "status"),
        ("jobs", "result"),
        ("jobs", "cancel"),
        ("jobs", "delete"),
        ("jobs", "log"),
    ],
)
def test_unknown_job_is_an_api_error(cli: Cli, command: tuple[str, str]) -> None:
    run = cli.fails(3, *command, "no-such-job-id")
    assert "no-such-job-id" in run.err, f"{command}: {run}"
    assert "404" in run.err, f"{command}: {run}"
    assert run.out == "", f"{command}: {run}"


@pytest.mark.timing
def test_waiting_past_timeout_exits_4_and_cancel_then_delete_work(
    cli: Cli, admin: Admin, programs: dict[str, str]
) -> None:
    admin.set_device_status("qulacs", "unavailable")  # jobs stay "submitted" (restored by admin)
    waited = ("--wait", "--interval", "0.05", "--timeout", "0.3")
    run = cli.fails(4, "submit", "sampling", programs["x1"], *DEVICE, "--shots", "5", *waited)
    job_id = run.out.strip()
    assert f"job {job_id} is still submitted after 0.3 s" in run.err, str(run)
    again = cli.fails(4, "jobs", "result", job_id, "--timeout", "0.2", "--wait", "0.05")
    assert "still submitted" in again.err, str(again)
    as_json = cli("--json", "jobs", "result", job_id, "--timeout", "0.1", "--wait", "0.05")
    assert as_json.code == 4, str(as_json)
    assert as_json.json()["status"] == "submitted", str(as_json)

    refused = cli.fails(3, "jobs", "delete", job_id)  # only ended jobs can be deleted
    assert "400" in refused.err, str(refused)
    cancel = cli.ok("jobs", "cancel", job_id)
    assert cancel.out.startswith(f"cancel requested for job {job_id} (cancel"), str(cancel)
    ended = cli.fails(1, "jobs", "result", job_id, *FAST[:2], "--timeout", "60")
    assert f"job {job_id} ended cancelled" in ended.err, str(ended)
    cli.fails(3, "jobs", "cancel", job_id)  # ended: nothing left to cancel
    assert cli.ok("jobs", "delete", job_id).out == f"deleted job {job_id}\n"
    cli.fails(3, "jobs", "get", job_id)


def test_cancel_and_delete_json(cli: Cli, admin: Admin, programs: dict[str, str]) -> None:
    admin.set_device_status("qulacs", "unavailable")
    job_id = submit(cli, programs["x1"])
    cancelled = cli.ok("--json", "jobs", "cancel", job_id).json()
    assert cancelled["job_id"] == job_id, cancelled
    assert cancelled["status"] in {"cancelling", "cancelled"}, cancelled
    cli.fails(1, "jobs", "result", job_id, *FAST[:2], "--timeout", "60")
    deleted = cli.ok("--json", "jobs", "delete", job_id).json()
    assert deleted == {"job_id": job_id, "deleted": True}, deleted


def test_a_cancelling_job_is_shown_waited_for_and_never_cancelled_twice(
    cli: Cli, admin: Admin, programs: dict[str, str]
) -> None:
    # An hour's run and an hour's hold of its stop: cancelling, whatever the machine's speed.
    admin.set_device("qulacs", execution_delay=3600, cancel_delay=3600)
    job_id = submit(cli, programs["x1"])
    deadline = time.monotonic() + 120  # only stops a hang
    while cli.ok("jobs", "status", job_id).out != "running\n":
        assert time.monotonic() < deadline, f"job {job_id} never ran"
        time.sleep(0.02)
    assert cli.ok("--json", "jobs", "cancel", job_id).json()["status"] == "cancelling"
    # Already cancelling: the cancel is under way, which is what the user asked for.
    again = cli.ok("jobs", "cancel", job_id)
    assert again.out == f"cancel requested for job {job_id} (cancelling)\n", str(again)
    assert cli.ok("--json", "jobs", "get", job_id).json()["status"] == "cancelling"
    waited = cli.fails(4, "jobs", "result", job_id, "--timeout", "0.2", "--wait", "0.05")
    assert f"job {job_id} is still cancelling after 0.2 s" in waited.err, str(waited)
    as_json = cli("--json", "jobs", "result", job_id, "--timeout", "0.1", "--wait", "0.05")
    assert (as_json.code, as_json.json()["status"]) == (4, "cancelling"), str(as_json)
    admin.set_device("qulacs", execution_delay=0.0, cancel_delay=0.0)  # the stop goes ahead
    ended = cli.fails(1, "jobs", "result", job_id, *FAST)
    assert f"job {job_id} ended cancelled" in ended.err, str(ended)


def test_token_in_a_server_message_is_redacted(cli: Cli, admin: Admin, server: LocalServer) -> None:
    body = json.dumps({"message": f"token {server.token} is not welcome here"})
    admin.add_fault(method="GET", path="^/devices$", status=403, body=body, times=1)
    run = cli.fails(3, "devices")  # Cli itself asserts the token is not in stdout/stderr
    assert "token *** is not welcome" in run.err, str(run)


def test_an_unexpected_exception_is_one_line_with_exit_5(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(ctx: Context) -> None:
        raise RuntimeError("a bug in the CLI")

    monkeypatch.setattr(commands, "devices", broken)
    run = cli.fails(5, "devices")
    assert "unexpected RuntimeError: a bug in the CLI" in run.err, str(run)


@pytest.mark.parametrize("bad_id", ["../devices", "a?status=x", "a b", "x#y", "50%", ""])
@pytest.mark.parametrize("command", [("jobs", "get"), ("jobs", "delete"), ("devices",)])
def test_ids_that_would_change_the_request_url_are_refused(
    cli: Cli, command: tuple[str, ...], bad_id: str
) -> None:
    run = cli.fails(2, *command, bad_id)
    assert "not a valid id" in run.err, f"{command} {bad_id!r}: {run}"
