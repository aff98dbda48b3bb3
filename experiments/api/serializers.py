from rest_framework import serializers

from experiments.models import TrainingJob


class ExperimentSerializer(serializers.ModelSerializer):
    """Every column of training_jobs, under its column name."""

    project_id = serializers.IntegerField(read_only=True)

    class Meta:
        model = TrainingJob
        fields = [
            "id",
            "project_id",
            "model_name",
            "framework",
            "task_type",
            "status",
            "dataset_path",
            "epochs",
            "batch_size",
            "learning_rate",
            "accuracy",
            "loss",
            "created_at",
            "updated_at",
            "started_at",
            "completed_at",
            "error_message",
        ]
        read_only_fields = fields
