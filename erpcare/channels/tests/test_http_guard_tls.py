"""HTTPS through the guard: we connect to the checked IP, yet TLS still names the host
from the URL (SNI) and the certificate is verified against that name."""

from __future__ import annotations

import datetime
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import certifi
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from erpcare.channels import http


def self_signed(tmp_path, name: str):
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / f"{name}.pem", tmp_path / f"{name}.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


@pytest.fixture
def tls_server(tmp_path):
    """An HTTPS server on 127.0.0.1 presenting a certificate for "localhost"."""
    cert_file, key_file = self_signed(tmp_path, "localhost")
    seen: dict[str, list[str]] = {"sni": [], "host": []}
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    context.sni_callback = lambda sock, name, ctx: seen["sni"].append(name)  # type: ignore[assignment]

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_POST(self):
            seen["host"].append(self.headers["Host"])
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1], cert_file, seen, tmp_path
    server.shutdown()
    server.server_close()


def test_tls_names_the_url_host_while_connecting_to_the_checked_ip(tls_server, monkeypatch):
    port, cert_file, seen, _tmp = tls_server
    monkeypatch.setattr(certifi, "where", lambda: str(cert_file))  # trust our test CA
    result = http.post(f"https://localhost:{port}/hook", b"{}", {}, allow_private=True)
    assert result.ok, result
    assert seen["sni"] == ["localhost"]
    assert seen["host"] == [f"localhost:{port}"]


def test_the_certificate_must_match_the_name_in_the_url(tls_server, monkeypatch):
    # The same trusted certificate, reached by its IP: "localhost" is not "127.0.0.1",
    # so the name check is really made against the URL's host.
    port, cert_file, seen, _tmp = tls_server
    monkeypatch.setattr(certifi, "where", lambda: str(cert_file))
    result = http.post(f"https://127.0.0.1:{port}/hook", b"{}", {}, allow_private=True)
    assert not result.ok
    assert "certificate" in result.error.lower()
    assert seen["host"] == []
