"""``oqtopus devices``, and where the CLI finds its URL and token."""

from __future__ import annotations

from pathlib import Path

import pytest

from quri_parts_oqtopus.local import LocalServer

from .conftest import Cli


def test_devices_table_has_a_row_per_device_with_type_status_qubits_pending(cli: Cli) -> None:
    run = cli.ok("devices")
    header, *rows = run.out.splitlines()
    assert header.split() == ["DEVICE", "TYPE", "STATUS", "QUBITS", "PENDING", "JOBS"], run.out
    qulacs = [row.split() for row in rows if row.startswith("qulacs ")]
    assert len(qulacs) == 1, run.out
    device_id, device_type, status, qubits, pending = qulacs[0]
    assert (device_id, device_type, status) == ("qulacs", "simulator", "available"), run.out
    assert int(qubits) >= 24, run.out
    assert int(pending) >= 0, run.out


def test_devices_json_is_the_servers_device_list(cli: Cli) -> None:
    devices = cli.ok("devices", "--json").json()
    assert isinstance(devices, list), devices
    by_id = {device["device_id"]: device for device in devices}
    assert by_id["qulacs"]["device_type"] == "simulator", devices
    assert "cx" in by_id["qulacs"]["basis_gates"], devices


def test_one_device_in_detail_shows_its_gates_and_description(cli: Cli) -> None:
    run = cli.ok("devices", "qulacs")
    lines = dict(line.split(":", 1) for line in run.out.splitlines())
    assert lines["device_id"].strip() == "qulacs", run.out
    assert "cx" in lines["basis_gates"].split(), run.out
    assert "measure" in lines["supported_instructions"].split(), run.out
    assert lines["description"].strip(), run.out


def test_json_is_accepted_before_or_after_the_command(cli: Cli) -> None:
    before = cli.ok("--json", "devices", "qulacs").json()
    after = cli.ok("devices", "qulacs", "--json").json()
    assert before["device_id"] == after["device_id"] == "qulacs"


def test_unknown_device_is_an_api_error(cli: Cli) -> None:
    run = cli.fails(3, "devices", "no-such-device")
    assert "no-such-device" in run.err, str(run)
    assert "404" in run.err, str(run)
    assert run.out == "", str(run)


# -- configuration -----------------------------------------------------------------------------
def test_url_and_token_options_win_over_the_environment(
    cli: Cli, server: LocalServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OQTOPUS_URL", "http://127.0.0.1:9")  # nothing listens there
    monkeypatch.setenv("OQTOPUS_API_TOKEN", "env-token-that-is-wrong")
    run = cli.ok("--url", server.url, "--token", server.token, "devices", "--json")
    assert "qulacs" in {device["device_id"] for device in run.json()}, str(run)


def test_environment_is_used_without_options(cli: Cli) -> None:
    cli.ok("devices")


def test_config_file_and_section_are_read(
    cli: Cli, server: LocalServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("OQTOPUS_URL", "http://127.0.0.1:9")  # the file wins over env
    config = tmp_path / "oqtopus.ini"
    config.write_text(
        f"[default]\nurl=http://127.0.0.1:9\napi_token=x\n"
        f"[local]\nurl={server.url}\napi_token={server.token}\n",
        encoding="utf-8",
    )
    cli.ok("--config", str(config), "--section", "local", "devices")
    run = cli.fails(2, "--config", str(config), "--section", "nowhere", "devices")
    assert "[nowhere]" in run.err, str(run)


def test_home_oqtopus_default_section_is_the_last_resort(
    cli: Cli, server: LocalServer, monkeypatch: pytest.MonkeyPatch, no_config: Path
) -> None:
    monkeypatch.delenv("OQTOPUS_URL")
    monkeypatch.delenv("OQTOPUS_API_TOKEN")
    (no_config / ".oqtopus").write_text(
        f"[default]\nurl={server.url}\napi_token={server.token}\n", encoding="utf-8"
    )
    cli.ok("devices")


def test_no_configuration_at_all_is_a_usage_error(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OQTOPUS_URL")
    monkeypatch.delenv("OQTOPUS_API_TOKEN")
    run = cli.fails(2, "devices")
    assert "config file not found" in run.err, str(run)


def test_url_without_token_is_a_usage_error(cli: Cli, server: LocalServer) -> None:
    run = cli.fails(2, "--url", server.url, "devices")
    assert "--url and --token" in run.err, str(run)


def test_wrong_token_is_an_api_error_that_does_not_show_the_token(
    cli: Cli, server: LocalServer
) -> None:
    wrong = "wrong-token-3c9d-do-not-show"
    run = cli.fails(3, "--url", server.url, "--token", wrong, "devices")
    assert "401" in run.err, str(run)
    assert wrong not in run.err + run.out, str(run)
