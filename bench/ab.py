#!/usr/bin/env python3
"""A/B: the same scenarios against two checkouts of ERPCare, interleaved, on the same data.

    .venv/bin/python bench/ab.py run --a bench/.work/app-<sha> --b /path/to/patched \\
        --tag ab1 [--reps 2] [--db both] [--scenarios me,list,detail,create]
    .venv/bin/python bench/ab.py report --tag ab1

``run`` calls bench/run.py once per (repetition, database, scenario, checkout), A then B
back to back, so slow drifts of the machine hit both alike; the seeded databases are
restored before every call (run.py), so both see the same rows. ``report`` prints the
medians per checkout and the ratio B/A, including CPU milliseconds per request (server +
PostgreSQL), the figure least disturbed by other load on the machine.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

import run


def cmd_run(a: argparse.Namespace) -> None:
    dbs = ["sqlite", "pg"] if a.db == "both" else [a.db]
    started_pg = False
    if "pg" in dbs and not a.pg_url:
        env = run.pg_env(a)
        pg = run.ROOT / "scripts" / "pg.sh"
        if subprocess.run([str(pg), "status"], env=env, capture_output=True).returncode:
            # one PostgreSQL for the whole series (run.py would restart it every call)
            subprocess.run(["setsid", str(pg), "start"], env=env, check=True, capture_output=True)
            started_pg = True
    try:
        for rep in range(1, a.reps + 1):
            for db in dbs:
                for scenario in a.scenarios.split(","):
                    for label, root in (("A", a.a), ("B", a.b)):
                        cmd = [
                            sys.executable, str(run.HERE / "run.py"), "--db", db,
                            "--scenarios", scenario, "--app-root", str(root), "--tag",
                            f"{a.tag}:{label}", "--rep", str(rep), "--attempts", "1",
                            "--quiet-wait", str(a.quiet_wait), "--nice", str(a.nice),
                            "--tickets", str(a.tickets), "--pg-port", str(a.pg_port),
                        ]  # fmt: skip
                        if a.pg_url:
                            cmd += ["--pg-url", a.pg_url]
                        p = subprocess.run(cmd, capture_output=True, text=True)
                        line = [
                            x for x in p.stdout.splitlines() if x.startswith(f"[{db}] {scenario} ")
                        ]
                        out = line[0] if line else p.stdout[-800:] + p.stderr[-800:]
                        print(f"rep {rep} {label} {out}", flush=True)
    finally:
        if started_pg:
            subprocess.run(
                [str(run.ROOT / "scripts" / "pg.sh"), "stop"], env=run.pg_env(a), check=False
            )


def cmd_report(a: argparse.Namespace) -> None:
    rows = [json.loads(x) for x in (run.WORK / "results.jsonl").read_text().splitlines() if x]
    groups: dict = {}
    for r in rows:
        tag = r.get("tag") or ""
        if tag.startswith(a.tag + ":"):
            groups.setdefault((r["db"], r["scenario"], tag[-1]), []).append(r)

    def med(rs, f):
        vals = [f(r) for r in rs if f(r) is not None]
        return statistics.median(vals) if vals else None

    print(f"A/B series {a.tag!r}: medians of n runs each; B/A > 1 is better for req/s,")
    print("< 1 is better for p99 and CPU ms/request.\n")
    print("| db | scenario | n | req/s A | req/s B | B/A | p99 ms A | p99 ms B | "
          "CPU ms/req A | CPU ms/req B | B/A | errors A / B | calib ms |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    keys = sorted({(db, sc) for db, sc, _ in groups}, key=lambda k: (k[0] != "sqlite", k[1]))
    for db, sc in keys:
        ra, rb = groups.get((db, sc, "A"), []), groups.get((db, sc, "B"), [])
        if not ra or not rb:
            continue
        qa, qb = med(ra, lambda r: r["rps"]), med(rb, lambda r: r["rps"])
        pa, pb = med(ra, lambda r: r["p99_ms"]), med(rb, lambda r: r["p99_ms"])
        ca, cb = med(ra, run.cpu_ms), med(rb, run.cpu_ms)
        ea, eb = sum(r["errors"] for r in ra), sum(r["errors"] for r in rb)
        cal = [r["calib_ms"] for r in ra + rb if r.get("calib_ms")]
        print(
            f"| {db} | {sc} | {len(ra)}/{len(rb)} | {qa:.1f} | {qb:.1f} | {qb / qa:.2f} | "
            f"{pa:.0f} | {pb:.0f} | {ca:.1f} | {cb:.1f} | {cb / ca:.2f} | {ea} / {eb} | "
            f"{f'{min(cal)}–{max(cal)}' if cal else '–'} |"
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run")
    r.add_argument("--a", type=Path, required=True, help="checkout A (e.g. a --snapshot dir)")
    r.add_argument("--b", type=Path, required=True, help="checkout B (the change)")
    r.add_argument("--tag", required=True)
    r.add_argument("--reps", type=int, default=2)
    r.add_argument("--db", choices=["sqlite", "pg", "both"], default="both")
    r.add_argument("--scenarios", default="me,list,list_p1,list_customer,detail,create")
    r.add_argument("--tickets", type=int, default=100_000)
    r.add_argument("--nice", type=int, default=0)
    r.add_argument("--quiet-wait", type=int, default=30)
    r.add_argument("--pg-url", default="")
    r.add_argument("--pg-port", type=int, default=54339)
    p = sub.add_parser("report")
    p.add_argument("--tag", required=True)
    a = ap.parse_args()
    {"run": cmd_run, "report": cmd_report}[a.cmd](a)


if __name__ == "__main__":
    main()
