from django.contrib import admin
from django.forms.models import BaseInlineFormSet
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from experiments.models import TrainingJob
from experiments.templatetags.experiments_tags import badge_context
from projects.models import Project


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


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    list_display = ["name", "owner", "experiment_counts", "created_at", "updated_at"]
    list_filter = ["created_at"]
    search_fields = ["name", "description", "owner__username", "owner__email"]
    date_hierarchy = "created_at"
    list_select_related = ["owner"]
    raw_id_fields = ["owner"]
    readonly_fields = ["all_experiments"]
    inlines = [TrainingJobInline]

    class Media:
        css = {"all": ["css/admin.css"]}

    def get_queryset(self, request):
        return super().get_queryset(request).with_status_counts()

    @admin.display(description=_("experiments by status"))
    def experiment_counts(self, project):
        counts = [(s, n) for s, n in project.status_counts().items() if n]
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
        return format_html('<a href="{}">{}</a>', url, project.count_jobs())
