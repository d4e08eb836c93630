"""PromQL runner against a real Prometheus (Debian's package) scraping itself on loopback,
and against loopback servers that are not Prometheus, answer late or check credentials."""

from __future__ import annotations

import base64
import json
import re
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from erpcare.inspections.runners import RunnerError, SourceSpec, promql
from erpcare.inspections.tests import prometheus_server


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[prometheus_server.Prometheus]:
    if prometheus_server.binary() is None:
        pytest.skip("prometheus is not installed (apt-get install -y prometheus)")
    server = prometheus_server.Prometheus(tmp_path_factory.mktemp("prometheus")).start()
    try:
        yield server
    finally:
        server.stop()


def _spec(url: str, **changes: object) -> SourceSpec:
    return replace(SourceSpec(kind="prometheus", url=url, timeout_ms=5000), **changes)


def test_up_is_one_sample_per_target_with_its_labels(prometheus):
    samples = promql.instant_query(_spec(prometheus.url), "up")
    assert [(s.labels, s.value) for s in samples] == [
        (
            {
                "__name__": "up",
                "instance": f"127.0.0.1:{prometheus.port}",
                "job": "prometheus",
            },
            1.0,
        )
    ]


def test_build_info_and_test_connection_agree_on_the_version(prometheus):
    # The base URL may end in a slash; the API path is appended once.
    spec = _spec(prometheus.url + "/")
    (info,) = promql.instant_query(spec, "prometheus_build_info")
    assert info.value == 1.0
    assert re.fullmatch(r"\d+\.\d+\.\d+.*", info.labels["version"])
    assert promql.test_connection(spec) == f"Prometheus {info.labels['version']}"


def test_scalars_and_empty_vectors(prometheus):
    spec = _spec(prometheus.url)
    assert [(s.labels, s.value) for s in promql.instant_query(spec, "1 + 1")] == [({}, 2.0)]
    assert [(s.labels, s.value) for s in promql.instant_query(spec, "vector(7)")] == [({}, 7.0)]
    assert promql.instant_query(spec, "up == 0") == []
    (nan,) = promql.instant_query(spec, "scalar(vector(0) / 0)")
    assert nan.value != nan.value  # NaN, as Prometheus says


def test_prometheus_errors_come_back_with_its_message(prometheus):
    spec = _spec(prometheus.url)
    with pytest.raises(RunnerError, match="bad_data") as raised:
        promql.instant_query(spec, "up{")
    assert "parse error" in str(raised.value)
    assert raised.value.reason == "error"
    with pytest.raises(RunnerError, match="range vector"):
        promql.instant_query(spec, "up[1m]")
    with pytest.raises(RunnerError, match="string"):
        promql.instant_query(spec, '"text"')
    with pytest.raises(RunnerError, match="no query"):
        promql.instant_query(spec, " ")


def test_bad_configuration_is_refused_before_any_request():
    with pytest.raises(RunnerError, match="cannot run PromQL"):
        promql.instant_query(SourceSpec(kind="postgresql", url="http://127.0.0.1:9"), "up")
    with pytest.raises(RunnerError, match="No Prometheus URL"):
        promql.instant_query(SourceSpec(kind="prometheus"), "up")
    with pytest.raises(RunnerError, match="http://"):
        promql.instant_query(_spec("ftp://127.0.0.1/"), "up")
    with pytest.raises(RunnerError, match="user name or password"):
        promql.instant_query(_spec("http://admin:secret@127.0.0.1:9090"), "up")


def test_nothing_listening_is_a_clear_error():
    port = prometheus_server.free_port()
    with pytest.raises(RunnerError, match="Could not reach Prometheus") as raised:
        promql.instant_query(_spec(f"http://127.0.0.1:{port}"), "up")
    assert f"127.0.0.1:{port}" in str(raised.value)
    assert raised.value.reason == "error"


class _Fake(BaseHTTPRequestHandler):
    """Not Prometheus: answers by path, remembers the Authorization header."""

    seen: list[str | None] = []

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        type(self).seen.append(self.headers.get("Authorization"))
        if self.path.startswith("/slow/"):
            time.sleep(3)
        if self.path.startswith("/html/"):
            body, kind = b"<html>login</html>", "text/html"
        else:
            answer = {"status": "success", "data": {"resultType": "vector", "result": []}}
            body, kind = json.dumps(answer).encode(), "application/json"
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def fake() -> Iterator[str]:
    _Fake.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Fake)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_an_answer_that_is_not_the_prometheus_api(fake: str):
    with pytest.raises(RunnerError, match="did not answer like the Prometheus API"):
        promql.instant_query(_spec(fake + "/html"), "up")


def test_a_late_answer_is_a_timeout(fake: str):
    started = time.monotonic()
    with pytest.raises(RunnerError) as raised:
        promql.instant_query(_spec(fake + "/slow", timeout_ms=300), "up")
    assert raised.value.reason == "timeout"
    assert "300 ms" in str(raised.value)
    assert time.monotonic() - started < 2.5


def test_a_server_that_accepts_and_never_answers_is_a_timeout():
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        url = f"http://127.0.0.1:{listener.getsockname()[1]}"
        with pytest.raises(RunnerError) as raised:
            promql.instant_query(_spec(url, timeout_ms=300), "up")
    assert raised.value.reason == "timeout"


def test_credentials_basic_with_a_user_name_bearer_without(fake: str):
    promql.instant_query(_spec(fake, username="grafana", password="pw 1"), "up")
    promql.instant_query(_spec(fake, password="tok3n"), "up")
    promql.instant_query(_spec(fake), "up")
    basic = "Basic " + base64.b64encode(b"grafana:pw 1").decode()
    assert _Fake.seen == [basic, "Bearer tok3n", None]
