from django.apps import AppConfig
from django.core.management import call_command
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class ProjectsConfig(AppConfig):
    name = "projects"
    verbose_name = _("Projects")

    def ready(self):
        post_migrate.connect(create_cache_table, sender=self)


def create_cache_table(using, **kwargs):
    """`migrate` also creates the cache table (the rate-limit counters), so no deploy step can forget it."""
    call_command("createcachetable", database=using, verbosity=0)
