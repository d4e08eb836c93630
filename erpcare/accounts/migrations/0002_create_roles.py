from django.db import migrations

ROLE_CODES = ["customer", "l1_agent", "l2_engineer", "l3_expert", "manager", "admin", "auditor"]


def create_roles(apps, schema_editor):
    Role = apps.get_model("accounts", "Role")
    for code in ROLE_CODES:
        Role.objects.get_or_create(code=code)


def remove_roles(apps, schema_editor):
    # Only roles nobody holds can go; PROTECT on User.role refuses the rest.
    Role = apps.get_model("accounts", "Role")
    Role.objects.filter(code__in=ROLE_CODES, users__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial")]

    operations = [migrations.RunPython(create_roles, remove_roles)]
