from rest_framework import serializers

from datasets.models import Dataset, DatasetVersion, FindingKind, Fix
from platform_site.serializer_fields import TextField


class DatasetVersionSerializer(serializers.ModelSerializer):
    dataset = serializers.IntegerField(source="dataset_id", read_only=True)
    name = serializers.CharField(source="dataset.name", read_only=True)

    class Meta:
        model = DatasetVersion
        fields = [
            "id", "dataset", "name", "number", "status", "format", "task_types", "archive_name", "source_path",
            "size_bytes", "content_hash", "check_progress", "summary", "finding_counts", "fixes", "derived_from", "fix",
            "created_at", "checked_at",
        ]  # fmt: skip
        read_only_fields = fields

    finding_counts = serializers.DictField(
        child=serializers.IntegerField(), read_only=True, help_text="Findings by kind; the list is at .../findings."
    )
    check_progress = serializers.FloatField(read_only=True, help_text="0 to 1 while a worker checks the version.")
    fix = serializers.CharField(read_only=True, help_text='The fix that made this version from derived_from, or "".')
    fixes = serializers.ListField(
        source="available_fixes", child=serializers.CharField(), read_only=True, help_text="Fixes that apply."
    )


class FindingSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=FindingKind.choices)
    split = serializers.CharField(help_text='"train", "val", or "" outside both.')
    file = serializers.CharField(help_text="Relative to the prepared data set.")
    line = serializers.IntegerField(allow_null=True, help_text="The line of a label file, from 1.")
    problem = serializers.CharField()


class FixSerializer(serializers.Serializer):
    fix = serializers.ChoiceField(choices=Fix.choices)


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
