"""The full-text part of the index, for the database at hand: an FTS5 table with its
triggers and vocabulary on SQLite; a generated tsvector column with a GIN index on
PostgreSQL. Django's model state knows neither (they are not fields).

Drops whatever an earlier layout created first, and fills the scope tokens of entries
that exist already (the FTS5 table is rebuilt from them by ``install``)."""

from django.db import migrations


def install(apps, schema_editor):
    from erpcare.search.backends import backend_for
    from erpcare.search.backends.base import scope_terms

    backend = backend_for(schema_editor.connection.vendor)
    backend.uninstall(schema_editor)
    SearchEntry = apps.get_model("search", "SearchEntry")
    scopes = SearchEntry.objects.values_list("kind", "audience", "organization_id").distinct()
    for kind, audience, organization_id in list(scopes):
        SearchEntry.objects.filter(
            kind=kind, audience=audience, organization_id=organization_id
        ).update(scope_terms=scope_terms(kind, audience, organization_id))
    backend.install(schema_editor)


def uninstall(apps, schema_editor):
    from erpcare.search.backends import backend_for

    backend_for(schema_editor.connection.vendor).uninstall(schema_editor)


class Migration(migrations.Migration):
    dependencies = [("search", "0004_scope_terms")]

    operations = [migrations.RunPython(install, uninstall, elidable=False)]
