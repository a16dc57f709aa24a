"""The API token goes only to the configured API's origin, however a URL is spelled.

URL parsers disagree on some spellings (urllib.parse takes the host after an ``@`` where
urllib3 ends the authority at a backslash; tabs and line breaks are stripped by one and
kept by another). Each spelling below is tried over real sockets on loopback: the API
redirects ``GET /jobs/job-1``, ``POST /jobs`` and ``POST /jobs/job-1/submit`` to a
``Location`` so spelled, and a second listener plays the other origin: it must receive
nothing. The configured URL itself is read the same way.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from quri_parts.backend import BackendError

from quri_parts_oqtopus._http import OqtopusHttpClient
from quri_parts_oqtopus.backend import OqtopusConfig, OqtopusSamplingBackend
from quri_parts_oqtopus.transport import origin

from ..http_stub import Received, Reply, StubServer, json_reply

TOKEN = "sentinel-Tk-transport-origin"
#: What the API answers at the target of a redirect it accepts: fit for all three calls.
MOVED_ANSWER = {
    "job_id": "job-1",
    "status": "ready",
    "presigned_url": {"url": "http://127.0.0.1:9/upload", "fields": {"key": "k.zip"}},
}

#: Spellings that must not carry the token, ``{api}`` and ``{other}`` being the two ports.
REFUSED = {
    "backslash-before-userinfo": "http://127.0.0.1:{other}\\@127.0.0.1:{api}/moved",
    "backslash-and-tab": "http://127.0.0.1:{other}\\\t@127.0.0.1:{api}/moved",
    "backslash-as-path": "/\\127.0.0.1:{other}/moved",
    "userinfo-naming-the-api": "http://127.0.0.1:{api}@127.0.0.1:{other}/moved",
    "userinfo-to-the-api-itself": "http://user:secret@127.0.0.1:{api}/moved",
    "two-userinfos": "http://a@127.0.0.1:{other}@127.0.0.1:{api}/moved",
    "tab-in-the-authority": "http://127.0.0.1:{other}\t@127.0.0.1:{api}/moved",
    "carriage-return-in-the-authority": "http://127.0.0.1:{other}\r@127.0.0.1:{api}/moved",
    "line-break-in-the-authority": "http://127.0.0.1:{other}\r\n\t@127.0.0.1:{api}/moved",
    "space-in-the-authority": "http://127.0.0.1:{other} @127.0.0.1:{api}/moved",
    "percent-2f-before-userinfo": "http://127.0.0.1:{other}%2f@127.0.0.1:{api}/moved",
    "percent-40-for-at": "http://127.0.0.1:{other}%40127.0.0.1:{api}/moved",
    "percent-5c-for-backslash": "http://127.0.0.1:{other}%5c@127.0.0.1:{api}/moved",
    "percent-3a-for-colon": "http://127.0.0.1%3a{other}/moved",
    "fragment-before-at": "http://127.0.0.1:{other}#@127.0.0.1:{api}/moved",
    "query-before-at": "http://127.0.0.1:{other}?@127.0.0.1:{api}/moved",
    "ipv4-mapped-ipv6": "http://[::ffff:127.0.0.1]:{other}/moved",
    "upper-case-scheme": "HTTP://127.0.0.1:{other}/moved",
    "protocol-relative": "//127.0.0.1:{other}/moved",
}
#: Spellings of the API's own origin: followed, with the token, to the API.
FOLLOWED = {
    "relative-path": "/moved",
    "upper-case-scheme": "HTTP://127.0.0.1:{api}/moved",
    "protocol-relative": "//127.0.0.1:{api}/moved",
    "zero-padded-port": "http://127.0.0.1:0{api}/moved",
}

Call = Callable[[OqtopusHttpClient], Any]
CALLS: dict[str, tuple[str, str, Call]] = {
    "get-job": ("GET", "/jobs/job-1", lambda client: client.get_job("job-1")),
    "register": ("POST", "/jobs", lambda client: client.register_job()),
    "submit": (
        "POST",
        "/jobs/job-1/submit",
        lambda client: client.submit_job("job-1", {"device_id": "qpu", "shots": 10}),
    ),
}


def config_for(url: str) -> OqtopusConfig:
    return OqtopusConfig(url, TOKEN, retries=2, backoff=0.0)


def redirecting_api(
    status: int, spell: Callable[[int], str], method: str, path: str, **where: Any
) -> StubServer:
    """An API that redirects ``method path`` once to ``spell(its own port)``."""

    def respond(request: Received) -> Reply:
        if (request.method, request.path) == (method, path):
            return Reply(status, headers={"Location": spell(api.port)})
        return json_reply(MOVED_ANSWER)

    api = StubServer(respond, **where)
    return api


@contextlib.contextmanager
def other_origin(**where: Any) -> Iterator[StubServer]:
    with StubServer(lambda request: json_reply(MOVED_ANSWER), **where) as stub:
        yield stub
    assert stub.received == [], f"the other origin received {stub.received}"


def assert_refused(api: StubServer, call: Call, config: OqtopusConfig) -> None:
    with api, pytest.raises(BackendError) as raised:
        call(OqtopusHttpClient(config))
    assert "not followed" in str(raised.value), str(raised.value)
    assert TOKEN not in str(raised.value)
    assert len(api.received) == 1, api.received  # refused for good: not repeated


def assert_followed_with_the_token(api: StubServer, call: Call, config: OqtopusConfig) -> None:
    with api:
        call(OqtopusHttpClient(config))
    moved = [r for r in api.received if r.path == "/moved"]
    assert len(moved) == 1, api.received
    assert moved[0].headers.get("q-api-token") == TOKEN


@pytest.mark.parametrize("call_name", CALLS)
@pytest.mark.parametrize("status", [302, 307])
@pytest.mark.parametrize("spelling", REFUSED.values(), ids=REFUSED.keys())
def test_a_redirect_spelled_to_confuse_url_parsers_reaches_no_other_origin(
    spelling: str, status: int, call_name: str
) -> None:
    method, path, call = CALLS[call_name]
    with other_origin() as other:
        spell = lambda api_port: spelling.format(api=api_port, other=other.port)  # noqa: E731
        api = redirecting_api(status, spell, method, path)
        assert_refused(api, call, config_for(api.url))


@pytest.mark.parametrize("call_name", CALLS)
@pytest.mark.parametrize("spelling", FOLLOWED.values(), ids=FOLLOWED.keys())
def test_a_redirect_to_a_spelling_of_the_api_origin_is_followed_with_the_token(
    spelling: str, call_name: str
) -> None:
    method, path, call = CALLS[call_name]
    with other_origin():
        api = redirecting_api(307, lambda api_port: spelling.format(api=api_port), method, path)
        assert_followed_with_the_token(api, call, config_for(api.url))


@pytest.mark.parametrize("call_name", CALLS)
def test_a_redirect_to_ipv6_loopback_reaches_nothing_there(call_name: str) -> None:
    method, path, call = CALLS[call_name]
    with other_origin(host="::1") as other:
        api = redirecting_api(302, lambda api_port: f"{other.url}/moved", method, path)
        assert_refused(api, call, config_for(api.url))


def test_an_ipv6_api_follows_its_own_redirects_and_refuses_its_ipv4_twin() -> None:
    _, _, get_job = CALLS["get-job"]
    with other_origin() as twin:  # 127.0.0.1 on the port the IPv6 API has, where free
        api = redirecting_api(
            307, lambda port: f"http://[::1]:{port}/moved", "GET", "/jobs/job-1", host="::1"
        )
        assert_followed_with_the_token(api, get_job, config_for(api.url))
        api = redirecting_api(
            307,
            lambda port: f"http://127.0.0.1:{twin.port}/moved",
            "GET",
            "/jobs/job-1",
            host="::1",
        )
        assert_refused(api, get_job, config_for(api.url))


@contextlib.contextmanager
def listening_on_port_80(respond: Callable[[Received], Reply]) -> Iterator[StubServer]:
    try:
        stub = StubServer(respond, port=80)
    except OSError as e:  # not root, or port 80 taken
        pytest.skip(f"cannot listen on 127.0.0.1:80 here: {e}")
    with stub:
        yield stub


@pytest.mark.parametrize(
    "spelling", ["http://127.0.0.1/moved", "http://127.0.0.1:/moved", "http://127.0.0.1:80/moved"]
)
def test_a_redirect_to_the_default_port_reaches_nothing_there(spelling: str) -> None:
    with listening_on_port_80(lambda request: json_reply(MOVED_ANSWER)) as port_80:
        api = redirecting_api(302, lambda api_port: spelling, "GET", "/jobs/job-1")
        assert_refused(api, CALLS["get-job"][2], config_for(api.url))
    assert port_80.received == []


@pytest.mark.parametrize("configured", ["http://127.0.0.1", "http://127.0.0.1:80/"])
@pytest.mark.parametrize("spelling", ["http://127.0.0.1:80/moved", "HTTP://127.0.0.1/moved"])
def test_an_api_on_the_default_port_is_one_origin_with_or_without_the_port(
    configured: str, spelling: str
) -> None:
    def respond(request: Received) -> Reply:
        if request.path == "/jobs/job-1":
            return Reply(307, headers={"Location": spelling})
        return json_reply(MOVED_ANSWER)

    with listening_on_port_80(respond) as api:
        OqtopusHttpClient(config_for(configured)).get_job("job-1")
    assert [r.path for r in api.received] == ["/jobs/job-1", "/moved"]
    assert all(r.headers.get("q-api-token") == TOKEN for r in api.received)


# -- the configured URL ------------------------------------------------------------------------
@pytest.mark.parametrize(
    "spelling",
    [
        "http://127.0.0.1:{other}\\@127.0.0.1:{api}",
        "http://127.0.0.1:{other}\t@127.0.0.1:{api}",
        "http://127.0.0.1:{api}\n",
        "http://127.0.0.1:{api}/\r/v1",
        "http://127.0.0.1:{api}/ v1",
        "http://127.0.0.1:{other}%40127.0.0.1:{api}",
    ],
    ids=["backslash", "tab", "trailing-newline", "carriage-return", "space", "percent-40"],
)
def test_a_configured_url_that_parsers_read_differently_is_refused_before_anything_is_sent(
    spelling: str,
) -> None:
    with other_origin() as other, StubServer(lambda request: json_reply([])) as api:
        url = spelling.format(api=api.port, other=other.port)
        with pytest.raises(ValueError, match="OQTOPUS url cannot be used, since it "):
            OqtopusHttpClient(config_for(url))
        backend = OqtopusSamplingBackend(config_for(url))  # accepted here, as the reference
        with pytest.raises(BackendError, match="OQTOPUS url cannot be used"):
            backend.retrieve_job("job-1")
    assert api.received == []


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://127.0.0.1:1\\@127.0.0.1:2/", "http://127.0.0.1:1"),  # what requests connects to
        ("HTTP://Example.COM/", "http://example.com:80"),
        ("https://example.com:/x", "https://example.com:443"),
        ("http://[::1]:8080/", "http://[::1]:8080"),
        ("http://u:p@example.com:81/", "http://example.com:81"),
    ],
)
def test_origin_is_what_requests_connects_to(url: str, expected: str) -> None:
    assert origin(url) == expected
