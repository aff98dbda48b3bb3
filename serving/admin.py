from django.contrib import admin

from serving.models import Export, Prediction


@admin.register(Export)
class ExportAdmin(admin.ModelAdmin):
    list_display = ["job", "format", "status", "max_abs_diff", "agreement", "metric_export", "latency_ms", "created_at"]
    list_filter = ["status", "format"]
    raw_id_fields = ["job"]
    readonly_fields = [field.name for field in Export._meta.fields]


@admin.register(Prediction)
class PredictionAdmin(admin.ModelAdmin):
    list_display = ["id", "job", "status", "created_at", "completed_at"]
    list_filter = ["status"]
    raw_id_fields = ["job"]
    readonly_fields = [field.name for field in Prediction._meta.fields]
