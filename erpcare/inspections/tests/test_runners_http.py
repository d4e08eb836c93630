"""HTTP probe against real loopback servers: plain HTTP, and HTTPS with a self-signed
certificate that expires in five days (made here with ``cryptography``)."""

from __future__ import annotations

import contextlib
import datetime as dt
import ipaddress
import ssl
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from erpcare.inspections.runners import RunnerError, SourceSpec, http_probe

BIG = b"x" * (1024 * 1024 + 512 * 1024) + b"LATE-TOKEN"


class _Handler(BaseHTTPRequestHandler):
    paths: list[tuple[str, str]] = []

    def log_message(self, *args: object) -> None:
        pass

    def _answer(self, with_body: bool) -> None:
        type(self).paths.append((self.command, self.path))
        status, body, headers = 200, "<h1>ERP is up 运行正常</h1>".encode(), {}
        if self.path.startswith("/down"):
            status, body = 503, b"maintenance"
        elif self.path.startswith("/moved"):
            status, body, headers = 302, b"", {"Location": "/app/health"}
        elif self.path.startswith("/slow"):
            time.sleep(2)
        elif self.path.startswith("/big"):
            body = BIG
        elif self.path.startswith("/gbk"):
            body = "系统正常".encode("gb18030")
            headers = {"Content-Type": "text/plain; charset=gb18030"}
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        if "Content-Type" not in headers:
            self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if with_body:
            # The probe stops reading after a megabyte.
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self.wfile.write(body)

    def do_GET(self) -> None:
        self._answer(True)

    def do_HEAD(self) -> None:
        self._answer(False)


@dataclass
class Server:
    url: str
    cert_file: Path | None = None
    not_after: dt.datetime | None = None


def _serve(context: ssl.SSLContext | None = None) -> tuple[ThreadingHTTPServer, str]:
    _Handler.paths = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    scheme = "http"
    if context is not None:
        server.socket = context.wrap_socket(server.socket, server_side=True)
        scheme = "https"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"{scheme}://127.0.0.1:{server.server_address[1]}"


@pytest.fixture
def http_server() -> Iterator[Server]:
    server, url = _serve()
    try:
        yield Server(url)
    finally:
        server.shutdown()
        server.server_close()


def _certificate(directory: Path, days: int) -> tuple[Path, Path, dt.datetime]:
    """Self-signed for 127.0.0.1, valid for ``days`` more days (usable as its own CA)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, "erp.acme.test"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Acme"),
        ]
    )
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    not_after = now + dt.timedelta(days=days)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(not_after)
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = directory / "cert.pem", directory / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file, not_after


@pytest.fixture
def https_server(tmp_path: Path) -> Iterator[Server]:
    cert_file, key_file, not_after = _certificate(tmp_path, days=5)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    server, url = _serve(context)
    try:
        yield Server(url, cert_file, not_after)
    finally:
        server.shutdown()
        server.server_close()


def _spec(url: str, **changes: object) -> SourceSpec:
    return replace(SourceSpec(kind="http", url=url, timeout_ms=3000), **changes)


def _days_left(not_after: dt.datetime) -> float:
    return (not_after - dt.datetime.now(dt.UTC)).total_seconds() / 86400


# --------------------------------------------------------------------------- plain HTTP


def test_status_latency_and_content(http_server: Server):
    spec = _spec(http_server.url + "/app/")
    found = http_probe.probe(spec, "health", {"contains": "运行正常"})
    assert (found.status, found.body_matched, found.error) == (200, True, "")
    assert 0 <= found.latency_ms < 3000
    assert (found.tls_days_left, found.tls_subject) == (None, "")
    missing = http_probe.probe(spec, "health", {"contains": "ERROR 500"})
    assert missing.body_matched is False
    nothing_asked = http_probe.probe(spec, "health", {})
    assert nothing_asked.body_matched is None
    # Relative paths join the data source's URL; absolute paths replace its path.
    http_probe.probe(spec, "/down", {})
    assert [path for _method, path in _Handler.paths] == [
        "/app/health",
        "/app/health",
        "/app/health",
        "/down",
    ]


def test_an_error_status_is_reported_not_raised(http_server: Server):
    found = http_probe.probe(_spec(http_server.url), "/down", {"contains": "maintenance"})
    assert (found.status, found.body_matched, found.error) == (503, True, "")


def test_redirects_are_reported_not_followed(http_server: Server):
    found = http_probe.probe(_spec(http_server.url), "/moved", {})
    assert found.status == 302
    assert _Handler.paths == [("GET", "/moved")]


def test_head_requests_match_no_content(http_server: Server):
    found = http_probe.probe(_spec(http_server.url), "/app", {"method": "head", "contains": "up"})
    assert (found.status, found.body_matched) == (200, None)
    assert _Handler.paths == [("HEAD", "/app")]


def test_content_is_looked_for_in_the_first_megabyte_only(http_server: Server):
    spec = _spec(http_server.url)
    assert http_probe.probe(spec, "/big", {"contains": "xxxx"}).body_matched is True
    assert http_probe.probe(spec, "/big", {"contains": "LATE-TOKEN"}).body_matched is False


def test_content_is_decoded_with_the_declared_charset(http_server: Server):
    found = http_probe.probe(_spec(http_server.url), "/gbk", {"contains": "系统正常"})
    assert found.body_matched is True


def test_a_slow_endpoint_is_an_error_within_the_timeout(http_server: Server):
    started = time.monotonic()
    found = http_probe.probe(_spec(http_server.url, timeout_ms=300), "/slow", {})
    assert found.status == 0
    assert "300 ms" in found.error
    assert time.monotonic() - started < 1.8


def test_nothing_listening_is_an_error_in_the_result():
    with ThreadingHTTPServer(("127.0.0.1", 0), _Handler) as closed:
        port = closed.server_address[1]
    found = http_probe.probe(_spec(f"http://127.0.0.1:{port}"), "/", {})
    assert found.status == 0
    assert f"127.0.0.1:{port}" in found.error
    with pytest.raises(RunnerError, match=f"127.0.0.1:{port}"):
        http_probe.test_connection(_spec(f"http://127.0.0.1:{port}"))


@pytest.mark.parametrize(
    ("spec", "path", "params", "message"),
    [
        (SourceSpec(kind="http"), "/", {}, "No URL"),
        (SourceSpec(kind="prometheus", url="http://127.0.0.1:9"), "/", {}, "cannot be probed"),
        (SourceSpec(kind="http", url="http://127.0.0.1:9"), "http://169.254.169.254/", {}, "path"),
        (SourceSpec(kind="http", url="http://127.0.0.1:9"), "//evil.test/x", {}, "path"),
        (SourceSpec(kind="http", url="file:///etc/passwd"), "", {}, "http://"),
        (SourceSpec(kind="http", url="http://127.0.0.1:9"), "/", {"method": "POST"}, "GET or HEAD"),
        (SourceSpec(kind="http", url="http://127.0.0.1:9"), "/", {"expect_status": "ok"}, "100"),
        (
            SourceSpec(kind="http", url="http://127.0.0.1:9"),
            "/",
            {"expect_status": [200, 999]},
            "100",
        ),
        (SourceSpec(kind="http", url="http://127.0.0.1:9"), "/", {"contains": 5}, "text"),
        (
            SourceSpec(kind="http", url="http://127.0.0.1:9"),
            "/",
            {"verify_tls": "no"},
            "true or false",
        ),
    ],
)
def test_bad_configuration_raises_before_any_request(spec, path, params, message):
    with pytest.raises(RunnerError, match=message):
        http_probe.probe(spec, path, params)


def test_test_connection_reports_status_and_time(http_server: Server):
    answer = http_probe.test_connection(_spec(http_server.url + "/app"))
    assert answer.startswith("HTTP 200 in ")
    assert "certificate" not in answer


# --------------------------------------------------------------------------- HTTPS


def test_self_signed_certificate_is_inspected_without_trusting_it(https_server: Server):
    assert https_server.not_after is not None
    found = http_probe.probe(
        _spec(https_server.url), "/", {"verify_tls": False, "contains": "ERP is up"}
    )
    assert (found.status, found.body_matched, found.error) == (200, True, "")
    assert found.tls_days_left is not None
    assert abs(found.tls_days_left - _days_left(https_server.not_after)) < 0.01
    assert 4.9 < found.tls_days_left <= 5
    assert found.tls_subject == "O=Acme,CN=erp.acme.test"


def test_verified_probe_of_an_untrusted_certificate_fails_but_still_reports_it(
    https_server: Server,
):
    found = http_probe.probe(_spec(https_server.url), "/", {})
    assert found.status == 0
    assert "CERTIFICATE_VERIFY_FAILED" in found.error
    assert found.tls_days_left is not None
    assert 4.9 < found.tls_days_left <= 5
    assert found.tls_subject == "O=Acme,CN=erp.acme.test"
    assert _Handler.paths == []  # no request went over the untrusted connection


def test_the_data_sources_own_ca_bundle_makes_it_trusted(https_server: Server):
    spec = _spec(https_server.url, options={"ca_file": str(https_server.cert_file)})
    found = http_probe.probe(spec, "/", {})
    assert (found.status, found.error) == (200, "")
    assert found.tls_days_left is not None
    assert 4.9 < found.tls_days_left <= 5
    answer = http_probe.test_connection(spec)
    assert answer.startswith("HTTP 200 in ")
    assert answer.endswith("; the certificate expires in 5.0 days")
    # verify_tls: false on the source is the default for its probes; a check can override.
    relaxed = _spec(https_server.url, options={"verify_tls": False})
    assert http_probe.probe(relaxed, "/", {}).status == 200
    assert http_probe.probe(relaxed, "/", {"verify_tls": True}).status == 0


def test_an_unreadable_ca_bundle_is_a_configuration_error(https_server: Server, tmp_path: Path):
    spec = _spec(https_server.url, options={"ca_file": str(tmp_path / "missing.pem")})
    with pytest.raises(RunnerError, match="CA bundle"):
        http_probe.probe(spec, "/", {})
