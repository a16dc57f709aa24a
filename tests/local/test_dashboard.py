"""The dashboard at ``/``: its files are open, its data is not, and in a real browser it
shows jobs, a job's result and timing, and devices, without leaking the token or running
what jobs are named.

The browser tests drive Debian's Chromium through its chromedriver with Selenium (the
[dev] extra). Without Chromium they skip, except under ``CI=true``, where they fail:
.ci/run installs it. With ``OQTOPUS_DASHBOARD_SCREENSHOTS=DIR`` they write the pictures of
docs/dashboard.md there (``OQTOPUS_DASHBOARD_SCREENSHOTS=docs/images pytest
tests/local/test_dashboard.py``).
"""

from __future__ import annotations

import base64
import http.client
import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from selenium import webdriver
from selenium.common.exceptions import NoAlertPresentException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import Select, WebDriverWait

from quri_parts_oqtopus._contract import (
    JOB_STATUSES,
    MAX_TAG_LENGTH,
    MAX_TAGS,
    TAG_CHARACTERS,
    TAG_MARK,
    TAGS_LINE_PREFIX,
    TOKEN_HEADER,
)
from quri_parts_oqtopus.backend.tags import tags_of
from quri_parts_oqtopus.local import LocalServer
from quri_parts_oqtopus.local.dashboard import PAGE_PATH, load_assets
from quri_parts_oqtopus.local.views import INLINE_JOB_INFO_HEADER

from ..conftest import SENTINEL_TOKEN
from .helpers import TIMEOUT, Api, bell_qasm, qasm

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
HOSTILE_NAME = "<img src=x onerror=alert(document.domain)>"
ESCAPES_NAME = "\x1b[31mred\x1b]0;title\x07 \u202eevil"
ESCAPES_SHOWN = "\\x1b[31mred\\x1b]0;title\\x07 \\u202eevil"
JOB_COUNT = 15
PAGE_SIZE = 10
ZZ = [{"pauli": "Z0 Z1", "coeff": 1.0}]
WAIT = 30  # seconds: only stops a hang


# -- a server with jobs of every kind the page shows ---------------------------------------


@pytest.fixture(scope="module")
def dashboard_server() -> Iterator[LocalServer]:
    with LocalServer(token=SENTINEL_TOKEN, workers=2) as server:
        api = Api(server)
        ghz = qasm(3, "h q[0];\ncx q[0], q[1];\ncx q[1], q[2];")
        submitted = [
            api.submit("sampling", {"program": [bell_qasm()]}, name="bell", description="tag:demo"),
            api.submit("sampling", {"program": ["OPENQASM 3; not a program"]}, name="broken"),
            api.submit("sampling", {"program": [ghz]}, name="ghz", device_id="emu-ring-8"),
            api.submit("sampling", {"program": [bell_qasm()]}, name=HOSTILE_NAME),
            api.submit("sampling", {"program": [bell_qasm()]}, name=ESCAPES_NAME),
            api.submit("multi_manual", {"program": [bell_qasm()] * 2}, name="two bells"),
            api.submit("estimation", {"program": [bell_qasm()], "operator": ZZ}, name="zz"),
            # Tags as submissions write them (backend/tags.py): #run-7 is inside #run-70.
            api.submit("sampling", {"program": [bell_qasm()]}, name="tagged",
                       description="the seventh run\ntags: #chem #run-7"),
            api.submit("sampling", {"program": [bell_qasm()]}, name="tagged later",
                       description="tags: #run-70"),
            # The user's own last line, which only looks like tags: no tags, as tags_of reads it.
            api.submit("sampling", {"program": [bell_qasm()]}, name="untagged",
                       description="Notes\ntags: I like #hashtags and #ok"),
        ]  # fmt: skip
        # More than a page of jobs, so that there is a second page.
        submitted += [
            api.submit("sampling", {"program": [bell_qasm()]}, name=f"filler {n}", shots=10)
            for n in range(JOB_COUNT - len(submitted))
        ]
        for job_id in submitted:
            api.wait(job_id)
        yield server


def _get(url: str) -> requests.Response:
    """``GET url`` as a browser would send it: no token, and never through a proxy."""
    with requests.Session() as session:
        session.trust_env = False
        return session.get(url, timeout=TIMEOUT)


def job_named(server: LocalServer, name: str) -> dict[str, Any]:
    jobs = Api(server).get("/jobs", params={"q": name, "size": 100}).json()
    matching = [job for job in jobs if job["name"] == name]
    assert len(matching) == 1, (name, jobs)
    job: dict[str, Any] = matching[0]
    return job


# -- without a browser: what is open, and with which headers -------------------------------


@pytest.mark.parametrize(
    ("path", "media_type"),
    [
        ("/", "text/html"),
        ("/_dashboard/dashboard.js", "text/javascript"),
        ("/_dashboard/dashboard.css", "text/css"),
        ("/_dashboard/icon.svg", "image/svg+xml"),
        ("/_dashboard/contract.json", "application/json"),
    ],
)
def test_the_page_and_its_files_need_no_token_and_carry_a_strict_policy(
    dashboard_server: LocalServer, path: str, media_type: str
) -> None:
    response = _get(dashboard_server.url + path)
    assert response.status_code == 200, (path, response.text)
    assert response.headers["content-type"].startswith(media_type), path
    policy = response.headers["content-security-policy"]
    for directive in ("default-src 'self'", "script-src 'self';", "form-action 'none'"):
        assert directive in policy, policy
    for loophole in ("unsafe-inline", "unsafe-eval", "*", "data:"):
        assert loophole not in policy, policy
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert SENTINEL_TOKEN not in response.text


def test_the_page_has_no_inline_script_and_its_token_field_cannot_be_submitted() -> None:
    page = load_assets()[PAGE_PATH][0].decode()
    assert page.count("<script") == 1
    assert '<script src="_dashboard/dashboard.js" defer></script>' in page
    field = page[page.index('<input id="token-input"') :].split(">", 1)[0]
    assert 'type="password"' in field, field
    assert "name=" not in field, field  # a field without a name is never sent by a form
    assert "action=" not in page


def _raw_status(server: LocalServer, method: str, path: str) -> int:
    """The status of ``method path`` sent as written (no client normalises the path)."""
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=TIMEOUT)
    try:
        connection.request(method, path)
        return connection.getresponse().status
    finally:
        connection.close()


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/jobs"),
        ("GET", "/devices"),
        ("GET", "/_dashboard/missing.js"),
        ("GET", "/_dashboard/../jobs"),
        ("GET", "/_dashboard/%2e%2e/jobs"),
        ("GET", "/_dashboard/"),
        ("GET", "/index.html"),
        ("POST", "/"),
        ("PUT", "/_dashboard/dashboard.js"),
        ("HEAD", "/"),
    ],
)
def test_nothing_but_the_dashboards_files_is_open_without_a_token(
    dashboard_server: LocalServer, method: str, path: str
) -> None:
    assert _raw_status(dashboard_server, method, path) == 401, (method, path)


def test_the_page_reads_the_statuses_the_token_header_and_the_tag_words_from_the_contract(
    dashboard_server: LocalServer,
) -> None:
    answer = _get(dashboard_server.url + "/_dashboard/contract.json")
    assert answer.json() == {
        "token_header": TOKEN_HEADER,
        "inline_header": INLINE_JOB_INFO_HEADER,
        "job_statuses": list(JOB_STATUSES),
        "tags_line_prefix": TAGS_LINE_PREFIX,
        "tag_mark": TAG_MARK,
        "tag_characters": TAG_CHARACTERS,
        "max_tag_length": MAX_TAG_LENGTH,
        "max_tags": MAX_TAGS,
    }


# -- in a real browser ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser() -> Iterator[webdriver.Chrome]:
    missing = [program for program in (CHROMIUM, CHROMEDRIVER) if shutil.which(program) is None]
    if missing and os.environ.get("CI") == "true":
        pytest.fail(f"{', '.join(missing)} not installed: .ci/run installs them under CI=true")
    if missing:
        pytest.skip(f"{', '.join(missing)} not installed: apt-get install chromium chromium-driver")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                     "--window-size=1280,1000", "--no-first-run"):  # fmt: skip
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
    # The driver's path is given, so Selenium Manager looks nothing up and downloads nothing.
    driver = webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))
    driver.set_page_load_timeout(WAIT)
    try:
        yield driver
    finally:
        driver.quit()


def _visible(driver: webdriver.Chrome, css: str) -> WebElement:
    locator = (By.CSS_SELECTOR, css)
    element: WebElement = WebDriverWait(driver, WAIT).until(
        expected_conditions.visibility_of_element_located(locator)
    )
    return element


# The page marks the view it has finished drawing; a test waits for that, not for a time.
_SETTLED = """const view = document.getElementById("view");
return view.dataset.shown === location.hash && view.getAttribute("aria-busy") === "false";"""


def _settle(driver: webdriver.Chrome) -> None:
    """Wait until the view of the current address is drawn (or its failure shown)."""
    WebDriverWait(driver, WAIT).until(lambda d: d.execute_script(_SETTLED))


def _go(driver: webdriver.Chrome, server: LocalServer, hash_: str) -> None:
    driver.get(f"{server.url}/{hash_}")
    _settle(driver)


def _click(driver: webdriver.Chrome, css: str) -> None:
    """Click what changes the address, and wait for the new view."""
    _visible(driver, css).click()
    _settle(driver)


def _open(driver: webdriver.Chrome, server: LocalServer, token: str | None) -> None:
    """A fresh tab's state: the page at ``/``, no token kept; then ``token`` typed, if any."""
    driver.get(server.url + "/#/jobs")
    driver.execute_script("sessionStorage.clear()")
    driver.refresh()
    _settle(driver)
    if token is not None:
        _type_token(driver, token)


def _type_token(driver: webdriver.Chrome, token: str) -> None:
    _visible(driver, "#token-input").send_keys(token)
    _visible(driver, "#token-save").click()
    WebDriverWait(driver, WAIT).until(
        expected_conditions.presence_of_element_located(
            (By.CSS_SELECTOR, "#token-form[data-token='set']")
        )
    )
    _settle(driver)


def _log(driver: webdriver.Chrome, kind: str) -> list[dict[str, Any]]:
    """Chrome's log of ``kind`` since the last read (selenium leaves get_log untyped)."""
    entries: list[dict[str, Any]] = driver.get_log(kind)  # type: ignore[no-untyped-call]
    return entries


def _traffic(driver: webdriver.Chrome) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The requests the browser sent and the responses it got since the last call (Chrome's
    performance log)."""
    sent, answered = [], []
    for entry in _log(driver, "performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            sent.append(message["params"]["request"])
        elif message["method"] == "Network.responseReceived":
            answered.append(message["params"]["response"])
    return sent, answered


def _screenshot(driver: webdriver.Chrome, name: str, down_to: str | None = None) -> None:
    """The page from its top down to the bottom of ``down_to`` (None: all of it)."""
    bottom = driver.execute_script(
        "const e = arguments[0] && document.querySelector(arguments[0]);"
        "return e ? e.getBoundingClientRect().bottom + window.scrollY + 16"
        " : document.documentElement.scrollHeight;",
        down_to,
    )
    clip = {"x": 0, "y": 0, "width": 1280, "height": min(bottom, 2000), "scale": 1}
    shot = driver.execute_cdp_cmd(
        "Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True, "clip": clip}
    )
    png = base64.b64decode(shot["data"])
    assert png.startswith(b"\x89PNG"), name
    folder = os.environ.get("OQTOPUS_DASHBOARD_SCREENSHOTS")
    if folder:
        Path(folder, f"dashboard-{name}.png").write_bytes(png)


def _texts(driver: webdriver.Chrome, css: str) -> list[str]:
    return [element.text for element in driver.find_elements(By.CSS_SELECTOR, css)]


def _count(driver: webdriver.Chrome, css: str) -> int:
    count: int = driver.execute_script(f"return document.querySelectorAll({css!r}).length")
    return count


def test_without_the_token_the_data_calls_answer_401_and_the_page_says_so(
    browser: webdriver.Chrome, dashboard_server: LocalServer
) -> None:
    _traffic(browser)  # only what follows
    _open(browser, dashboard_server, None)
    notice = _visible(browser, "#notice[data-status='401']").text
    assert "The server answered 401 (missing q-api-token header)" in notice, notice
    assert _count(browser, "table.jobs") == 0
    _type_token(browser, "not-the-token")
    notice = _visible(browser, "#notice[data-status='401']").text
    assert "(invalid q-api-token)" in notice, notice
    assert _count(browser, "table.jobs") == 0
    _, answered = _traffic(browser)
    data_calls = [r["status"] for r in answered if "/jobs?" in r["url"]]
    assert data_calls, answered
    assert set(data_calls) == {401}, data_calls


def test_the_jobs_list_filters_by_status_and_text_and_pages(
    browser: webdriver.Chrome, dashboard_server: LocalServer
) -> None:
    _open(browser, dashboard_server, SENTINEL_TOKEN)
    assert _count(browser, "table.jobs tbody tr") == PAGE_SIZE
    _click(browser, "#page-next")
    assert _texts(browser, "#page-number") == ["page 2"]
    assert _count(browser, "table.jobs tbody tr") == JOB_COUNT - PAGE_SIZE
    assert _visible(browser, "#page-next").get_attribute("disabled") is not None  # the last
    _click(browser, "#page-previous")
    assert _count(browser, "table.jobs tbody tr") == PAGE_SIZE
    Select(_visible(browser, "#filter-status")).select_by_value("failed")
    _click(browser, "#filter-apply")
    assert _texts(browser, "table.jobs .status") == ["failed"]
    assert "broken" in _texts(browser, "table.jobs tbody tr")[0]
    Select(_visible(browser, "#filter-status")).select_by_value("")
    _visible(browser, "#filter-text").send_keys("tag:demo")
    _click(browser, "#filter-apply")
    rows = _texts(browser, "table.jobs tbody tr")
    assert len(rows) == 1, rows
    assert "bell\ntag:demo" in rows[0], rows  # the description under the name


def test_the_jobs_list_filters_by_exact_tag_and_shows_tags_apart_from_the_description(
    browser: webdriver.Chrome, dashboard_server: LocalServer
) -> None:
    _open(browser, dashboard_server, SENTINEL_TOKEN)
    _visible(browser, "#filter-tag").send_keys("run-7")
    _click(browser, "#filter-apply")
    rows = _texts(browser, "table.jobs tbody tr")
    assert len(rows) == 1, rows  # not "tagged later", whose #run-70 the server's q also finds
    assert "tagged\nthe seventh run" in rows[0], rows
    assert "tags:" not in rows[0], rows  # the tags line is shown as tags, not as text
    assert _texts(browser, "table.jobs .tag") == ["#chem", "#run-7"]
    assert "tag=run-7" in browser.current_url
    tag = _visible(browser, "#filter-tag")
    tag.clear()
    tag.send_keys("ok")
    _click(browser, "#filter-apply")
    assert _count(browser, "table.jobs tbody tr") == 0  # the server's q found "untagged"
    assert tags_of("Notes\ntags: I like #hashtags and #ok") == ()  # the client agrees
    _visible(browser, "#filter-tag").clear()
    _visible(browser, "#filter-text").send_keys("hashtags")
    _click(browser, "#filter-apply")
    rows = _texts(browser, "table.jobs tbody tr")
    assert len(rows) == 1, rows
    assert "tags: I like #hashtags and #ok" in rows[0], rows  # shown as the user wrote it


def test_a_jobs_detail_shows_its_histogram_transpile_result_and_timing(
    browser: webdriver.Chrome, dashboard_server: LocalServer
) -> None:
    job = job_named(dashboard_server, "ghz")
    counts = Api(dashboard_server).fetch(job["job_info"]["result"])["sampling"]["counts"]
    _open(browser, dashboard_server, SENTINEL_TOKEN)
    _go(browser, dashboard_server, f"#/jobs/{job['job_id']}")
    assert _count(browser, "#job-result table.histogram .bar") == len(counts)
    labels = _texts(browser, "#job-result table.histogram th")
    assert sorted(labels) == sorted(counts), labels
    assert labels[0] == max(counts, key=counts.__getitem__), labels  # most frequent first
    program = _texts(browser, "#job-transpile pre.program")[0]
    assert program.startswith("OPENQASM 3"), program
    assert "cx $0, $1;" in program, program  # on emu-ring-8's physical qubits
    phases = [row.rsplit(" ", 2) for row in _texts(browser, "#job-timing table.timing tbody tr")]
    names = [name.split(" (")[0] for name, _, _ in phases]
    assert names == ["queued", "ready → running", "running → ended", "total", "execution_time"]
    for _, seconds, unit in phases:
        assert unit == "s", phases  # every phase of an ended job is known
        assert float(seconds) >= 0, phases
    _screenshot(browser, "job", "#job-transpile pre.program")


def test_a_multi_manual_job_shows_each_programs_counts_and_an_estimation_its_value(
    browser: webdriver.Chrome, dashboard_server: LocalServer
) -> None:
    _open(browser, dashboard_server, SENTINEL_TOKEN)
    _go(browser, dashboard_server, f"#/jobs/{job_named(dashboard_server, 'two bells')['job_id']}")
    assert _texts(browser, "#job-result h4") == ["program 0", "program 1"]
    for program in (2, 3):  # after the combined counts: each program's own two outcomes
        labels = _texts(browser, f"#job-result table.histogram:nth-of-type({program}) th")
        assert sorted(labels) == ["00", "11"], labels
    _go(browser, dashboard_server, f"#/jobs/{job_named(dashboard_server, 'zz')['job_id']}")
    terms, values_shown = _texts(browser, "#job-result dt"), _texts(browser, "#job-result dd")
    values = dict(zip(terms, values_shown, strict=True))
    assert float(values["exp_value"]) == pytest.approx(1.0), values  # <Z0 Z1> of a Bell pair
    assert float(values["stds"]) >= 0, values


def test_a_failed_jobs_detail_shows_its_message_and_no_result(
    browser: webdriver.Chrome, dashboard_server: LocalServer
) -> None:
    job = job_named(dashboard_server, "broken")
    _open(browser, dashboard_server, SENTINEL_TOKEN)
    _go(browser, dashboard_server, f"#/jobs/{job['job_id']}")
    assert job["job_info"]["message"]
    assert job["job_info"]["message"] in _texts(browser, "dl")[0]
    assert _texts(browser, "#job-result .empty") == ["No result."]
    assert _texts(browser, "#job-transpile .empty") == ["Not transpiled."]


@pytest.mark.parametrize(
    ("device_id", "qubits", "pairs"), [("emu-heavyhex-16", 16, 16), ("emu-ring-8", 8, 8)]
)
def test_a_devices_coupling_map_draws_one_circle_per_qubit(
    browser: webdriver.Chrome,
    dashboard_server: LocalServer,
    device_id: str,
    qubits: int,
    pairs: int,
) -> None:
    _open(browser, dashboard_server, SENTINEL_TOKEN)
    _go(browser, dashboard_server, "#/devices")
    listed = [row.split()[0] for row in _texts(browser, "table.devices tbody tr")]
    assert device_id in listed, listed
    _go(browser, dashboard_server, f"#/devices/{device_id}")
    assert _count(browser, "svg.coupling-map circle") == qubits
    assert _count(browser, "svg.coupling-map line") == pairs  # both directions drawn once
    assert _count(browser, "table.qubits tbody tr") == qubits
    fills = browser.execute_script(
        "return [...document.querySelectorAll('svg.coupling-map circle')]"
        ".map(c => c.getAttribute('fill'))"
    )
    assert len(set(fills)) > 1, fills  # coloured by each qubit's own readout error
    if device_id == "emu-heavyhex-16":
        _screenshot(browser, "device", "#device-calibration .legend:last-of-type")


def test_a_simulator_has_no_coupling_map(
    browser: webdriver.Chrome, dashboard_server: LocalServer
) -> None:
    _open(browser, dashboard_server, SENTINEL_TOKEN)
    _go(browser, dashboard_server, "#/devices/qulacs")
    assert _count(browser, "svg.coupling-map") == 0
    assert "No calibration data" in _texts(browser, "#device-calibration")[0]


def test_hostile_job_names_are_shown_as_text_and_run_nothing(
    browser: webdriver.Chrome, dashboard_server: LocalServer
) -> None:
    _open(browser, dashboard_server, SENTINEL_TOKEN)
    _go(browser, dashboard_server, "#/jobs?size=20")  # every job on one page
    names = _texts(browser, "table.jobs tbody td:nth-child(2)")
    assert HOSTILE_NAME in names, names
    assert ESCAPES_SHOWN in names, names
    assert _count(browser, "img") == 0  # nothing was parsed as HTML
    _screenshot(browser, "jobs", ".pager")
    hostile = job_named(dashboard_server, HOSTILE_NAME)
    _go(browser, dashboard_server, f"#/jobs/{hostile['job_id']}")
    assert _texts(browser, "#job-title") == [HOSTILE_NAME]
    assert _count(browser, "img") == 0
    with pytest.raises(NoAlertPresentException):
        _ = browser.switch_to.alert.text
    escapes = job_named(dashboard_server, ESCAPES_NAME)
    _go(browser, dashboard_server, f"#/jobs/{escapes['job_id']}")
    assert _texts(browser, "#job-title") == [ESCAPES_SHOWN]


def test_the_token_is_in_no_url_no_page_and_only_in_the_apis_header(
    browser: webdriver.Chrome, dashboard_server: LocalServer
) -> None:
    _open(browser, dashboard_server, None)
    _traffic(browser)  # only what follows
    _type_token(browser, SENTINEL_TOKEN)
    ghz = job_named(dashboard_server, "ghz")
    for hash_ in ("#/jobs?status=succeeded", f"#/jobs/{ghz['job_id']}", "#/devices",
                  "#/devices/emu-square-64"):  # fmt: skip
        _go(browser, dashboard_server, hash_)
        assert SENTINEL_TOKEN not in browser.page_source, hash_
        assert SENTINEL_TOKEN not in browser.current_url, hash_
    assert browser.get_cookies() == []
    sent, _ = _traffic(browser)
    # job_info and device_info come inline: the page reads no archive (the server's one
    # reader does), so nothing under /_storage/ is fetched at all
    assert not [r for r in sent if "/_storage/" in r["url"]], sent
    assert any(r["url"].startswith(f"{dashboard_server.url}/jobs/") for r in sent), sent
    for request in sent:
        assert request["url"].startswith(dashboard_server.url + "/"), request["url"]
        assert SENTINEL_TOKEN not in request["url"], request["url"]
        path = request["url"].removeprefix(dashboard_server.url)
        carries_token = request["headers"].get(TOKEN_HEADER) == SENTINEL_TOKEN
        assert carries_token == path.startswith(("/jobs", "/devices")), request
    console = _log(browser, "browser")
    assert not [e for e in console if "Content Security Policy" in e["message"]], console
