"""A real node_exporter (Debian's ``/usr/bin/prometheus-node-exporter``) for tests: started
on a free 127.0.0.1 port with only the collectors the host pack reads, stopped by its PID.

``start()`` returns once ``/metrics`` answers 200 with the node metrics. The textfile
collector reads a directory of the test's own (``textfile_dir``), never the package's
``/var/lib/prometheus/node-exporter``. Its log goes to ``node_exporter.log`` in its
directory; ``log_tail()`` returns it for a failing assertion's message. ``binary()`` is
None when node_exporter is not installed: callers skip with that reason.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from erpcare.inspections.tests.prometheus_server import free_port

BINARY = os.environ.get("ERPCARE_NODE_EXPORTER_BIN", "/usr/bin/prometheus-node-exporter")
START_TIMEOUT = 20.0
# What the host pack reads: file systems, memory, CPU, clock, systemd units; textfile for
# metrics a test writes itself. Everything else (network, disks' I/O, hwmon, …) is off.
COLLECTORS = ("cpu", "filesystem", "meminfo", "timex", "systemd", "textfile")


def binary() -> str | None:
    if os.path.isfile(BINARY) and os.access(BINARY, os.X_OK):
        return BINARY
    return shutil.which("prometheus-node-exporter") or shutil.which("node_exporter")


@dataclass
class NodeExporter:
    directory: Path
    collectors: Sequence[str] = COLLECTORS
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"http://{self.target}"

    @property
    def textfile_dir(self) -> Path:
        return self.directory / "textfile"

    @property
    def log_path(self) -> Path:
        return self.directory / "node_exporter.log"

    def log_tail(self, chars: int = 6000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return "(no node_exporter log)"

    def start(self) -> NodeExporter:
        exe = binary()
        if exe is None:
            raise FileNotFoundError("prometheus-node-exporter is not installed")
        self.textfile_dir.mkdir(parents=True, exist_ok=True)
        cmd = [
            exe,
            f"--web.listen-address={self.target}",
            "--collector.disable-defaults",
            *(f"--collector.{name}" for name in self.collectors),
            f"--collector.textfile.directory={self.textfile_dir}",
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
                    f"node_exporter exited with {self.proc.returncode}:\n{self.log_tail()}"
                )
            with contextlib.suppress(OSError, ValueError):
                if "node_memory_MemTotal_bytes" in self.metrics():
                    return self
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(
            f"node_exporter not ready within {START_TIMEOUT:.0f} s:\n{self.log_tail()}"
        )

    def metrics(self, timeout: float = 5) -> str:
        try:
            with urllib.request.urlopen(self.url + "/metrics", timeout=timeout) as r:
                return str(r.read().decode("utf-8", "replace"))
        except urllib.error.HTTPError as e:
            return f"HTTP {e.code}"

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

    def __enter__(self) -> NodeExporter:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
