"""The FastAPI application of the local OQTOPUS server."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

from . import routes_admin, routes_storage, routes_user
from .dashboard import DashboardPages
from .devices import install_devices
from .errors import install_error_handlers
from .faults import FaultBook, FaultMiddleware
from .guard import RequestGuard
from .scheduler import Scheduler, stop_resource_tracker
from .settings import ServerSettings
from .sse import SseRunner
from .state import ServerState, Signer
from .store import Store


def server_url(settings: ServerSettings) -> str:
    """The URL this server answers on (what SSE programs are given)."""
    return settings.bound_url


def build_state(settings: ServerSettings) -> ServerState:
    """Open the data directory and wire the parts together (nothing runs yet)."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    store = Store(settings.data_dir)
    install_devices(store, settings.devices_file, with_examples=settings.example_devices)
    signer = Signer(store.secret("signing"))
    wake = threading.Event()  # set by anything that may have made work for the scheduler
    sse = SseRunner(store, settings, server_url(settings), signer.sse_token, wake.set)
    scheduler = Scheduler(store, settings, sse, wake)
    return ServerState(settings, store, signer, scheduler, sse, FaultBook())


def create_app(settings: ServerSettings) -> FastAPI:
    """An app serving the OQTOPUS user API from ``settings.data_dir``.

    The scheduler and its worker pool start with the app's lifespan and stop with it.
    """
    state = build_state(settings)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        state.store.archives.start()
        state.scheduler.start()
        try:
            yield
        finally:
            state.scheduler.stop()
            state.store.close()  # and its archive helpers
            stop_resource_tracker()  # once every process it tracked has ended

    app = FastAPI(
        title="OQTOPUS local server",
        summary="An OQTOPUS-compatible user API that runs jobs on the qulacs simulator",
        version="1.0",
        lifespan=lifespan,
    )
    app.state.server = state
    install_error_handlers(app)
    app.include_router(routes_user.router)
    app.include_router(routes_storage.router)
    if settings.admin:
        app.include_router(routes_admin.router)

    @app.get("/_health", include_in_schema=False)
    def health() -> dict[str, str]:
        return {"message": "ok"}

    app.add_middleware(FaultMiddleware, book=state.faults)
    app.add_middleware(RequestGuard, state=state)  # added last: the outermost, runs first
    app.add_middleware(DashboardPages)  # outside the guard: answers only the page's static files
    _document_400_not_422(app)
    return app


def _document_400_not_422(app: FastAPI) -> None:
    """Drop FastAPI's 422 from /openapi.json: invalid requests are answered 400 here."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = build()  # cached by FastAPI: the edit below is done once
        for operations in schema.get("paths", {}).values():
            for operation in operations.values():
                operation.get("responses", {}).pop("422", None)
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
