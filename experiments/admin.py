from django.contrib import admin
from django.template.loader import render_to_string
from django.utils.translation import gettext_lazy as _

from experiments.models import TrainingJob
from experiments.templatetags.experiments_tags import badge_context, percent


def status_badge_html(job: TrainingJob) -> str:
    return render_to_string("experiments/_status_badge.html", badge_context(job.status))


@admin.register(TrainingJob)
class TrainingJobAdmin(admin.ModelAdmin):
    list_display = [
        "model_name",
        "project",
        "owner",
        "framework",
        "task",
        "status_badge",
        "accuracy_percent",
        "created_at",
    ]
    list_filter = ["status", "framework", "task_type", "created_at"]
    search_fields = ["model_name", "project__name", "project__owner__username", "project__owner__email"]
    date_hierarchy = "created_at"
    list_select_related = ["project__owner"]
    raw_id_fields = ["project"]
    readonly_fields = ["created_at", "updated_at"]
    ordering = ["-created_at", "-id"]

    class Media:
        css = {"all": ["css/admin.css"]}

    @admin.display(description=_("owner"), ordering="project__owner__username")
    def owner(self, job):
        return job.project.owner

    @admin.display(description=_("task"), ordering="task_type")
    def task(self, job):
        return job.task_short_name

    @admin.display(description=_("status"), ordering="status")
    def status_badge(self, job):
        return status_badge_html(job)

    @admin.display(description=_("accuracy"), ordering="accuracy")
    def accuracy_percent(self, job):
        return percent(job.accuracy)
