#!/usr/bin/env python3
"""Monitoring benchmark: sustained alert ingestion on PostgreSQL with the worker running
(issue 6), side by side with Prometheus Alertmanager's own API in the same run.

    .venv/bin/python bench/alerts.py                      # 20 s per load, batches of 100 and 1
    .venv/bin/python bench/alerts.py --duration 10 --skip-am --tag quick
    .venv/bin/python bench/alerts.py --profile --tag profile   # + cProfile of both halves

What runs: this benchmark's private PostgreSQL (scripts/pg.sh, data in
bench/.work/pg-alerts, port --pg-port 54337, database erpcare_alerts_bench, dropped and
recreated each run, stopped at the end if this run started it), ``erpcare serve`` (gunicorn,
2 sync workers) on 127.0.0.1 and ONE ``erpcare worker`` (its alert poller calls
``pipeline.process_pending``). One Alertmanager integration (bearer), one routing rule
(``customer="bench"`` → the bench customer and its ERP instance, severity → priority) and one
correlation rule (group by ``job``: ten jobs, so ten incidents collect every alert).

Loads (wrk -t2 -c16, bench/lua/alerts.lua, each --duration seconds, at most 30):

(a) **batches of 100** alerts per request, Alertmanager v4 webhooks, 10 % new identities
    and 90 % repeats of 1,000 known ones → alerts/s END TO END, measured by the database:
    the alerts of the payloads received during the load ÷ (last ``processed_at`` − first
    ``received_at``), after the worker has drained the queue (bounded, --drain-timeout);
    every alert upserted and linked to its incident is checked.
(b) **single-alert requests**, same mix → requests/s acknowledged (202) and wrk's latency
    distribution (p50/p95/p99), and the same end-to-end figure.

The same two loads go to Alertmanager 0.25 (Debian's binary, in memory, its notifications
routed to a receiver with no integration) in the same run: ratios ours / Alertmanager.
PostgreSQL runs with its defaults (``synchronous_commit = on``, fsync on): a 202 means the
payload is committed. Targets (issue 6): (a) ≥ 5,000 alerts/s; (b) ≥ 1,000 req/s with
p95 < 20 ms.

``--profile``: after the loads (server and worker stopped), a child stores 200 batch
payloads through ``ingest.receive`` and drains them with ``pipeline.process_pending``,
each under cProfile; the top functions go into the report.

Report: bench/.work/alerts-report.md, raw figures bench/.work/alerts-results.json
(``alerts-<tag>-…`` with --tag). The driver is stdlib only; Django runs in the children.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from common import (  # noqa: E402
    WORK,
    PrivatePostgres,
    child_env,
    emit_result,
    fmt,
    free_port,
    run_child,
    say,
)

LUA = HERE / "lua"
THREADS, CONNS, WRK_TIMEOUT = 2, 16, "10s"
MAX_DURATION = 30
INTEGRATION_KEY = "bench-alertmanager-0001"
INTEGRATION_SECRET = "bench-secret-not-for-production-3f9a"  # noqa: S105 - bench only
TARGETS = {"b100_alerts_per_s": 5000, "b1_rps": 1000, "b1_p95_ms": 20}


# ---------------------------------------------------------------- children (Django)
def child_setup(a: argparse.Namespace) -> dict:
    from django.core.management import call_command

    t = time.time()
    call_command("migrate", interactive=False, verbosity=0)
    migrate_s = time.time() - t
    from django.utils import timezone

    from erpcare.customers.models import ErpInstance, Organization
    from erpcare.monitoring.models import (
        AuthMode,
        CorrelationKind,
        CorrelationRule,
        Integration,
        RoutingRule,
        SourceKind,
    )

    org = Organization.objects.create(code="bench", name="Bench 制造", tier="vip")
    erp = ErpInstance.objects.create(
        organization=org, name="Bench SAP PRD", product="sap", version="S/4HANA 2023",
        modules=["gl", "ap", "production"],
    )  # fmt: skip
    Integration.objects.create(
        name="Bench Alertmanager", source=SourceKind.ALERTMANAGER, key=INTEGRATION_KEY,
        secret=INTEGRATION_SECRET, auth_mode=AuthMode.BEARER, created_at=timezone.now(),
    )  # fmt: skip
    RoutingRule.objects.create(
        name="bench customer", position=10,
        matchers=[{"label": "customer", "op": "=", "value": "bench"}],
        set_organization=org, set_erp_instance=erp,
        severity_map={"critical": 0, "high": 1, "warning": 2, "info": 3},
    )  # fmt: skip
    CorrelationRule.objects.create(
        name="one incident per job", kind=CorrelationKind.GROUP, group_by=["job"],
        window_minutes=24 * 60,
    )  # fmt: skip
    return {"migrate_s": round(migrate_s, 1)}


def _queue_stats(since_id: int) -> dict:
    from django.db.models import Count, Max, Min, Sum

    from erpcare.monitoring.models import Alert, AlertPayload, PayloadState
    from erpcare.tickets.models import Ticket, TicketType

    rows = AlertPayload.objects.filter(id__gt=since_id)
    agg = rows.aggregate(
        n=Count("id"), alerts=Sum("alerts_count"), first=Min("received_at"),
        last_received=Max("received_at"), last=Max("processed_at"),
    )  # fmt: skip
    states = dict(rows.values_list("state").annotate(c=Count("id")).order_by())
    pending = states.get(PayloadState.RECEIVED, 0) + states.get(PayloadState.PROCESSING, 0)
    return {
        "payloads": agg["n"],
        "alerts": agg["alerts"] or 0,
        "states": states,
        "pending": pending,
        "first_received": agg["first"].timestamp() if agg["first"] else None,
        "last_received": agg["last_received"].timestamp() if agg["last_received"] else None,
        "last_processed": agg["last"].timestamp() if agg["last"] else None,
        "open_alerts": Alert.objects.exclude(status="resolved").count(),
        "alerts_without_incident": Alert.objects.filter(
            incident__isnull=True, suppressed_by__isnull=True
        ).count(),
        "incidents": Ticket.objects.filter(type=TicketType.INCIDENT).count(),
        "max_payload_id": AlertPayload.objects.aggregate(m=Max("id"))["m"] or 0,
    }


def child_stats(a: argparse.Namespace) -> dict:
    return _queue_stats(a.since_id)


def child_drain(a: argparse.Namespace) -> dict:
    """Wait (bounded) until the worker has processed every payload after ``since_id``."""
    t0 = time.time()
    while True:
        s = _queue_stats(a.since_id)
        if not s["pending"] or time.time() - t0 > a.drain_timeout:
            s["drain_wait_s"] = round(time.time() - t0, 1)
            s["drained"] = not s["pending"]
            return s
        time.sleep(0.5)


def child_loop(a: argparse.Namespace) -> None:
    """--worker loop: a stand-in worker that only calls the pipeline (bounded)."""
    from erpcare.monitoring.pipeline import process_pending

    deadline = time.time() + 1800
    while time.time() < deadline:
        done = process_pending()
        if not any(done.values()):
            time.sleep(0.05)


def _webhook_bodies(n: int, batch: int, run: int) -> list[bytes]:
    """The same shape and mix as bench/lua/alerts.lua, for the profile child."""
    out, seq, picks = [], 0, 0
    for _ in range(n):
        alerts = []
        for _ in range(batch):
            picks += 1
            if (picks * 10) % 100 < 10:
                seq += 1
                fp, ident = f"ee{run % 0x1000000:06x}{seq:08x}", f"p{run}-{seq}"
            else:
                r = 1 + (picks * 7919) % 1000
                fp, ident = f"ff{r:014x}", f"r{r}"
            alerts.append({
                "status": "firing",
                "labels": {"alertname": "ErpBenchAlert", "severity": "warning",
                           "customer": "bench", "job": f"erp-job-{ord(ident[-1]) % 10}",
                           "instance": f"erp-{ident}"},
                "annotations": {"summary": "MRP run fails with lock timeout / 凭证无法保存"},
                "startsAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "endsAt": "0001-01-01T00:00:00Z", "generatorURL": "http://127.0.0.1/graph",
                "fingerprint": fp,
            })  # fmt: skip
        out.append(json.dumps({
            "receiver": "erpcare", "status": "firing", "alerts": alerts, "version": "4",
            "groupLabels": {"alertname": "ErpBenchAlert"}, "commonLabels": {},
            "commonAnnotations": {}, "externalURL": "http://127.0.0.1:9093",
            "groupKey": '{}:{alertname="ErpBenchAlert"}', "truncatedAlerts": 0,
        }, ensure_ascii=False).encode())  # fmt: skip
    return out


def child_profile(a: argparse.Namespace) -> dict:
    import io

    # bench/profile.py shadows the standard library's ``profile`` that cProfile imports.
    saved = sys.path[:]
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
    sys.modules.pop("profile", None)
    import cProfile
    import pstats

    sys.path[:] = saved
    from erpcare.monitoring import ingest
    from erpcare.monitoring.pipeline import process_pending

    bodies = _webhook_bodies(200, 100, int(time.time()))
    headers = {"Authorization": f"Bearer {INTEGRATION_SECRET}", "Content-Type": "application/json"}
    since = _queue_stats(0)["max_payload_id"]

    def top(prof: cProfile.Profile, key: str) -> str:
        buf = io.StringIO()
        pstats.Stats(prof, stream=buf).strip_dirs().sort_stats(key).print_stats(25)
        return buf.getvalue()

    prof_in = cProfile.Profile()
    t = time.perf_counter()
    prof_in.enable()
    for body in bodies:
        ingest.receive(INTEGRATION_KEY, "alertmanager", body, headers)
    prof_in.disable()
    receive_s = time.perf_counter() - t

    prof_p = cProfile.Profile()
    t = time.perf_counter()
    prof_p.enable()
    for _ in range(10_000):
        if not _queue_stats(since)["pending"]:
            break
        process_pending()
    prof_p.disable()
    pipeline_s = time.perf_counter() - t
    stats = _queue_stats(since)
    return {
        "payloads": len(bodies),
        "alerts": stats["alerts"],
        "receive_s": round(receive_s, 2),
        "receive_ms_per_payload": round(receive_s * 1000 / len(bodies), 2),
        "pipeline_s": round(pipeline_s, 2),
        "pipeline_alerts_per_s": round(stats["alerts"] / pipeline_s, 1) if pipeline_s else None,
        "receive_cumulative": top(prof_in, "cumulative"),
        "pipeline_cumulative": top(prof_p, "cumulative"),
        "pipeline_tottime": top(prof_p, "tottime"),
    }


CHILDREN = {
    "setup": child_setup,
    "stats": child_stats,
    "drain": child_drain,
    "profile": child_profile,
}


def child_main(a: argparse.Namespace) -> None:
    sys.path.insert(0, a.app_root)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "erpcare.settings")
    import django

    django.setup()
    if a.child == "loop":
        child_loop(a)
        return
    emit_result(CHILDREN[a.child](a))


# ---------------------------------------------------------------- processes
class Proc:
    """A long-running child in its own session, logged to a file, stopped by PID."""

    def __init__(self, name: str, cmd: list[str], env: dict[str, str], cwd: Path) -> None:
        self.name, self.cmd, self.env, self.cwd = name, cmd, env, cwd
        self.log = WORK / f"alerts-{name}.log"
        self.p: subprocess.Popen[bytes] | None = None

    def start(self) -> Proc:
        with self.log.open("ab") as fh:
            fh.write(f"\n=== {time.strftime('%H:%M:%S')} {' '.join(self.cmd)}\n".encode())
            fh.flush()
            self.p = subprocess.Popen(
                self.cmd, env=self.env, cwd=self.cwd, stdout=fh, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        return self

    def alive(self) -> bool:
        return self.p is not None and self.p.poll() is None

    def stop(self) -> None:
        if self.p is None:
            return
        p, self.p = self.p, None
        # gunicorn's master takes its workers down with SIGTERM; the group kill is for
        # anything left behind (our own session, made by start_new_session).
        with contextlib.suppress(ProcessLookupError):
            os.kill(p.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            p.wait(15)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(p.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            p.wait(5)


def http(method: str, url: str, body: bytes | None, headers: dict, timeout: float = 30):
    req = urllib.request.Request(url, data=body, method=method, headers=headers)
    t = time.perf_counter()
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            r.read()
            code = r.status
    except urllib.error.HTTPError as e:
        code = e.code
    return code, (time.perf_counter() - t) * 1000


def wait_http(url: str, ok: set[int], proc: Proc, timeout: float = 60) -> None:
    t = time.time()
    while time.time() - t < timeout:
        if not proc.alive():
            raise SystemExit(f"{proc.name} exited; see {proc.log}")
        with contextlib.suppress(OSError):
            if http("GET", url, None, {}, timeout=2)[0] in ok:
                return
        time.sleep(0.2)
    raise SystemExit(f"{proc.name} did not answer {url} within {timeout:.0f} s; see {proc.log}")


def run_wrk(base: str, env_extra: dict[str, str], duration: int) -> dict:
    env = dict(os.environ, **env_extra)
    cmd = [
        "wrk", f"-t{THREADS}", f"-c{CONNS}", f"-d{duration}s", f"--timeout={WRK_TIMEOUT}",
        "-s", str(LUA / "alerts.lua"), base,
    ]  # fmt: skip
    p = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=duration + 60)
    m = re.search(r"^RESULT (\{.*\})$", p.stdout, re.M)
    if not m:
        raise SystemExit(f"wrk failed ({p.returncode}): {p.stdout}\n{p.stderr}")
    r = json.loads(m.group(1))
    secs = r["duration_us"] / 1e6
    errors = r["err_connect"] + r["err_read"] + r["err_write"] + r["err_timeout"]

    def ms(us: int) -> float | None:
        return round(us / 1000, 2) if us >= 0 else None

    batch = int(env_extra["BATCH"])
    ok = max(0, r["requests"] - r["err_status"])
    return {
        "requests": r["requests"],
        "rps": round(r["requests"] / secs, 1),
        "ok_rps": round(ok / secs, 1),
        "alerts_per_s": round(ok * batch / secs, 1),
        "errors": errors,
        "non2xx": r["err_status"],
        "p50_ms": ms(r["lat_p50_us"]),
        "p90_ms": ms(r["lat_p90_us"]),
        "p95_ms": ms(r["lat_p95_us"]),
        "p99_ms": ms(r["lat_p99_us"]),
        "max_ms": ms(r["lat_max_us"]),
        "seconds": round(secs, 2),
        "wrk_cmd": " ".join([*cmd[:-3], "-s", "bench/lua/alerts.lua", base]),
    }


def load_avg() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


# ---------------------------------------------------------------- driver
def child_cmd(kind: str, a: argparse.Namespace, **extra: object) -> list[str]:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", kind]
    cmd += ["--app-root", a.app_root, "--drain-timeout", str(a.drain_timeout)]
    for k, v in extra.items():
        cmd += [f"--{k.replace('_', '-')}", str(v)]
    return cmd


def ours(a: argparse.Namespace, url: str, res: dict) -> None:
    env = child_env(url, a.app_root)
    res["setup"] = run_child(child_cmd("setup", a), env, label="setup")
    erpcare = [sys.executable, "-m", "erpcare"]
    port = a.port or free_port()
    base = f"http://127.0.0.1:{port}"
    server = Proc(
        "serve",
        [*erpcare, "serve", "--bind", f"127.0.0.1:{port}", "--workers", "2", "--no-collectstatic"],
        dict(env, ERPCARE_ACCESS_LOG=str(WORK / "alerts-access.log")),
        ROOT,
    )
    if a.worker == "erpcare":
        worker = Proc("worker", [*erpcare, "worker"], env, ROOT)
    else:
        worker = Proc("worker", child_cmd("loop", a), env, ROOT)
    try:
        server.start()
        wait_http(base + "/api/v1/openapi.json", {200, 401, 403}, server)
        worker.start()
        path = f"/api/v1/alerts/alertmanager/{INTEGRATION_KEY}"
        auth = f"Authorization: Bearer {INTEGRATION_SECRET}"
        # Warm-up: a few requests per gunicorn worker, processed before the clock starts.
        warm = {
            "BATCH": "1", "NEW_PCT": "10", "REPEAT_SET": str(a.repeat_set), "RUN_ID": "1",
            "FORMAT": "webhook", "POST_PATH": path, "AUTH_HEADER": auth,
        }  # fmt: skip
        run_wrk(base, warm, 2)
        for n, batch in enumerate(a.batches, start=2):
            since = run_child(child_cmd("stats", a, since_id=0), env, label="stats")
            since_id = since["max_payload_id"]
            say(f"[ours] batch {batch}: wrk {a.duration} s (worker running)")
            w = run_wrk(
                base, dict(warm, BATCH=str(batch), RUN_ID=str(n)), a.duration
            )  # fmt: skip
            say(f"[ours] batch {batch}: {fmt(w['rps'])} req/s, p95 {w['p95_ms']} ms; draining")
            d = run_child(child_cmd("drain", a, since_id=since_id), env, label="drain")
            if not worker.alive():
                raise SystemExit(f"the worker died; see {worker.log}")
            e2e = None
            if d["first_received"] and d["last_processed"]:
                e2e = round(d["alerts"] / (d["last_processed"] - d["first_received"]), 1)
            res[f"ours_b{batch}"] = {"wrk": w, "db": d, "e2e_alerts_per_s": e2e, "load": load_avg()}
            say(
                f"[ours] batch {batch}: {d['payloads']} payloads, {d['alerts']} alerts, "
                f"drained={d['drained']} after {d['drain_wait_s']} s → {fmt(e2e)} alerts/s "
                f"end to end; states {d['states']}; unlinked {d['alerts_without_incident']}"
            )
    finally:
        worker.stop()
        server.stop()


def profile(a: argparse.Namespace, url: str, res: dict) -> None:
    env = child_env(url, a.app_root)
    try:
        res["profile"] = run_child(child_cmd("profile", a), env, label="profile")
    except SystemExit as e:  # the loads' figures are kept even if the profile fails
        res["profile_error"] = str(e)


def alertmanager(a: argparse.Namespace, res: dict) -> None:
    sys.path.insert(0, str(ROOT))  # the fixture module is stdlib only: no Django here
    from erpcare.monitoring.tests.alertmanager_server import Alertmanager, binary

    if binary() is None:
        res["alertmanager"] = {"skipped": "prometheus-alertmanager is not installed"}
        return
    d = WORK / "alerts-am"
    if d.exists():
        import shutil

        shutil.rmtree(d)
    d.mkdir(parents=True)
    # Its notifications go to a receiver without integrations: we measure its intake.
    config = {
        "route": {"receiver": "none", "group_by": ["job"], "group_wait": "1s",
                  "group_interval": "1s", "repeat_interval": "1h"},
        "receivers": [{"name": "none"}],
    }  # fmt: skip
    (d / "alertmanager.yml").write_text(json.dumps(config))
    am = Alertmanager(directory=d, port=free_port()).start()
    try:
        env = {
            "NEW_PCT": "10", "REPEAT_SET": str(a.repeat_set), "FORMAT": "amapi",
            "POST_PATH": "/api/v2/alerts", "AUTH_HEADER": "",
        }  # fmt: skip
        run_wrk(am.url, dict(env, BATCH="1", RUN_ID="101"), 2)
        for n, batch in enumerate(a.batches, start=102):
            say(f"[alertmanager] batch {batch}: wrk {a.duration} s")
            w = run_wrk(am.url, dict(env, BATCH=str(batch), RUN_ID=str(n)), a.duration)
            res[f"am_b{batch}"] = {"wrk": w, "load": load_avg()}
            say(f"[alertmanager] batch {batch}: {fmt(w['rps'])} req/s, p95 {w['p95_ms']} ms")
    finally:
        am.stop()


def ratio(x: float | None, y: float | None) -> str:
    return f"{x / y:.2f}×" if x and y else "–"


def report(res: dict, a: argparse.Namespace) -> str:
    lines = [
        "# Monitoring benchmark: alert ingestion (issue 6)",
        "",
        f"{res['started']}, {platform.node()}, {os.cpu_count()} cores, PostgreSQL "
        f"(private cluster, defaults: synchronous_commit on), `erpcare serve` (gunicorn, 2 sync "
        f"workers), one `{'erpcare worker' if a.worker == 'erpcare' else 'bench loop worker'}`; "
        f"wrk -t{THREADS} -c{CONNS} -d{a.duration}s; 10 % new identities, 90 % repeats of "
        f"{a.repeat_set:,}. Load average before {res['load_before']}, after {res['load_after']}.",
        "",
        "| load | ours: req/s acknowledged | ours: p50 / p95 / p99 ms | ours: alerts/s end to end "
        "| Alertmanager API: req/s | AM: p50 / p95 / p99 ms | AM: alerts/s accepted "
        "| ratio alerts/s (ours e2e / AM) |",
        "|---|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for b in a.batches:
        o, m = res.get(f"ours_b{b}"), res.get(f"am_b{b}")
        ow, mw = (o or {}).get("wrk", {}), (m or {}).get("wrk", {})
        e2e = (o or {}).get("e2e_alerts_per_s")
        lines.append(
            f"| batch of {b} | {fmt(ow.get('ok_rps'))} | {ow.get('p50_ms')} / {ow.get('p95_ms')} "
            f"/ {ow.get('p99_ms')} | {fmt(e2e)} | {fmt(mw.get('ok_rps'))} | {mw.get('p50_ms')} / "
            f"{mw.get('p95_ms')} / {mw.get('p99_ms')} | {fmt(mw.get('alerts_per_s'))} "
            f"| {ratio(e2e, mw.get('alerts_per_s'))} |"
        )
    lines += ["", "Details:", ""]
    for b in a.batches:
        o = res.get(f"ours_b{b}")
        if not o:
            continue
        d, w = o["db"], o["wrk"]
        lines.append(
            f"- batch {b}: {w['requests']:,} requests ({w['non2xx']} non-2xx, {w['errors']} "
            f"socket errors); {d['payloads']:,} payloads with {d['alerts']:,} alerts; queue "
            f"drained {'yes' if d['drained'] else 'NO'} {d['drain_wait_s']} s after the load; "
            f"payload states {d['states']}; alerts open {d['open_alerts']:,}, without incident "
            f"{d['alerts_without_incident']:,}; incidents {d['incidents']}; "
            f"acknowledged alerts/s during the load {fmt(w['alerts_per_s'])}."
        )
    lines += ["", "Targets (issue 6):", ""]
    b100, b1 = res.get("ours_b100"), res.get("ours_b1")
    if b100:
        v = b100["e2e_alerts_per_s"] or 0
        met = v >= TARGETS["b100_alerts_per_s"]
        lines.append(
            f"- batches of 100 ≥ 5,000 alerts/s end to end: {fmt(v)} — "
            f"{'met' if met else 'NOT met'}"
        )
    if b1:
        rps, p95 = b1["wrk"]["ok_rps"], b1["wrk"]["p95_ms"] or 1e9
        met = rps >= TARGETS["b1_rps"] and p95 < TARGETS["b1_p95_ms"]
        lines.append(
            f"- single alerts ≥ 1,000 req/s with p95 < 20 ms: {fmt(rps)} req/s, p95 {p95} ms — "
            f"{'met' if met else 'NOT met'}"
        )
    prof = res.get("profile")
    if prof:
        lines += [
            "",
            f"Profile (one process, no HTTP): {prof['payloads']} batch payloads stored by "
            f"`ingest.receive` in {prof['receive_s']} s "
            f"({prof['receive_ms_per_payload']} ms each); "
            f"`process_pending` drained {prof['alerts']:,} alerts in {prof['pipeline_s']} s "
            f"({fmt(prof['pipeline_alerts_per_s'])} alerts/s, under cProfile).",
            "",
            "```text",
            prof["pipeline_cumulative"].strip(),
            "```",
            "",
            "```text",
            prof["pipeline_tottime"].strip(),
            "```",
            "",
            "```text",
            prof["receive_cumulative"].strip(),
            "```",
        ]
    return "\n".join(lines) + "\n"


def driver(a: argparse.Namespace) -> None:
    WORK.mkdir(exist_ok=True)
    res: dict = {"started": time.strftime("%Y-%m-%d %H:%M"), "load_before": load_avg()}
    res["args"] = {k: v for k, v in vars(a).items() if k != "child"}
    pg = None
    url = a.pg_url
    if not url:
        pg = PrivatePostgres("pg-alerts", a.pg_port, "erpcare_alerts_bench")
        url = pg.start()
    try:
        import seed as bench_seed  # reset_database(): drops and recreates the bench database

        bench_seed.reset_database(url, force=False)
        ours(a, url, res)
        if not a.skip_am:
            alertmanager(a, res)
        if a.profile:
            profile(a, url, res)
    finally:
        if pg is not None and pg.started:
            pg.stop()
    res["load_after"] = load_avg()
    name = f"alerts-{a.tag}-" if a.tag else "alerts-"
    (WORK / f"{name}results.json").write_text(json.dumps(res, indent=1, ensure_ascii=False))
    text = report(res, a)
    (WORK / f"{name}report.md").write_text(text)
    say("\n" + text)
    say(f"report: {WORK / (name + 'report.md')}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--duration", type=int, default=20, help="seconds of load each (≤ 30)")
    p.add_argument("--batches", default="100,1", help="alerts per request, comma-separated")
    p.add_argument("--repeat-set", type=int, default=1000, help="identities the repeats use")
    p.add_argument(
        "--drain-timeout", type=float, default=300, help="seconds to wait for the worker"
    )
    p.add_argument("--worker", choices=["erpcare", "loop"], default="erpcare",
                   help="erpcare worker, or a loop calling process_pending")  # fmt: skip
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--pg-port", type=int, default=54337)
    p.add_argument("--pg-url", default="", help="use this PostgreSQL database (name with 'bench')")
    p.add_argument("--skip-am", action="store_true", help="no Alertmanager side by side")
    p.add_argument("--profile", action="store_true")
    p.add_argument("--tag", default="")
    p.add_argument("--app-root", default=str(ROOT))
    p.add_argument("--child", choices=[*CHILDREN, "loop"], help=argparse.SUPPRESS)
    p.add_argument("--since-id", type=int, default=0, help=argparse.SUPPRESS)
    a = p.parse_args()
    a.duration = max(1, min(MAX_DURATION, a.duration))
    if a.child:
        child_main(a)
        return
    a.batches = [int(x) for x in str(a.batches).split(",") if x.strip()]
    driver(a)


if __name__ == "__main__":
    main()
