"""Upload, check and train on datasets: the formats users bring, the archives attackers bring, and who sees what."""

import io
import json
import os
import shutil
import tarfile
import zipfile
from pathlib import Path

import pytest
import yaml
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from datasets.checks import check_version, local_copy
from datasets.models import DatasetVersion
from experiments.models import TrainingJob

pytestmark = pytest.mark.django_db

API = "/api/v1/datasets"


@pytest.fixture
def storage(settings, tmp_path):
    """The test's folder, where conftest's private_files put media/ and dataset_cache/."""
    settings.RUNS_DIR = tmp_path / "runs"
    return tmp_path


def zip_of(files: dict[str, bytes], **infos) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(infos.get(name, name), data)
    return buffer.getvalue()


def zip_folder(folder: Path, prefix: str = "") -> bytes:
    return zip_of({prefix + p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()})


def tar_folder(folder: Path) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        archive.add(folder, arcname=".")
    return buffer.getvalue()


def upload(client, name: str, data: bytes, filename="data.zip"):
    file = SimpleUploadedFile(filename, data)
    return client.post(API, {"name": name, "file": file}, format="multipart", HTTP_ACCEPT_LANGUAGE="en")


def uploaded_and_checked(client, name, data, filename="data.zip") -> DatasetVersion:
    response = upload(client, name, data, filename)
    assert response.status_code == 201, response.content
    assert response.json()["status"] == "pending"
    return check_version(response.json()["id"])


def png(size=(16, 16)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, "PNG")
    return buffer.getvalue()


def coco_from_yolo(folder: Path, polygons: bool) -> bytes:
    """The demo YOLO set as a CVAT-style COCO export: annotations/instances_default.json and images/, ids from 0."""
    images, annotations, files = [], [], {}
    for split in ("train", "val"):
        for image_path in sorted((folder / "images" / split).glob("*.png")):
            width, height = Image.open(image_path).size
            image_id = len(images)
            images.append({"id": image_id, "file_name": image_path.name, "width": width, "height": height})
            files[f"images/{image_path.name}"] = image_path.read_bytes()
            label = folder / "labels" / split / f"{image_path.stem}.txt"
            for line in label.read_text().splitlines():
                cls, *coords = line.split()
                xs = [float(x) * width for x in coords[0::2]]
                ys = [float(y) * height for y in coords[1::2]]
                if len(coords) == 4:
                    cx, cy, w, h = (
                        float(coords[0]) * width,
                        float(coords[1]) * height,
                        float(coords[2]) * width,
                        float(coords[3]) * height,
                    )
                    box, segmentation = [cx - w / 2, cy - h / 2, w, h], []
                else:
                    box = [min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys)]
                    segmentation = [[v for pair in zip(xs, ys, strict=True) for v in pair]]
                annotations.append({
                    "id": len(annotations), "image_id": image_id, "category_id": int(cls), "bbox": box,
                    "segmentation": segmentation if polygons else [], "area": box[2] * box[3], "iscrowd": 0,
                })  # fmt: skip
    categories = [{"id": i, "name": name} for i, name in enumerate(["circle", "square"])]
    coco = {"images": images, "annotations": annotations, "categories": categories}
    return zip_of({**files, "annotations/instances_default.json": json.dumps(coco).encode()})


# The formats users bring


def test_an_image_folder_with_train_and_val(owner_api, demo_datasets, storage):
    version = uploaded_and_checked(owner_api, "shapes", zip_folder(demo_datasets / "shapes-cls", prefix="shapes/"))
    assert version.status == "ready", version.findings
    assert version.format == "image_folder" and version.task_types == ["image_classification"]
    assert version.summary["classes"] == ["circle", "square"]
    assert version.summary["splits"] == {"train": 20, "val": 4}
    assert len(version.content_hash) == 64 and version.archive.name.startswith("datasets/")


def test_one_folder_of_classes_is_split_80_20_per_class_the_same_every_time(
    owner_api, demo_datasets, storage, tmp_path
):
    flat = tmp_path / "flat"
    for image in (demo_datasets / "shapes-cls").rglob("*.png"):
        (flat / image.parent.name).mkdir(parents=True, exist_ok=True)
        shutil.copy(image, flat / image.parent.name / image.name)
    version = uploaded_and_checked(owner_api, "flat", tar_folder(flat), filename="flat.tar.gz")
    assert version.status == "ready", version.findings
    assert version.summary["splits"] == {"train": 20, "val": 4}  # 12 per class: 2 of each to val
    assert any("fixed seed" in note for note in version.summary["notes"])
    first = sorted(p.name for p in (local_copy(version) / "val").rglob("*.png"))
    shutil.rmtree(storage / "dataset_cache")
    assert sorted(p.name for p in (local_copy(version) / "val").rglob("*.png")) == first


@pytest.mark.parametrize(
    "name, tasks", [("shapes-det", ["object_detection"]), ("shapes-seg", ["object_detection", "instance_segmentation"])]
)
def test_yolo_sets_fit_their_tasks(owner_api, demo_datasets, storage, name, tasks):
    version = uploaded_and_checked(owner_api, name, zip_folder(demo_datasets / name))
    assert version.status == "ready", version.findings
    assert version.format == "yolo" and version.task_types == tasks
    assert version.summary["classes"] == ["circle", "square"] and version.summary["splits"] == {"train": 20, "val": 4}


def test_a_roboflow_yolo_export_with_its_relative_paths_trains_as_it_is(owner_api, demo_datasets, storage):
    """Roboflow's YOLO export: train/images, valid/images, and a data.yaml that names them from one folder up."""
    source = demo_datasets / "shapes-det"
    files = {"data.yaml": b"train: ../train/images\nval: ../valid/images\nnc: 2\nnames: ['circle', 'square']\n"}
    for split, folder in (("train", "train"), ("val", "valid")):
        for image in (source / "images" / split).glob("*.png"):
            files[f"{folder}/images/{image.name}"] = image.read_bytes()
            files[f"{folder}/labels/{image.stem}.txt"] = (source / "labels" / split / f"{image.stem}.txt").read_bytes()
    version = uploaded_and_checked(owner_api, "roboflow", zip_of(files))
    assert version.status == "ready", version.findings
    assert version.task_types == ["object_detection"] and version.summary["splits"] == {"train": 20, "val": 4}
    data = yaml.safe_load((local_copy(version) / "data.yaml").read_text())
    assert (data["train"], data["val"]) == ("train/images", "valid/images")


def test_a_label_studio_yolo_export_is_split_and_trains_as_it_is(owner_api, demo_datasets, storage):
    """Label Studio's YOLO export: classes.txt, notes.json, images/ and labels/ with no splits and no data.yaml."""
    source = demo_datasets / "shapes-det"
    files = {"classes.txt": b"circle\nsquare\n", "notes.json": b'{"categories": [], "info": {}}'}
    for image in source.glob("images/*/*.png"):
        files[f"images/{image.name}"] = image.read_bytes()
        files[f"labels/{image.stem}.txt"] = (source / "labels" / image.parent.name / f"{image.stem}.txt").read_bytes()
    version = uploaded_and_checked(owner_api, "label-studio", zip_of(files))
    assert version.status == "ready", version.findings
    assert version.format == "yolo" and version.task_types == ["object_detection"]
    assert version.summary["classes"] == ["circle", "square"]
    assert version.summary["splits"] == {"train": 19, "val": 5}
    assert any("fixed seed" in note for note in version.summary["notes"])
    folder = local_copy(version)
    for image in (folder / "images" / "val").glob("*.png"):  # each label went with its image
        assert (folder / "labels" / "val" / f"{image.stem}.txt").is_file()


@pytest.mark.parametrize(
    "polygons, tasks", [(False, ["object_detection"]), (True, ["object_detection", "instance_segmentation"])]
)
def test_a_coco_export_is_converted_to_yolo(owner_api, demo_datasets, storage, polygons, tasks):
    source = demo_datasets / ("shapes-seg" if polygons else "shapes-det")
    version = uploaded_and_checked(owner_api, "coco", coco_from_yolo(source, polygons))
    assert version.status == "ready", version.findings
    assert version.format == "coco" and version.task_types == tasks
    assert version.summary["classes"] == ["circle", "square"]
    assert sum(version.summary["splits"].values()) == 24
    folder = local_copy(version)
    labels = list((folder / "labels" / "train").glob("*.txt"))
    assert labels and all(line.split()[0] in ("0", "1") for label in labels for line in label.read_text().splitlines())
    assert yaml.safe_load((folder / "data.yaml").read_text())["names"] == ["circle", "square"]


def test_the_same_archive_again_is_the_same_version_and_a_new_one_is_v2(owner_api, demo_datasets, storage):
    data = zip_folder(demo_datasets / "shapes-cls")
    first = upload(owner_api, "shapes", data).json()
    again = upload(owner_api, "shapes", data)
    assert again.status_code == 200 and again.json()["id"] == first["id"]
    second = upload(owner_api, "shapes", zip_folder(demo_datasets / "shapes-cls", prefix="v2/"))
    assert second.status_code == 201 and second.json()["number"] == 2


def test_a_folder_under_the_datasets_root_can_be_registered(owner_api, datasets_root, storage):
    response = owner_api.post(API, {"name": "big", "path": "shapes-det"}, format="json")
    assert response.status_code == 201, response.content
    version = check_version(response.json()["id"])
    assert version.status == "ready" and version.source_path == "shapes-det"
    assert "0: circle" in (datasets_root / "shapes-det" / "data.yaml").read_text()  # the operator's file, untouched
    outside = owner_api.post(API, {"name": "x", "path": "/etc"}, format="json")
    assert outside.status_code == 400 and "path" in outside.json()["errors"]


# The archives attackers bring: a 400 naming the member, nothing written anywhere


def symlink_zip() -> bytes:
    info = zipfile.ZipInfo("train/link.png")
    info.external_attr = 0o120777 << 16
    return zip_of({"train/a/1.png": png(), info.filename: b"/etc/passwd"}, **{info.filename: info})


def device_tar() -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        device = tarfile.TarInfo("train/a/null")
        device.type = tarfile.CHRTYPE
        archive.addfile(device)
    return buffer.getvalue()


HOSTILE = {
    "zip slip": (zip_of({"../../escaped.png": png()}), "leaves the archive"),
    "absolute path": (zip_of({"/etc/escaped.png": png()}), "absolute"),
    "symlink": (symlink_zip(), "links are not allowed"),
    "device": (device_tar(), "device"),
    "zip bomb": (zip_of({"train/a/big.png": b"\0" * 5_000_000}), "zip bomb"),
    "empty": (zip_of({}), "empty"),
    "duplicate names": (zip_of({"train/a/1.png": png(), "train/a/1.PNG": png()}), "appears twice"),
    "not an archive": (b"just some text, not an archive", "not a zip or tar"),
}


@pytest.mark.parametrize("case", HOSTILE)
def test_hostile_archives_are_refused_naming_the_problem(owner_api, storage, case):
    data, words = HOSTILE[case]
    response = upload(owner_api, "bad", data)
    assert response.status_code == 400, response.content
    assert words in response.json()["detail"]
    assert not DatasetVersion.objects.exists()
    assert not (storage / "media").exists() or not any((storage / "media").rglob("*.*"))
    assert not (storage.parent / "escaped.png").exists()


def test_an_upload_over_the_limit_is_413_before_it_is_read(owner_api, storage, settings):
    settings.MAX_DATASET_UPLOAD_BYTES = 1000
    response = upload(owner_api, "big", zip_of({"train/a/1.png": png((64, 64)), "x.txt": os.urandom(5000)}))
    assert response.status_code == 413


FINDINGS = {
    "a file that is not an image": ({"train/a/1.png": png(), "train/a/2.png": png(), "val/a/3.png": png(),
                                      "train/b/4.png": png(), "train/b/5.png": png(), "val/b/6.png": png(),
                                      "train/a/run.exe": b"MZ"}, "train/a/run.exe", "Not an image"),
    "an image over the pixel limit": ({"a/1.png": png((200, 200)), "a/2.png": png(), "b/3.png": png(), "b/4.png": png()},
                                      "1.png", "pixels is over the limit"),
    "a broken data.yaml": ({"data.yaml": b"train: [unclosed", "images/train/1.png": png()}, "data.yaml", "Not valid YAML"),
    "a data.yaml without val": ({"data.yaml": b"train: images/train\nnames: [a]", "images/train/1.png": png()},
                                "data.yaml", "No val split"),
    "mixed formats": ({"data.yaml": b"names: [a]", "coco.json": json.dumps({"images": [], "annotations": [], "categories": []}).encode()},
                      "coco.json", "Mixed formats"),
    "no known layout": ({"notes.txt": b"hello"}, ".", "No known layout"),
}  # fmt: skip


@pytest.mark.parametrize("case", FINDINGS)
def test_problems_inside_a_data_set_are_findings_naming_the_file(owner_api, storage, settings, case):
    settings.MAX_IMAGE_PIXELS = 20_000
    files, file, words = FINDINGS[case]
    version = uploaded_and_checked(owner_api, "bad", zip_of(files))
    assert version.status == "invalid"
    assert any(file in f["file"] and words in f["problem"] for f in version.findings), version.findings


# Who sees what


def test_datasets_are_owner_only_and_foreign_looks_missing(owner_api, other_api, demo_datasets, storage):
    version = uploaded_and_checked(owner_api, "mine", zip_folder(demo_datasets / "shapes-cls"))
    for url in (f"{API}/{version.dataset_id}", f"/api/v1/dataset-versions/{version.id}"):
        foreign, missing = other_api.get(url), other_api.get(url.rsplit("/", 1)[0] + "/987654")
        assert foreign.status_code == missing.status_code == 404 and foreign.json() == missing.json()
    assert other_api.get(API).json() == []
    body = {"framework": "timm", "model_name": "resnet18", "task_type": "image_classification", "dataset": version.id,
            "epochs": 1, "batch_size": 8, "learning_rate": 0.001}  # fmt: skip
    other_project = other_api.post("/api/v1/projects", {"name": "theirs"}, format="json").json()["id"]
    foreign = other_api.post(
        f"/api/v1/projects/{other_project}/experiments", body, format="json", HTTP_ACCEPT_LANGUAGE="en"
    )
    assert foreign.status_code == 400 and foreign.json()["errors"]["dataset"] == [
        f"You have no dataset version {version.id}."
    ]


def test_a_version_in_use_cannot_be_deleted(owner_api, demo_datasets, storage):
    version = uploaded_and_checked(owner_api, "used", zip_folder(demo_datasets / "shapes-cls"))
    body = {"framework": "timm", "model_name": "resnet18", "task_type": "image_classification", "dataset": version.id,
            "epochs": 1, "batch_size": 8, "learning_rate": 0.001}  # fmt: skip
    created = owner_api.post("/api/v1/projects/1/experiments", body, format="json")
    assert created.status_code == 201, created.content
    assert created.json()["dataset"] == version.id and created.json()["dataset_path"] == ""
    assert owner_api.delete(f"/api/v1/dataset-versions/{version.id}").status_code == 409
    assert owner_api.delete(f"{API}/{version.dataset_id}").status_code == 409
    TrainingJob.objects.filter(pk=created.json()["id"]).delete()
    assert owner_api.delete(f"/api/v1/dataset-versions/{version.id}").status_code == 204
    assert not DatasetVersion.objects.exists()


def test_a_pending_or_invalid_version_or_one_for_another_task_is_refused(owner_api, demo_datasets, storage):
    response = upload(owner_api, "shapes", zip_folder(demo_datasets / "shapes-cls"))
    body = {"framework": "ultralytics", "model_name": "yolo11n", "task_type": "object_detection",
            "dataset": response.json()["id"], "epochs": 1, "batch_size": 8, "learning_rate": 0.001}  # fmt: skip
    pending = owner_api.post("/api/v1/projects/1/experiments", body, format="json", HTTP_ACCEPT_LANGUAGE="en")
    assert pending.status_code == 400 and "not ready" in pending.json()["errors"]["dataset"][0]
    check_version(response.json()["id"])
    wrong_task = owner_api.post("/api/v1/projects/1/experiments", body, format="json", HTTP_ACCEPT_LANGUAGE="en")
    assert (
        wrong_task.status_code == 400 and "no labels for object_detection" in wrong_task.json()["errors"]["dataset"][0]
    )


# Projects


def test_projects_are_created_renamed_and_deleted_by_their_owner(owner_api, other_api):
    created = owner_api.post("/api/v1/projects", {"name": "Birds", "description": "새"}, format="json")
    assert created.status_code == 201 and created.json()["name"] == "Birds"
    url = f"/api/v1/projects/{created.json()['id']}"
    assert owner_api.patch(url, {"name": "Birds 2"}, format="json").json()["name"] == "Birds 2"
    assert other_api.patch(url, {"name": "mine"}, format="json").status_code == 404
    assert other_api.delete(url).status_code == 404
    assert owner_api.post("/api/v1/projects", {"name": ""}, format="json").status_code == 400
    assert owner_api.delete(url).status_code == 204
    assert owner_api.get(url).status_code == 404


def test_a_project_with_running_experiments_is_not_deleted(owner_api):
    TrainingJob.objects.filter(project_id=1).update(status="running")
    response = owner_api.delete("/api/v1/projects/1", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 409 and "cancel them" in response.json()["detail"]
    assert owner_api.get("/api/v1/projects/1").status_code == 200


# Storage in an S3 bucket, through a real S3 protocol server on loopback


def test_an_archive_in_an_s3_bucket_is_fetched_by_a_worker_with_an_empty_cache(
    owner_api, demo_datasets, s3_bucket, storage
):
    response = upload(owner_api, "in-s3", zip_folder(demo_datasets / "shapes-det"))
    assert response.status_code == 201, response.content
    keys = s3_bucket.keys()
    assert keys == [DatasetVersion.objects.get().archive.name]
    assert not (storage / "media").exists()  # nothing on the web process's disk
    version = check_version(response.json()["id"])
    assert version.status == "ready", version.findings
    assert (storage / "dataset_cache" / version.content_hash / "data.yaml").is_file()


def test_splits_are_shown_train_first_whatever_order_the_database_keeps():
    version = DatasetVersion(summary={"splits": {"val": 4, "test": 2, "train": 20}})  # jsonb's order on PostgreSQL
    assert version.split_counts == [("train", 20), ("val", 4), ("test", 2)]
