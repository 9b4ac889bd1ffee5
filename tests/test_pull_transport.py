"""``csi pull``'s HTTP: retries with backoff and Retry-After (with a countdown), errors
that quote the server's own words (scrubbed of credentials), redirects, and bounds on
time and size; against the ServiceNow imitation (tests/fixtures/pull/pull_imitation.py)."""

from __future__ import annotations

import base64
import gzip
import json
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from csi_lib.errors import ConfigError, ConnectorError
from csi_lib.pull import Credentials, Limits, ServiceNowSource, pull, read_store
from csi_lib.pull.transport import _Http, check_address, scrub

sys.path.insert(0, str(Path(__file__).parent / "fixtures" / "pull"))
import pull_imitation as im  # noqa: E402

CREDS = Credentials(user="csi.integration", password="s3cret-pw")
ENCODED = base64.b64encode(b"csi.integration:s3cret-pw").decode()


@pytest.fixture
def sn():
    app = im.servicenow_app(im.truth(12))
    with im.Server(app):
        yield app


def source(sn, **kw):
    return ServiceNowSource(sn.url, page_size=kw.pop("page_size", 5), **kw)


def test_502_503_504_and_429_are_retried_with_backoff_and_retry_after(sn, tmp_path):
    sn.script = [
        im.Reply(502, {"Content-Type": "text/html"}, "<html><title>502 Bad Gateway</title></html>"),
        im.Reply(503, {"Retry-After": "7"}, '{"error":{"message":"Instance busy"}}'),
        im.Reply(504, {}, ""),
        im.Reply(429, {"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}, ""),  # a date gone by
    ]
    slept: list[float] = []
    said: list[str] = []
    result = pull(
        source(sn), tmp_path / "s.parquet", CREDS, sleep=slept.append, progress=said.append
    )
    assert result.total == 12
    # 502: backoff; 503: its Retry-After (7 s, told); 504: a longer backoff; 429: now
    assert 0 < slept[0] <= 2 and sum(slept[1:2]) == 7
    assert (
        "the servicenow server answered HTTP 503: 'Instance busy' to /api/now/table/sc_req_item;"
        " waiting 7 s before asking again" in said
    )
    assert len(sn.log) >= 4 + 3


def test_a_server_still_busy_after_the_retries_is_an_error_and_the_store_is_kept(sn, tmp_path):
    store = tmp_path / "s.parquet"
    pull(source(sn), store, CREDS)
    before = store.read_bytes()
    sn.records[0]["sys_updated_on"] = "2025-12-01 00:00:00"
    sn.script = [im.Reply(503, {"Retry-After": "1"}, '{"error":{"message":"Instance busy"}}')] * 3
    with pytest.raises(ConnectorError) as exc:
        pull(source(sn), store, CREDS, sleep=lambda s: None, max_retries=2)
    text = str(exc.value)
    assert "HTTP 503: 'Instance busy'" in text and "3 times in a row" in text
    assert "store was not changed" in text and store.read_bytes() == before


def test_a_long_retry_after_is_counted_down_and_a_longer_one_refused(sn, tmp_path):
    sn.script = [im.Reply(503, {"Retry-After": "300"}, "")]
    slept: list[float] = []
    said: list[str] = []
    pull(source(sn), tmp_path / "s.parquet", CREDS, sleep=slept.append, progress=said.append)
    assert sum(slept) == 300 and max(slept) <= 30
    assert said[0] == (
        "the servicenow server answered HTTP 503 to /api/now/table/sc_req_item; "
        "waiting 300 s before asking again"
    )
    assert "  270 s left" in said and "  30 s left" in said
    sn.script = [im.Reply(503, {"Retry-After": "3600"}, "")]
    with pytest.raises(ConnectorError) as exc:
        pull(source(sn), tmp_path / "t.parquet", CREDS, sleep=slept.append)
    assert "asks to wait 3,600 s (Retry-After)" in str(exc.value)
    assert not (tmp_path / "t.parquet").exists()


@pytest.mark.parametrize("head", [True, False], ids=["headers-dripped", "body-dripped"])
def test_a_server_dripping_bytes_is_cut_off(sn, tmp_path, head):
    """One byte every 0.4 s keeps every read within its timeout; the request's own
    deadline (here 1.5 s) cuts it off, headers or body."""
    sn.script = [im.Drip(every=0.4, head=head)]
    started = time.monotonic()
    outcome: list[BaseException] = []

    def run() -> None:
        try:
            pull(source(sn), tmp_path / "s.parquet", CREDS, limits=Limits(request_timeout=1.5))
        except BaseException as exc:  # noqa: BLE001 - handed to the test's thread
            outcome.append(exc)

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(20)
    assert not worker.is_alive(), "the pull was held by a dripping server"
    assert time.monotonic() - started < 10
    assert isinstance(outcome[0], ConnectorError)
    assert "did not send a whole answer to /api/now/table/sc_req_item within 2 s" in str(outcome[0])
    assert not (tmp_path / "s.parquet").exists()


def test_the_whole_pull_has_a_deadline(sn, tmp_path):
    sn.script = [im.Drip(every=0.3, head=False)]
    started = time.monotonic()
    with pytest.raises(ConnectorError) as exc:
        pull(
            source(sn),
            tmp_path / "s.parquet",
            CREDS,
            limits=Limits(request_timeout=60, deadline=1.0),
        )
    assert time.monotonic() - started < 5
    assert "within the pull's deadline" in str(exc.value)


def test_a_redirect_is_reported_as_one_and_not_followed(sn, tmp_path):
    thief = im.servicenow_app([])
    with im.Server(thief):
        sn.script = [im.Reply(302, {"Location": f"{thief.url}/login.do?user=admin:pw@x"}, "")]
        with pytest.raises(ConnectorError) as exc:
            pull(source(sn), tmp_path / "s.parquet", CREDS)
    text = str(exc.value)
    assert "redirected /api/now/table/sc_req_item to" in text and "(HTTP 302)" in text
    assert "not JSON" not in text and not thief.log


@pytest.mark.parametrize(
    "reply",
    [
        im.Reply(
            200,
            {"Content-Type": "text/html"},
            f"<html><body>You sent Authorization: Basic {ENCODED} for s3cret-pw</body></html>",
        ),
        im.Reply(
            500,
            {"Content-Type": "application/json"},
            json.dumps(
                {
                    "error": {
                        "message": f"bad header Basic {ENCODED}",
                        "detail": "password=s3cret-pw",
                    }
                }
            ),
        ),
        im.Reply(
            401,
            {"Content-Type": "application/json"},
            json.dumps({"error": {"message": f"User Not Authenticated ({ENCODED})"}}),
        ),
    ],
    ids=["echoing-page", "500", "401"],
)
def test_a_servers_words_are_quoted_without_the_credentials(sn, tmp_path, reply):
    sn.script = [reply]
    with pytest.raises(ConnectorError) as exc:
        pull(source(sn), tmp_path / "s.parquet", CREDS)
    text = str(exc.value)
    assert ENCODED not in text and "s3cret-pw" not in text and ENCODED[:12] not in text
    assert "store was not changed" in text


@pytest.mark.parametrize(
    ("reply", "words"),
    [
        (
            im.Reply(
                401,
                {"Content-Type": "application/json"},
                '{"error":{"message":"User Not Authenticated","detail":"Required to provide Auth information"}}',
            ),
            "refused the credentials (HTTP 401): 'User Not Authenticated; Required to provide Auth information'",
        ),
        (
            im.Reply(
                200,
                {"Content-Type": "text/html"},
                "<html><head><title>Instance Hibernating page</title></head></html>",
            ),
            "not JSON (text/html: 'Instance Hibernating page')",
        ),
        (im.Reply(200, {"Content-Type": "application/json"}, '{"results": []}'), "malformed page"),
        (
            im.Reply(200, {"Content-Type": "application/json"}, "[" * 200_000 + "]" * 200_000),
            "not JSON",
        ),
        (im.Reply(500, {}, "{}"), "HTTP 500"),
        (
            im.Reply(
                400,
                {"Content-Type": "application/json"},
                '{"error":{"message":"Invalid table sc_req_itm","detail":null},"status":"failure"}',
            ),
            "(HTTP 400): 'Invalid table sc_req_itm'",
        ),
    ],
)
def test_failures_mid_pull_leave_the_store_as_it_was(sn, tmp_path, reply, words):
    store = tmp_path / "requests.parquet"
    pull(source(sn), store, CREDS)
    before = store.read_bytes()
    for i, record in enumerate(sn.records[:8]):  # more pages to come
        record["sys_updated_on"] = f"2025-12-01 00:00:{i:02d}"
    page = sn.route(
        "/api/now/table/sc_req_item",
        {
            "sysparm_query": "ORDERBYsys_updated_on",
            "sysparm_limit": "5",
            "sysparm_display_value": "all",
        },
    )
    sn.script = [page, reply]
    with pytest.raises(ConnectorError) as exc:
        pull(source(sn), store, CREDS)
    assert words in str(exc.value) and "store was not changed" in str(exc.value)
    assert store.read_bytes() == before
    assert not [p for p in tmp_path.iterdir() if p.name not in (store.name, f".{store.name}.lock")]


def test_an_answer_larger_than_the_limit_is_refused_even_gzipped(sn, tmp_path):
    bomb = gzip.compress(b'{"result": [' + b" " * (8 * 2**20) + b"]}")
    assert len(bomb) < 100_000
    sn.script = [
        im.Reply(200, {"Content-Type": "application/json", "Content-Encoding": "gzip"}, bomb)
    ]
    with pytest.raises(ConnectorError) as exc:
        pull(source(sn), tmp_path / "s.parquet", CREDS, limits=Limits(max_bytes=2**20))
    assert "larger than 1 MB" in str(exc.value)
    sn.script = [
        im.Reply(
            200,
            {"Content-Type": "application/json", "Content-Encoding": "gzip"},
            gzip.compress(b'{"result": []}'),
        )
    ]
    assert pull(source(sn), tmp_path / "s.parquet", CREDS).total == 0


def test_credentials_go_only_to_the_instances_origin():
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"result": []})

    http = _Http(
        "https://acme.service-now.com", CREDS, "servicenow", transport=httpx.MockTransport(handler)
    )
    try:
        assert http.get("/api/now/table/x").body == {"result": []}
        assert seen[0].headers["Authorization"] == f"Basic {ENCODED}"
        for elsewhere in (
            "http://acme.service-now.com/api",
            "https://acme.service-now.com:8443/api",
            "https://evil.example/api",
        ):
            with pytest.raises(
                ConnectorError, match="credentials are sent only to https://acme.service-now.com"
            ):
                http.get(elsewhere)
        assert len(seen) == 1
    finally:
        http.close()


def test_addresses_with_credentials_are_refused_shown_as_stars():
    with pytest.raises(ConfigError) as exc:
        check_address("https://admin:Pa55@acme.service-now.com", "--instance")
    assert "https://***@acme.service-now.com" in str(exc.value) and "Pa55" not in str(exc.value)
    for bad in (
        "ftp://acme.service-now.com",
        "acme.service-now.com",
        "https://acme.service-now.com/?token=abc",
    ):
        with pytest.raises(ConfigError):
            check_address(bad, "--instance")
    assert scrub(f"header Basic {ENCODED} and token=abc123 x") == "header Basic *** and token=*** x"


def test_the_store_is_unchanged_and_requests_bounded_when_pages_are_malformed(sn, tmp_path):
    store = tmp_path / "s.parquet"
    pull(source(sn), store, CREDS)
    sn.script = [im.Reply(200, {"Content-Type": "application/json"}, '{"result": "nope"}')]
    before = store.read_bytes()
    with pytest.raises(ConnectorError, match="no 'result' list"):
        pull(source(sn), store, CREDS)
    assert store.read_bytes() == before and len(read_store(store)[0]) == 12
