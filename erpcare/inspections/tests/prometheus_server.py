"""A real Prometheus (Debian's ``/usr/bin/prometheus``) for tests: started on a free
127.0.0.1 port with its own TSDB directory and a configuration that scrapes itself every
second (plus any extra static targets), stopped by its PID.

``start()`` returns once ``/-/ready`` answers 200 and the first scrape has landed (``up``
has a sample), so a test can query at once. Its log goes to ``prometheus.log`` in its
directory; ``log_tail()`` returns it for a failing assertion's message. ``binary()`` is
None when Prometheus is not installed: callers skip with that reason.
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
import urllib.parse
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BINARY = os.environ.get("ERPCARE_PROMETHEUS_BIN", "/usr/bin/prometheus")
START_TIMEOUT = 60.0


def binary() -> str | None:
    if os.path.isfile(BINARY) and os.access(BINARY, os.X_OK):
        return BINARY
    return shutil.which("prometheus")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def config_yaml(port: int, extra_targets: Sequence[str] = ()) -> str:
    """Scrape itself (job "prometheus") and the extra targets (job "extra") every second.

    JSON is valid YAML and quotes everything safely."""
    jobs: list[dict[str, Any]] = [
        {"job_name": "prometheus", "static_configs": [{"targets": [f"127.0.0.1:{port}"]}]}
    ]
    if extra_targets:
        jobs.append({"job_name": "extra", "static_configs": [{"targets": list(extra_targets)}]})
    config = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "scrape_configs": jobs,
    }
    return json.dumps(config, indent=2) + "\n"


@dataclass
class Prometheus:
    directory: Path
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.directory / "prometheus.log"

    def log_tail(self, chars: int = 6000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return "(no Prometheus log)"

    def start(self, extra_targets: Sequence[str] = ()) -> Prometheus:
        exe = binary()
        if exe is None:
            raise FileNotFoundError("prometheus is not installed")
        self.directory.mkdir(parents=True, exist_ok=True)
        config = self.directory / "prometheus.yml"
        config.write_text(config_yaml(self.port, extra_targets))
        cmd = [
            exe,
            f"--config.file={config}",
            f"--storage.tsdb.path={self.directory / 'data'}",
            f"--web.listen-address=127.0.0.1:{self.port}",
            "--log.level=info",
        ]
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                cmd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"Prometheus exited with {self.proc.returncode}:\n{self.log_tail()}"
                )
            with contextlib.suppress(OSError, ValueError):
                if self.get("/-/ready")[0] == 200 and self._scraped():
                    return self
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"Prometheus not ready within {START_TIMEOUT:.0f} s:\n{self.log_tail()}")

    def _scraped(self) -> bool:
        status, body = self.get("/api/v1/query?" + urllib.parse.urlencode({"query": "up"}))
        return status == 200 and bool(json.loads(body)["data"]["result"])

    def get(self, path: str, timeout: float = 5) -> tuple[int, bytes]:
        try:
            with urllib.request.urlopen(self.url + path, timeout=timeout) as r:
                return r.status, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.read()

    def stop(self) -> None:
        if self.proc is None:
            return
        proc, self.proc = self.proc, None
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(proc.pid, signal.SIGTERM)
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(proc.pid, signal.SIGKILL)
                proc.wait(5)

    def __enter__(self) -> Prometheus:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
