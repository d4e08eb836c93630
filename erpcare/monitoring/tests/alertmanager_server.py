"""A real Prometheus Alertmanager (Debian's ``/usr/bin/prometheus-alertmanager``) for tests
and benchmarks: started on a free 127.0.0.1 port with its own storage directory and no
clustering, configured to send its webhook to our endpoint with the integration's secret as
a bearer token, and stopped by its PID.

The group timers are short (``group_wait`` and ``group_interval`` 1 s) so a test sees a
notification about a second after it posts an alert, and a resolved one a second after the
alert ends. Everything Alertmanager logs goes to ``alertmanager.log`` in its directory;
``log_tail()`` returns it for a failing assertion's message.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

BINARY = os.environ.get("ERPCARE_ALERTMANAGER_BIN", "/usr/bin/prometheus-alertmanager")
START_TIMEOUT = 30.0

T = TypeVar("T")


def binary() -> str | None:
    """The Alertmanager executable, or None when it is not installed."""
    if os.path.isfile(BINARY) and os.access(BINARY, os.X_OK):
        return BINARY
    return shutil.which("prometheus-alertmanager")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def config_yaml(
    webhook_url: str,
    credentials: str,
    *,
    group_by: Sequence[str] = ("alertname",),
    group_wait: str = "1s",
    group_interval: str = "1s",
    repeat_interval: str = "1h",
    max_alerts: int = 0,
) -> str:
    """``alertmanager.yml``: one route, one webhook receiver authenticated by ``credentials``.

    JSON is valid YAML, and json.dumps quotes the URL and the secret safely whatever they hold.
    """
    config = {
        "global": {"resolve_timeout": "5m"},
        "route": {
            "receiver": "erpcare",
            "group_by": list(group_by),
            "group_wait": group_wait,
            "group_interval": group_interval,
            "repeat_interval": repeat_interval,
        },
        "receivers": [
            {
                "name": "erpcare",
                "webhook_configs": [
                    {
                        "url": webhook_url,
                        "send_resolved": True,
                        "max_alerts": max_alerts,
                        "http_config": {
                            "authorization": {"type": "Bearer", "credentials": credentials}
                        },
                    }
                ],
            }
        ],
    }
    return json.dumps(config, indent=2) + "\n"


@dataclass
class Alertmanager:
    """One running Alertmanager; ``url`` is its web address (API under ``/api/v2``)."""

    directory: Path
    port: int
    proc: subprocess.Popen[bytes] | None = None
    cmd: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.directory / "alertmanager.log"

    def log_tail(self, chars: int = 6000) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no Alertmanager log)"
        return text[-chars:]

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> Alertmanager:
        exe = binary()
        if exe is None:
            raise FileNotFoundError("prometheus-alertmanager is not installed")
        self.cmd = [
            exe,
            f"--config.file={self.directory / 'alertmanager.yml'}",
            f"--storage.path={self.directory / 'data'}",
            f"--web.listen-address=127.0.0.1:{self.port}",
            f"--web.external-url=http://127.0.0.1:{self.port}",
            "--cluster.listen-address=",  # empty: no gossip, no second port
            "--log.level=debug",
        ]
        (self.directory / "data").mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            log.write(f"=== {' '.join(self.cmd)}\n".encode())
            log.flush()
            self.proc = subprocess.Popen(
                self.cmd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"Alertmanager exited with {self.proc.returncode}:\n{self.log_tail()}"
                )
            with contextlib.suppress(OSError):
                if self.request("GET", "/-/ready", timeout=1)[0] == 200:
                    return self
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(
            f"Alertmanager not ready within {START_TIMEOUT:.0f} s:\n{self.log_tail()}"
        )

    def stop(self) -> None:
        if self.proc is None:
            return
        proc, self.proc = self.proc, None
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(proc.pid, signal.SIGTERM)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(proc.pid, signal.SIGKILL)
                proc.wait(5)

    def __enter__(self) -> Alertmanager:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------------ API
    def request(
        self, method: str, path: str, body: Any = None, *, timeout: float = 10
    ) -> tuple[int, bytes]:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(
            self.url + path,
            data=data,
            method=method,
            headers={"Content-Type": "application/json", "Accept": "application/json"},
        )
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                return r.status, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.read()

    def post_alerts(self, alerts: Sequence[Mapping[str, Any]]) -> None:
        """``POST /api/v2/alerts``; raises with Alertmanager's answer if it refuses."""
        status, answer = self.request("POST", "/api/v2/alerts", list(alerts))
        if status != 200:
            raise AssertionError(f"Alertmanager refused the alerts ({status}): {answer!r}")

    def alerts(self) -> list[dict[str, Any]]:
        status, answer = self.request("GET", "/api/v2/alerts")
        assert status == 200, answer
        result: list[dict[str, Any]] = json.loads(answer)
        return result


def start_alertmanager(
    directory: Path,
    *,
    webhook_url: str,
    credentials: str,
    port: int | None = None,
    **config: Any,
) -> Alertmanager:
    """Write the configuration into ``directory`` and start an Alertmanager on it."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "alertmanager.yml").write_text(config_yaml(webhook_url, credentials, **config))
    return Alertmanager(directory=directory, port=port or free_port()).start()


def alert(
    name: str,
    labels: Mapping[str, str] | None = None,
    *,
    summary: str = "",
    starts_at: datetime | None = None,
    ends_at: datetime | None = None,
) -> dict[str, Any]:
    """One alert as Alertmanager's API takes it (``endsAt`` only to end it)."""
    item: dict[str, Any] = {
        "labels": {"alertname": name, **(labels or {})},
        "annotations": {"summary": summary} if summary else {},
        "generatorURL": "http://127.0.0.1/graph",
    }
    if starts_at is not None:
        item["startsAt"] = starts_at.isoformat().replace("+00:00", "Z")
    if ends_at is not None:
        item["endsAt"] = ends_at.isoformat().replace("+00:00", "Z")
    return item


def wait_until(
    probe: Callable[[], T | None],
    *,
    timeout: float,
    what: str,
    every: float = 0.2,
    context: Callable[[], str] = lambda: "",
) -> T:
    """Call ``probe`` until it returns something truthy, at most ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}\n{context()}")
        time.sleep(every)
