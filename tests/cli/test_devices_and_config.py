"""``oqtopus devices``, and where the CLI finds its URL and token."""

from __future__ import annotations

from pathlib import Path

import pytest

from quri_parts_oqtopus.cli import main
from quri_parts_oqtopus.cli.context import redact
from quri_parts_oqtopus.local import LocalServer

from ..http_stub import StubServer, json_reply
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


#: Every way to configure the CLI, as a message that found none names them.
CONFIG_WAYS = ("OQTOPUS_URL and OQTOPUS_API_TOKEN", "--config FILE", "~/.oqtopus", "--url URL")


def test_no_configuration_at_all_is_a_usage_error_that_names_the_ways(
    cli: Cli, monkeypatch: pytest.MonkeyPatch, no_config: Path
) -> None:
    monkeypatch.delenv("OQTOPUS_URL")
    monkeypatch.delenv("OQTOPUS_API_TOKEN")
    run = cli.fails(2, "devices")
    assert "no OQTOPUS configuration found" in run.err, str(run)
    assert all(way in run.err for way in CONFIG_WAYS), str(run)
    assert str(no_config) not in run.err, f"the home directory is not spelled out: {run}"


def test_url_in_the_environment_without_a_token_names_the_token_variable(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OQTOPUS_API_TOKEN")
    run = cli.fails(2, "devices")
    assert "OQTOPUS_URL is set but OQTOPUS_API_TOKEN is not" in run.err, str(run)
    assert "export OQTOPUS_API_TOKEN=" in run.err, str(run)
    assert all(way in run.err for way in ("--url URL --token TOKEN", "--config FILE")), str(run)


def test_token_in_the_environment_without_a_url_names_the_url_variable(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OQTOPUS_URL")
    run = cli.fails(2, "devices")
    assert "OQTOPUS_API_TOKEN is set but OQTOPUS_URL is not" in run.err, str(run)


def test_url_in_the_environment_and_a_config_file_use_the_file_as_the_backends_do(
    cli: Cli, server: LocalServer, monkeypatch: pytest.MonkeyPatch, no_config: Path
) -> None:
    monkeypatch.delenv("OQTOPUS_API_TOKEN")
    monkeypatch.setenv("OQTOPUS_URL", "http://127.0.0.1:9")  # nothing listens there
    (no_config / ".oqtopus").write_text(
        f"[default]\nurl={server.url}\napi_token={server.token}\n", encoding="utf-8"
    )
    cli.ok("devices")


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


def test_a_short_token_is_redacted_only_where_it_stands_alone(
    no_config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A server that answers any token with a message naming it (the local server checks the
    # token before any route, so a scripted one stands in).
    body = {"message": "Max says: token x is not welcome (x-ray, box)"}
    with StubServer(lambda request: json_reply(body, status=403)) as stub:
        code = main(["--url", stub.url, "--token", "x", "devices"])
    err = capsys.readouterr().err
    assert code == 3, err
    assert "Max says: token *** is not welcome (x-ray, box)" in err, err


@pytest.mark.parametrize(
    ("text", "tokens", "redacted"),
    [
        ("Max and x", {"x"}, "Max and ***"),
        ("token=ab1; ab1x xab1 ab1-2 a.ab1", {"ab1"}, "token=***; ab1x xab1 ab1-2 a.ab1"),
        ("got 'ab1'", {"ab1"}, "got '***'"),
        ("a long-token-123456 inside prefixlong-token-123456suffix", {"long-token-123456"},
         "a *** inside prefix***suffix"),
        ("nothing to hide", {None, ""}, "nothing to hide"),
    ],
)  # fmt: skip
def test_redact_replaces_long_tokens_everywhere_and_short_ones_standing_alone(
    text: str, tokens: set[str | None], redacted: str
) -> None:
    assert redact(text, tokens) == redacted, f"{text!r} with tokens {tokens}"
