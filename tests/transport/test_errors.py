"""What a server says reaches the user escaped and bounded (``transport/errors.py``).

A hostile or broken server decides how long its texts are: a 60 KB message, a 100,000
character counts key. Messages show at most ``SHOWN_CHARACTERS`` of each, and say how much
they left out.
"""

from __future__ import annotations

import orjson
import pytest
from quri_parts.backend import BackendError

from quri_parts_oqtopus._http import OqtopusHttpClient
from quri_parts_oqtopus.backend import OqtopusConfig
from quri_parts_oqtopus.transport.errors import SHOWN_CHARACTERS, bounded, preview

from ..http_stub import Reply, StubServer, json_reply

TOKEN = "sentinel-Tk-transport-errors"


def config_for(url: str) -> OqtopusConfig:
    return OqtopusConfig(url, TOKEN, retries=0, backoff=0.0)


def test_bounded_cuts_long_texts_with_a_marker_saying_how_much_was_cut() -> None:
    assert bounded("short") == "short"
    assert bounded("x" * SHOWN_CHARACTERS) == "x" * SHOWN_CHARACTERS
    cut = bounded("x" * 60_000)
    assert cut == "x" * SHOWN_CHARACTERS + f"... [{60_000 - SHOWN_CHARACTERS:,} more characters]"
    assert preview("y" * 500) == "'" + "y" * 199 + "... [302 more characters]"


def test_bounded_escapes_line_breaks_before_cutting() -> None:
    assert bounded("a\nb\x1b[2J", 100) == "a\\nb\\x1b[2J"


@pytest.mark.parametrize("kind", ["message", "detail", "text"])
def test_a_60_kb_error_message_of_the_server_is_cut_with_a_marker(kind: str) -> None:
    said = "disk on fire; " * 4_400  # 61,600 characters
    if kind == "text":
        reply = Reply(400, said.encode(), {"Content-Type": "text/plain"})
    else:
        reply = json_reply({kind: said}, 400)
    with StubServer(lambda request: reply) as stub, pytest.raises(BackendError) as raised:
        OqtopusHttpClient(config_for(stub.url)).list_devices()
    message = str(raised.value)
    assert message.startswith("list devices failed: HTTP 400: disk on fire; disk on fire;")
    assert len(message) < SHOWN_CHARACTERS + 200, len(message)
    assert message.endswith(" more characters]"), message[-100:]


def test_the_message_code_survives_the_cut() -> None:
    body = orjson.dumps({"message": "m" * 50_000, "message_code": "E42"})
    with (
        StubServer(lambda request: Reply(500, body)) as stub,
        pytest.raises(BackendError) as raised,
    ):
        OqtopusHttpClient(config_for(stub.url)).list_devices()
    assert str(raised.value).endswith("... [49,000 more characters] (message_code E42)")
