"""The "Host health via Prometheus" pack on this machine: a real node_exporter (Debian's
prometheus-node-exporter 1.5) scraped every second by a real Prometheus, each check
imported from the shipped YAML, applied to a Prometheus data source and run through the
product's runner and evaluation (``run_checks``: PromQL runner, ``judge_rows``, stored
result). Every value is compared with what the kernel says directly: ``statvfs`` for the
file system, ``/proc/meminfo`` for memory, ``adjtimex(2)`` for the clock, the exporter's
raw CPU counters for CPU.

What a real host gives and what this machine (a VM or container) gives:

- systemd-failed-units: on a host running systemd, the failed units (``systemctl
  --failed``), none on a healthy one. Here there is no systemd or D-Bus, so node_exporter's
  systemd collector (on by default in Debian's package) fails on every scrape and exports
  no ``node_systemd_unit_state`` at all: the pack's first query then found nothing and the
  check passed, blind. The pack now also reports a failing collector
  (``node_scrape_collector_success{collector="systemd"} == 0``): critical here, with the
  collector as the finding. A node_exporter run without --collector.systemd still exports
  nothing about units and passes with value 0; the check's text says it needs the collector.
- cpu-busy: idle CPU time over all CPU time, both over 15 minutes. The pack's former
  1 - avg(rate(idle[15m])) read ~100 % busy on every host whose series is younger than
  the window (a new host, a new Prometheus): rate() over 15 minutes of a few seconds'
  samples is a small fraction of the true rate (proven below on the exporter's series).
- clock-skew: the kernel's NTP offset. A clock no NTP daemon disciplines (sync status 0,
  as in many VMs whose clock the hypervisor keeps) has offset 0 and passes; the check
  measures drift of a synchronised clock, not whether a clock is synchronised.
- tls-certificate-expiry reads blackbox_exporter's ``probe_ssl_earliest_cert_expiry``; a
  Prometheus without a blackbox probe has no such series, and the check says it could
  not run ("no value to compare"), which is what happens here. Its arithmetic (days, the
  smallest certificate first) is proven with that series written through node_exporter's
  textfile collector, not with a real blackbox_exporter probe.
- disk-full-in-24h: predict_linear over the few seconds Prometheus has of a disk here
  follows whoever writes at that moment (this machine's root file system, under 40 % free
  and written to by other work, is often "full within a day"); so the proof uses a private
  64 MiB ext4, loop-mounted by the test, filled to 70 %, flat, then grown: found within
  seconds. Needs root and a loop device, skipped with the reason otherwise.

Skipped with the reason when node_exporter or Prometheus is not installed.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import json
import math
import os
import shutil
import subprocess
import time
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from erpcare.conftest import Cast
from erpcare.core import clock
from erpcare.inspections.models import (
    CheckResult,
    Condition,
    DataSource,
    InstanceCheck,
    Rating,
    ResultStatus,
    SourceKind,
    Trigger,
)
from erpcare.inspections.packs.loader import PACKS_DIR, CheckDefinition, import_pack, parse_pack
from erpcare.inspections.runners import SourceSpec, promql
from erpcare.inspections.services.assign import apply_pack
from erpcare.inspections.services.evaluate import Verdict
from erpcare.inspections.services.runs import ask, run_checks
from erpcare.inspections.tests import node_exporter, prometheus_server

PACK_FILE = PACKS_DIR / "host_prometheus.yaml"
PACK_TEXT = PACK_FILE.read_text(encoding="utf-8")
PACK = parse_pack(PACK_TEXT, origin=PACK_FILE.name)
CHECKS = {check.code: check for check in PACK.checks}
WAIT_S = 15.0


# --- the machine as the kernel sees it ----------------------------------------------------


def used_percent(path: str) -> float:
    """What the pack computes, from statvfs: 100 × (1 − available / size)."""
    st = os.statvfs(path)
    return 100 * (1 - st.f_bavail / st.f_blocks)


def free_percent(path: str) -> float:
    return 100 - used_percent(path)


def meminfo_used_percent() -> float:
    fields = {}
    for line in Path("/proc/meminfo").read_text().splitlines():
        name, _, rest = line.partition(":")
        fields[name] = int(rest.split()[0])
    return 100 * (1 - fields["MemAvailable"] / fields["MemTotal"])


class _Timeval(ctypes.Structure):
    _fields_ = [("tv_sec", ctypes.c_long), ("tv_usec", ctypes.c_long)]


class _Timex(ctypes.Structure):
    """Linux's struct timex (adjtimex(2)); modes 0 only reads."""

    _fields_ = [
        ("modes", ctypes.c_uint),
        ("offset", ctypes.c_long),
        ("freq", ctypes.c_long),
        ("maxerror", ctypes.c_long),
        ("esterror", ctypes.c_long),
        ("status", ctypes.c_int),
        ("constant", ctypes.c_long),
        ("precision", ctypes.c_long),
        ("tolerance", ctypes.c_long),
        ("time", _Timeval),
        ("tick", ctypes.c_long),
        ("ppsfreq", ctypes.c_long),
        ("jitter", ctypes.c_long),
        ("shift", ctypes.c_int),
        ("stabil", ctypes.c_long),
        ("jitcnt", ctypes.c_long),
        ("calcnt", ctypes.c_long),
        ("errcnt", ctypes.c_long),
        ("stbcnt", ctypes.c_long),
        ("tai", ctypes.c_int),
        ("_reserved", ctypes.c_int * 11),
    ]


STA_NANO = 0x2000
TIME_ERROR = 5


def kernel_clock() -> tuple[float, bool]:
    """The kernel's NTP offset in seconds and whether it counts as synchronised, as
    node_exporter's timex collector reads them."""
    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    timex = _Timex()
    state = libc.adjtimex(ctypes.byref(timex))
    assert state >= 0, os.strerror(ctypes.get_errno())
    unit = 1e-9 if timex.status & STA_NANO else 1e-6
    return timex.offset * unit, state != TIME_ERROR


def expected_status(check: CheckDefinition, value: float) -> str:
    """The status the pack's thresholds give ``value`` (written out, not evaluate's code)."""
    warn, critical = check.warn, check.critical
    assert warn is not None
    assert critical is not None
    if check.condition == Condition.VALUE_AT_MOST:
        worse = value > critical, value > warn
    else:
        assert check.condition == Condition.VALUE_AT_LEAST
        worse = value < critical, value < warn
    if worse[0]:
        return ResultStatus.CRITICAL
    return ResultStatus.WARN if worse[1] else ResultStatus.OK


# --- node_exporter scraped by Prometheus ---------------------------------------------------


@dataclass
class Host:
    exporter: node_exporter.NodeExporter
    prometheus: prometheus_server.Prometheus

    @property
    def spec(self) -> SourceSpec:
        return SourceSpec(kind="prometheus", url=self.prometheus.url, timeout_ms=5000)

    def query(self, query: str) -> list[promql.Sample]:
        return promql.instant_query(self.spec, query)

    def range_samples(self, selector: str, at: float) -> list[dict[str, Any]]:
        """A range selector's raw samples as of ``at`` (the runner refuses range vectors;
        this is the test looking at what Prometheus stored)."""
        status, body = self.prometheus.get(
            "/api/v1/query?" + urllib.parse.urlencode({"query": selector, "time": f"{at:.3f}"})
        )
        assert status == 200, body
        result: list[dict[str, Any]] = json.loads(body)["data"]["result"]
        return result

    def diagnostics(self) -> str:
        return (
            f"node_exporter log:\n{self.exporter.log_tail(3000)}\n"
            f"Prometheus log:\n{self.prometheus.log_tail(3000)}"
        )


def until(what: str, probe: Callable[[], Any], host: Host | None = None) -> Any:
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        found = probe()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError(
        f"{what}: not seen within {WAIT_S:.0f} s\n" + (host.diagnostics() if host else "")
    )


@pytest.fixture(scope="module")
def host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Host]:
    if node_exporter.binary() is None:
        pytest.skip(
            "node_exporter is not installed "
            "(apt-get install -y --no-install-recommends prometheus-node-exporter)"
        )
    if prometheus_server.binary() is None:
        pytest.skip("prometheus is not installed (apt-get install -y prometheus)")
    directory = tmp_path_factory.mktemp("host")
    exporter = node_exporter.NodeExporter(directory / "node_exporter").start()
    try:
        prometheus = prometheus_server.Prometheus(directory / "prometheus").start([exporter.target])
        try:
            machine = Host(exporter, prometheus)
            memory = f'node_memory_MemTotal_bytes{{instance="{exporter.target}"}}'
            # Two scrapes of the node metrics: what rate() and predict_linear() need.
            until(
                "two scrapes of node_exporter",
                lambda: machine.query(f"count_over_time({memory}[5m]) >= 2"),
                machine,
            )
            yield machine
        finally:
            prometheus.stop()
    finally:
        exporter.stop()


@pytest.fixture
def source(cast: Cast, host: Host) -> DataSource:
    now = clock.now()
    return DataSource.objects.create(
        erp_instance=cast.acme_erp,
        name="Prometheus",
        kind=SourceKind.PROMETHEUS,
        url=host.prometheus.url,
        statement_timeout_ms=5000,
        created_at=now,
        updated_at=now,
    )


def assign_pack(cast: Cast, source: DataSource, text: str) -> dict[str, InstanceCheck]:
    """Import a pack as an operator would and apply it to the data source."""
    pack = import_pack(text, actor=cast.mona, origin="host pack")
    apply_pack(cast.mona, pack, source)
    assignments = InstanceCheck.objects.filter(data_source=source, check_ref__pack=pack)
    return {
        a.check_ref.code: a
        for a in assignments.select_related(
            "check_ref", "data_source", "erp_instance__organization"
        )
    }


def run_now(
    cast: Cast, assignments: dict[str, InstanceCheck]
) -> tuple[Any, dict[str, CheckResult]]:
    run = run_checks(list(assignments.values()), trigger=Trigger.MANUAL, actor=cast.eric)
    results = run.results.select_related("instance_check__check_ref")
    return run, {r.instance_check.check_ref.code: r for r in results}


def labels(result: CheckResult | Verdict, index: int = 0) -> dict[str, str]:
    found: dict[str, str] = result.findings[index]["labels"]
    return found


# --- every check, as shipped ---------------------------------------------------------------


def test_every_check_of_the_pack_runs_on_this_machine(
    cast: Cast, host: Host, source: DataSource
) -> None:
    assignments = assign_pack(cast, source, PACK_TEXT)
    assert set(assignments) == set(CHECKS)
    run, results = run_now(cast, assignments)
    assert set(results) == set(CHECKS)
    summary = {code: (r.status, r.value, r.message) for code, r in results.items()}

    # disk-space: the fullest file system the pack watches, as statvfs sees it.
    disk = results["disk-space"]
    mount = labels(disk)["mountpoint"]
    assert disk.value == pytest.approx(used_percent(mount), abs=0.5), summary
    assert disk.status == expected_status(CHECKS["disk-space"], disk.value)
    watched = host.query(CHECKS["disk-space"].query)
    assert all(disk.value >= s.value for s in watched)
    for sample in watched:
        assert sample.value == pytest.approx(used_percent(sample.labels["mountpoint"]), abs=0.5)

    # memory-used: MemAvailable / MemTotal, read from /proc/meminfo just after.
    memory = results["memory-used"]
    assert memory.value == pytest.approx(meminfo_used_percent(), abs=3), summary
    assert memory.status == expected_status(CHECKS["memory-used"], memory.value)

    # cpu-busy: busy share of the CPU time the exporter's own counters recorded between the
    # first and the last scrape (the window the 15-minute rate covers so far), the samples
    # as Prometheus had them when the check asked.
    cpu = results["cpu-busy"]
    assert cpu.value is not None
    assert 0 <= cpu.value <= 100, summary
    assert cpu.status == expected_status(CHECKS["cpu-busy"], cpu.value)
    asked = cpu.started_at.timestamp() + cpu.duration_ms / 1000
    counters = host.range_samples(
        f'node_cpu_seconds_total{{instance="{host.exporter.target}"}}[15m]', at=asked
    )
    idle = total = 0.0
    last_ts = min(float(series["values"][-1][0]) for series in counters)
    for series in counters:
        first = float(series["values"][0][1])
        # The sample at the last common timestamp: all CPU series come from the same scrapes.
        last = next(float(v) for t, v in series["values"] if float(t) == last_ts)
        total += last - first
        if series["metric"]["mode"] == "idle":
            idle += last - first
    assert total > 0
    assert cpu.value == pytest.approx(100 * (1 - idle / total), abs=2), summary

    # clock-skew: |offset| of the kernel's NTP discipline, as adjtimex(2) reads it.
    skew = results["clock-skew"]
    offset, _synchronised = kernel_clock()
    assert skew.value == pytest.approx(abs(offset), abs=0.01), summary
    assert skew.status == expected_status(CHECKS["clock-skew"], skew.value)

    # systemd-failed-units: what systemd says, or that node_exporter could not ask it.
    systemd = results["systemd-failed-units"]
    assert systemd.status != ResultStatus.ERROR, summary
    collector = host.query('node_scrape_collector_success{collector="systemd"}')
    assert [s.value for s in collector] in ([0.0], [1.0])
    if collector[0].value == 1.0:
        listed = subprocess.run(
            ["systemctl", "list-units", "--state=failed", "--plain", "--no-legend"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        ).stdout.splitlines()
        # The unit is each line's first word; node_exporter leaves out the unit types its
        # default --collector.systemd.unit-exclude names.
        skipped = (".automount", ".device", ".mount", ".scope", ".slice", ".target")
        failed = [line.split()[0] for line in listed if line.strip()]
        failed = [unit for unit in failed if not unit.endswith(skipped)]
        units = sorted(labels(systemd, i)["name"] for i in range(systemd.findings_total))
        assert units == sorted(failed)
        assert systemd.status == (ResultStatus.CRITICAL if units else ResultStatus.OK)
    else:
        # No systemd to ask (this machine): no unit states at all, the collector's failure
        # is the one finding, and severity high makes it critical.
        assert host.query("node_systemd_unit_state") == []
        assert "dbus" in host.exporter.log_tail().lower()
        assert systemd.status == ResultStatus.CRITICAL, summary
        assert systemd.findings_total == 1
        assert systemd.findings[0]["value"] == 0.0
        assert labels(systemd)["collector"] == "systemd"
        assert labels(systemd)["instance"] == host.exporter.target

    # tls-certificate-expiry: no blackbox_exporter probes here, so no series at all.
    tls = results["tls-certificate-expiry"]
    assert host.query("probe_ssl_earliest_cert_expiry") == []
    assert (tls.status, tls.value) == (ResultStatus.ERROR, None)
    assert tls.message == "The query returned no value to compare."

    # disk-full-in-24h: whatever it finds is a writable file system under 40 % free.
    filling = results["disk-full-in-24h"]
    assert filling.status in (ResultStatus.OK, ResultStatus.CRITICAL), summary
    for i in range(len(filling.findings)):
        assert free_percent(labels(filling, i)["mountpoint"]) < 40

    assert run.rating == (
        Rating.RED
        if any(r.status == ResultStatus.CRITICAL for r in results.values())
        else Rating.YELLOW  # the TLS check could not run
    )


def test_a_rate_over_15_minutes_of_a_young_series_is_a_fraction_of_the_truth(
    host: Host,
) -> None:
    """Why cpu-busy divides idle by all CPU time: a minute-old series' rate over [15m] is
    far below the CPU seconds per second it really counts (the number of CPUs), so the
    pack's former 1 − avg(rate(idle[15m])) read ~100 % busy on any host for its first
    quarter of an hour."""
    target = host.exporter.target
    (all_cpu,) = host.query(f'sum(rate(node_cpu_seconds_total{{instance="{target}"}}[15m]))')
    cpus = len(host.query(f'node_cpu_seconds_total{{instance="{target}",mode="idle"}}'))
    assert cpus == os.cpu_count()
    assert all_cpu.value < 0.25 * cpus


# --- failing on real data --------------------------------------------------------------------


def test_tighter_disk_thresholds_in_a_copy_of_the_pack_make_this_disk_critical(
    cast: Cast, host: Host, source: DataSource
) -> None:
    """The pack's own advice: scope or tune it in a copy. Thresholds under what this
    machine really uses make its fullest file system critical, named in the finding."""
    (fullest,) = sorted(host.query(CHECKS["disk-space"].query), key=lambda s: -s.value)[:1]
    mount = fullest.labels["mountpoint"]
    used = used_percent(mount)
    assert used > 2, f"{mount} is almost empty ({used:.1f} % used); nothing to fail"
    document = yaml.safe_load(PACK_TEXT)
    document["code"] = "host-prometheus-tight"
    document["name"] = "Host health, tight disk thresholds"
    (disk,) = (c for c in document["checks"] if c["code"] == "disk-space")
    disk["warn"] = math.floor(used / 2)
    disk["critical"] = math.floor(used) - 1
    document["checks"] = [disk]
    assignments = assign_pack(cast, source, yaml.safe_dump(document, sort_keys=False))
    assert list(assignments) == ["disk-space"]
    assert assignments["disk-space"].check_ref.critical_threshold == math.floor(used) - 1

    run, results = run_now(cast, assignments)
    result = results["disk-space"]
    assert result.status == ResultStatus.CRITICAL, result.message
    assert result.value == pytest.approx(used_percent(mount), abs=0.5)
    assert labels(result)["mountpoint"] == mount
    assert labels(result)["device"] == fullest.labels["device"]
    assert run.rating == Rating.RED
    assignment = assignments["disk-space"]
    assignment.refresh_from_db()
    assert assignment.last_status == ResultStatus.CRITICAL
    assert assignment.consecutive_failures == 1


@contextlib.contextmanager
def private_ext4(directory: Path, used_percent_wanted: float) -> Iterator[Path]:
    """A 64 MiB ext4 file system of the test's own, loop-mounted, made already filled to
    ``used_percent_wanted`` (mkfs.ext4 -d: no write of ours lands after it is mounted).
    Skips when this process may not mount one (not root, no loop devices)."""
    mkfs, mount, umount = (shutil.which(n) for n in ("mkfs.ext4", "mount", "umount"))
    if os.geteuid() != 0 or not (mkfs and mount and umount):
        pytest.skip("a private ext4 file system needs root, mkfs.ext4 and mount")
    image, staging, point = directory / "disk.img", directory / "seed", directory / "disk"
    staging.mkdir()
    point.mkdir()
    size = 64 << 20
    # Usable blocks are ~90 % of the image (metadata, journal); seed by that estimate.
    (staging / "base.bin").write_bytes(b"x" * int(size * 0.9 * used_percent_wanted / 100))
    with image.open("wb") as out:
        out.truncate(size)
    made = subprocess.run(
        [mkfs, "-q", "-F", "-m", "0", "-d", str(staging), str(image)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert made.returncode == 0, made.stderr
    mounted = subprocess.run(
        [mount, "-o", "loop", str(image), str(point)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot loop-mount a private ext4 here: {mounted.stderr.strip()}")
    try:
        yield point
    finally:
        done = subprocess.run([umount, str(point)], capture_output=True, timeout=60, check=False)
        if done.returncode != 0:
            subprocess.run([umount, "-l", str(point)], capture_output=True, timeout=60, check=False)
        image.unlink(missing_ok=True)


def test_a_file_growing_now_makes_its_disk_fill_within_24_hours(
    cast: Cast, host: Host, source: DataSource, tmp_path: Path
) -> None:
    """predict_linear over what Prometheus has of a file system that someone fills: a
    private ext4 (the machine's own disks have other writers, whose bursts make their
    slope noise over a few seconds), 70 % used, flat for two scrapes, then grown by 1 MiB
    every quarter second until the check names it."""
    check = assign_pack(cast, source, PACK_TEXT)["disk-full-in-24h"]

    def mounts(verdict: Verdict) -> list[str]:
        return [labels(verdict, i)["mountpoint"] for i in range(len(verdict.findings))]

    with private_ext4(tmp_path, 70) as point:
        mount = str(point.resolve())
        assert 20 < free_percent(mount) < 40
        series = (
            f'node_filesystem_avail_bytes{{instance="{host.exporter.target}",mountpoint="{mount}"}}'
        )
        flat = until(
            "two scrapes of the private file system",
            lambda: host.query(
                f"count_over_time({series}[1m]) >= 2"
                f" and max_over_time({series}[1m]) == min_over_time({series}[1m])"
            ),
            host,
        )
        assert flat
        before = ask(check)
        assert before.status != ResultStatus.ERROR, before.message
        assert mount not in mounts(before)  # a flat line never reaches zero

        verdict = before
        deadline = time.monotonic() + 10
        with (point / "export.csv").open("wb") as out:
            while mount not in mounts(verdict) and time.monotonic() < deadline:
                assert free_percent(mount) > 10, (verdict.findings, host.query(series))
                out.write(b"x" * (1 << 20))
                out.flush()
                os.fsync(out.fileno())
                time.sleep(0.25)
                verdict = ask(check)
        assert mount in mounts(verdict), (verdict.findings, host.query(series))
        assert verdict.status == ResultStatus.CRITICAL  # severity high, no thresholds
        finding = verdict.findings[mounts(verdict).index(mount)]
        assert finding["value"] < 0  # the free bytes predicted for this time tomorrow
        assert labels(verdict, mounts(verdict).index(mount))["fstype"] == "ext4"
        assert free_percent(mount) > 5  # found long before the disk is full


# --- TLS expiry arithmetic ----------------------------------------------------------------


def _textfile(host: Host, name: str, lines: list[str] | None) -> None:
    path = host.exporter.textfile_dir / f"{name}.prom"
    if lines is None:
        path.unlink(missing_ok=True)
        return
    partial = path.with_suffix(".tmp")  # the collector reads *.prom only: no half files
    partial.write_text("\n".join(lines) + "\n")
    partial.replace(path)


def test_tls_expiry_is_the_nearest_certificate_in_days(
    cast: Cast, host: Host, source: DataSource
) -> None:
    """blackbox_exporter's series in its exposition format, through the textfile collector:
    the check's value is the nearest expiry in days, judged by the pack's 21 / 7 days."""
    check = assign_pack(cast, source, PACK_TEXT)["tls-certificate-expiry"]
    name = "probe_ssl_earliest_cert_expiry"
    now = time.time()

    def probes(**days: float) -> Verdict:
        expiry = {f"https://{t}.example": round(now + d * 86400) for t, d in days.items()}
        lines = [f"# TYPE {name} gauge"] + [
            f'{name}{{target="{t}"}} {e}' for t, e in expiry.items()
        ]
        _textfile(host, "blackbox", lines)
        until(
            "the probe series",
            lambda: {s.labels["target"]: s.value for s in host.query(name)} == expiry,
            host,
        )
        return ask(check)

    try:
        soon = probes(erp=30, mail=5)
        assert soon.status == ResultStatus.CRITICAL
        assert soon.value == pytest.approx(5 - (time.time() - now) / 86400, abs=0.01)
        later = probes(erp=30, mail=10)
        assert later.status == ResultStatus.WARN
        assert later.value == pytest.approx(10, abs=0.01)
        fine = probes(erp=30, mail=90)
        assert (fine.status, round(fine.value or 0)) == (ResultStatus.OK, 30)
    finally:
        _textfile(host, "blackbox", None)
    until("the probe series gone", lambda: host.query(name) == [], host)
    assert ask(check).status == ResultStatus.ERROR
