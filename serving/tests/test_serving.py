"""Getting a trained model out for real: exports verified with onnxruntime and torch, and "try it" answered by
an inference worker, for a timm classifier and a YOLO detector (real trainings, real numbers)."""

import hashlib
import io
import time

import numpy as np
import pytest
from PIL import Image

from experiments.tests.processes import wait_for
from experiments.tests.test_training import URL, create, finished
from live.models import Event

pytestmark = pytest.mark.django_db(transaction=True)


def png(size=(48, 48), colour=(200, 40, 40)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, format="PNG")
    return buffer.getvalue()


def exports_done(client, job_id):
    exports = client.get(f"{URL}/{job_id}/exports").json()
    return exports if exports and all(e["status"] in ("verified", "failed") for e in exports) else None


def prediction_done(client, job_id, prediction_id):
    prediction = client.get(f"{URL}/{job_id}/predictions/{prediction_id}").json()
    return prediction if prediction["status"] != "pending" else None


def try_it(client, job_id, worker, **data):
    started = time.monotonic()
    response = client.post(f"{URL}/{job_id}/predictions", data, format="multipart" if "image" in data else "json")
    assert response.status_code == 202, response.content
    prediction = wait_for(lambda: prediction_done(client, job_id, response.json()["id"]), 60, "a prediction", worker)
    assert prediction["status"] == "done", prediction["error"]
    image = client.get(prediction["image_url"])
    assert image.status_code == 200 and image["Content-Type"] == "image/png"
    Image.open(io.BytesIO(b"".join(image.streaming_content))).verify()
    print(f"try it answered in {time.monotonic() - started:.2f} s (inference {prediction['result']['seconds']} s)")
    return prediction


def verified_exports(client, job_id, *workers):
    assert client.post(f"{URL}/{job_id}/exports").status_code == 202
    exports = wait_for(lambda: exports_done(client, job_id), 300, "the exports", *workers)
    for export in exports:
        print(export["format"], {k: export[k] for k in ("max_abs_diff", "agreement", "metric_original",
                                                         "metric_export", "latency_ms", "size")})  # fmt: skip
        assert export["status"] == "verified", export["error"]
        body = b"".join(client.get(export["download_url"]).streaming_content)
        assert (len(body), hashlib.sha256(body).hexdigest()) == (export["size"], export["sha256"])
    return {export["format"]: export for export in exports}


@pytest.mark.once
def test_a_classifier_is_exported_verified_and_tried(owner_api, datasets_root, processes):
    job = create(owner_api, epochs=2)
    trainer = processes("worker-a")
    inference = processes("worker-inference", command="run_inference_worker")
    job = wait_for(lambda: finished(job.id), 180, "the training", trainer)
    assert job.status == "completed", job.error_message

    exports = verified_exports(owner_api, job.id, trainer)
    for export in exports.values():
        assert export["images_checked"] == 4  # the demo set's validation images
        assert export["max_abs_diff"] < 1e-3 and export["agreement"] == 1.0
        assert export["metric_export"] == export["metric_original"] and export["latency_ms"] > 0
    import onnxruntime

    onnx_file = b"".join(owner_api.get(exports["onnx"]["download_url"]).streaming_content)
    session = onnxruntime.InferenceSession(onnx_file, providers=["CPUExecutionProvider"])
    logits = session.run(None, {"images": np.zeros((3, 3, 32, 32), dtype=np.float32)})[0]
    assert logits.shape == (3, 2)  # any batch, the two classes

    from_val = try_it(owner_api, job.id, inference, val_image=3)
    classes = from_val["result"]["classes"]
    assert {c["name"] for c in classes} == {"circle", "square"}
    assert abs(sum(c["probability"] for c in classes) - 1) < 1e-3
    uploaded = try_it(owner_api, job.id, inference, image=io.BytesIO(png()))
    assert (uploaded["result"]["width"], uploaded["result"]["height"]) == (48, 48)
    assert Event.objects.filter(type="prediction_ready", payload__experiment_id=job.id).count() == 2
    assert "Prediction" in inference.tail() and "run_training" not in inference.tail()  # a worker of its own


@pytest.mark.once
def test_a_detector_is_exported_verified_and_tried(owner_api, datasets_root, processes):
    job = create(
        owner_api, framework="ultralytics", model_name="yolo11n", task_type="object_detection",
        dataset_path="shapes-det", epochs=1, batch_size=8, learning_rate=0.01, image_size=64,
    )  # fmt: skip
    trainer = processes("worker-a")
    inference = processes("worker-inference", command="run_inference_worker")
    job = wait_for(lambda: finished(job.id), 240, "the training", trainer)
    assert job.status == "completed", job.error_message

    exports = verified_exports(owner_api, job.id, trainer)
    for export in exports.values():
        assert export["images_checked"] == 4 and export["agreement"] == 1.0
        assert abs(export["metric_export"] - export["metric_original"]) <= 0.01
    prediction = try_it(owner_api, job.id, inference, val_image=0)
    assert isinstance(prediction["result"]["detections"], list) and prediction["result"]["masks"] is False
    for detection in prediction["result"]["detections"]:
        assert detection["name"] in ("circle", "square") and detection["score"] >= 0.25 and len(detection["box"]) == 4
