"""Checks of a submission made before anything is sent: shots, programs, the device."""

from __future__ import annotations

import re

from quri_parts.backend import BackendError

from quri_parts_oqtopus._contract import AVAILABLE, MAX_SHOTS
from quri_parts_oqtopus._http import OqtopusHttpClient, OqtopusHttpError
from quri_parts_oqtopus.cli.context import PROG
from quri_parts_oqtopus.cli.errors import UnknownDeviceError, UsageError
from quri_parts_oqtopus.formats.qasm_reader import read_qasm

__all__ = ["check_device", "check_qasm", "shots_from"]

# How the native reader names the place of an error: "line N: reason: `statement`".
_QASM_ERROR = re.compile(r"line (\d+): (.*): `(.*)`", re.DOTALL)
_NOT_FOUND = 404


def shots_from(text: str) -> int:
    """The ``--shots`` value.

    Raises:
        UsageError: If it is not a whole number from 1 to 10,000,000.

    """
    try:
        shots = int(text)
    except ValueError:
        raise UsageError(
            f"--shots must be 1..{MAX_SHOTS:,}, got {text!r} (not a whole number)"
        ) from None
    if not 1 <= shots <= MAX_SHOTS:
        raise UsageError(f"--shots must be 1..{MAX_SHOTS:,}, got {shots}")
    return shots


def check_qasm(file: str, text: str) -> None:
    """Read the program with the package's OpenQASM 3 reader (the local server's).

    Raises:
        UsageError: ``FILE:LINE:COLUMN: reason`` where the reader stops (the column is
            where the offending statement starts).

    """
    try:
        read_qasm(text)
    except ValueError as e:
        where, reason = _place(file, text, str(e))
        raise UsageError(
            f"{where}: {reason} (checked before upload: fix the program, or give"
            " --no-qasm-check if the server accepts it)"
        ) from None


def _place(file: str, text: str, message: str) -> tuple[str, str]:
    found = _QASM_ERROR.fullmatch(message)
    if found is None:
        return file, message
    line, reason, statement = int(found[1]), found[2], found[3]
    lines = text.splitlines()
    source = lines[line - 1] if 0 < line <= len(lines) else ""
    return f"{file}:{line}:{_column(source, statement)}", f"{reason}: `{statement}`"


def _column(source: str, statement: str) -> int:
    """Where ``statement`` (whitespace collapsed, maybe cut with ``...``) starts in ``source``."""
    shown = statement.removesuffix("...")
    for index, char in enumerate(source):
        if char.isspace():
            continue
        rest = " ".join(source[index:].split())
        if rest.startswith(shown) or (shown.startswith(rest) and rest):
            return index + 1
    return len(source) - len(source.lstrip()) + 1


def check_device(client: OqtopusHttpClient, device_id: str) -> None:
    """Read the device (``GET /devices/{id}``), so that an unknown one is never registered.

    Raises:
        UnknownDeviceError: If the server does not know the device; the message lists
            the devices it knows.
        BackendError: If the device cannot be read for another reason.

    """
    try:
        client.get_device(device_id)
    except OqtopusHttpError as error:
        if error.status != _NOT_FOUND:
            raise
        raise UnknownDeviceError(
            f"device {device_id!r} not found, nothing was submitted; {_known(client)}"
        ) from None


def _known(client: OqtopusHttpClient) -> str:
    try:
        devices = client.list_devices()
    except BackendError:
        return f"see {PROG} devices"
    names = [
        str(d.get("device_id")) + ("" if d.get("status") == AVAILABLE else f" ({d.get('status')})")
        for d in devices
    ]
    return f"the devices are: {', '.join(names)}" if names else "the server lists no devices"
