from django.contrib import admin, messages
from django.forms.models import BaseInlineFormSet
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from experiments import services
from experiments.models import RunFile, TrainingJob, TrainingMetric
from experiments.selectors import status_counts
from experiments.templatetags.experiments_tags import badge_context, percent, status_badge
from projects import admin as projects_admin
from projects.models import Project


class TrainingMetricInline(admin.TabularInline):
    model = TrainingMetric
    fields = ["epoch", "train_loss", "val_loss", "accuracy", "duration_seconds"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class RunFileInline(admin.TabularInline):
    model = RunFile
    fields = ["name", "size", "sha256", "storage_name", "updated_at"]
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
    raw_id_fields = ["project", "start_from"]
    readonly_fields = [
        "created_at", "updated_at", "started_at", "completed_at", "current_epoch", "worker_id", "heartbeat_at",
        "cancel_requested_at",
    ]  # fmt: skip
    ordering = ["-created_at", "-id"]
    inlines = [TrainingMetricInline, RunFileInline]
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


class LatestJobsFormSet(BaseInlineFormSet):
    """Only the newest experiments: a project can hold 100,000 of them, far too many for one page."""

    def get_queryset(self):
        return super().get_queryset()[: TrainingJobInline.shown]


class TrainingJobInline(admin.TabularInline):
    """The project's newest experiments; "all experiments" links to the full, paginated list."""

    model = TrainingJob
    formset = LatestJobsFormSet
    shown = 20
    verbose_name_plural = _("newest experiments")
    fields = ["model_name", "framework", "task_type", "status", "accuracy", "loss", "created_at"]
    readonly_fields = fields
    show_change_link = True
    extra = 0
    can_delete = False
    ordering = ["-created_at", "-id"]

    def has_add_permission(self, request, obj=None):
        return False


admin.site.unregister(Project)


@admin.register(Project)
class ProjectAdmin(projects_admin.ProjectAdmin):
    """The projects app's admin, with each project's experiments: counts by status and the newest ones."""

    list_display = ["name", "owner", "experiment_counts", "created_at", "updated_at"]
    readonly_fields = ["all_experiments"]
    inlines = [TrainingJobInline]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("status_count_rows")

    @admin.display(description=_("experiments by status"))
    def experiment_counts(self, project):
        counts = [(s, n) for s, n in status_counts(project).items() if n]
        return format_html_join(
            " ",
            '<span class="badge badge-{}">{} {}</span>',
            ((badge_context(s)["colour"], badge_context(s)["label"], n) for s, n in counts),
        )

    @admin.display(description=_("all experiments"))
    def all_experiments(self, project):
        if project.pk is None:
            return "-"
        url = reverse("admin:experiments_trainingjob_changelist") + f"?project__id__exact={project.pk}"
        return format_html('<a href="{}">{}</a>', url, sum(status_counts(project).values()))
