"""The server's shared state and the credentials derived from its persistent secret."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Header, Request

from quri_parts_oqtopus._contract import RUNNING, TOKEN_HEADER

from .errors import ApiError
from .faults import FaultBook
from .scheduler import Scheduler
from .settings import ServerSettings
from .sse import SseRunner
from .store import JobRow, Store

_SSE_TOKEN_PREFIX = "sse."  # noqa: S105 - a prefix, not a secret


class Signer:
    """HMAC signatures for storage URLs and SSE tokens (a secret kept in the database)."""

    def __init__(self, secret: str) -> None:
        self._key = secret.encode("ascii")

    def sign(self, text: str) -> str:
        return hmac.new(self._key, text.encode("utf-8"), hashlib.sha256).hexdigest()[:40]

    def verify(self, text: str, signature: str) -> bool:
        return hmac.compare_digest(self.sign(text).encode(), signature.encode("utf-8"))

    def sse_token(self, job_id: str) -> str:
        """The API token an SSE program gets: it names its job, so its jobs are linked to it."""
        return f"{_SSE_TOKEN_PREFIX}{job_id}.{self.sign('sse:' + job_id)}"

    def sse_job_of(self, token: str) -> str | None:
        """The SSE job a token was made for, or None when it is not a valid SSE token."""
        if not token.startswith(_SSE_TOKEN_PREFIX):
            return None
        job_id, _, signature = token[len(_SSE_TOKEN_PREFIX) :].partition(".")
        return job_id if self.verify("sse:" + job_id, signature) else None


@dataclass
class ServerState:
    settings: ServerSettings
    store: Store
    signer: Signer
    scheduler: Scheduler
    sse: SseRunner
    faults: FaultBook


@dataclass(frozen=True)
class Caller:
    """Who is calling: the user, or the SSE program of ``sse_job_id``."""

    sse_job_id: str | None = None

    def may_see(self, job: JobRow) -> bool:
        """The user sees every job; an SSE program only the jobs it created."""
        return self.sse_job_id is None or job.parent_job_id == self.sse_job_id

    def url_base(self, settings: ServerSettings) -> str:
        """The base of the storage URLs this caller is given: the public URL, except for an
        SSE program, whose network reaches only the server's own address."""
        return settings.bound_url if self.sse_job_id is not None else settings.url


def server_state(request: Request) -> ServerState:
    state = request.app.state.server
    assert isinstance(state, ServerState)
    return state


State = Annotated[ServerState, Depends(server_state)]


def _same(given: str, expected: str) -> bool:
    # Constant-time, and safe for header text that is not ASCII.
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


def authenticate(
    state: State,
    q_api_token: Annotated[str | None, Header(alias=TOKEN_HEADER)] = None,
) -> Caller:
    """The caller of a user-API route; 401 unless the token is the server's or a live SSE job's."""
    if q_api_token is None:
        raise ApiError(401, f"missing {TOKEN_HEADER} header")
    if _same(q_api_token, state.settings.token):
        return Caller()
    sse_job_id = state.signer.sse_job_of(q_api_token)
    if sse_job_id is not None:
        job = state.store.get_job(sse_job_id)
        if job is not None and job.status == RUNNING:
            return Caller(sse_job_id=sse_job_id)
    raise ApiError(401, f"invalid {TOKEN_HEADER}")


def authenticate_admin(
    state: State,
    q_api_token: Annotated[str | None, Header(alias=TOKEN_HEADER)] = None,
) -> None:
    """Admin routes take only the server's own token (never an SSE program's)."""
    if q_api_token is None or not _same(q_api_token, state.settings.token):
        raise ApiError(401, f"invalid or missing {TOKEN_HEADER}")


Authenticated = Annotated[Caller, Depends(authenticate)]
