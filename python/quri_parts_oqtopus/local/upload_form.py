"""Reading a presigned upload form as it streams in: its signature holds before its file is kept.

The upload route takes no token, so whatever it keeps of a request before the form's
signature is checked, anyone can make it keep. Reading the whole form first (as
``request.form()`` does) kept up to the upload limit per connection, in memory when sent
as fields, for as long as a client took to send it. Here the fields before the file are
small and few, the signature is checked as soon as the file part begins, and nothing of
the file is kept before that. Fields after the file are ignored, as S3 ignores them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import Request

from .errors import ApiError

if TYPE_CHECKING:
    from python_multipart.multipart import MultipartCallbacks

#: The signed fields and a few more (S3 forms carry up to eight); each field this long.
MAX_FIELDS = 16
MAX_FIELD_BYTES = 8 * 1024


def _refused(status: int, message: str) -> ApiError:
    # The rest of the body is not read: the connection goes with the answer.
    return ApiError(status, message, close=True)


class _FormReader:
    """The callbacks of python-multipart's parser for one upload form."""

    def __init__(self, verify: Callable[[dict[str, str]], str], max_file_bytes: int) -> None:
        self._verify = verify
        self._max_file_bytes = max_file_bytes
        self.fields: dict[str, str] = {}
        self.job_id: str | None = None
        self.file: bytearray | None = None
        self._headers: dict[bytes, bytes] = {}
        self._header = [b"", b""]
        self._name = ""
        self._data = bytearray()
        self._in_file = False
        self._after_file = False

    def callbacks(self) -> MultipartCallbacks:
        return {
            "on_part_begin": self._part_begin,
            "on_header_field": lambda data, start, end: self._add_header(0, data[start:end]),
            "on_header_value": lambda data, start, end: self._add_header(1, data[start:end]),
            "on_header_end": self._header_end,
            "on_headers_finished": self._headers_finished,
            "on_part_data": self._part_data,
            "on_part_end": self._part_end,
        }

    def _part_begin(self) -> None:
        self._headers, self._header, self._data = {}, [b"", b""], bytearray()

    def _add_header(self, which: int, data: bytes) -> None:
        self._header[which] += data
        if len(self._header[which]) > MAX_FIELD_BYTES:
            raise _refused(400, "a header of the upload form is too long")

    def _header_end(self) -> None:
        self._headers[self._header[0].strip().lower()] = self._header[1].strip()
        self._header = [b"", b""]

    def _headers_finished(self) -> None:
        if self._after_file:
            return
        _, options = parse_options_header(self._headers.get(b"content-disposition", b""))
        self._name = options.get(b"name", b"").decode("utf-8", "replace")
        if b"filename" not in options:
            if len(self.fields) >= MAX_FIELDS:
                raise _refused(400, f"the upload form has more than {MAX_FIELDS} fields")
            return
        if self._name != "file":
            raise _refused(400, f"the upload form's file part is named {self._name!r}, not 'file'")
        # Every signed field came before the file, as S3 requires: check them now.
        try:
            self.job_id = self._verify(self.fields)
        except ApiError as e:
            raise _refused(e.status_code, str(e.detail)) from e
        self._in_file, self.file = True, bytearray()

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        if self._after_file:
            return
        if self._in_file:
            assert self.file is not None
            if len(self.file) + end - start > self._max_file_bytes:
                raise _refused(413, f"the uploaded file exceeds {self._max_file_bytes} bytes")
            self.file += data[start:end]
            return
        if len(self._data) + end - start > MAX_FIELD_BYTES:
            raise _refused(400, f"field {self._name!r} of the upload form is too long")
        self._data += data[start:end]

    def _part_end(self) -> None:
        if self._in_file:
            self._in_file, self._after_file = False, True
        elif not self._after_file:
            self.fields[self._name] = self._data.decode("utf-8", "replace")


async def read_upload_form(
    request: Request, verify: Callable[[dict[str, str]], str], max_file_bytes: int
) -> tuple[str, bytes]:
    """The job id (``verify(fields)``) and the file of an upload form.

    Raises:
        ApiError: 400 for a body that is not a multipart form with a file part, or whose
            fields are too many or too long; what ``verify`` raises, before any of the
            file is kept; 413 for a file beyond ``max_file_bytes``.

    """
    kind, options = parse_options_header(request.headers.get("content-type", ""))
    boundary = options.get(b"boundary")
    if kind != b"multipart/form-data" or not boundary:
        raise _refused(400, "the upload must be a multipart/form-data form")
    reader = _FormReader(verify, max_file_bytes)
    parser = MultipartParser(boundary, reader.callbacks())
    try:
        async for chunk in request.stream():
            parser.write(chunk)
        parser.finalize()
    except FormParserError as e:
        raise _refused(400, f"the upload form is not valid multipart data: {e}") from e
    if reader.job_id is None or reader.file is None:
        raise ApiError(400, "the upload form has no file part")
    return reader.job_id, bytes(reader.file)
