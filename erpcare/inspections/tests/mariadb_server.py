"""A real MariaDB server (Debian's ``mariadb-server``) for tests: a fresh data directory
made by ``mariadb-install-db``, the server on a free 127.0.0.1 port and a socket in that
directory, stopped by its PID. ``root`` (no password, over the socket) creates what a
test needs; the runners connect over TCP as an ordinary login.

Takes about five seconds to start (most of it ``mariadb-install-db``), so build it once
per test module or session. ``binary()`` is None when MariaDB is not installed: callers
skip with that reason.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SERVER = os.environ.get("ERPCARE_MARIADBD_BIN", "/usr/sbin/mariadbd")
START_TIMEOUT = 60.0


def binary() -> str | None:
    """The server executable, or None when it (or its installer) is missing."""
    server = SERVER if os.access(SERVER, os.X_OK) else shutil.which("mariadbd")
    if server is None or shutil.which("mariadb-install-db") is None:
        return None
    return server


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class MariaDB:
    directory: Path
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None

    @property
    def socket_path(self) -> Path:
        return self.directory / "mysqld.sock"

    @property
    def log_path(self) -> Path:
        return self.directory / "error.log"

    def log_tail(self, chars: int = 4000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return "(no MariaDB log)"

    def _user_args(self) -> list[str]:
        # mariadbd refuses to run as root unless told to; tests often run as root in CI.
        return ["--user=root"] if os.geteuid() == 0 else []

    def start(self) -> MariaDB:
        exe = binary()
        if exe is None:
            raise FileNotFoundError("mariadb-server is not installed")
        data = self.directory / "data"
        data.mkdir(parents=True, exist_ok=True)
        installed = subprocess.run(
            [
                "mariadb-install-db",
                "--no-defaults",
                f"--datadir={data}",
                "--auth-root-authentication-method=normal",
                "--skip-test-db",
                *self._user_args(),
            ],
            capture_output=True,
            timeout=120,
            check=False,
        )
        if installed.returncode != 0:
            output = (installed.stdout + installed.stderr).decode(errors="replace")
            raise RuntimeError(
                f"mariadb-install-db exited with {installed.returncode}:\n{output[-4000:]}"
            )
        cmd = [
            exe,
            "--no-defaults",
            f"--datadir={data}",
            f"--socket={self.socket_path}",
            f"--port={self.port}",
            "--bind-address=127.0.0.1",
            f"--pid-file={self.directory / 'mysqld.pid'}",
            f"--log-error={self.log_path}",
            "--skip-log-bin",
            "--skip-name-resolve",
            "--innodb-buffer-pool-size=16M",
            *self._user_args(),
        ]
        self.proc = subprocess.Popen(
            cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
        )
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"mariadbd exited with {self.proc.returncode}:\n{self.log_tail()}"
                )
            with contextlib.suppress(Exception):
                self.root().close()
                return self
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"MariaDB not ready within {START_TIMEOUT:.0f} s:\n{self.log_tail()}")

    def root(self) -> Any:
        """A root connection over the socket (autocommit)."""
        import pymysql

        return pymysql.connect(
            unix_socket=str(self.socket_path), user="root", password="", autocommit=True
        )

    def execute(self, *statements: str) -> list[tuple[Any, ...]]:
        """Run statements as root; the rows of the last one."""
        conn = self.root()
        try:
            with conn.cursor() as cur:
                rows: list[tuple[Any, ...]] = []
                for statement in statements:
                    cur.execute(statement)
                    rows = list(cur.fetchall())
                return rows
        finally:
            conn.close()

    def stop(self) -> None:
        if self.proc is None:
            return
        proc, self.proc = self.proc, None
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(proc.pid, signal.SIGTERM)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(proc.pid, signal.SIGKILL)
                proc.wait(5)
