"""What the bench scripts share: output helpers, a private PostgreSQL, child processes.

Stdlib only on the driver side, so a bench can start before the project's venv is active;
each measured step runs in a child process with its own Django set-up and prints one
``RESULT {json}`` line that the driver collects.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
WORK = HERE / ".work"


def say(msg: str) -> None:
    print(msg, flush=True)


def pct(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100)."""
    s = sorted(values)
    k = max(0, min(len(s) - 1, round(q / 100 * len(s) + 0.5) - 1))
    return s[k]


def fmt(v: float | None, nd: int = 1) -> str:
    if v is None:
        return "–"
    if abs(v) >= 100:
        return f"{v:,.0f}"
    return f"{v:.{nd}f}"


def port_free(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def django_setup(app_root: str) -> None:
    sys.path.insert(0, app_root)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "erpcare.settings")
    import django

    django.setup()


class PrivatePostgres:
    """A bench's own PostgreSQL cluster (scripts/pg.sh) in bench/.work/<name>, on one port."""

    def __init__(self, name: str, port: int, dbname: str) -> None:
        self.name, self.port, self.dbname = name, port, dbname
        self.started = False

    def env(self) -> dict[str, str]:
        return dict(
            os.environ,
            PGPORT=str(self.port),
            PGDATA_DIR=str(WORK / self.name),
            PGDATABASE_NAME=self.dbname,
        )

    def start(self) -> str:
        """Start (or reuse) the cluster; returns its DATABASE_URL."""
        pg = ROOT / "scripts" / "pg.sh"
        env = self.env()
        running = subprocess.run([str(pg), "status"], env=env, capture_output=True).returncode == 0
        if not running and not port_free(self.port):
            raise SystemExit(f"port {self.port} is taken by another server: pass --pg-port")
        conf = WORK / self.name / "postgresql.conf"
        if conf.exists() and f"port = {self.port}" not in conf.read_text():
            raise SystemExit(f"{conf.parent} was made for another port: remove it or use that port")
        say(f"[pg] {'using' if running else 'starting'} {self.name} on {self.port}")
        p = subprocess.run(
            ["setsid", str(pg), "start"], env=env, capture_output=True, text=True, check=True
        )
        self.started = not running
        return p.stdout.strip().splitlines()[-1]

    def stop(self) -> None:
        subprocess.run([str(ROOT / "scripts" / "pg.sh"), "stop"], env=self.env(), check=False)
        say(f"[pg] stopped {self.name}")


def child_env(url: str, app_root: str, **extra: str) -> dict[str, str]:
    """The environment of a measured child: the bench's database, a private ERPCARE_HOME."""
    home = WORK / "home"
    home.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ERPCARE_", "DJANGO_"))}
    env.update(
        DATABASE_URL=url,
        ERPCARE_HOME=str(home),
        ERPCARE_LOG_LEVEL="WARNING",
        DJANGO_SETTINGS_MODULE="erpcare.settings",
        PYTHONPATH=app_root,
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


def run_child(cmd: list[str], env: dict[str, str], *, label: str) -> dict:
    """Run a child, echo its output, return the JSON of its ``RESULT`` line."""
    p = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    result = None
    assert p.stdout is not None
    for line in p.stdout:
        if line.startswith("RESULT "):
            result = json.loads(line[7:])
        else:
            print(line, end="", flush=True)
    if p.wait() or result is None:
        raise SystemExit(f"{label} failed with exit code {p.returncode}")
    return result


def emit_result(result: dict) -> None:
    print("RESULT " + json.dumps(result, ensure_ascii=False, default=str), flush=True)
