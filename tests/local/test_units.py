"""Pure functions of the server, without HTTP: archives, Pauli strings, counts."""

from __future__ import annotations

import io
import json
import re
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest
from quri_parts.circuit import QuantumCircuit, SqrtX

from quri_parts_oqtopus.local import LocalServer, ServerSettings
from quri_parts_oqtopus.local.app import build_state
from quri_parts_oqtopus.local.codec import ArchiveError, log_archive, read_input_archive
from quri_parts_oqtopus.local.codec import write_payload_files as write_payload
from quri_parts_oqtopus.local.errors import ApiError
from quri_parts_oqtopus.local.programs import (
    Program,
    combine_programs,
    load_program,
    program_to_qasm,
)
from quri_parts_oqtopus.local.routes_user import _query_time
from quri_parts_oqtopus.local.simulate import estimate, sample_counts, split_counts
from quri_parts_oqtopus.operator import parse_pauli

from .helpers import zip_members


def build_json_zip(tmp_path: Path, member_name: str, value: object) -> bytes:
    """The archive the server stores for a payload (``<name>.zip`` beside ``<name>.json``)."""
    name = member_name.removesuffix(".json")
    write_payload(tmp_path, name, value)
    return (tmp_path / f"{name}.zip").read_bytes()


def test_archive_round_trip_gives_the_object_back(tmp_path: Path) -> None:
    value = {"program": ["OPENQASM 3;"], "operator": [{"pauli": "X0", "coeff": 1.5}]}
    assert read_input_archive(build_json_zip(tmp_path, "input.json", value), 1000) == value


@pytest.mark.parametrize(
    ("archive", "reason"),
    [
        (b"not a zip at all", "not a readable ZIP"),
        (zip_members({}), "exactly one file, found 0"),
        (zip_members({"a.json": b"{}", "b.json": b"{}"}), "exactly one file, found 2"),
        (zip_members({"../evil.json": b"{}"}), "plain file name"),
        (zip_members({"dir/input.json": b"{}"}), "plain file name"),
        (zip_members({"/abs.json": b"{}"}), "plain file name"),
        (zip_members({"input.txt": b"{}"}), "not a .json file"),
        (zip_members({"input.json": b"[1, 2]"}), "must be an object"),
        (zip_members({"input.json": b"{not json"}), "not valid UTF-8 JSON"),
        (zip_members({"input.json": b"{" + b" " * 5000 + b"}"}), "expands beyond 1000 bytes"),
    ],
)
def test_archive_refuses_what_is_not_one_small_json_object(archive: bytes, reason: str) -> None:
    with pytest.raises(ArchiveError, match=reason):
        read_input_archive(archive, 1000)


def test_archive_refuses_json_nested_beyond_the_parser() -> None:
    deep = b"[" * 200_000 + b"]" * 200_000
    with pytest.raises(ArchiveError, match="nested too deeply"):
        read_input_archive(zip_members({"input.json": b'{"a": ' + deep + b"}"}), 10**6)


def test_archive_refuses_a_bomb_whose_header_lies_about_its_size() -> None:
    bomb = bytearray(zip_members({"input.json": b"{" + b" " * 100_000 + b"}"}))
    real_size = (100_002).to_bytes(4, "little")
    # Patch the declared uncompressed size in both headers to 10 bytes.
    for offset in (i for i in range(len(bomb) - 4) if bomb[i : i + 4] == real_size):
        bomb[offset : offset + 4] = (10).to_bytes(4, "little")
    with pytest.raises(ArchiveError):
        read_input_archive(bytes(bomb), 1000)


@pytest.mark.parametrize(
    ("text", "factors"),
    [
        ("X0 X1", ((0, "X"), (1, "X"))),
        ("X 0 X 1", ((0, "X"), (1, "X"))),
        ("Z0 Y2", ((0, "Z"), (2, "Y"))),
        ("Y2 Z0", ((0, "Z"), (2, "Y"))),
        ("I", ()),
        ("", ()),
        ("I0 Z1", ((1, "Z"),)),
        ("Z10", ((10, "Z"),)),
    ],
)
def test_pauli_strings_in_both_spellings(text: str, factors: tuple[tuple[int, str], ...]) -> None:
    assert parse_pauli(text) == factors


@pytest.mark.parametrize("text", ["X", "Q0", "X0 X0", "X-1", "0X", "X0,X1"])
def test_invalid_pauli_strings_are_value_errors(text: str) -> None:
    with pytest.raises(ValueError, match="Pauli string"):
        parse_pauli(text)


def test_split_counts_follows_the_contract_example() -> None:
    counts = {"0000": 490, "0001": 10, "0110": 20, "1111": 480}
    assert split_counts(counts, [2, 2]) == {
        "0": {"00": 490, "01": 10, "10": 20, "11": 480},
        "1": {"00": 500, "01": 20, "11": 480},
    }


def _program(circuit: QuantumCircuit, bits: int, measurements: list[tuple[int, int]]) -> Program:
    return Program(circuit.qubit_count, bits, circuit, tuple(measurements))


def test_sampled_keys_put_classical_bit_zero_last() -> None:
    circuit = QuantumCircuit(3)
    circuit.add_X_gate(0)
    program = _program(circuit, 3, [(0, 0), (1, 1), (2, 2)])
    assert sample_counts(program, 100, np.random.default_rng(1)) == {"001": 100}
    swapped = _program(circuit, 3, [(0, 2), (1, 1), (2, 0)])
    assert sample_counts(swapped, 100, np.random.default_rng(1)) == {"100": 100}


def test_unmeasured_qubits_do_not_appear_and_unwritten_bits_are_zero() -> None:
    circuit = QuantumCircuit(2)
    circuit.add_X_gate(0)
    circuit.add_X_gate(1)
    program = _program(circuit, 3, [(1, 2)])
    assert sample_counts(program, 50, np.random.default_rng(1)) == {"100": 50}


def test_combined_programs_sit_side_by_side_program_zero_lowest() -> None:
    first = QuantumCircuit(1)
    first.add_X_gate(0)
    second = QuantumCircuit(2)
    second.add_X_gate(1)
    combined = combine_programs(
        [_program(first, 1, [(0, 0)]), _program(second, 2, [(0, 0), (1, 1)])]
    )
    assert (combined.qubit_count, combined.bit_count) == (3, 3)
    assert sample_counts(combined, 10, np.random.default_rng(0)) == {"101": 10}
    text = program_to_qasm(combined)
    assert "qubit[3] q;" in text
    assert "x q[2];" in text
    assert "c[2] = measure q[2];" in text


def test_a_combined_program_reads_back_as_the_programs_side_by_side() -> None:
    # Every gate the reader knows, printed by the native printer, read again unchanged.
    body = (
        "id q[0]; x q[1]; y q[2]; z q[0]; h q[1]; s q[2]; sdg q[0]; t q[1]; tdg q[2];"
        " sx q[0]; sxdg q[1]; rx(0.1) q[2]; ry(-2.5e-17) q[0]; rz(3.141592653589793) q[1];"
        " u1(0.3) q[2]; u2(0.1, 0.2) q[0]; u3(1e-300, 2.0, -0.5) q[1]; cx q[0], q[2];"
        " cz q[1], q[0]; swap q[2], q[1]; ccx q[0], q[1], q[2];"
    )
    first = load_program(
        f'OPENQASM 3;\ninclude "stdgates.inc";\nqubit[3] q;\nbit[2] c;\n{body}\n'
        "c[1] = measure q[0];\nc[0] = measure q[2];"
    )
    second = load_program("OPENQASM 3;\nqubit[2] q;\nh q[0];\ncx q[0], q[1];")
    combined = combine_programs([first, second])
    again = load_program(program_to_qasm(combined))
    assert (again.qubit_count, again.bit_count) == (5, 4)
    assert again.measurements == combined.measurements
    # sxdg (not in stdgates.inc, refused by the printer) comes back as sx three times.
    expected = []
    for gate in combined.circuit.gates:
        expected.extend([SqrtX(gate.target_indices[0])] * 3 if gate.name == "SqrtXdag" else [gate])
    assert list(again.circuit.gates) == expected


def test_estimate_of_deterministic_terms_is_exact() -> None:
    circuit = QuantumCircuit(2)
    circuit.add_X_gate(0)
    program = _program(circuit, 2, [(0, 0), (1, 1)])
    terms = [((), 0.5), (((0, "Z"),), 2.0), (((1, "Z"),), 1.0)]
    value, std = estimate(program, terms, 1000, np.random.default_rng(0))
    assert value == pytest.approx(0.5 - 2.0 + 1.0)
    assert std == 0.0


def test_estimate_error_shrinks_like_one_over_root_shots() -> None:
    program = _program(QuantumCircuit(1), 1, [(0, 0)])
    terms = [(((0, "X"),), 1.0)]
    _, small = estimate(program, terms, 100, np.random.default_rng(2))
    _, large = estimate(program, terms, 1_000_000, np.random.default_rng(2))
    assert 0.05 < small < 0.15
    assert large == pytest.approx(0.001, rel=0.01)


def test_json_zip_holds_one_named_member(tmp_path: Path) -> None:
    archive = build_json_zip(tmp_path, "result.json", {"a": 1})
    with zipfile.ZipFile(io.BytesIO(archive)) as opened:
        assert opened.namelist() == ["result.json"]
        assert json.loads(opened.read("result.json")) == {"a": 1}
    assert json.loads((tmp_path / "result.json").read_bytes()) == {"a": 1}


def test_the_same_content_gives_the_same_archive_bytes(tmp_path: Path) -> None:
    first = build_json_zip(tmp_path / "a", "result.json", {"a": 1})
    time.sleep(2.1)  # ZIP times have a 2 s resolution: the archive holds none of its own
    assert build_json_zip(tmp_path / "b", "result.json", {"a": 1}) == first
    log = tmp_path / "sse.log"
    log.write_bytes(b"hello\n")
    with zipfile.ZipFile(io.BytesIO(log_archive(log, "sselog_x.log"))) as opened:
        assert opened.read("sselog_x.log") == b"hello\n"


@pytest.mark.parametrize(
    ("text", "stored"),
    [
        ("2026-11-25T09:00:00Z", "2026-11-25T09:00:00.000000Z"),
        ("2026-11-25T09:00:00.123+0900", "2026-11-25T00:00:00.123000Z"),
        ("2026-11-25T09:00:00.123456+0000", "2026-11-25T09:00:00.123456Z"),
        ("2026-11-25T09:00:00.123456 0000", "2026-11-25T09:00:00.123456Z"),
        ("2026-11-25T09:00:00.1-05:30", "2026-11-25T14:30:00.100000Z"),
        ("2026-11-25 09:00", "2026-11-25T09:00:00.000000Z"),
        ("2026-11-25", "2026-11-25T00:00:00.000000Z"),
    ],
)
def test_list_time_filters_accept_what_clients_send(text: str, stored: str) -> None:
    assert _query_time(text, "start_time") == stored


@pytest.mark.parametrize("text", ["x", "2026-13-01T00:00:00Z", "2026-11-25T25:00", "09:00"])
def test_list_time_filters_refuse_non_times(text: str) -> None:
    with pytest.raises(ApiError, match="start_time is not an ISO-8601 time"):
        _query_time(text, "start_time")


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("public_url", "ftp://example", "must be an http(s) URL"),
        ("public_url", "http://example/?q=1", "must not hold a query"),
        ("presign_ttl", 0, "presign_ttl must be > 0"),
        ("header_timeout", -1.0, "header_timeout must be > 0"),
        ("max_connections", 0, "max_connections must be >= 1"),
        ("max_registered_jobs", 0, "max_registered_jobs must be >= 1"),
        ("job_timeout", 0, "job_timeout must be > 0"),
    ],
)
def test_server_settings_refuse_bad_limits_naming_them(
    tmp_path: Path, field: str, value: object, reason: str
) -> None:
    with pytest.raises(ValueError, match=re.escape(reason)):
        ServerSettings(data_dir=tmp_path, token="t", **{field: value})  # type: ignore[arg-type]


def test_the_public_url_is_the_base_of_handed_out_urls_else_the_bound_address(
    tmp_path: Path,
) -> None:
    bound = ServerSettings(data_dir=tmp_path, token="t", host="::1", port=8080)
    assert bound.url == "http://[::1]:8080"
    public = ServerSettings(data_dir=tmp_path, token="t", public_url="https://q.example/api/")
    assert public.url == "https://q.example/api"
    assert public.bound_url == "http://127.0.0.1:8080"


def test_the_server_settings_and_state_never_show_the_token(tmp_path: Path) -> None:
    token = "sentinel-server-token-stays-out-of-reprs"
    settings = ServerSettings(data_dir=tmp_path, token=token, sse_containment="none")
    state = build_state(settings)
    try:
        for shown in (repr(settings), str(settings), repr(state)):
            assert "data_dir=" in shown  # a real repr, just without the token
            assert token not in shown
    finally:
        state.sse.stop_all()
        state.store.close()


def test_local_server_refuses_an_unknown_option() -> None:
    with pytest.raises(ValueError, match=r"unknown options \['job_timeot'\]"):
        LocalServer(options={"job_timeot": 3})
