"""The dashboard: a read-only web page of jobs and devices at ``/``, served without a token.

The page and its assets are static files (``dashboard/``) that hold no data: the page's
script asks the user for the API token, keeps it in the tab's ``sessionStorage`` and reads
jobs and devices from the ordinary user API with the ``q-api-token`` header, like any
client. So the files are served here, outside the request guard, and every data call still
passes the guard. Only the files listed at startup are served, only to ``GET``; any other
request goes on to the guard unchanged.
"""

from __future__ import annotations

import json
from pathlib import Path

from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from quri_parts_oqtopus._contract import (
    JOB_STATUSES,
    MAX_TAG_LENGTH,
    MAX_TAGS,
    TAG_CHARACTERS,
    TAG_MARK,
    TAGS_LINE_PREFIX,
    TOKEN_HEADER,
)

from .views import INLINE_JOB_INFO_HEADER

ASSETS_DIR = Path(__file__).parent / "dashboard"
#: Where the page is, and the prefix of its assets (relative links in the page use it).
PAGE_PATH = "/"
ASSETS_PREFIX = "/_dashboard/"
#: What the page's script needs of the contract: statuses and the token header are spelled
#: once, in ``_contract``, and served beside the assets rather than copied into the script.
CONTRACT_ASSET = "contract.json"

_MEDIA_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".json": "application/json",
}
#: Scripts and styles only from these files (no inline script, no CDN: the page works
#: offline), data only from this origin, no forms posted anywhere, never framed.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    # Small files: always asked again, so an upgraded server serves its own page.
    "Cache-Control": "no-cache",
}


def contract_document() -> bytes:
    """The contract words the page's script reads (``/_dashboard/contract.json``)."""
    words = {
        "token_header": TOKEN_HEADER,
        "inline_header": INLINE_JOB_INFO_HEADER,
        "job_statuses": list(JOB_STATUSES),
        # Tags live in the description's last line (backend/tags.py writes it).
        "tags_line_prefix": TAGS_LINE_PREFIX,
        "tag_mark": TAG_MARK,
        "tag_characters": TAG_CHARACTERS,
        "max_tag_length": MAX_TAG_LENGTH,
        "max_tags": MAX_TAGS,
    }
    return json.dumps(words).encode()


def load_assets(directory: Path = ASSETS_DIR) -> dict[str, tuple[bytes, str]]:
    """Each URL path the dashboard answers, with its bytes and media type.

    Raises:
        FileNotFoundError: If the page (``index.html``) is missing from ``directory``
            (a broken installation).

    """
    assets = {PAGE_PATH: ((directory / "index.html").read_bytes(), _MEDIA_TYPES[".html"])}
    for file in sorted(directory.iterdir()):
        if file.is_file() and file.name != "index.html" and file.suffix in _MEDIA_TYPES:
            assets[ASSETS_PREFIX + file.name] = (file.read_bytes(), _MEDIA_TYPES[file.suffix])
    assets[ASSETS_PREFIX + CONTRACT_ASSET] = (contract_document(), _MEDIA_TYPES[".json"])
    return assets


class DashboardPages:
    """ASGI middleware answering ``GET`` of the dashboard's files; everything else goes on.

    Added outside the request guard: the files hold no data and need no token, and the
    guard still sees every other request, an unknown file under ``/_dashboard/`` included.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.assets = load_assets()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        asset = None
        if scope["type"] == "http" and scope["method"] == "GET":
            asset = self.assets.get(str(scope["path"]))
        if asset is None:
            await self.app(scope, receive, send)
            return
        body, media_type = asset
        response = Response(body, media_type=media_type, headers=SECURITY_HEADERS)
        await response(scope, receive, send)
