from django.urls import reverse
from rest_framework import serializers

from serving.models import Export, Prediction


class ExportSerializer(serializers.ModelSerializer):
    download_url = serializers.SerializerMethodField(help_text="Only for a verified export.")

    class Meta:
        model = Export
        fields = ["format", "status", "size", "sha256", "images_checked", "max_abs_diff", "agreement",
                  "metric_original", "metric_export", "latency_ms", "error", "created_at", "completed_at",
                  "download_url"]  # fmt: skip
        read_only_fields = fields

    def get_download_url(self, export) -> str | None:
        if export.status != Export.Status.VERIFIED:
            return None
        job = export.job
        kwargs = {"project_pk": job.project_id, "experiment_pk": job.id, "export_format": export.format}
        return reverse("export-file", kwargs=kwargs)


class PredictionSerializer(serializers.ModelSerializer):
    image_url = serializers.SerializerMethodField(help_text="The image with what the model found drawn on it.")

    class Meta:
        model = Prediction
        fields = ["id", "status", "val_index", "result", "error", "created_at", "completed_at", "image_url"]
        read_only_fields = fields

    def get_image_url(self, prediction) -> str | None:
        if not (prediction.result or {}).get("image"):
            return None
        job = prediction.job
        kwargs = {"project_pk": job.project_id, "experiment_pk": job.id, "pk": prediction.id}
        return reverse("prediction-image", kwargs=kwargs)


class PredictionImageSerializer(serializers.Serializer):
    """Multipart: an image of your own."""

    image = serializers.FileField(help_text="JPEG, PNG, WebP or BMP; see MAX_PREDICTION_IMAGE_BYTES.")


class PredictionValImageSerializer(serializers.Serializer):
    """JSON: one of the experiment's validation images, by index (any number; it wraps around)."""

    val_image = serializers.IntegerField(min_value=0, max_value=1_000_000)
