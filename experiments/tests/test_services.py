import pytest
from django.core.exceptions import ValidationError

from experiments import services
from projects.models import Project

pytestmark = pytest.mark.django_db


def test_creating_with_bad_values_raises_field_errors(demo, datasets_root):
    with pytest.raises(ValidationError) as error:
        services.experiment_create(
            project=Project.objects.get(pk=1), framework="timm", model_name="nope", task_type="image_classification",
            dataset_path="shapes-cls", epochs=0, batch_size=1, learning_rate=0.1,
        )  # fmt: skip
    assert set(error.value.message_dict) == {"model_name", "epochs"}
