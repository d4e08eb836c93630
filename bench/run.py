#!/usr/bin/env python3
"""ERPCare load benchmark: the peer benchmark's harness, pointed at our own API.

    .venv/bin/python bench/run.py --db both                  # 100,000 tickets, SQLite and PG
    .venv/bin/python bench/run.py --db sqlite --tickets 20000 --duration 5 --scenarios list,detail
    .venv/bin/python bench/run.py --db both --peers --write-docs

For each database: a fresh database is seeded once (bench/seed.py; kept under
bench/.work/ and reused until --reseed or another --tickets), then for every scenario
gunicorn (2 sync workers, 127.0.0.1) is started, warmed up with 20 sequential requests
(their median is the "idle" latency), loaded by wrk (-t2 -c16 -d20s --timeout 10s) while
the server's RSS is sampled every 0.5 s, and stopped by PID. Raw rows go to
bench/.work/results.jsonl, the report to bench/.work/report.md (and, with --write-docs,
into docs/BENCHMARKS.md between the generated-section markers).

Stdlib only; Django runs in the subprocesses (seeder, gunicorn), never here.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import random
import re
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
WORK = HERE / ".work"
LUA = HERE / "lua"
DOCS = ROOT / "docs" / "BENCHMARKS.md"
APP_ROOT = ROOT  # the checkout whose erpcare package is served (--app-root for A/B runs)
PEERS_DIR = Path(os.environ.get("ERPCARE_PEERS_DIR", "/work/shared/peers"))
THREADS, CONNS, WRK_TIMEOUT = 2, 16, "10s"
MAX_DURATION = 30  # every load run is bounded
PG_POSTMASTER = 0  # pid of the bench's private PostgreSQL, when we use one
NICE = 0  # --nice: priority of everything we start (and of its scheduler autogroup)
FOREIGN_LIMIT = 0.15  # cores used by other processes during a run before it is repeated
MARK_START = "<!-- bench:generated:start -->"
MARK_END = "<!-- bench:generated:end -->"

sys.path.insert(0, str(HERE))
import corpus  # noqa: E402

# name → (what it stands for, helpdesk scenario it is compared with)
SCENARIOS = {
    "me": ("GET /api/v1/me (token auth + 1 query: the stack's floor)", None),
    "list": ("GET /api/v1/tickets?status=open&page=1", "list"),
    "list_p1": ("GET /api/v1/tickets?status=open&priority=P1&page=1", "list"),
    "list_customer": ("GET /api/v1/tickets?customer=C<random 1..5000>&page=1", "list"),
    "detail": ("GET /api/v1/tickets/<random id in the seeded range>", "detail"),
    "search": ("GET /api/v1/search?q=<kw> (凭证, timeout, 死锁, deadlock, VPN, 发票)", "search"),
    "create": ("POST /api/v1/tickets (2,000 bodies, half Chinese)", "create"),
}
# create last: it adds rows
DEFAULT_SCENARIOS = "me,list,list_p1,list_customer,detail,search,create"
PEER_SCENARIOS = ["create", "list", "detail", "search"]  # alert_webhook: not in ERPCare yet
# the peer harness's search keywords (shared/peers/bench.py KEYWORDS)
SEARCH_KEYWORDS = ["凭证", "timeout", "死锁", "deadlock", "VPN", "发票"]
BARS = {  # the first bar, PostgreSQL with 100,000 tickets
    "create": ("rps", ">=", 400),
    "list": ("p99_ms", "<=", 60),
    "detail": ("p99_ms", "<=", 40),
}


def say(msg: str) -> None:
    print(msg, flush=True)


# ---------------------------------------------------------------- processes
def children(pid: int) -> list[int]:
    out = []
    for p in Path("/proc").iterdir():
        if p.name.isdigit():
            try:
                stat = (p / "stat").read_text()
                if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                    out.append(int(p.name))
            except (OSError, IndexError, ValueError):
                pass
    return out


def tree(pid: int) -> list[int]:
    todo, seen = [pid], []
    while todo:
        p = todo.pop()
        seen.append(p)
        todo.extend(children(p))
    return seen


def rss_mib(pids: list[int]) -> float:
    total = 0
    for p in pids:
        try:
            m = re.search(r"VmRSS:\s+(\d+) kB", Path(f"/proc/{p}/status").read_text())
            total += int(m.group(1)) if m else 0
        except OSError:
            pass
    return total / 1024


class RssSampler(threading.Thread):
    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.peak, self.stop = pid, 0.0, threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            self.peak = max(self.peak, rss_mib(tree(self.pid)))
            self.stop.wait(0.5)


CLK_TCK = os.sysconf("SC_CLK_TCK")
PG_AUX = ("checkpointer", "background writer", "walwriter", "autovacuum", "logical replication")


def busy_jiffies() -> int:
    """CPU time spent by the whole machine (all cores), in clock ticks."""
    f = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(x) for x in f[:8])
    return user + nice + system + irq + softirq + steal


def steal_jiffies() -> int:
    """Time the hypervisor gave our vCPUs to someone else (part of "other" below)."""
    return int(Path("/proc/stat").read_text().split("\n", 1)[0].split()[8])


def proc_jiffies(pid: int) -> int:
    try:
        st = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return int(st[11]) + int(st[12])  # utime + stime
    except (OSError, IndexError, ValueError):
        return 0


def pg_pids(dbname: str | None) -> list[int]:
    """Backends of our bench database plus the cluster's own helper processes."""
    if not dbname:
        return []
    if PG_POSTMASTER:  # our private cluster: all of it works for us
        return tree(PG_POSTMASTER)
    out = []
    for p in Path("/proc").iterdir():
        if p.name.isdigit():
            try:
                title = (p / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if title.startswith("postgres: ") and (
                f" {dbname} " in title or any(a in title for a in PG_AUX)
            ):
                out.append(int(p.name))
    return out


class CpuMeter:
    """Cores used during a run: by the server tree, by PostgreSQL for us, by wrk, and by
    everything else on the machine ("foreign": other people's work skews the figures)."""

    def __init__(self, server_pid: int, dbname: str | None) -> None:
        self.server_pid, self.dbname = server_pid, dbname

    def _ours(self) -> tuple[int, int]:
        return (
            sum(proc_jiffies(p) for p in tree(self.server_pid)),
            sum(proc_jiffies(p) for p in pg_pids(self.dbname)),
        )

    def __enter__(self) -> CpuMeter:
        self.t0, self.busy0, self.steal0 = time.time(), busy_jiffies(), steal_jiffies()
        self.server0, self.pg0 = self._ours()
        ru = resource.getrusage(resource.RUSAGE_CHILDREN)
        self.child0 = ru.ru_utime + ru.ru_stime
        return self

    def __exit__(self, *exc: object) -> None:
        secs = time.time() - self.t0
        server, pg = self._ours()
        ru = resource.getrusage(resource.RUSAGE_CHILDREN)
        wrk_s = ru.ru_utime + ru.ru_stime - self.child0  # wrk is the only child reaped
        total = (busy_jiffies() - self.busy0) / CLK_TCK
        server_s, pg_s = (server - self.server0) / CLK_TCK, (pg - self.pg0) / CLK_TCK
        self.cores = {
            "server": round(server_s / secs, 2),
            "postgres": round(pg_s / secs, 2),
            "wrk": round(wrk_s / secs, 2),
            "foreign": round(max(0.0, total - server_s - pg_s - wrk_s) / secs, 2),
            "steal": round((steal_jiffies() - self.steal0) / CLK_TCK / secs, 2),
        }


def set_autogroup_nice(pid: int | str) -> None:
    """With autogroup scheduling (Linux default), CPU is shared between sessions first and
    a process's nice value only counts inside its session: give the session our priority."""
    if NICE:
        with contextlib.suppress(OSError):
            Path(f"/proc/{pid}/autogroup").write_text(str(NICE))


def renice_backends(dbname: str | None, nice: int) -> None:
    """Give the PostgreSQL backends serving our bench database our own priority (they
    are forked by the postmaster, so they do not inherit it)."""
    if not nice or not dbname:
        return
    for pid in pg_pids(dbname):
        with contextlib.suppress(OSError):
            title = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
            if f" {dbname} " in title:
                os.setpriority(os.PRIO_PROCESS, pid, nice)


def calibrate() -> float:
    """Milliseconds for a fixed pure-Python workload (best of 5): how fast this (virtual)
    machine is right now. Lower is faster. Here it switched between ~28 and ~55 ms: slow
    after idle periods, fast after some seconds of load (host frequency/scheduling), so it
    is taken before and right after each load."""

    def work() -> int:
        d: dict[int, str] = {}
        for i in range(200_000):
            d[i % 1000] = str(i)
        return len(d)

    best = float("inf")
    for _ in range(5):
        t = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - t)
    return round(best * 1000, 1)


def wait_quiet(label: str, max_wait: int, limit: float = 0.25) -> float:
    """Wait until the machine is idle (< limit cores busy), at most max_wait seconds."""
    t0 = time.time()
    warned = False
    while True:
        b0 = busy_jiffies()
        time.sleep(2)
        cores = (busy_jiffies() - b0) / CLK_TCK / 2
        if cores < limit or time.time() - t0 >= max_wait:
            if cores >= limit:
                say(f"{label} machine still busy ({cores:.2f} cores); measuring anyway")
            return round(cores, 2)
        if not warned:
            say(f"{label} waiting for the machine to be idle ({cores:.2f} cores busy) ...")
            warned = True
        time.sleep(3)


def port_free(port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # TIME_WAIT is fine
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    try:
        socket.create_connection(("127.0.0.1", port), 0.3).close()
        return False
    except OSError:
        return True


SERVER = {"workers": 2, "worker_class": "sync", "threads": 1}  # the peer's setup


class Server:
    """gunicorn, 2 sync workers by default (as the peer); always stopped by PID."""

    def __init__(self, py: str, port: int, env: dict, log: Path) -> None:
        self.cmd = [
            py, "-m", "gunicorn", "erpcare.wsgi:application",
            "-w", str(SERVER["workers"]), "-k", SERVER["worker_class"],
            "-b", f"127.0.0.1:{port}",
            "--timeout", "120", "--graceful-timeout", "2", "--log-level", "warning",
        ]  # fmt: skip
        if SERVER["worker_class"] == "gthread":
            self.cmd += ["--threads", str(SERVER["threads"])]
        self.port, self.env, self.log, self.proc = port, env, log, None

    def start(self) -> int:
        if not port_free(self.port):
            raise SystemExit(f"port {self.port} is in use: stop that process or pass --port")
        fh = self.log.open("a")
        fh.write(f"\n=== {time.strftime('%H:%M:%S')} {' '.join(self.cmd)}\n")
        fh.flush()
        self.proc = subprocess.Popen(
            self.cmd, cwd=APP_ROOT, env=self.env, stdout=fh, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        fh.close()
        set_autogroup_nice(self.proc.pid)  # a new session is a new autogroup
        t = time.time()
        while time.time() - t < 60:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.proc.returncode}; see {self.log}")
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.5).close()
                return self.proc.pid
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"gunicorn did not open port {self.port} within 60 s")

    def stop(self) -> None:
        if self.proc is None:
            return
        pids = tree(self.proc.pid)
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.proc.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(10)
        for p in set(tree(self.proc.pid) + pids):
            with contextlib.suppress(ProcessLookupError):
                os.kill(p, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(5)
        self.proc = None


# ---------------------------------------------------------------- HTTP and wrk
def http(method: str, url: str, body: bytes | None, headers: dict, timeout: float = 60):
    req = urllib.request.Request(url, data=body, method=method, headers=headers)
    t = time.perf_counter()
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            r.read()
            code = r.status
    except urllib.error.HTTPError as e:
        e.read()
        code = e.code
    return code, (time.perf_counter() - t) * 1000


def idle_latency(base: str, auth: str, requests: list[tuple[str, str, str | None]], n: int = 20):
    """Median of n sequential requests on the otherwise idle server (also the warm-up)."""
    hdrs = {"Accept": "application/json", "Content-Type": "application/json", "Authorization": auth}
    lat, codes, t0 = [], [], time.time()
    for i in range(n):
        method, path, body = requests[i % len(requests)]
        try:
            code, ms = http(method, base + path, body.encode() if body else None, hdrs, 90)
        except OSError:
            code, ms = "timeout>90s", 90000.0
        lat.append(ms)
        codes.append(code)
        if ms > 5000 or time.time() - t0 > 30:
            break
    return round(statistics.median(lat), 2), sorted({str(c) for c in codes})


def run_wrk(script: str, base: str, env_extra: dict, duration: int) -> dict:
    env = dict(os.environ, LUA_DIR=str(LUA), **env_extra)
    cmd = [
        "wrk", f"-t{THREADS}", f"-c{CONNS}", f"-d{duration}s", f"--timeout={WRK_TIMEOUT}",
        "-s", str(LUA / script), base,
    ]  # fmt: skip
    p = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=duration + 30)
    m = re.search(r"^BENCH (\{.*\})$", p.stdout, re.M)
    if not m:
        raise RuntimeError(f"wrk failed ({p.returncode}): {p.stdout}\n{p.stderr}")
    r = json.loads(m.group(1))
    secs = r["duration_us"] / 1e6
    errors = r["err_connect"] + r["err_read"] + r["err_write"] + r["err_timeout"] + r["non2xx"]
    ms = lambda us: round(us / 1000, 2) if us >= 0 else None  # noqa: E731
    return {
        "rps": round(r["requests"] / secs, 1),
        "requests": r["requests"],
        "errors": errors,
        "non2xx": r["non2xx"],
        "timeouts": r["err_timeout"],
        "p50_ms": ms(r["lat_p50_us"]),
        "p90_ms": ms(r["lat_p90_us"]),
        "p99_ms": ms(r["lat_p99_us"]),
        "max_ms": ms(r["lat_max_us"]),
        "first_bad": r["first_bad"],
        "wrk_cmd": " ".join([*cmd[:-3], "-s", f"bench/lua/{script}", base]),
    }


def write_lines(name: str, lines: list[str]) -> Path:
    p = WORK / name
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return p


def scenario_inputs(name: str, state: dict):
    """(lua script, env, requests for the idle/warm-up phase)."""
    auth = state["auth"]
    lo, hi = state["min_ticket_id"], state["max_ticket_id"]
    rnd = random.Random(7)
    if name == "create":
        bodies = corpus.create_bodies()
        f = write_lines("bodies-create.jsonl", bodies)
        env = {"BODIES_FILE": str(f), "POST_PATH": "/api/v1/tickets", "AUTH": auth}
        return "post_bodies.lua", env, [("POST", "/api/v1/tickets", b) for b in bodies[-20:]]
    if name == "me":
        paths = ["/api/v1/me"]
    elif name == "list":
        paths = ["/api/v1/tickets?status=open&page=1"]
    elif name == "list_p1":
        paths = ["/api/v1/tickets?status=open&priority=P1&page=1"]
    elif name == "list_customer":
        paths = [
            f"/api/v1/tickets?customer=C{rnd.randint(1, corpus.CUSTOMERS)}&page=1"
            for _ in range(1000)
        ]
    elif name == "detail":
        paths = [f"/api/v1/tickets/{rnd.randint(lo, hi)}" for _ in range(1000)]
    elif name == "search":
        paths = [f"/api/v1/search?q={urllib.parse.quote(k)}" for k in SEARCH_KEYWORDS]
    else:
        raise SystemExit(f"unknown scenario {name}")
    f = write_lines(f"paths-{name}.txt", paths)
    return "get_paths.lua", {"PATHS_FILE": str(f), "AUTH": auth}, [("GET", p, None) for p in paths]


# ---------------------------------------------------------------- databases
def venv_python() -> str:
    py = ROOT / ".venv" / "bin" / "python"
    return str(py) if py.exists() else sys.executable


def pg_env(args) -> dict:
    """Environment for scripts/pg.sh that selects the bench's private cluster."""
    return dict(
        os.environ, PGPORT=str(args.pg_port), PGDATA_DIR=str(WORK / "pg"),
        PGDATABASE_NAME="erpcare_bench",
    )  # fmt: skip


def pg_url(args) -> tuple[str, bool]:
    """(DATABASE_URL of the bench database, whether we started its server).

    Default: a private PostgreSQL cluster of the bench (scripts/pg.sh with its data in
    bench/.work/pg on port --pg-port), so other users of the project's cluster (test runs)
    do not share our server; it runs in its own session (scheduler autogroup) and is
    stopped at the end if this run started it. --pg-url uses an existing server instead.
    """
    url = args.pg_url or os.environ.get("BENCH_DATABASE_URL", "")
    if not url and os.environ.get("DATABASE_URL", "").startswith(("postgres", "pgsql")):
        url = os.environ["DATABASE_URL"]
    if url:
        return url, False
    pg = ROOT / "scripts" / "pg.sh"
    env = pg_env(args)
    running = subprocess.run([str(pg), "status"], env=env, capture_output=True).returncode == 0
    if not running and not port_free(args.pg_port):
        raise SystemExit(f"port {args.pg_port} is taken by another server: pass --pg-port")
    conf = WORK / "pg" / "postgresql.conf"
    if conf.exists() and f"port = {args.pg_port}" not in conf.read_text():
        raise SystemExit(f"{WORK / 'pg'} was made for another port: remove it or pass that port")
    say(f"[pg] {'using' if running else 'starting'} the bench's PostgreSQL on port {args.pg_port}")
    out = subprocess.run(
        ["setsid", str(pg), "start"], env=env, capture_output=True, text=True, check=True
    )
    with contextlib.suppress(OSError, ValueError, IndexError):
        postmaster = int((WORK / "pg" / "postmaster.pid").read_text().split()[0])
        global PG_POSTMASTER
        PG_POSTMASTER = postmaster
        set_autogroup_nice(postmaster)
        for pid in [postmaster, *children(postmaster)]:
            if NICE:
                os.setpriority(os.PRIO_PROCESS, pid, NICE)
    return out.stdout.strip().splitlines()[-1], not running


def server_env(url: str) -> dict:
    home = WORK / "home"
    home.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ERPCARE_", "DJANGO_"))}
    env.update(
        DATABASE_URL=url,
        ERPCARE_HOME=str(home),
        ERPCARE_STATIC_MANIFEST="false",
        ERPCARE_LOG_LEVEL="WARNING",
        DJANGO_SETTINGS_MODULE="erpcare.settings",
        PYTHONPATH=str(APP_ROOT),
        BENCH_APP_ROOT=str(APP_ROOT),
        PYTHONUNBUFFERED="1",
    )
    return env


def parse_state(stdout: str) -> dict:
    m = re.search(r"^STATE (\{.*\})$", stdout, re.M)
    if not m:
        raise SystemExit(f"bench/seed.py printed no STATE line:\n{stdout}")
    return json.loads(m.group(1))


def prepare(py: str, db: str, env: dict, args) -> dict:
    cmd = [py, str(HERE / "seed.py"), "prepare", "--tickets", str(args.tickets)]
    cmd += ["--meta", str(WORK / f"seed-{db}.json")]
    if args.reseed:
        cmd.append("--reseed")
    wait_quiet(f"[{db}] seeding:", args.quiet_wait)
    say(f"[{db}] preparing the database ({args.tickets} tickets) ...")
    p = subprocess.run(cmd, env=env, cwd=APP_ROOT, stdout=subprocess.PIPE, text=True, timeout=3600)
    if p.returncode:
        raise SystemExit(f"[{db}] seeding failed ({p.returncode}):\n{p.stdout}")
    state = parse_state(p.stdout)
    note = "seeded now" if state["seeded_now"] else "reused (--reseed for a fresh one)"
    say(
        f"[{db}] {state['tickets_total']} tickets ({note}); seeding took "
        f"{state['seed_seconds']} s = {state['seed_rate']} tickets/s, migrate "
        f"{state['migrate_seconds']} s"
    )
    state["search_index"] = search_index(py, db, env, state)
    return state


def search_index(py: str, db: str, env: dict, state: dict) -> dict:
    """The seeder writes tickets in bulk, past the actions that keep the search index in
    step: fill it with the real ``reindex`` (bench/search.py --child index-seeded), once per
    seeded database (the time is remembered), and drop entries of tickets that restore()
    deleted."""
    meta_path = WORK / f"search-index-{db}.json"
    meta = json.loads(meta_path.read_text()) if meta_path.exists() else {}
    if state.get("seeded_now") or meta.get("seeded_at") != state.get("seeded_at"):
        meta = {}
    cmd = [py, str(HERE / "search.py"), "--child", "index-seeded", "--app-root", str(APP_ROOT)]
    cmd += ["--max-ticket-id", str(state["max_ticket_id"])]
    t = time.perf_counter()
    p = subprocess.run(cmd, env=env, cwd=APP_ROOT, stdout=subprocess.PIPE, text=True, timeout=7200)
    m = re.search(r"^RESULT (\{.*\})$", p.stdout, re.M)
    if p.returncode or not m:
        raise SystemExit(f"[{db}] filling the search index failed ({p.returncode}):\n{p.stdout}")
    r = json.loads(m.group(1))
    if r["reindexed"]:
        meta = {"seeded_at": state.get("seeded_at"), "entries": r["entries"],
                "seconds": r["seconds"], "rate": r["rate"],
                "measured_at": time.strftime("%Y-%m-%dT%H:%M:%S")}  # fmt: skip
        meta_path.write_text(json.dumps(meta, indent=1))
        say(
            f"[{db}] search index: reindexed {r['entries']} tickets in {r['seconds']} s "
            f"({r['rate']} tickets/s)"
        )
    else:
        say(
            f"[{db}] search index: up to date ({r['entries']} entries; {r['removed']} of "
            f"deleted tickets removed; {time.perf_counter() - t:.1f} s)"
        )
    return {**meta, "entries": r["entries"], "reindexed_now": r["reindexed"]}


# ---------------------------------------------------------------- one measurement
def snapshot_head() -> Path:
    sha = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--short=12", "HEAD"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    dest = WORK / f"app-{sha}"
    if not (dest / "erpcare" / "settings.py").exists():
        dest.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(
            ["git", "-C", str(ROOT), "archive", "HEAD", "erpcare", "pyproject.toml"],
            capture_output=True, check=True,
        ).stdout  # fmt: skip
        subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)
    say(f"serving a snapshot of HEAD {sha}: {dest.relative_to(ROOT)}")
    return dest


def app_version() -> str:
    p = subprocess.run(
        ["git", "-C", str(APP_ROOT), "describe", "--always", "--dirty"],
        capture_output=True, text=True,
    )  # fmt: skip
    label = p.stdout.strip() or "?"
    if APP_ROOT.name.startswith("app-") and APP_ROOT.parent == WORK:
        return f"snapshot of {APP_ROOT.name[4:]}"
    return label if APP_ROOT == ROOT else f"{label} ({APP_ROOT})"


def server_label() -> str:
    label = f"gunicorn -w {SERVER['workers']} -k {SERVER['worker_class']}"
    if SERVER["worker_class"] == "gthread":
        label += f" --threads {SERVER['threads']}"
    return label


def db_name(url: str) -> str | None:
    parts = urllib.parse.urlsplit(url)
    return urllib.parse.unquote(parts.path.lstrip("/")) if parts.scheme != "sqlite" else None


def measure(db: str, scenario: str, state: dict, py: str, env: dict, args, run_id: str) -> dict:
    base = f"http://127.0.0.1:{args.port}"
    script, wenv, warm = scenario_inputs(scenario, state)
    wenv["SEED"] = str(args.rep)
    server = Server(py, args.port, env, WORK / f"server-{db}.log")
    quiet = wait_quiet(f"[{db}] {scenario}:", args.quiet_wait)
    calib_before = calibrate()
    try:
        pid = server.start()
        idle_ms, codes = idle_latency(base, state["auth"], warm)
        renice_backends(db_name(env["DATABASE_URL"]), args.nice)
        rss_idle = rss_mib(tree(pid))
        sampler = RssSampler(pid)
        sampler.start()
        try:
            with CpuMeter(pid, db_name(env["DATABASE_URL"])) as cpu:
                r = run_wrk(script, base, wenv, args.duration)
        finally:
            sampler.stop.set()
            sampler.join()
    finally:
        server.stop()
    calib = calibrate()  # right after the load: the speed the run had (see calibrate())
    row = dict(
        run_id=run_id, system="erpcare", db=db, server=server_label(), scenario=scenario,
        rep=args.rep, duration_s=args.duration, tickets=state["tickets_total"],
        app=app_version(),
        idle_ms=idle_ms, warm_codes=codes, rss_mib_idle=round(rss_idle, 1),
        rss_mib_peak=round(sampler.peak, 1), busy_cores_before=quiet, cpu_cores=cpu.cores,
        nice=args.nice, tag=args.tag, calib_ms=calib, calib_ms_before=calib_before,
        ts=time.strftime("%Y-%m-%dT%H:%M:%S"), **r,
    )  # fmt: skip
    with (WORK / "results.jsonl").open("a") as f:
        f.write(json.dumps(row, ensure_ascii=False) + "\n")
    bad = f"  first non-2xx: {r['first_bad']}" if r["first_bad"] else ""
    c = cpu.cores
    say(
        f"[{db}] {scenario:14s} {r['rps']:8.1f} req/s  p50 {r['p50_ms']} ms  p99 {r['p99_ms']} ms"
        f"  errors {r['errors']}  idle {idle_ms} ms {codes}  peak RSS {sampler.peak:.0f} MiB"
        f"  cores: server {c['server']} pg {c['postgres']} wrk {c['wrk']} other {c['foreign']}"
        f"  calib {calib} ms"
        f"{bad}"
    )
    if c["foreign"] > FOREIGN_LIMIT:
        say(f"[{db}]   note: other processes used {c['foreign']} cores during this run")
    return row


def measure_clean(db, scenario, state, py, env, args, run_id) -> dict:
    """measure(), repeated (up to --attempts) while other processes took CPU during the run;
    the attempt with the least foreign CPU is kept."""
    tries = []
    for _ in range(max(1, args.attempts)):
        tries.append(measure(db, scenario, state, py, env, args, run_id))
        if tries[-1]["cpu_cores"]["foreign"] <= FOREIGN_LIMIT:
            break
        say(f"[{db}]   repeating {scenario}: the machine was not quiet")
    kept = min(tries, key=lambda r: r["cpu_cores"]["foreign"])
    kept["other_attempts"] = [
        {k: r[k] for k in ("rps", "p99_ms", "errors", "first_bad")}
        | {"foreign": r["cpu_cores"]["foreign"]}
        for r in tries
        if r is not kept
    ]
    return kept


def peer_harness(db: str, state: dict, py: str, env: dict, args) -> list[dict]:
    """Run the peer's own driver (bench.py target) against our server, one scenario each.

    shared/peers is read-only, and bench.py writes its inputs next to itself (.work/), so
    it runs from a copy under bench/.work/peer-harness/ (never committed)."""
    src = PEERS_DIR / "bench.py"
    if not src.exists():
        say(f"[{db}] --peers: {src} not found; skipping the peer harness")
        return []
    dst = WORK / "peer-harness"
    (dst / "results").mkdir(parents=True, exist_ok=True)
    shutil.copy2(src, dst / "bench.py")
    shutil.copytree(PEERS_DIR / "lua", dst / "lua", dirs_exist_ok=True)
    creds = dst / f"creds-{db}.json"
    creds.write_text(json.dumps({k: state[k] for k in ("auth", "min_ticket_id", "max_ticket_id")}))
    out_file = WORK / "peer-harness-results.jsonl"
    rows = []
    say(f"[{db}] peer harness: alert_webhook is not implemented in ERPCare yet: skipped")
    for scenario in PEER_SCENARIOS:
        server = Server(py, args.port, env, WORK / f"server-{db}.log")
        wait_quiet(f"[{db}] peer-harness {scenario}:", args.quiet_wait)
        try:
            pid = server.start()
            cmd = [
                "python3", str(dst / "bench.py"), "target", "--base", f"http://127.0.0.1:{args.port}",
                "--creds", str(creds), "--pids", str(pid), "--name", "erpcare", "--db", db,
                "--server", "gunicorn", "--scenario", scenario, "--rep", str(args.rep),
            ]  # fmt: skip
            penv = dict(os.environ, BENCH_RESULTS=str(out_file), BENCH_DURATION=str(args.duration))
            done = threading.Event()
            dbname = db_name(env["DATABASE_URL"])

            def renicer(done=done, dbname=dbname) -> None:
                while not done.wait(0.5):
                    renice_backends(dbname, args.nice)

            threading.Thread(target=renicer, daemon=True).start()
            with CpuMeter(pid, dbname) as cpu:  # "wrk" here: bench.py and its wrk
                p = subprocess.run(cmd, env=penv, capture_output=True, text=True, timeout=180)
            done.set()
        finally:
            server.stop()
        line = p.stdout.strip().splitlines()[-1] if p.stdout.strip() else ""
        if p.returncode or not line.startswith("{"):
            say(f"[{db}] peer harness {scenario} failed: {p.stdout[-500:]} {p.stderr[-1500:]}")
            continue
        row = json.loads(line)
        row["cpu_cores"] = cpu.cores
        rows.append(row)
        say(
            f"[{db}] peer-harness {scenario:8s} {row['rps']:8.1f} req/s  p50 {row['p50_ms']} ms"
            f"  p99 {row['p99_ms']} ms  errors {row['errors']}  idle {row['idle_ms']} ms"
            f"  peak RSS {row['rss_mib_peak']} MiB  other cores {cpu.cores['foreign']}"
        )
    return rows


def helpdesk_rerun(db: str, scenarios: list[str], args) -> list[dict]:
    """Measure django-helpdesk's own scenarios now, on this machine, with the peer harness
    (``bench.py helpdesk``) of a set-up, writable PEERS_DIR (e.g. ERPCARE_PEERS_DIR=/tmp/peers
    after its helpdesk/setup.sh): side by side with ours instead of the stored figures."""
    work = PEERS_DIR / ".work"
    needed = [PEERS_DIR / "bench.py", work / "venv-helpdesk" / "bin" / "python",
              work / f"creds-{db}.json"]  # fmt: skip
    missing = [str(p) for p in needed if not p.exists()]
    if missing or not os.access(PEERS_DIR, os.W_OK):
        why = f"missing {', '.join(missing)}" if missing else f"{PEERS_DIR} is not writable"
        say(f"[{db}] --helpdesk-rerun: {why}; using the stored helpdesk figures")
        return []
    if db == "pg" and port_free(54329):
        say(f"[{db}] --helpdesk-rerun: the peer's PostgreSQL (127.0.0.1:54329) is not running")
        return []
    out_file = WORK / "helpdesk-rerun.jsonl"
    rows = []
    for scenario in scenarios:
        wait_quiet(f"[{db}] helpdesk {scenario}:", args.quiet_wait)
        cmd = ["python3", str(PEERS_DIR / "bench.py"), "helpdesk", "--db", db,
               "--server", "gunicorn", "--scenario", scenario, "--rep", str(args.rep)]  # fmt: skip
        env = dict(os.environ, BENCH_RESULTS=str(out_file), BENCH_DURATION=str(args.duration))
        env.pop("DJANGO_SETTINGS_MODULE", None)  # the peer has its own settings
        done = threading.Event()

        def renicer(done=done) -> None:  # its PostgreSQL backends get our priority too
            while not done.wait(0.5):
                renice_backends("helpdesk" if db == "pg" else None, args.nice)

        threading.Thread(target=renicer, daemon=True).start()
        try:
            p = subprocess.run(cmd, cwd=PEERS_DIR, env=env, capture_output=True, text=True,
                               timeout=600)  # fmt: skip
        finally:
            done.set()
        line = p.stdout.strip().splitlines()[-1] if p.stdout.strip() else ""
        if p.returncode or not line.startswith("{"):
            say(f"[{db}] helpdesk {scenario} failed: {p.stdout[-500:]} {p.stderr[-1500:]}")
            continue
        row = json.loads(line)
        rows.append(row)
        say(
            f"[{db}] helpdesk {scenario:8s} {row['rps']:8.1f} req/s  p50 {row['p50_ms']} ms"
            f"  p99 {row['p99_ms']} ms  errors {row['errors']}  idle {row['idle_ms']} ms"
        )
    return rows


# ---------------------------------------------------------------- peers' stored figures
def helpdesk_figures() -> dict:
    """(db, scenario) → medians of django-helpdesk 2.6.1 (gunicorn) from the peer results."""
    path = PEERS_DIR / "results" / "results.jsonl"
    if not path.exists():
        return {}
    groups: dict = {}
    for line in path.read_text().splitlines():
        if not line.strip():
            continue
        r = json.loads(line)
        if r.get("peer") == "django-helpdesk" and r.get("server") == "gunicorn":
            groups.setdefault((r["db"], r["scenario"]), []).append(r)
    out = {}
    for key, rs in groups.items():

        def med(field, rs=rs):
            vals = [r[field] for r in rs if r.get(field) is not None and r["requests"]]
            return statistics.median(vals) if vals else None

        out[key] = {
            "rps": statistics.median(r["rps"] for r in rs),
            "p99_ms": med("p99_ms"),
            "p50_ms": med("p50_ms"),
            "idle_ms": statistics.median(r["idle_ms"] for r in rs),
            "reps": len(rs),
            "source": f"stored, median of {len(rs)}",
        }
    return out


# ---------------------------------------------------------------- report
def versions(py: str, states: dict) -> dict:
    code = (
        "import importlib.metadata as m, sqlite3, sys;"
        "print(sys.version.split()[0], sqlite3.sqlite_version, "
        "*(m.version(p) for p in ('django','django-ninja','pydantic','gunicorn','psycopg')))"
    )
    out = subprocess.run([py, "-c", code], capture_output=True, text=True).stdout.split()
    names = ["python", "sqlite", "django", "django-ninja", "pydantic", "gunicorn", "psycopg"]
    v = dict(zip(names, out, strict=False))
    wrk = subprocess.run(["wrk", "-v"], capture_output=True, text=True)
    v["wrk"] = (wrk.stdout + wrk.stderr).split("Copyright")[0].strip()
    if "pg" in states:
        v["postgresql"] = states["pg"].get("db_version", "?")
    cpu = "?"
    try:
        m = re.search(r"model name\s*:\s*(.+)", Path("/proc/cpuinfo").read_text())
        cpu = m.group(1).strip() if m else "?"
    except OSError:
        pass
    mem = 0
    try:
        m = re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text())
        mem = int(m.group(1)) // (1024 * 1024) if m else 0
    except OSError:
        pass
    distro = ""
    with contextlib.suppress(OSError, AttributeError):
        distro = re.search(r'PRETTY_NAME="(.+)"', Path("/etc/os-release").read_text()).group(1)
    v["machine"] = (
        f"{os.cpu_count()} vCPU ({cpu}), {mem} GiB RAM, {distro}, kernel {platform.release()}"
    )
    return v


def cpu_ms(r: dict) -> float | None:
    """CPU time of the server and PostgreSQL per completed request: less sensitive to
    other load on the machine than req/s (which also counts waiting)."""
    c = r.get("cpu_cores") or {}
    if not r.get("rps") or "server" not in c:
        return None
    return round((c["server"] + c["postgres"]) / r["rps"] * 1000, 1)


def errors_cell(r: dict) -> str:
    other = sum(a["errors"] for a in r.get("other_attempts", []))
    return f"{r['errors']} ({other} in a discarded attempt)" if other else str(r["errors"])


def cores(r: dict) -> str:
    c = r.get("cpu_cores") or {}
    return " / ".join(str(c.get(k, "–")) for k in ("server", "postgres", "wrk", "foreign"))


def fmt(v, nd=1) -> str:
    if v is None:
        return "–"
    if isinstance(v, float):
        return f"{v:,.{nd}f}"
    return f"{v:,}" if isinstance(v, int) else str(v)


def ratio(ours, theirs, higher_better=True) -> str:
    if ours is None or theirs is None:
        return "–"
    if higher_better:
        return "∞ (helpdesk: 0 req/s)" if not theirs else f"{ours / theirs:,.1f}×"
    return f"{theirs / ours:,.1f}×" if ours else "–"


def report(
    rows: list[dict], states: dict, peer_rows: dict, args, vers: dict, hd_now: dict | None = None
) -> str:
    hd = helpdesk_figures()
    for db, fresh in (hd_now or {}).items():  # measured in this run: they take precedence
        for r in fresh:
            hd[(db, r["scenario"])] = {**r, "reps": 1, "source": "this run"}
    out = [f"Generated by `bench/run.py` on {time.strftime('%Y-%m-%d %H:%M')} "
           f"(`{' '.join(['bench/run.py', *sys.argv[1:]])}`).", ""]  # fmt: skip
    out += ["| item | version |", "|---|---|"]
    out += [f"| {k} | {v} |" for k, v in vers.items()]
    out.append("")
    out += ["### Seeding (bulk, excluding migrate)", ""]
    out += ["| database | tickets (+1 event each) | seeding (wall) | rate | CPU of the seeder "
            "| migrate | (VACUUM) ANALYZE |", "|---|---|---|---|---|---|---|"]  # fmt: skip
    for db, st in states.items():
        out.append(
            f"| {db} | {fmt(st['tickets_seeded'])} | {st['seed_seconds']} s | "
            f"{fmt(st['seed_rate'])} tickets/s | {st.get('seed_cpu_seconds', '–')} s | "
            f"{st['migrate_seconds']} s | {st['analyze_seconds']} s |"
        )
    out.append("")
    indexed = {db: st["search_index"] for db, st in states.items() if st.get("search_index")}
    if indexed:
        out += ["Search index of the seeded tickets (`reindex(['ticket'])` through the ticket "
                "provider, once per seeded database):", "",
                "| database | entries | reindex (wall) | rate | measured |",
                "|---|---|---|---|---|"]  # fmt: skip
        for db, ix in indexed.items():
            out.append(
                f"| {db} | {fmt(ix.get('entries'))} | {ix.get('seconds', '–')} s | "
                f"{fmt(ix.get('rate'))} tickets/s | {ix.get('measured_at', '–')} |"
            )
        out.append("")
    for db in states:
        label = {"sqlite": "SQLite (WAL)", "pg": "PostgreSQL"}[db]
        out += [f"### {label}, {fmt(states[db]['tickets_seeded'])} tickets", ""]
        out += [
            "| scenario | request | req/s | p50 ms | p90 ms | p99 ms | max ms | errors | idle ms"
            " | peak RSS MiB | CPU ms/req | cores: server / pg / wrk / other |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|",
        ]
        for r in (r for r in rows if r["db"] == db):
            out.append(
                f"| {r['scenario']} | `{SCENARIOS[r['scenario']][0]}` | **{fmt(r['rps'])}** | "
                f"{fmt(r['p50_ms'])} | {fmt(r['p90_ms'])} | {fmt(r['p99_ms'])} | "
                f"{fmt(r['max_ms'])} | {errors_cell(r)} | {fmt(r['idle_ms'])} | "
                f"{fmt(r['rss_mib_peak'])} | {fmt(cpu_ms(r))} | {cores(r)} |"
            )
        calib = [r["calib_ms"] for r in rows if r["db"] == db and r.get("calib_ms")]
        if calib:
            out.append(
                f"\nMachine speed during these runs (`calibrate()`, a fixed Python loop; lower "
                f"is faster): {min(calib)}–{max(calib)} ms."
            )
        out.append("")
        if peer_rows.get(db):
            out += ["Same server through the peer's own driver (`bench.py target`, copied):", ""]
            out += ["| scenario | req/s | p50 ms | p99 ms | errors | idle ms | peak RSS MiB |",
                    "|---|---|---|---|---|---|---|"]  # fmt: skip
            for r in peer_rows[db]:
                out.append(
                    f"| {r['scenario']} | {fmt(r['rps'])} | {fmt(r['p50_ms'])} | "
                    f"{fmt(r['p99_ms'])} | {r['errors']} | {fmt(r['idle_ms'])} | "
                    f"{fmt(r['rss_mib_peak'])} |"
                )
            out.append("")
        if hd:
            out += [f"Against django-helpdesk 2.6.1 on {label} (the peer's stored runs, or "
                    "measured in this run with --helpdesk-rerun: last column; same machine, same "
                    "load):", "",
                    "| ERPCare scenario | helpdesk scenario | helpdesk req/s | ERPCare req/s | "
                    "req/s ratio ERPCare/helpdesk | helpdesk idle ms | ERPCare idle ms | "
                    "idle speed-up | helpdesk figures |",
                    "|---|---|---|---|---|---|---|---|---|"]  # fmt: skip
            pairs = [("create", "create"), ("list", "list"), ("list", "dt_list"),
                     ("detail", "detail"), ("detail", "staff_detail"),
                     ("search", "search")]  # fmt: skip
            for ours_s, theirs_s in pairs:
                ours = next((r for r in rows if r["db"] == db and r["scenario"] == ours_s), None)
                theirs = hd.get((db, theirs_s))
                if not ours or not theirs:
                    continue
                out.append(
                    f"| {ours_s} | {theirs_s} | {fmt(theirs['rps'])} | {fmt(ours['rps'])} | "
                    f"{ratio(ours['rps'], theirs['rps'])} | {fmt(theirs['idle_ms'])} | "
                    f"{fmt(ours['idle_ms'])} | "
                    f"{ratio(ours['idle_ms'], theirs['idle_ms'], False)} | "
                    f"{theirs.get('source', '')} |"
                )
            out.append("")
    pg_rows = {r["scenario"]: r for r in rows if r["db"] == "pg"}
    if any(sc in pg_rows for sc in BARS):
        out += ["### The issue's first bar (PostgreSQL, 100,000 tickets)", ""]
        out += ["| bar | measured | verdict |", "|---|---|---|"]
        for sc, (field, op, limit) in BARS.items():
            r = pg_rows.get(sc)
            if not r:
                continue
            ok = r[field] >= limit if op == ">=" else r[field] <= limit
            ok = ok and r["errors"] == 0
            what = "req/s" if field == "rps" else "p99 ms"
            out.append(
                f"| {sc} {what} {op} {limit}, 0 errors | {fmt(r[field])} {what}, "
                f"{r['errors']} errors | {'met' if ok else '**not met**'} |"
            )
        if states.get("pg", {}).get("tickets_seeded") != 100_000:
            out.append("\n(the bar is defined for 100,000 tickets; this run used a different size)")
        out.append("")
    return "\n".join(out)


def write_docs(text: str) -> None:
    if not DOCS.exists():
        say(f"{DOCS} not found: report left in {WORK / 'report.md'}")
        return
    doc = DOCS.read_text(encoding="utf-8")
    if MARK_START not in doc or MARK_END not in doc:
        say(f"{DOCS} has no {MARK_START} … {MARK_END} section: not touched")
        return
    head, rest = doc.split(MARK_START, 1)
    _, tail = rest.split(MARK_END, 1)
    DOCS.write_text(f"{head}{MARK_START}\n{text}\n{MARK_END}{tail}", encoding="utf-8")
    say(f"wrote the generated section of {DOCS.relative_to(ROOT)}")


# ---------------------------------------------------------------- main
def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tickets", type=int, default=100_000)
    ap.add_argument("--db", choices=["sqlite", "pg", "both"], default="both")
    ap.add_argument("--duration", type=int, default=20, help=f"seconds per load (≤ {MAX_DURATION})")
    ap.add_argument("--scenarios", default=DEFAULT_SCENARIOS, help=f"from {', '.join(SCENARIOS)}")
    ap.add_argument("--peers", action="store_true", help="also run the peer's bench.py target")
    ap.add_argument(
        "--helpdesk-rerun", default="", metavar="SCENARIOS",
        help="also measure these django-helpdesk scenarios now (e.g. search) with the peer "
        "harness of a set-up, writable ERPCARE_PEERS_DIR, instead of its stored figures",
    )  # fmt: skip
    ap.add_argument("--reseed", action="store_true", help="drop and seed the databases anew")
    ap.add_argument("--port", type=int, default=8020)
    ap.add_argument("--rep", type=int, default=1, help="repetition number (recorded)")
    ap.add_argument(
        "--pg-url", default="",
        help="use this PostgreSQL DATABASE_URL (default: a private cluster via scripts/pg.sh)",
    )  # fmt: skip
    ap.add_argument("--pg-port", type=int, default=54339, help="port of the private cluster")
    ap.add_argument("--write-docs", action="store_true", help="update docs/BENCHMARKS.md")
    ap.add_argument(
        "--attempts", type=int, default=3,
        help="repeat a run (at most this many times) when other processes used the CPU",
    )  # fmt: skip
    ap.add_argument(
        "--nice", type=int, default=0,
        help="run server, wrk and our PostgreSQL backends at this priority (e.g. -10 on a "
        "shared machine; negative values need root)",
    )  # fmt: skip
    ap.add_argument("--workers", type=int, default=2, help="gunicorn workers (peer: 2)")
    ap.add_argument("--worker-class", choices=["sync", "gthread"], default="sync")
    ap.add_argument("--threads", type=int, default=4, help="threads per gthread worker")
    ap.add_argument("--tag", default="", help="label stored with the rows (A/B series)")
    ap.add_argument("--prepare-only", action="store_true", help="seed, do not measure")
    ap.add_argument(
        "--snapshot", action="store_true",
        help="serve a snapshot of the committed HEAD (git archive into bench/.work/), not the "
        "working tree: other people's unfinished edits cannot break a run",
    )  # fmt: skip
    ap.add_argument(
        "--app-root", type=Path, default=ROOT,
        help="serve the erpcare package of another checkout (A/B runs; same venv)",
    )  # fmt: skip
    ap.add_argument(
        "--quiet-wait", type=int, default=300,
        help="wait up to this many seconds for an idle machine before each run",
    )  # fmt: skip
    args = ap.parse_args()
    args.duration = max(1, min(MAX_DURATION, args.duration))
    SERVER.update(workers=args.workers, worker_class=args.worker_class, threads=args.threads)
    global APP_ROOT
    APP_ROOT = snapshot_head() if args.snapshot else args.app_root.resolve()
    if not (APP_ROOT / "erpcare" / "settings.py").exists():
        raise SystemExit(f"{APP_ROOT} has no erpcare/settings.py")
    scenarios = [s.strip() for s in args.scenarios.split(",") if s.strip()]
    unknown = [s for s in scenarios if s not in SCENARIOS]
    if unknown:
        raise SystemExit(f"unknown scenarios: {', '.join(unknown)}")
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed (Debian: apt-get install wrk)")
    if not port_free(args.port):
        raise SystemExit(f"port {args.port} is in use: stop that process or pass --port")
    WORK.mkdir(exist_ok=True)
    if args.nice:
        global NICE
        NICE = args.nice
        try:
            os.setpriority(os.PRIO_PROCESS, 0, args.nice)  # inherited by every child
        except PermissionError:
            raise SystemExit(f"--nice {args.nice} needs root") from None
        set_autogroup_nice("self")
    py = venv_python()
    dbs = ["sqlite", "pg"] if args.db == "both" else [args.db]
    run_id = time.strftime("%Y%m%d-%H%M%S")
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    rows, states, peer_rows, stop_pg, hd_now = [], {}, {}, False, {}
    try:
        for db in dbs:
            if db == "sqlite":
                url = f"sqlite:///{WORK / 'erpcare-bench.sqlite3'}"  # sqlite:////abs/path
            else:
                url, started = pg_url(args)
                stop_pg = stop_pg or started
            env = server_env(url)
            states[db] = prepare(py, db, env, args)
            if args.prepare_only:
                continue
            for scenario in scenarios:
                rows.append(measure_clean(db, scenario, states[db], py, env, args, run_id))
            if args.peers:
                peer_rows[db] = peer_harness(db, states[db], py, env, args)
            if args.helpdesk_rerun:
                hd_now[db] = helpdesk_rerun(db, args.helpdesk_rerun.split(","), args)
    finally:
        if stop_pg:
            say("[pg] stopping the bench's PostgreSQL")
            subprocess.run([str(ROOT / "scripts" / "pg.sh"), "stop"], env=pg_env(args), check=False)
    vers = versions(py, states)
    vers["server"] = f"{server_label()} on 127.0.0.1, serving {app_version()}"
    vers["load"] = f"wrk -t{THREADS} -c{CONNS} -d{args.duration}s --timeout {WRK_TIMEOUT}"
    if args.nice:
        vers["priority"] = (
            f"nice {args.nice} (process and autogroup) for server, wrk and our PG backends"
        )
    text = report(rows, states, peer_rows, args, vers, hd_now)
    (WORK / "report.md").write_text(text + "\n", encoding="utf-8")
    say("\n" + text)
    if args.write_docs:
        write_docs(text)


if __name__ == "__main__":
    main()
