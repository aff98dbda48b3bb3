from rest_framework import serializers

from projects.models import Project

# DRF's own rendering of a timestamp (ISO 8601 in the current time zone), without a bound field.
TIMESTAMP = serializers.DateTimeField()


class ProjectSerializer(serializers.ModelSerializer):
    class Meta:
        model = Project
        fields = ["id", "name", "description", "created_at", "updated_at"]
        read_only_fields = fields

    def to_representation(self, project):
        # Read the attributes directly: a ModelSerializer rebuilds its fields from
        # the model for every instance, which was most of the project detail's
        # serializing. The Meta above still describes it (OpenAPI), and a test
        # checks that both give the same output.
        data = {name: getattr(project, name) for name in self.Meta.fields}
        data["created_at"] = TIMESTAMP.to_representation(project.created_at)
        data["updated_at"] = TIMESTAMP.to_representation(project.updated_at)
        return data
