"""Default calendars, policies and escalation steps (editable afterwards)."""

from datetime import time

from django.db import migrations

# (name, kind, zone, country, {weekday: [(from, until)]})
CHINA_HOURS = [(time(9), time(12)), (time(13, 30), time(18))]
CALENDARS = [
    ("24×7", "24x7", "Asia/Shanghai", "", {}),
    ("China working hours (09:00–18:00)", "business", "Asia/Shanghai", "CN",
     dict.fromkeys(range(5), CHINA_HOURS)),
    ("China extended hours (08:00–22:00, 7 days)", "business", "Asia/Shanghai", "CN",
     {day: [(time(8), time(22))] for day in range(7)}),
    ("Germany working hours (09:00–17:00)", "business", "Europe/Berlin", "DE",
     {day: [(time(9), time(17))] for day in range(5)}),
]  # fmt: skip

H, D = 60, 450  # minutes in an hour, in a working day of China working hours
# level -> priority -> (response, resolution, calendar index)
TARGETS = {
    "vip": {0: (15, 4 * H, 0), 1: (30, 8 * H, 0), 2: (2 * H, 2 * D, 1), 3: (4 * H, 5 * D, 1)},
    "standard": {0: (30, 4 * H, 0), 1: (2 * H, 4 * H, 1), 2: (4 * H, 3 * D, 1), 3: (D, 5 * D, 1)},
    "basic": {0: (H, 8 * H, 0), 1: (4 * H, 2 * D, 1), 2: (D, 5 * D, 1), 3: (2 * D, 10 * D, 1)},
}  # fmt: skip
TARGETS[""] = TARGETS["basic"]
LEVEL_NAMES = {"vip": "VIP", "standard": "Standard", "basic": "Basic", "": "Default"}

# priority -> [(metric, percent, flags)]
STEPS = {
    0: [
        ("response", 100, {"notify_assignee": True, "notify_team_lead": True, "raise_tier": True}),
        ("response", 200, {"notify_managers": True, "notify_account_manager": True}),
        ("resolution", 100, {"notify_assignee": True, "notify_team_lead": True,
                             "notify_managers": True, "notify_account_manager": True}),
    ],
    1: [
        ("response", 100, {"notify_assignee": True, "notify_team_lead": True}),
        ("resolution", 100, {"notify_assignee": True, "notify_team_lead": True,
                             "notify_managers": True}),
    ],
}  # fmt: skip


def create_defaults(apps, schema_editor):
    calendar_model = apps.get_model("sla", "BusinessCalendar")
    period_model = apps.get_model("sla", "WorkingPeriod")
    policy_model = apps.get_model("sla", "SlaPolicy")
    step_model = apps.get_model("sla", "EscalationStep")
    if policy_model.objects.exists():
        return
    calendars = []
    for name, kind, zone, country, hours in CALENDARS:
        calendar = calendar_model.objects.create(
            name=name, kind=kind, time_zone=zone, holiday_country=country
        )
        period_model.objects.bulk_create(
            period_model(calendar=calendar, weekday=day, starts=a, ends=b)
            for day, ranges in hours.items()
            for a, b in ranges
        )
        calendars.append(calendar)
    for level, by_priority in TARGETS.items():
        for priority, (response, resolution, calendar_index) in by_priority.items():
            policy = policy_model.objects.create(
                name=f"{LEVEL_NAMES[level]} P{priority}",
                service_level=level,
                priority=priority,
                response_minutes=response,
                resolution_minutes=resolution,
                calendar=calendars[calendar_index],
                warning_percent=75,
                pause_when_waiting_customer=True,
                pause_when_waiting_vendor=False,
            )
            for metric, percent, flags in STEPS.get(priority, []):
                defaults = {"notify_assignee": False, **flags}
                step_model.objects.create(policy=policy, metric=metric, percent=percent, **defaults)


class Migration(migrations.Migration):
    dependencies = [("sla", "0001_initial")]

    operations = [migrations.RunPython(create_defaults, migrations.RunPython.noop)]
