"""Superseded by 0005, which (re)creates the full-text part of the index with the scope
tokens; kept so databases that applied it keep a consistent history."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("search", "0001_initial")]

    operations = []
