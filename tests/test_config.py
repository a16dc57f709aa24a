"""OqtopusConfig: construction, the file format, resolution order, and secrecy of the token."""

from __future__ import annotations

from pathlib import Path

import pytest
from quri_parts.backend import BackendError

from quri_parts_oqtopus.backend import OqtopusConfig, OqtopusDeviceBackend, OqtopusSamplingBackend

TOKEN = "sentinel-token-0123456789"


def write_config(path: Path, text: str) -> str:
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_properties_return_what_was_given() -> None:
    config = OqtopusConfig("http://127.0.0.1:1", TOKEN, "http://127.0.0.1:3128")
    assert (config.url, config.api_token, config.proxy) == (
        "http://127.0.0.1:1",
        TOKEN,
        "http://127.0.0.1:3128",
    )
    assert OqtopusConfig("u", "t").proxy is None


@pytest.mark.parametrize(("url", "token"), [(None, "t"), ("u", None)])
def test_none_url_or_token_is_a_value_error(url: str, token: str) -> None:
    with pytest.raises(ValueError, match="should not be None"):
        OqtopusConfig(url, token)


def test_repr_hides_the_token() -> None:
    text = repr(OqtopusConfig("http://127.0.0.1:1", TOKEN))
    assert TOKEN not in text
    assert "127.0.0.1" in text


def test_from_file_reads_the_named_section(tmp_path: Path) -> None:
    path = write_config(
        tmp_path / "oqtopus",
        "[default]\nurl=http://127.0.0.1:1\napi_token=a\n\n"
        "[other]\nurl=http://127.0.0.1:2\napi_token=b\nproxy=http://127.0.0.1:3\n",
    )
    assert OqtopusConfig.from_file(path=path) == OqtopusConfig("http://127.0.0.1:1", "a")
    assert OqtopusConfig.from_file("other", path) == OqtopusConfig(
        "http://127.0.0.1:2", "b", "http://127.0.0.1:3"
    )


def test_from_file_expands_home_and_env_vars(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("CFG_DIR", str(tmp_path))
    write_config(tmp_path / ".oqtopus", "[default]\nurl=http://127.0.0.1:9\napi_token=x\n")
    assert OqtopusConfig.from_file().url == "http://127.0.0.1:9"
    assert OqtopusConfig.from_file(path="$CFG_DIR/.oqtopus").api_token == "x"


def test_token_with_percent_sign_is_read_verbatim(tmp_path: Path) -> None:
    path = write_config(tmp_path / "c", "[default]\nurl=http://127.0.0.1:1\napi_token=a%b\n")
    assert OqtopusConfig.from_file(path=path).api_token == "a%b"


def test_missing_file_names_the_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope"
    with pytest.raises(ValueError, match="not found") as info:
        OqtopusConfig.from_file(path=str(missing))
    assert str(missing) in str(info.value)


def test_missing_section_names_file_and_section(tmp_path: Path) -> None:
    path = write_config(tmp_path / "c", "[default]\nurl=u\napi_token=t\n")
    with pytest.raises(ValueError, match=r"no section \[prod\]") as info:
        OqtopusConfig.from_file("prod", path)
    assert path in str(info.value)


@pytest.mark.parametrize("missing", ["url", "api_token"])
def test_missing_key_names_file_section_and_key(tmp_path: Path, missing: str) -> None:
    lines = {"url": "url=http://127.0.0.1:1", "api_token": "api_token=t"}
    del lines[missing]
    path = write_config(tmp_path / "c", "[default]\n" + "\n".join(lines.values()) + "\n")
    with pytest.raises(ValueError, match=rf"\[default\], has no key '{missing}'") as info:
        OqtopusConfig.from_file(path=path)
    assert path in str(info.value)


@pytest.mark.parametrize(("section", "path"), [(None, "~/.oqtopus"), ("default", None)])
def test_from_file_none_arguments_are_value_errors(section: str, path: str) -> None:
    with pytest.raises(ValueError, match="should not be None"):
        OqtopusConfig.from_file(section, path)


def test_sse_container_gives_an_empty_config(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OQTOPUS_ENV", "sse_container")
    assert OqtopusConfig.from_file(path="/nonexistent") == OqtopusConfig("", "")


def test_resolution_prefers_the_argument(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OQTOPUS_URL", "http://127.0.0.1:7")
    monkeypatch.setenv("OQTOPUS_API_TOKEN", "env")
    given = OqtopusConfig("http://127.0.0.1:8", "arg")
    assert OqtopusSamplingBackend(given).config == given


def test_resolution_uses_env_when_both_are_set(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))  # no ~/.oqtopus to fall back on
    monkeypatch.setenv("OQTOPUS_URL", "http://127.0.0.1:7")
    monkeypatch.setenv("OQTOPUS_API_TOKEN", "env")
    monkeypatch.setenv("OQTOPUS_PROXY", "http://127.0.0.1:3128")
    assert OqtopusSamplingBackend().config == OqtopusConfig(
        "http://127.0.0.1:7", "env", "http://127.0.0.1:3128"
    )


def test_resolution_falls_back_to_the_default_section(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("OQTOPUS_API_TOKEN", raising=False)
    monkeypatch.setenv("OQTOPUS_URL", "http://127.0.0.1:7")  # alone it is not enough
    write_config(tmp_path / ".oqtopus", "[default]\nurl=http://127.0.0.1:5\napi_token=f\n")
    assert OqtopusSamplingBackend().config == OqtopusConfig("http://127.0.0.1:5", "f")


def test_file_config_without_proxy_takes_env_proxy(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("OQTOPUS_URL", raising=False)
    monkeypatch.setenv("OQTOPUS_PROXY", "http://127.0.0.1:3128")
    write_config(tmp_path / ".oqtopus", "[default]\nurl=http://127.0.0.1:5\napi_token=f\n")
    assert OqtopusConfig.resolve(None).proxy == "http://127.0.0.1:3128"


def test_explicit_config_is_kept_as_given_and_env_proxy_only_fills_a_missing_proxy(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # As the reference: backend.config is the caller's object; OQTOPUS_PROXY is used for
    # the requests of a config without a proxy and never overrides one it names.
    monkeypatch.setenv("OQTOPUS_PROXY", "http://127.0.0.1:3128")
    without = OqtopusConfig("http://127.0.0.1:5", "f")
    backend = OqtopusSamplingBackend(without)
    assert backend.config is without
    assert backend.config.proxy is None
    assert without.with_environment_proxy().proxy == "http://127.0.0.1:3128"
    for named in ("http://127.0.0.1:8", ""):
        given = OqtopusConfig("http://127.0.0.1:5", "f", named)
        assert OqtopusSamplingBackend(given).config is given
        assert given.with_environment_proxy() is given


def test_no_config_anywhere_is_a_value_error_naming_the_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("OQTOPUS_URL", raising=False)
    monkeypatch.delenv("OQTOPUS_API_TOKEN", raising=False)
    with pytest.raises(ValueError, match=r"\.oqtopus"):
        OqtopusSamplingBackend()


def test_transport_settings_have_sane_defaults() -> None:
    config = OqtopusConfig("http://127.0.0.1:1", "t")
    assert config.timeout == (10.0, 60.0)
    assert config.retries == 5
    assert config.connect_retries is None  # as many as retries
    assert config.backoff == 0.5
    assert config.deadline == 120.0
    assert config.max_response_bytes == 256 << 20
    assert config.max_inflated_bytes == 512 << 20  # far below the 4 GiB a ZIP can claim


def test_with_transport_changes_only_what_it_is_given() -> None:
    config = OqtopusConfig("http://127.0.0.1:1", "t", "http://127.0.0.1:3", retries=2)
    changed = config.with_transport(connect_retries=0, deadline=5)
    assert (changed.connect_retries, changed.deadline) == (0, 5.0)
    assert (changed.url, changed.api_token, changed.proxy, changed.retries) == (
        config.url,
        config.api_token,
        config.proxy,
        2,
    )
    assert changed.with_transport(connect_retries=None, deadline=120.0) == config
    with pytest.raises(ValueError, match="not transport settings of OqtopusConfig: url"):
        config.with_transport(url="http://127.0.0.1:2")


def test_transport_settings_are_kept_by_resolution(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OQTOPUS_PROXY", "http://127.0.0.1:3128")
    given = OqtopusConfig("http://127.0.0.1:1", "t", timeout=3, retries=0, backoff=0.01)
    resolved = OqtopusConfig.resolve(given)
    assert (resolved.timeout, resolved.retries, resolved.backoff) == ((3.0, 3.0), 0, 0.01)
    assert resolved.proxy == "http://127.0.0.1:3128"


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("timeout", 0),
        ("timeout", -1.0),
        ("timeout", (1.0, float("nan"))),
        ("timeout", (1.0, 2.0, 3.0)),
        ("retries", -1),
        ("retries", 1.5),
        ("retries", True),
        ("backoff", -0.1),
        ("backoff", float("inf")),
        ("connect_retries", -1),
        ("connect_retries", 2.0),
        ("deadline", 0),
        ("deadline", float("nan")),
        ("max_response_bytes", 0),
        ("max_response_bytes", 1.5),
        ("max_inflated_bytes", -1),
        ("max_inflated_bytes", True),
    ],
)
def test_bad_transport_settings_name_the_value(setting: str, value: object) -> None:
    with pytest.raises(ValueError, match=setting) as info:
        OqtopusConfig("http://127.0.0.1:1", "t", **{setting: value})  # type: ignore[arg-type]
    assert repr(value) in str(info.value)


def test_transport_settings_from_file(tmp_path: Path) -> None:
    path = write_config(
        tmp_path / "c",
        "[default]\nurl=http://127.0.0.1:1\napi_token=t\ntimeout=2,30\nretries=1\nbackoff=0.1\n",
    )
    config = OqtopusConfig.from_file(path=path)
    assert (config.timeout, config.retries, config.backoff) == ((2.0, 30.0), 1, 0.1)


def test_limits_and_deadline_from_file(tmp_path: Path) -> None:
    path = write_config(
        tmp_path / "c",
        "[default]\nurl=http://127.0.0.1:1\napi_token=t\nconnect_retries=0\ndeadline=30\n"
        "max_response_bytes=1048576\nmax_inflated_bytes=2097152\n",
    )
    config = OqtopusConfig.from_file(path=path)
    assert (config.connect_retries, config.deadline) == (0, 30.0)
    assert (config.max_response_bytes, config.max_inflated_bytes) == (1 << 20, 2 << 20)


@pytest.mark.parametrize(
    ("key", "text"),
    [
        ("deadline", "lots"),
        ("max_response_bytes", "lots"),
        ("max_inflated_bytes", "lots"),
        ("timeout", "soon"),
        ("retries", "-1"),
        ("backoff", "nan"),
    ],
)
def test_unusable_transport_value_in_file_is_left_out_with_a_warning(
    tmp_path: Path, key: str, text: str
) -> None:
    # The reference does not know these keys: they never stop its files from loading.
    path = write_config(tmp_path / "c", f"[default]\nurl=u\napi_token=t\n{key}={text}\n")
    with pytest.warns(UserWarning, match=rf"section \[default\]: {key}='{text}' is ignored"):
        config = OqtopusConfig.from_file(path=path)
    assert (config.url, config.api_token) == ("u", "t")
    assert getattr(config, key) == getattr(OqtopusConfig("u", "t"), key)


def test_repr_shows_every_transport_setting_and_hides_the_token() -> None:
    text = repr(OqtopusConfig("http://127.0.0.1:1", TOKEN, deadline=7))
    assert TOKEN not in text
    for name in ("timeout", "retries", "connect_retries", "backoff", "deadline=7.0"):
        assert name in text, text
    assert "max_response_bytes=268435456" in text
    assert "max_inflated_bytes=536870912" in text


def test_unusable_transport_value_warning_names_the_file(tmp_path: Path) -> None:
    path = write_config(tmp_path / "c", "[default]\nurl=u\napi_token=t\nretries=many\n")
    with pytest.warns(UserWarning, match="many") as caught:
        OqtopusConfig.from_file(path=path)
    assert path in str(caught[0].message)


@pytest.mark.parametrize(
    ("url", "proxy", "message"),
    [
        ("", None, "should start with http"),
        ("127.0.0.1:8080", None, "should start with http"),
        ("ftp://127.0.0.1", None, "should start with http"),
        ("http://127.0.0.1:1", "127.0.0.1:3128", "proxy should be a URL with a scheme"),
    ],
)
def test_urls_without_scheme_are_accepted_then_every_call_says_why_it_fails(
    url: str, proxy: str | None, message: str
) -> None:
    # As the reference: any string at construction, a failure at the first request.
    backend = OqtopusSamplingBackend(OqtopusConfig(url, "t", proxy))
    with pytest.raises(ValueError, match=message) as info:
        backend.sample_qasm("OPENQASM 3;", device_id="qulacs", shots=1)
    assert isinstance(info.value, BackendError)
    assert str(info.value).startswith("To execute sampling on OQTOPUS Cloud is failed. ")
    assert repr(proxy if proxy else url) in str(info.value)
    with pytest.raises(BackendError, match=message):
        OqtopusDeviceBackend(OqtopusConfig(url, "t", proxy)).get_devices()
