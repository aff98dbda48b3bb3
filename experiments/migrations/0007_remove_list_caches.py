"""Removes what only the list's caches used: the list versions (0006) and the week counts (0005), with their triggers.

Each is undone by running its own migration's operations backwards, so this
one applies in reverse too (recreating the tables, triggers and rows).
"""

import importlib

from django.db import migrations

week_counts = importlib.import_module("experiments.migrations.0005_project_week_counts")
list_versions = importlib.import_module("experiments.migrations.0006_experiment_list_versions")


def undo(migration):
    create_model, triggers = migration.Migration.operations
    return [migrations.RunPython(triggers.reverse_code, triggers.code), migrations.DeleteModel(create_model.name)]


class Migration(migrations.Migration):
    dependencies = [("experiments", "0006_experiment_list_versions")]

    operations = [*undo(list_versions), *undo(week_counts)]
