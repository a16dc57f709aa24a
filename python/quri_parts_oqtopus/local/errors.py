"""One error shape for every route: ``{"message": "<text>"}`` with the right status."""

from __future__ import annotations

from collections.abc import Mapping

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

CLOSE = {"Connection": "close"}


class ApiError(HTTPException):
    """An error answered as ``{"message": message}`` with ``status_code``.

    ``close`` ends the connection after the answer (also implied for every 5xx): for a
    request whose body was not read, or a server that may be in a bad state.
    """

    def __init__(self, status_code: int, message: str, *, close: bool = False) -> None:
        headers = dict(CLOSE) if close else None
        super().__init__(status_code=status_code, detail=message, headers=headers)


def error_response(
    status_code: int, message: str, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    """The one error shape; every 5xx also says ``Connection: close``.

    After a 500 the server may drop the connection, so it says so: a client then never
    sends its next request on a connection that is going away.
    """
    merged = {**(headers or {}), **(CLOSE if status_code >= 500 else {})}
    return JSONResponse({"message": message}, status_code=status_code, headers=merged or None)


def bad_request(message: str) -> ApiError:
    return ApiError(400, message)


def not_found(message: str) -> ApiError:
    return ApiError(404, message)


def _describe_validation(error: RequestValidationError) -> str:
    parts = []
    for item in error.errors():
        if item.get("type") == "json_invalid":
            parts.append("the body is not valid JSON")
            continue
        location = ".".join(str(p) for p in item.get("loc", ()) if p != "body")
        parts.append(f"{location or 'body'}: {item.get('msg', 'invalid')}")
    return "invalid request: " + "; ".join(parts)


async def _http_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    return error_response(exc.status_code, str(exc.detail), exc.headers)


async def _validation_error(_: Request, exc: Exception) -> JSONResponse:
    # FastAPI answers 422; the OQTOPUS contract answers 400 for every invalid request.
    assert isinstance(exc, RequestValidationError)
    return error_response(400, _describe_validation(exc))


async def _internal_error(_: Request, exc: Exception) -> JSONResponse:
    return error_response(500, f"internal server error: {type(exc).__name__}")


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(Exception, _internal_error)
