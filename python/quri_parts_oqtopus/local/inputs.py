"""A job's input document as the server keeps it: its shape and its size limits.

An upload is checked where it arrives, in an archive helper (``codec.stage_input_archive``),
before anything of it is kept: the known fields only, each program's text (and each
Pauli string) within ``max_program_bytes``, an SSE program within the service's limit.
The legacy one-shot submission checks its ``job_info`` the same way. What an owner may
keep in all is the store's quota (``Store.commit_input``).

Light on purpose (pydantic and the contract only): the helpers import it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from quri_parts_oqtopus._contract import MAX_SSE_BASE64_BYTES

from .models import JobInput


class InputError(ValueError):
    """An input document that is refused; the message names the field and the limit."""


@dataclass(frozen=True)
class InputLimits:
    """What one input document may hold.

    Attributes:
        max_json_bytes: The document's JSON text, inflated.
        max_program_bytes: Each program's text and each Pauli string, UTF-8 encoded.
    """

    max_json_bytes: int
    max_program_bytes: int


def parse_input(value: object) -> JobInput:
    """The document as the known fields.

    Raises:
        InputError: Naming the first unknown key or field of the wrong type.

    """
    try:
        return JobInput.model_validate(value)
    except ValidationError as e:
        first = e.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        if first["type"] == "extra_forbidden":
            raise InputError(f"invalid job input: unknown key {where!r}") from None
        raise InputError(f"invalid job input: {where}: {first['msg']}") from None


def check_limits(given: JobInput, limits: InputLimits) -> JobInput:
    """``given`` if every text in it is within ``limits``.

    Raises:
        InputError: Naming the program, Pauli string or SSE program, its size and the limit.

    """
    texts = [(f"program[{i}]", text) for i, text in enumerate(given.program or [])]
    texts += [(f"operator[{i}].pauli", term.pauli) for i, term in enumerate(given.operator or [])]
    for where, text in texts:
        size = len(text.encode("utf-8", "surrogatepass"))
        if size > limits.max_program_bytes:
            raise InputError(
                f"invalid job input: {where} is {size} bytes, beyond the limit"
                f" max_program_bytes = {limits.max_program_bytes}"
            )
    if given.sse_program is not None:
        encoded = 4 * -(-len(given.sse_program.encode("utf-8", "surrogatepass")) // 3)
        if encoded >= MAX_SSE_BASE64_BYTES:
            raise InputError(
                f"invalid job input: sse_program is {encoded} bytes in base64, the service"
                f" takes less than {MAX_SSE_BASE64_BYTES}"
            )
    return given


def stored_input(given: JobInput) -> dict[str, Any]:
    """What is kept of an input: the fields the server knows, nothing else."""
    return given.model_dump(exclude_none=True)


def checked_input(value: object, limits: InputLimits) -> dict[str, Any]:
    """The form in which an uploaded document is kept, once its shape and limits hold.

    Raises:
        InputError: Naming what is refused (see ``parse_input`` and ``check_limits``).

    """
    return stored_input(check_limits(parse_input(value), limits))
