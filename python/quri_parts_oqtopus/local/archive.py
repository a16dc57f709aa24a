"""ZIP archives holding one JSON file: what clients upload and what the server hands out."""

from __future__ import annotations

import io
import json
import time
import zipfile
import zlib
from pathlib import Path, PurePosixPath
from typing import IO, Any

# The earliest time a ZIP header can hold (1980-01-01).
_ZIP_EPOCH = 315532800.0


class ArchiveError(ValueError):
    """An uploaded archive that the server refuses; the message says why."""


def build_json_zip(member_name: str, value: object, modified: float) -> bytes:
    """A deflated ZIP holding ``member_name`` with ``value`` as JSON text."""
    return build_zip(member_name, json.dumps(value).encode("utf-8"), modified)


def build_zip(member_name: str, data: bytes, modified: float) -> bytes:
    """A deflated ZIP holding one member ``member_name`` with ``data``.

    The member's time is ``modified`` (a POSIX time), so the same content always gives
    the same bytes: clients may download an archive twice and compare.
    """
    buffer = io.BytesIO()
    write_zip(buffer, member_name, data, modified)
    return buffer.getvalue()


def write_zip(target: IO[bytes] | Path, member_name: str, data: bytes, modified: float) -> None:
    """:func:`build_zip` written to a file or stream instead of returned."""
    stamp = time.gmtime(max(modified, _ZIP_EPOCH))[:6]
    member = zipfile.ZipInfo(member_name, date_time=stamp)
    member.compress_type = zipfile.ZIP_DEFLATED
    member.external_attr = 0o644 << 16
    with zipfile.ZipFile(target, "w") as archive:
        archive.writestr(member, data)


def check_zip_file(path: Path) -> None:
    """Raise :class:`ArchiveError` unless ``path`` ends in an intact ZIP directory.

    Cheap (the data is not read): it catches a truncated or overwritten archive.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError, EOFError) as e:
        raise ArchiveError(f"{path.name} is not a readable ZIP archive: {e}") from e
    if len(members) != 1:
        raise ArchiveError(f"{path.name} holds {len(members)} files instead of one")


def _check_member_name(name: str) -> None:
    # Names are never extracted to disk, but a name with directories or `..` is a
    # sign of a crafted archive; refusing it keeps the upload format unambiguous.
    path = PurePosixPath(name.replace("\\", "/"))
    if path.is_absolute() or len(path.parts) != 1 or name in {".", ".."}:
        raise ArchiveError(f"ZIP member name {name!r} must be a plain file name")
    if not name.endswith(".json"):
        raise ArchiveError(f"ZIP member {name!r} is not a .json file")


def _read_bounded(archive: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int) -> bytes:
    # The header's file_size can lie (ZIP bombs): read at most limit+1 bytes and count.
    if info.file_size > limit:
        raise ArchiveError(f"ZIP member {info.filename!r} expands beyond {limit} bytes")
    with archive.open(info) as member:
        data = member.read(limit + 1)
    if len(data) > limit:
        raise ArchiveError(f"ZIP member {info.filename!r} expands beyond {limit} bytes")
    return data


def _only_member(data: bytes, max_json_bytes: int) -> bytes:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        members = archive.infolist()
        if len(members) != 1:
            raise ArchiveError(f"the ZIP must hold exactly one file, found {len(members)}")
        _check_member_name(members[0].filename)
        return _read_bounded(archive, members[0], max_json_bytes)


def read_single_json_zip(data: bytes, max_json_bytes: int) -> dict[str, Any]:
    """The JSON object inside an uploaded ZIP that must hold exactly one ``.json`` file.

    Raises:
        ArchiveError: The bytes are not a ZIP, hold zero or several files, name a path,
            expand beyond ``max_json_bytes``, or do not hold a UTF-8 JSON object.

    """
    try:
        raw = _only_member(data, max_json_bytes)
    except ArchiveError:
        raise
    except (
        zipfile.BadZipFile,
        zipfile.LargeZipFile,
        NotImplementedError,
        EOFError,
        zlib.error,
        # What zipfile raises for crafted headers: an encrypted member (RuntimeError), a
        # bzip2 or lzma stream that is not one (OSError), offsets past the data (ValueError).
        RuntimeError,
        OSError,
        ValueError,
    ) as e:
        raise ArchiveError(f"the upload is not a readable ZIP archive: {e}") from e
    try:
        value = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ArchiveError(f"the file in the ZIP is not valid UTF-8 JSON: {e}") from e
    except RecursionError as e:
        raise ArchiveError("the JSON in the ZIP is nested too deeply") from e
    if not isinstance(value, dict):
        raise ArchiveError(f"the JSON in the ZIP must be an object, got {type(value).__name__}")
    return value
