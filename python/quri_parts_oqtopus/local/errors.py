"""One error shape for every route: ``{"message": "<text>"}`` with the right status."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException


class ApiError(HTTPException):
    """An error answered as ``{"message": message}`` with ``status_code``."""

    def __init__(self, status_code: int, message: str) -> None:
        super().__init__(status_code=status_code, detail=message)


def bad_request(message: str) -> ApiError:
    return ApiError(400, message)


def not_found(message: str) -> ApiError:
    return ApiError(404, message)


def _describe_validation(error: RequestValidationError) -> str:
    parts = []
    for item in error.errors():
        location = ".".join(str(p) for p in item.get("loc", ()) if p != "body")
        parts.append(f"{location or 'body'}: {item.get('msg', 'invalid')}")
    return "invalid request: " + "; ".join(parts)


async def _http_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    return JSONResponse({"message": str(exc.detail)}, status_code=exc.status_code)


async def _validation_error(_: Request, exc: Exception) -> JSONResponse:
    # FastAPI answers 422; the OQTOPUS contract answers 400 for every invalid request.
    assert isinstance(exc, RequestValidationError)
    return JSONResponse({"message": _describe_validation(exc)}, status_code=400)


async def _internal_error(_: Request, exc: Exception) -> JSONResponse:
    return JSONResponse(
        {"message": f"internal server error: {type(exc).__name__}"}, status_code=500
    )


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(Exception, _internal_error)
