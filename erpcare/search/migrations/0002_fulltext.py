"""The full-text part of the index, for the database at hand: an FTS5 table with its
triggers and vocabulary on SQLite; a generated tsvector column with a GIN index on
PostgreSQL. Django's model state does not know either (they are not fields)."""

from django.db import migrations


def install(apps, schema_editor):
    from erpcare.search.backends import backend_for

    backend_for(schema_editor.connection.vendor).install(schema_editor)


def uninstall(apps, schema_editor):
    from erpcare.search.backends import backend_for

    backend_for(schema_editor.connection.vendor).uninstall(schema_editor)


class Migration(migrations.Migration):
    dependencies = [("search", "0001_initial")]

    operations = [migrations.RunPython(install, uninstall, elidable=False)]
