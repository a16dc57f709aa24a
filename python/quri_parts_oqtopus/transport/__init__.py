"""How the client's HTTP exchanges are made: the token's one origin, bounded answers, one budget.

- :mod:`.origin`: origins (where the API token may go) and URLs as they may be shown;
- :mod:`.errors`: :class:`OqtopusHttpError`, and how what a server says becomes a message;
- :mod:`.budget`: the one retry loop and its budget;
- :mod:`.session`: the :class:`Transport`, which sends requests and reads answers;
- :mod:`.mock`: :class:`MockTransport`, which answers from a function instead (tests).
"""

from quri_parts_oqtopus.transport.errors import OqtopusHttpError, bounded, preview
from quri_parts_oqtopus.transport.mock import MockResponse, MockTransport
from quri_parts_oqtopus.transport.origin import api_url_refusal, origin, without_query
from quri_parts_oqtopus.transport.session import Request, Transport, TransportConfig

__all__ = [
    "MockResponse",
    "MockTransport",
    "OqtopusHttpError",
    "Request",
    "Transport",
    "TransportConfig",
    "api_url_refusal",
    "bounded",
    "origin",
    "preview",
    "without_query",
]
