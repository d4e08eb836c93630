#!/usr/bin/env python3
"""Where does a request's time go? Sample the gunicorn workers with py-spy under load.

    .venv/bin/pip install py-spy          # once (not a project dependency)
    .venv/bin/python bench/profile.py --db pg --scenario list [--duration 15]

Uses the database prepared by ``bench/run.py`` (run that first), starts the same server,
runs the same wrk load for ``--duration`` seconds while ``py-spy record`` samples both
workers (idle samples included: waiting on PostgreSQL is idle to py-spy), and prints the share
of samples per stage of the request plus the hottest functions. Raw collapsed stacks are
kept in bench/.work/profile-<db>-<scenario>-<worker>.txt (flame graphs: any folded-stack tool).
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import re
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import run

# Exclusive stages: each sample goes to the first stage whose pattern matches one of its
# frames (py-spy prints frames as "Class.function (package/file.py:line)"). Order matters.
STAGES = [
    ("worker idle: waiting for a request", r"^(\S+\.)?(wait|accept) \(gunicorn/workers/"),
    (
        "db: open/close connection",
        r"(get_new_connection|init_connection_state|_close|close_if_unusable_or_obsolete) \(",
    ),
    ("db: driver execute / fetch", r"\((django/db/backends/|psycopg/|sqlite3/)"),
    ("orm: SQL compilation", r"\(django/db/models/sql/"),
    ("orm: querysets, model instances, related objects", r"\(django/db/models/"),
    ("response: ninja/pydantic serialisation", r"\((ninja/schema|pydantic|ninja/responses|json/)"),
    ("erpcare code (rest)", r"\(erpcare/"),
    ("ninja (rest)", r"\(ninja/"),
    ("django handler, middleware, i18n (rest)", r"\(django/"),
    ("gunicorn: HTTP parsing / socket I/O", r"\(gunicorn/"),
]
# Inclusive markers: share of samples with this frame anywhere on the stack.
MARKERS = [
    ("gunicorn handle_request → Django app (everything below)", r"WSGIHandler.__call__ \("),
    ("bearer-token auth (user_for_token, incl. its query)", r"user_for_token \("),
    ("view function", r"^(list_tickets|get_ticket|create_ticket) \(erpcare/tickets/api"),
    ("ticket action create_ticket (services)", r"create_ticket \(erpcare/tickets/services"),
    ("ninja response validation/serialisation", r"_result_to_response \("),
    ("audit record()", r"^record \(erpcare/audit"),
    ("transaction commit", r"(commit|_commit) \(django/db/"),
    ("open a DB connection", r"get_new_connection \("),
]


def analyse(files: list[Path], top: int = 25) -> str:
    stages: collections.Counter = collections.Counter()
    markers: collections.Counter = collections.Counter()
    self_time: collections.Counter = collections.Counter()
    total = busy = 0
    compiled = [(name, re.compile(rx)) for name, rx in STAGES]
    marks = [(name, re.compile(rx)) for name, rx in MARKERS]
    for f in files:
        for line in f.read_text().splitlines():
            stack, _, n = line.rpartition(" ")
            if not stack or not n.isdigit():
                continue
            count = int(n)
            frames = stack.split(";")
            total += count
            self_time[frames[-1]] += count
            for name, rx in compiled:
                candidates = frames[-1:] if name.startswith("worker idle") else frames
                if any(rx.search(fr) for fr in candidates):
                    stages[name] += count
                    break
            else:
                stages["other"] += count
            if not compiled[0][1].search(frames[-1]):
                busy += count
                for name, rx in marks:
                    if any(rx.search(fr) for fr in frames):
                        markers[name] += count
    if not total:
        return "no samples"
    out = [f"{total} samples ({busy} not idle)", "", "| stage (exclusive) | share |", "|---|---|"]
    for name, n in stages.most_common():
        out.append(f"| {name} | {n / total:.1%} |")
    out += ["", "| inclusive, of the non-idle samples | share |", "|---|---|"]
    for name, _rx in MARKERS:
        out.append(f"| {name} | {markers[name] / max(busy, 1):.1%} |")
    out += ["", "| hottest functions (self time) | share |", "|---|---|"]
    for fr, n in self_time.most_common(top):
        out.append(f"| `{fr}` | {n / total:.1%} |")
    return "\n".join(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--db", choices=["sqlite", "pg"])
    ap.add_argument("--scenario", choices=list(run.SCENARIOS))
    ap.add_argument("--analyse", nargs="+", type=Path, help="only analyse these raw files")
    ap.add_argument("--duration", type=int, default=15)
    ap.add_argument("--port", type=int, default=8021)
    ap.add_argument("--pg-url", default="")
    ap.add_argument("--rate", type=int, default=200, help="py-spy samples per second")
    ap.add_argument("--app-root", type=Path, help="serve another checkout (see run.py)")
    ap.add_argument("--nice", type=int, default=0, help="see run.py --nice")
    args = ap.parse_args()
    if args.analyse:
        print(analyse(args.analyse))
        return
    if not args.db or not args.scenario:
        ap.error("--db and --scenario are required")
    args.duration = max(3, min(run.MAX_DURATION, args.duration))
    spy = shutil.which("py-spy") or str(run.ROOT / ".venv" / "bin" / "py-spy")
    if not Path(spy).exists():
        raise SystemExit("py-spy is not installed: .venv/bin/pip install py-spy")
    meta = run.WORK / f"seed-{args.db}.json"
    if not meta.exists():
        raise SystemExit(f"no prepared {args.db} database: run bench/run.py --db {args.db} first")
    url = json.loads(meta.read_text())["url"]
    url = args.pg_url or url
    if args.app_root:
        run.APP_ROOT = args.app_root.resolve()
    if args.nice:
        run.NICE = args.nice
        os.setpriority(os.PRIO_PROCESS, 0, args.nice)
        run.set_autogroup_nice("self")
    py = run.venv_python()
    env = run.server_env(url)
    state = run.parse_state(
        subprocess.run(
            [py, str(run.HERE / "seed.py"), "token"], env=env, cwd=run.ROOT,
            capture_output=True, text=True, check=True,
        ).stdout
    )  # fmt: skip
    script, wenv, _warm = run.scenario_inputs(args.scenario, state)
    server = run.Server(py, args.port, env, run.WORK / f"server-{args.db}.log")
    base = f"http://127.0.0.1:{args.port}"
    files = []
    try:
        pid = server.start()
        run.idle_latency(base, state["auth"], _warm)
        workers = run.children(pid)
        spies = []
        for w in workers:
            out = run.WORK / f"profile-{args.db}-{args.scenario}-{w}.txt"
            files.append(out)
            cmd = [spy, "record", "-p", str(w), "-d", str(args.duration), "-r", str(args.rate)]
            cmd += ["-f", "raw", "-o", str(out), "--nonblocking", "--idle"]
            spies.append(subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE))
        result = {}
        t = threading.Thread(
            target=lambda: result.update(run.run_wrk(script, base, wenv, args.duration))
        )
        t.start()
        for s in spies:
            s.wait(args.duration + 30)
        t.join()
    finally:
        server.stop()
    print(
        f"{args.db} {args.scenario}: {result.get('rps')} req/s, p99 {result.get('p99_ms')} ms "
        f"under py-spy ({args.rate} Hz, {len(workers)} workers; app {run.app_version()})\n"
    )
    print(analyse([f for f in files if f.exists()]))


if __name__ == "__main__":
    sys.exit(main())
