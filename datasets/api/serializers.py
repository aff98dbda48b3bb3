from rest_framework import serializers

from datasets.models import Dataset, DatasetVersion
from platform_site.serializer_fields import TextField


class DatasetVersionSerializer(serializers.ModelSerializer):
    dataset = serializers.IntegerField(source="dataset_id", read_only=True)
    name = serializers.CharField(source="dataset.name", read_only=True)

    class Meta:
        model = DatasetVersion
        fields = [
            "id", "dataset", "name", "number", "status", "format", "task_types", "archive_name", "source_path",
            "size_bytes", "content_hash", "summary", "findings", "created_at", "checked_at",
        ]  # fmt: skip
        read_only_fields = fields


class DatasetSerializer(serializers.ModelSerializer):
    versions = DatasetVersionSerializer(many=True, read_only=True)

    class Meta:
        model = Dataset
        fields = ["id", "name", "created_at", "versions"]
        read_only_fields = fields


class DatasetUploadSerializer(serializers.Serializer):
    """Types only: services.upload_version checks the archive."""

    name = TextField(max_length=200, help_text="The dataset; a new version when it exists already.")
    file = serializers.FileField(help_text="A zip or tar archive.")


class DatasetFolderSerializer(serializers.Serializer):
    """Types only: services.register_folder checks the folder."""

    name = TextField(max_length=200, help_text="The dataset; a new version when it exists already.")
    path = TextField(max_length=500, help_text="A folder under DATASETS_ROOT (operators' data, too large to upload).")
