from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from experiments import services
from experiments.models import TrainingJob, TrainingMetric
from experiments.templatetags.experiments_tags import percent, status_badge


class TrainingMetricInline(admin.TabularInline):
    model = TrainingMetric
    fields = ["epoch", "train_loss", "val_loss", "accuracy", "duration_seconds"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


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
    readonly_fields = [
        "created_at", "updated_at", "started_at", "completed_at", "current_epoch", "worker_id", "heartbeat_at",
        "cancel_requested_at",
    ]  # fmt: skip
    ordering = ["-created_at", "-id"]
    inlines = [TrainingMetricInline]
    actions = ["cancel_experiments"]

    @admin.action(description=_("Cancel selected experiments"))
    def cancel_experiments(self, request, queryset):
        cancelled = 0
        for job in queryset:
            try:
                services.experiment_cancel(job=job)
                cancelled += 1
            except services.ExperimentConflict as error:
                self.message_user(request, f"{job}: {error}", messages.WARNING)
        if cancelled:
            self.message_user(request, _("%(count)d experiment(s) cancelled or asked to stop.") % {"count": cancelled})

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
        return status_badge(job.status)

    @admin.display(description=_("accuracy"), ordering="accuracy")
    def accuracy_percent(self, job):
        return percent(job.accuracy)
