"""``--help`` of every command, and the ``--operator`` syntax (no server needed)."""

from __future__ import annotations

import pytest
from quri_parts.core.operator import PAULI_IDENTITY, Operator, pauli_label

from quri_parts_oqtopus.cli import main
from quri_parts_oqtopus.cli.operator_syntax import parse_operator

COMMANDS = [
    (),
    ("devices",),
    ("jobs",),
    ("jobs", "list"),
    ("jobs", "get"),
    ("jobs", "status"),
    ("jobs", "result"),
    ("jobs", "cancel"),
    ("jobs", "delete"),
    ("jobs", "log"),
    ("submit",),
    ("submit", "sampling"),
    ("submit", "estimation"),
    ("submit", "sse"),
]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "oqtopus")
def test_every_command_help_shows_examples(
    command: tuple[str, ...], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([*command, "--help"]) == 0, command
    out = capsys.readouterr().out
    assert "examples:\n  oqtopus " in out, f"{command}: {out}"


def test_top_level_help_documents_exit_codes_and_configuration(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    for line in ("0  success", "1  the job failed", "2  usage", "3  server", "4  timeout"):
        assert line in out, f"{line!r} missing from --help"
    for source in ("--url URL --token TOKEN", "--config FILE", "OQTOPUS_API_TOKEN", "~/.oqtopus"):
        assert source in out, f"{source!r} missing from --help"


def test_estimation_help_documents_the_operator_syntax(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["submit", "estimation", "--help"]) == 0
    out = capsys.readouterr().out
    assert "operator syntax (--operator):" in out, out
    assert '"Z0 Z1:1.0,X0:0.5"    1.0 * Z0 Z1 + 0.5 * X0' in out, out


def test_no_command_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err


@pytest.mark.parametrize(
    ("text", "terms"),
    [
        ("Z0 Z1:1.0,X0:0.5", {"Z0 Z1": 1.0, "X0": 0.5}),
        ("Z0", {"Z0": 1.0}),
        ("I:-0.5,Z0 Z1:0.5", {"I": -0.5, "Z0 Z1": 0.5}),
        (" Z1 X0 : 2e-1 ", {"X0 Z1": 0.2}),
        ("X0:1,X0:2", {"X0": 3.0}),
        ("Y12", {"Y12": 1.0}),
    ],
)
def test_operator_text_becomes_the_operator(text: str, terms: dict[str, float]) -> None:
    expected = Operator(
        {PAULI_IDENTITY if label == "I" else pauli_label(label): c for label, c in terms.items()}
    )
    assert parse_operator(text) == expected, text


@pytest.mark.parametrize(
    ("text", "term", "message"),
    [
        ("", None, "empty"),
        ("   ", None, "empty"),
        ("Z0,", "", "no Pauli string"),
        (":1.0", ":1.0", "no Pauli string"),
        ("X1,Q0", "Q0", "Not a Pauli string"),
        ("Z0 Z0", "Z0 Z0", "twice"),
        ("Z0:abc", "Z0:abc", "not a real number"),
        ("Z0:1+2j", "Z0:1+2j", "not a real number"),
        ("Z0:inf", "Z0:inf", "not finite"),
        ("X0,Z0:nan", "Z0:nan", "not finite"),
    ],
)
def test_bad_operator_text_names_the_term(text: str, term: str | None, message: str) -> None:
    with pytest.raises(ValueError, match=message) as info:
        parse_operator(text)
    if term is not None:
        assert f"operator term {term!r}" in str(info.value), text
