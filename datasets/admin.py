from django.contrib import admin

from datasets.models import Dataset, DatasetVersion


class DatasetVersionInline(admin.TabularInline):
    model = DatasetVersion
    fields = ["number", "status", "format", "task_types", "archive_name", "content_hash", "checked_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False


@admin.register(Dataset)
class DatasetAdmin(admin.ModelAdmin):
    list_display = ["name", "owner", "created_at"]
    search_fields = ["name", "owner__username"]
    inlines = [DatasetVersionInline]


@admin.register(DatasetVersion)
class DatasetVersionAdmin(admin.ModelAdmin):
    list_display = ["__str__", "status", "format", "size_bytes", "created_at", "checked_at"]
    list_filter = ["status", "format"]
    list_select_related = ["dataset"]
    # A version is immutable once checked: what the check and the fixes wrote is shown, not edited.
    readonly_fields = [
        "content_hash", "findings", "summary", "task_types", "previews", "derived_from", "fix", "check_progress",
        "checked_at",
    ]  # fmt: skip
