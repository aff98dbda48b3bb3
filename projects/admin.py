from django.contrib import admin
from django.utils.html import format_html_join
from django.utils.translation import gettext_lazy as _

from experiments.models import TrainingJob
from experiments.templatetags.experiments_tags import badge_context
from projects.models import Project


class TrainingJobInline(admin.TabularInline):
    model = TrainingJob
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
