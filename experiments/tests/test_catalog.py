"""The catalog the web service validates against matches the libraries the worker trains with."""

import pytest

from experiments import catalog


def test_the_timm_catalog_is_timms_registry():
    timm = pytest.importorskip("timm")
    assert catalog.timm_models() == frozenset(timm.list_models())


def test_every_ultralytics_name_builds_a_model_config(settings, tmp_path):
    pytest.importorskip("ultralytics")
    settings.RUNS_DIR = tmp_path
    settings.DATASETS_ROOT = tmp_path
    from experiments.training.ultralytics_trainer import configure_offline

    configure_offline()
    from ultralytics.nn.tasks import guess_model_task, yaml_model_load

    for name, task in catalog.ultralytics_models().items():
        config = yaml_model_load(f"{name}.yaml")
        assert config["scale"] == name.split("-")[0][-1], name
        assert {"detect": "object_detection", "segment": "instance_segmentation", "classify": "image_classification"}[
            guess_model_task(config)
        ] == task, name


def test_tasks_fit_their_models():
    assert catalog.tasks_for("timm", "resnet18") == {"image_classification"}
    assert catalog.tasks_for("ultralytics", "yolo11n-seg") == {"instance_segmentation"}
    assert catalog.tasks_for("ultralytics", "yolov8n") == {"object_detection"}
    assert catalog.tasks_for("ultralytics", "resnet18") is None
    assert catalog.tasks_for("keras", "resnet18") is None
