"""Grandfather-father-son retention: exact kept sets, local-time boundaries, failed points,
validation, and properties over random histories."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from erpcare.backups.retention import (
    Point,
    Reason,
    ReasonKind,
    RetentionError,
    RetentionPolicy,
    plan_retention,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def local_dates(ids: set[int | str], points: list[Point], zone: ZoneInfo) -> list[date]:
    return sorted(p.taken_at.astimezone(zone).date() for p in points if p.id in ids)


def test_a_year_of_daily_points_in_shanghai() -> None:
    # 02:30 in Shanghai is 18:30 UTC the day before: a plan made on UTC dates would be off by
    # one day everywhere.
    first = datetime(2025, 12, 1, 2, 30, tzinfo=SHANGHAI)
    points = [
        Point(id=n, taken_at=(first + timedelta(days=n)).astimezone(UTC), ok=True)
        for n in range(365)
    ]
    assert points[-1].taken_at == utc(2026, 11, 29, 18, 30)

    plan = plan_retention(points, RetentionPolicy(7, 4, 12), "Asia/Shanghai")

    assert local_dates(plan.keep_ids, points, SHANGHAI) == sorted(
        [date(2026, 11, d) for d in range(24, 31)]  # 7 days, Tuesday to Monday 30th
        + [date(2026, 11, 22), date(2026, 11, 15)]  # Sundays ending ISO weeks 47 and 46
        + [date(2026, m, d) for m, d in [(1, 31), (2, 28), (3, 31), (4, 30), (5, 31)]]
        + [date(2026, m, d) for m, d in [(6, 30), (7, 31), (8, 31), (9, 30), (10, 31)]]
        + [date(2025, 12, 31)]
    )
    assert len(plan.delete) == 365 - 20
    newest = plan.for_id(364)
    assert newest.reason == (
        "newest successful point; newest of day 2026-11-30; newest of ISO week 2026-W49; "
        "newest of 2026-11"
    )
    assert plan.for_id(363).reason == "newest of day 2026-11-29; newest of ISO week 2026-W48"
    assert plan.for_id(356).reason == "newest of ISO week 2026-W47"  # Sunday 22 November
    assert plan.for_id(334).reason == "newest of 2026-10"
    assert plan.for_id(30).reason == "newest of 2025-12"
    assert plan.for_id(0).reason == "beyond the policy"
    assert plan.for_id(0).reasons == (Reason(ReasonKind.BEYOND_POLICY),)
    assert [d.point.id for d in plan.decisions] == list(range(364, -1, -1))


def test_weeks_start_on_monday_in_local_time() -> None:
    # Sunday 29 November 23:30 and Monday 30 November 00:30 in Shanghai: the second is on
    # Sunday in UTC, but starts a new ISO week locally.
    sunday = Point("sun", datetime(2026, 11, 29, 23, 30, tzinfo=SHANGHAI), ok=True)
    saturday = Point("sat", datetime(2026, 11, 28, 12, 0, tzinfo=SHANGHAI), ok=True)
    monday = Point("mon", datetime(2026, 11, 30, 0, 30, tzinfo=SHANGHAI), ok=True)
    assert monday.taken_at.astimezone(UTC).weekday() == 6

    plan = plan_retention([saturday, sunday, monday], RetentionPolicy(0, 2, 0), SHANGHAI)

    assert plan.keep_ids == {"mon", "sun"}
    assert plan.for_id("sun").reason == "newest of ISO week 2026-W48"
    assert plan.for_id("sat").reason == "beyond the policy"


def test_berlin_spring_forward() -> None:
    # Clocks go from 02:00 CET to 03:00 CEST on Sunday 29 March 2026.
    points = [
        Point("sat 23:30", utc(2026, 3, 28, 22, 30), ok=True),  # 23:30 CET, 28 March
        Point("sun 00:30", utc(2026, 3, 28, 23, 30), ok=True),  # 00:30 CET, 29 March
        Point("sun 03:30", utc(2026, 3, 29, 1, 30), ok=True),  # 03:30 CEST, 29 March
        Point("sun 23:30", utc(2026, 3, 29, 21, 30), ok=True),  # 23:30 CEST, 29 March
        Point("mon 00:30", utc(2026, 3, 29, 22, 30), ok=True),  # 00:30 CEST, Monday 30
    ]

    plan = plan_retention(points, RetentionPolicy(3, 2, 0), "Europe/Berlin")

    assert plan.keep_ids == {"mon 00:30", "sun 23:30", "sat 23:30"}
    assert plan.for_id("sun 23:30").reason == (
        "newest of day 2026-03-29; newest of ISO week 2026-W13"
    )
    assert plan.for_id("sat 23:30").reason == "newest of day 2026-03-28"
    assert plan.for_id("mon 00:30").reason == (
        "newest successful point; newest of day 2026-03-30; newest of ISO week 2026-W14"
    )


def test_berlin_fall_back_counts_the_repeated_hour_once_per_day() -> None:
    # 02:30 happens twice on Sunday 25 October 2026 (CEST, then CET).
    points = [
        Point(1, utc(2026, 10, 24, 22, 30), ok=True),  # 00:30 CEST, 25 October
        Point(2, utc(2026, 10, 25, 0, 30), ok=True),  # 02:30 CEST
        Point(3, utc(2026, 10, 25, 1, 30), ok=True),  # 02:30 CET
        Point(4, utc(2026, 10, 25, 22, 30), ok=True),  # 23:30 CET, still 25 October
        Point(5, utc(2026, 10, 25, 23, 30), ok=True),  # 00:30 CET, 26 October
        Point(6, utc(2026, 10, 23, 21, 30), ok=True),  # 23:30 CEST, 23 October
    ]

    plan = plan_retention(points, RetentionPolicy(3, 0, 0), BERLIN)

    assert plan.keep_ids == {5, 4, 6}
    assert plan.for_id(4).reason == "newest of day 2026-10-25"
    assert plan.for_id(6).reason == "newest of day 2026-10-23"
    assert plan.delete_ids == {1, 2, 3}


def test_failed_points() -> None:
    day = datetime(2026, 11, 20, tzinfo=SHANGHAI)
    points = [
        Point("ok-20", day.replace(hour=1), ok=True),
        Point("fail-20", day.replace(hour=23), ok=False),  # newer, same day: takes no slot
        Point("fail-19", day.replace(day=19, hour=1), ok=False),
        Point("ok-21", day.replace(day=21, hour=1), ok=True),
        Point("fail-22a", day.replace(day=22, hour=1), ok=False),
        Point("fail-22b", day.replace(day=22, hour=2), ok=False),
    ]

    plan = plan_retention(points, RetentionPolicy(2, 0, 0), SHANGHAI)

    assert plan.keep_ids == {"ok-21", "ok-20", "fail-22b"}
    assert plan.for_id("ok-20").reason == "newest of day 2026-11-20"
    assert plan.for_id("fail-22b").reason == (
        "failed, newest attempt: kept until a backup succeeds"
    )
    assert plan.for_id("fail-22a").reason == "failed, not the newest attempt"
    assert plan.for_id("fail-20").reason == "failed, superseded by a newer successful point"
    assert plan.for_id("fail-19").reasons == (Reason(ReasonKind.FAILED_SUPERSEDED),)


def test_only_failed_points_keep_the_newest_failure() -> None:
    points = [Point(n, utc(2026, 11, n, 2), ok=False) for n in range(1, 6)]

    plan = plan_retention(points, RetentionPolicy(7, 4, 12), UTC)

    assert plan.keep_ids == {5}
    assert plan.delete_ids == {1, 2, 3, 4}


def test_the_only_successful_point_is_kept_however_old() -> None:
    points = [Point("old", utc(2023, 1, 1), ok=True)] + [
        Point(n, utc(2026, 11, n), ok=False) for n in range(1, 20)
    ]

    plan = plan_retention(points, RetentionPolicy(1, 0, 0), UTC)

    assert plan.keep_ids == {"old", 19}
    assert plan.for_id("old").reason == "newest successful point; newest of day 2023-01-01"


def test_the_newest_successful_point_is_kept_with_a_monthly_only_policy() -> None:
    points = [Point(n, utc(2026, 11, n), ok=True) for n in range(1, 31)]

    plan = plan_retention(points, RetentionPolicy(0, 0, 1), UTC)

    assert plan.keep_ids == {30}
    assert plan.for_id(30).reason == "newest successful point; newest of 2026-11"


def test_input_order_and_ties_do_not_change_the_plan() -> None:
    at = utc(2026, 11, 30, 2)
    points = [Point(n, at, ok=True) for n in range(5)] + [
        Point(f"s{n}", at - timedelta(days=n), ok=n % 3 != 0) for n in range(1, 40)
    ]
    expected = plan_retention(points, RetentionPolicy(3, 2, 2), UTC)
    assert expected.for_id(4).keep  # the highest id wins a tie
    assert not expected.for_id(3).keep

    shuffled = points[:]
    random.Random(8).shuffle(shuffled)  # noqa: S311 (a reproducible order, not a secret)
    assert plan_retention(shuffled, RetentionPolicy(3, 2, 2), UTC) == expected


def test_no_points_no_decisions() -> None:
    plan = plan_retention([], RetentionPolicy(1, 1, 1), UTC)
    assert plan.decisions == ()
    with pytest.raises(KeyError):
        plan.for_id(1)


@pytest.mark.parametrize(
    ("numbers", "message"),
    [
        ((-1, 4, 12), r"keep_daily cannot be negative \(-1\)"),
        ((7, -4, 12), "keep_weekly cannot be negative"),
        ((7, 4, -12), "keep_monthly cannot be negative"),
        ((0, 0, 0), "with all three at 0 it would delete every backup"),
        ((7.0, 4, 12), "keep_daily must be a whole number, not 7.0"),
        ((7, True, 12), "keep_weekly must be a whole number"),
        ((7, "4", 12), "keep_weekly must be a whole number"),
    ],
)
def test_invalid_policies(numbers: tuple[object, object, object], message: str) -> None:
    with pytest.raises(RetentionError, match=message):
        RetentionPolicy(*numbers)  # type: ignore[arg-type]


def test_invalid_points_and_zone() -> None:
    policy = RetentionPolicy(1, 0, 0)
    with pytest.raises(RetentionError, match="point 7 has a time without a time zone"):
        plan_retention([Point(7, datetime(2026, 11, 30), ok=True)], policy, UTC)
    with pytest.raises(RetentionError, match="point 1 is listed twice"):
        plan_retention(
            [Point(1, utc(2026, 11, 30), ok=True), Point(1, utc(2026, 11, 29), ok=False)],
            policy,
            UTC,
        )
    with pytest.raises(RetentionError, match="Unknown time zone: Mars/Olympus"):
        plan_retention([], policy, "Mars/Olympus")
    # An int and a str id that print alike are different points.
    plan = plan_retention(
        [Point(1, utc(2026, 11, 30), ok=True), Point("1", utc(2026, 11, 29), ok=True)],
        policy,
        UTC,
    )
    assert len(plan.decisions) == 2


ZONES = ["UTC", "Asia/Shanghai", "Europe/Berlin", "America/Sao_Paulo", "Pacific/Chatham"]
START = datetime(2025, 1, 1, tzinfo=UTC)


@st.composite
def histories(draw: st.DrawFn) -> tuple[list[Point], RetentionPolicy, str]:
    offsets = draw(st.lists(st.integers(0, 800 * 24 * 60), max_size=80))
    points = [
        Point(index, START + timedelta(minutes=offset), ok=draw(st.booleans()))
        for index, offset in enumerate(offsets)
    ]
    numbers = draw(st.tuples(st.integers(0, 6), st.integers(0, 6), st.integers(0, 14)).filter(any))
    return points, RetentionPolicy(*numbers), draw(st.sampled_from(ZONES))


@settings(
    max_examples=300,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(histories(), st.randoms(use_true_random=False))
def test_properties(history: tuple[list[Point], RetentionPolicy, str], rnd: random.Random) -> None:
    points, policy, zone = history

    plan = plan_retention(points, policy, zone)

    ids = {p.id for p in points}
    assert plan.keep_ids | plan.delete_ids == ids
    assert not plan.keep_ids & plan.delete_ids
    assert len(plan.decisions) == len(points)
    assert len(plan.keep) <= policy.keep_daily + policy.keep_weekly + policy.keep_monthly + 1
    assert all(d.reasons for d in plan.decisions)
    successful = [p for p in points if p.ok]
    if successful:
        newest = max(successful, key=lambda p: (p.taken_at, p.id))
        assert plan.for_id(newest.id).keep
        assert plan.for_id(newest.id).reasons[0] == Reason(ReasonKind.NEWEST_SUCCESSFUL)
    # At most one failed point is kept, and only one newer than every success.
    failed_kept = [d.point for d in plan.keep if not d.point.ok]
    assert len(failed_kept) <= 1
    if failed_kept and successful:
        assert failed_kept[0].taken_at >= newest.taken_at
    shuffled = points[:]
    rnd.shuffle(shuffled)
    assert plan_retention(shuffled, policy, zone) == plan
