"""The SSRF guard: robot and webhook URLs never reach loopback, private, link-local or
other non-public addresses unless an administrator allowed it for the destination, and
the request goes to the address that was checked."""

from __future__ import annotations

import socket

import pytest

from erpcare.channels import http
from erpcare.channels.tests.http_receiver import Receiver
from erpcare.core.errors import ActionError


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.close()


@pytest.mark.parametrize(
    ("url", "word"),
    [
        ("http://127.0.0.1/hook", "loopback"),
        ("http://127.8.9.10:8080/hook", "loopback"),
        ("http://localhost/hook", "loopback"),
        ("http://[::1]/hook", "loopback"),
        ("http://10.0.0.1/hook", "private"),
        ("http://172.16.5.4/hook", "private"),
        ("https://192.168.1.20/hook", "private"),
        ("http://169.254.169.254/latest/meta-data/", "link-local"),
        ("http://[fe80::1]/hook", "link-local"),
        ("http://[fd00::1]/hook", "unique-local"),
        ("http://224.0.0.1/hook", "multicast"),
        ("http://0.0.0.0/hook", "unspecified"),
        ("http://[::ffff:127.0.0.1]/hook", "loopback"),
        ("http://[::ffff:169.254.169.254]/hook", "link-local"),
        ("http://240.0.0.1/hook", "reserved"),
        ("http://100.64.0.1/hook", "not publicly routable"),
    ],
)
def test_non_public_addresses_are_refused_with_their_class(url, word):
    with pytest.raises(ActionError) as refused:
        http.check_url(url, allow_private=False)
    assert word in refused.value.message
    assert "administrator" in refused.value.message
    http.check_url(url, allow_private=True)


def test_public_addresses_pass():
    http.check_url("https://8.8.8.8/hook", allow_private=False)
    http.check_url("https://[2606:4700:4700::1111]:8443/x", allow_private=False)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://example.com/x", "Only http:// and https://"),
        ("file:///etc/passwd", "Only http:// and https://"),
        ("gopher://127.0.0.1:25/", "Only http:// and https://"),
        ("http://", "no host name"),
        ("http://user:pw@8.8.8.8/x", "user name or password"),
        ("http://8.8.8.8:99999/x", "not a valid URL"),
        ("http://no-such-host.invalid/x", "does not resolve"),
    ],
)
def test_malformed_urls_are_refused(url, message):
    with pytest.raises(ActionError) as refused:
        http.check_url(url, allow_private=True)
    assert message in refused.value.message


def test_a_name_is_refused_when_any_of_its_addresses_is_private(monkeypatch):
    # One public and one loopback answer: an attacker's DNS could hand out either.
    def two_answers(host, port, *args, **kwargs):
        return [
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("8.8.8.8", port)),
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port)),
        ]

    monkeypatch.setattr(socket, "getaddrinfo", two_answers)
    with pytest.raises(ActionError) as refused:
        http.check_url("https://mixed.example/hook", allow_private=False)
    assert "127.0.0.1" in refused.value.message


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_post_to_loopback_is_refused_before_any_connection(receiver, host):
    result = http.post(receiver.url("/webhook/x", host=host), b"{}", {}, allow_private=False)
    assert not result.ok
    assert not result.retryable
    assert result.status_code is None
    assert "loopback" in result.error
    assert receiver.requests == []


def test_allowed_private_post_reaches_the_checked_address_with_the_original_host(receiver):
    # "localhost" resolves to the loopback address that was checked; the receiver sees
    # the name in Host, so virtual hosts keep working though we connect to the IP.
    result = http.post(
        receiver.url("/slack/services/T/B/x", host="localhost"),
        b'{"text":"hi","blocks":[{"type":"section"}]}',
        {"Content-Type": "application/json"},
        allow_private=True,
    )
    assert result.ok, result
    assert result.status_code == 200
    assert result.response == "ok"
    (request,) = receiver.requests
    assert request.headers["host"] == f"localhost:{receiver.port}"


def test_redirects_are_not_followed(receiver):
    result = http.post(receiver.url("/redirect"), b"{}", {}, allow_private=True)
    assert not result.ok
    assert result.status_code == 302
    assert not result.retryable
    assert "redirect" in result.error
    assert [r.path for r in receiver.requests] == ["/redirect"]


def test_server_errors_are_retryable_client_errors_are_not(receiver):
    receiver.fail_first(1)
    failed = http.post(
        receiver.url("/slack/x"),
        b'{"text":"a","blocks":[{"type":"section"}]}',
        {},
        allow_private=True,
    )
    assert (failed.ok, failed.status_code, failed.retryable) == (False, 500, True)
    assert failed.response == "boom"
    refused = http.post(receiver.url("/slack/x"), b"{}", {}, allow_private=True)
    assert (refused.ok, refused.status_code, refused.retryable) == (False, 400, False)
    receiver.fail_first(1, how="vendor")
    limited = http.post(
        receiver.url("/slack/x"),
        b'{"text":"a","blocks":[{"type":"section"}]}',
        {},
        allow_private=True,
    )
    assert (limited.ok, limited.status_code, limited.retryable) == (False, 429, True)


def test_timeouts_and_refused_connections_are_retryable(receiver):
    receiver.delay = 1.0
    slow = http.post(receiver.url("/slack/x"), b"{}", {}, allow_private=True, timeout=0.2)
    assert (slow.ok, slow.retryable, slow.status_code) == (False, True, None)
    assert "0.2 seconds" in slow.error

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    refused = http.post(f"http://127.0.0.1:{closed_port}/x", b"{}", {}, allow_private=True)
    assert (refused.ok, refused.retryable) == (False, True)
    assert "Could not connect" in refused.error


def test_the_response_excerpt_is_at_most_2_kb(receiver):
    receiver.fail_first(1)
    result = http.post(receiver.url("/webhook/x"), b"x" * 10, {}, allow_private=True)
    assert len(result.response) <= 2048


def test_request_lines_with_secret_urls_never_reach_the_log(receiver):
    """A WeCom robot's key is in its URL's query string: httpx must not log the URL."""
    import logging
    import logging.config

    from django.conf import settings

    logging.config.dictConfig(settings.LOGGING)
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    keep = Keep(level=logging.DEBUG)
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).addHandler(keep)
    try:
        result = http.post(
            receiver.url("/cgi-bin/webhook/send?key=super-secret-key"),
            b"{}",
            {},
            allow_private=True,
        )
    finally:
        for name in ("httpx", "httpcore"):
            logging.getLogger(name).removeHandler(keep)
    assert result.status_code is not None
    assert not [r for r in records if "super-secret-key" in r.getMessage()]
