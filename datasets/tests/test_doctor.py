"""The dataset doctor: every problem named by kind, file and line; one-click fixes that make a clean new version."""

import io
import shutil

import pytest
from PIL import Image

from datasets.checks import build_fixed_version, check_version, local_copy
from datasets.models import DatasetVersion
from datasets.tests.test_datasets import upload, zip_of
from experiments.models import TrainingJob
from live.models import Event

pytestmark = pytest.mark.django_db


def yolo_set(train=6, val=2) -> dict[str, bytes]:
    """A small YOLO detection set, every image with one box of class 0 or 1."""
    files = {"data.yaml": b"train: images/train\nval: images/val\nnames: [circle, square]\n"}
    for split, count in (("train", train), ("val", val)):
        for i in range(count):
            files[f"images/{split}/{split}{i}.png"] = png_of(i + (100 if split == "val" else 0))
            files[f"labels/{split}/{split}{i}.txt"] = f"{i % 2} 0.5 0.5 0.2 0.2\n".encode()
    return files


def png_of(seed: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (16, 16), (seed % 256, 30, 30)).save(buffer, "PNG")
    return buffer.getvalue()


def image_folder(val=True) -> dict[str, bytes]:
    files = {}
    for name in ("cat", "dog"):
        for i in range(5):
            files[f"train/{name}/{i}.png"] = png_of(i + (10 if name == "dog" else 0))
        if val:
            files[f"val/{name}/v.png"] = png_of(50 + (1 if name == "dog" else 0))
    return files


def checked(client, files, name="set") -> DatasetVersion:
    response = upload(client, name, zip_of(files))
    assert response.status_code == 201, response.content
    return check_version(response.json()["id"])


def bomb() -> bytes:
    """A few kilobytes of PNG that decode to 64 million pixels."""
    buffer = io.BytesIO()
    Image.new("1", (8000, 8000)).save(buffer, "PNG", optimize=True)
    return buffer.getvalue()


def with_changes(**changes) -> dict[str, bytes]:
    files = yolo_set()
    for name, data in changes.items():
        name = ".".join(name.replace("__", "/").rsplit("_", 1))  # images__train__a_png: images/train/a.png
        if data is None:
            files.pop(name)
        else:
            files[name] = data
    return files


CASES = {
    "truncated image": (
        with_changes(images__train__train1_png=png_of(1)[:60]),
        {"kind": "unreadable_image", "split": "train", "file": "images/train/train1.png", "line": None},
        "truncated",
    ),
    "class id out of range": (
        with_changes(labels__train__train2_txt=b"0 0.5 0.5 0.1 0.1\n7 0.5 0.5 0.1 0.1\n"),
        {"kind": "bad_label", "split": "train", "file": "labels/train/train2.txt", "line": 2},
        "Class 7 is not one of the 2 classes",
    ),
    "coordinates outside 0-1": (
        with_changes(labels__val__val1_txt=b"1 1.5 0.5 0.1 0.1\n"),
        {"kind": "bad_label", "split": "val", "file": "labels/val/val1.txt", "line": 1},
        "Coordinate 1.5 is outside 0..1",
    ),
    "orphan image": (
        with_changes(labels__train__train3_txt=None),
        {"kind": "image_without_label", "split": "train", "file": "images/train/train3.png", "line": None},
        "No label file",
    ),
    "orphan label": (
        with_changes(images__train__train4_png=None),
        {"kind": "label_without_image", "split": "train", "file": "labels/train/train4.txt", "line": None},
        "No image with this name",
    ),
    "train/val duplicate": (
        with_changes(images__val__val0_png=png_of(5)),
        {"kind": "duplicate", "split": "val", "file": "images/val/val0.png", "line": None},
        "The same image as images/train/train5.png in train",
    ),
    "empty val": (
        with_changes(
            images__val__val0_png=None,
            images__val__val1_png=None,
            labels__val__val0_txt=None,
            labels__val__val1_txt=None,
            images__val__keep_txt=b"",
        ),  # fmt: skip
        {"kind": "empty_val", "split": "val", "file": "images/val/", "line": None},
        "val split",
    ),
    "decompression bomb": (
        with_changes(images__train__train0_png=bomb()),
        {"kind": "too_many_pixels", "split": "train", "file": "images/train/train0.png", "line": None},
        "8000×8000 pixels is over the limit",
    ),
}


def test_a_sound_set_has_no_findings_and_counts_its_classes(owner_api):
    version = checked(owner_api, yolo_set())
    assert version.status == "ready" and version.findings == []
    assert version.summary["class_counts"] == {"train": {"circle": 3, "square": 3}, "val": {"circle": 1, "square": 1}}
    assert version.summary["image_sizes"] == {"smallest": "16×16", "largest": "16×16"}


@pytest.mark.parametrize("case", CASES)
def test_each_problem_is_one_finding_naming_its_file_and_line(owner_api, case):
    files, expected, words = CASES[case]
    version = checked(owner_api, files)
    assert len(version.findings) == 1, version.findings
    finding = version.findings[0]
    assert {key: finding[key] for key in expected} == expected
    assert words in finding["problem"]
    warning = expected["kind"] in ("image_without_label", "label_without_image", "duplicate")
    assert version.status == ("ready" if warning else "invalid")


def fixed(client, version, fix) -> DatasetVersion:
    response = client.post(f"/api/v1/dataset-versions/{version.id}/fixes", {"fix": fix}, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["status"] == "pending" and response.json()["number"] == version.number + 1
    return build_fixed_version(response.json()["id"])


@pytest.mark.parametrize(
    "case", ["truncated image", "class id out of range", "orphan label", "train/val duplicate", "decompression bomb"]
)
def test_dropping_the_bad_files_makes_a_clean_new_version(owner_api, case):
    version = checked(owner_api, CASES[case][0])
    assert version.available_fixes == ["drop_bad_files"]
    new = fixed(owner_api, version, "drop_bad_files")
    assert new.status == "ready" and new.findings == [], new.findings
    assert new.content_hash != version.content_hash and new.derived_from_id == version.id
    version.refresh_from_db()
    assert len(version.findings) == 1  # the old version is as it was
    dropped = CASES[case][1]["file"]
    assert not (local_copy(new) / dropped).exists()


@pytest.mark.parametrize("files", [with_changes(**dict.fromkeys(
    ["images__val__val0_png", "images__val__val1_png", "labels__val__val0_txt", "labels__val__val1_txt"])) |
    {"data.yaml": b"train: images/train\nnames: [circle, square]\n"}, image_folder(val=False) | {"README.md": b"train/ only"}],
    ids=["yolo", "image-folder"])  # fmt: skip
def test_making_a_val_split_makes_a_clean_new_version(owner_api, files):
    version = checked(owner_api, files)
    assert version.status == "invalid" and version.available_fixes == ["make_val_split"]
    new = fixed(owner_api, version, "make_val_split")
    assert new.status == "ready" and new.findings == [], new.findings
    assert new.content_hash != version.content_hash
    assert new.summary["splits"]["val"] >= 1 and sum(new.summary["splits"].values()) == sum(
        version.summary["splits"].values()
    )


def test_a_fix_that_does_not_apply_is_refused_by_name(owner_api):
    version = checked(owner_api, yolo_set())
    response = owner_api.post(f"/api/v1/dataset-versions/{version.id}/fixes", {"fix": "drop_bad_files"}, format="json")
    assert response.status_code == 400 and list(response.json()["errors"]) == ["fix"]
    response = owner_api.post(f"/api/v1/dataset-versions/{version.id}/fixes", {"fix": "paint"}, format="json")
    assert response.status_code == 400 and list(response.json()["errors"]) == ["fix"]


def test_the_report_is_paged_and_filtered_over_the_api(owner_api, other_api):
    files = yolo_set(train=30)
    for i in range(25):  # 25 images without labels, and one bad line
        files.pop(f"labels/train/train{i}.txt")
    files["labels/train/train29.txt"] = b"0 0.5 0.5 0.1 0.1\n0 0.5 0.5 0.1\n"
    version = checked(owner_api, files)
    url = f"/api/v1/dataset-versions/{version.id}/findings"
    first = owner_api.get(url, {"per_page": 10})
    assert first.status_code == 200 and first["X-Total-Count"] == "26" and len(first.json()) == 10
    assert 'rel="next"' in first["Link"]
    bad = owner_api.get(url, {"kind": "bad_label"}).json()
    assert bad == [{"kind": "bad_label", "split": "train", "file": "labels/train/train29.txt", "line": 2,
                    "problem": "A box needs four coordinates, a polygon pairs of them."}]  # fmt: skip
    assert owner_api.get(url, {"split": "val"}).json() == []
    assert list(owner_api.get(url, {"kind": "nonsense"}).json()["errors"]) == ["kind"]
    summary = owner_api.get(f"/api/v1/dataset-versions/{version.id}").json()
    assert summary["finding_counts"] == {"image_without_label": 25, "bad_label": 1}
    assert summary["fixes"] == ["drop_bad_files"]
    for path in (url, f"/api/v1/dataset-versions/{version.id}/fixes"):
        foreign = (
            other_api.post(path, {"fix": "drop_bad_files"}, format="json")
            if path.endswith("fixes")
            else other_api.get(path)
        )
        assert foreign.status_code == 404


def test_the_report_page_filters_by_kind_and_split_and_offers_the_fix(client, owner_api, demo):
    client.force_login(demo["owner"])
    owner_client = client
    version = checked(owner_api, CASES["class id out of range"][0])
    page = owner_client.get(f"/datasets/versions/{version.id}", HTTP_ACCEPT_LANGUAGE="en")
    text = page.content.decode()
    assert page.status_code == 200 and "labels/train/train2.txt" in text and "Drop the bad files" in text
    assert "circle" in text and "<meter" in text  # class balance
    filtered = owner_client.get(f"/datasets/versions/{version.id}?kind=empty_val", HTTP_ACCEPT_LANGUAGE="en")
    assert "labels/train/train2.txt" not in filtered.content.decode()
    assert owner_client.get(f"/datasets/versions/{version.id}?split=test").status_code == 400
    response = owner_client.post(f"/datasets/versions/{version.id}/fix", {"fix": "drop_bad_files"})
    new = DatasetVersion.objects.get(derived_from=version)
    assert response.status_code == 302 and response["Location"].endswith(f"/datasets/versions/{new.id}")


@pytest.mark.parametrize(
    "files, captions",
    [
        (image_folder(), {"cat", "dog"}),
        (yolo_set(), {"circle", "square"}),
        (with_changes(labels__train__train0_txt=b"0 0.1 0.1 0.9 0.1 0.5 0.9\n"), {"circle", "square"}),  # a polygon
    ],
    ids=["classification", "detection", "segmentation"],
)
def test_previews_are_drawn_once_with_their_labels_and_shown_to_the_owner_only(
    client, owner_api, demo, settings, files, captions
):
    version = checked(owner_api, files)
    shown = min(12, sum(name.endswith(".png") for name in files))  # previews.COUNT at most
    assert version.status == "ready" and len(version.previews) == shown
    assert {preview["caption"] for preview in version.previews} == captions
    stored = sorted((settings.MEDIA_ROOT / "previews" / version.content_hash).iterdir())
    assert len(stored) == shown
    if "labels/train/train0.txt" in files:  # a box or polygon outline, in its class's colour, on a plain image
        train0 = next(i for i, p in enumerate(version.previews) if p["caption"] == "circle")
        pixels = Image.open(stored[train0]).convert("RGB").getcolors(160 * 160)
        assert (0xE6, 0x19, 0x4B) in {colour for _count, colour in pixels}  # COLOURS[0]
    modified = [path.stat().st_mtime_ns for path in stored]

    client.force_login(demo["owner"])
    page = client.get(f"/datasets/versions/{version.id}")
    assert page.content.decode().count(f"/datasets/versions/{version.id}/previews/") == shown
    image = client.get(f"/datasets/versions/{version.id}/previews/0")
    assert image.status_code == 200 and image["Content-Type"] == "image/png"
    assert client.get(f"/datasets/versions/{version.id}/previews/{shown}").status_code == 404
    local_copy(version)  # a training worker fetching the version draws nothing
    assert [path.stat().st_mtime_ns for path in stored] == modified
    client.force_login(demo["other"])
    assert client.get(f"/datasets/versions/{version.id}/previews/0").status_code == 404


def test_a_failed_run_points_at_the_findings_of_its_data(client, owner_api, demo):
    version = checked(owner_api, CASES["orphan image"][0])  # ready, with a warning
    job = TrainingJob.objects.create(
        project_id=1, dataset_version=version, model_name="yolo11n", framework="ultralytics",
        task_type="object_detection", status="failed", error_message="No labels found", epochs=1, batch_size=2,
        learning_rate=0.01,
    )  # fmt: skip
    client.force_login(demo["owner"])
    page = client.get(f"/projects/1/experiments/{job.id}", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert f'href="/datasets/versions/{version.id}#findings"' in page and "findings: 1" in page


def test_the_check_reports_its_progress_on_the_version(owner_api, monkeypatch):
    from datasets import checks

    monkeypatch.setattr("datasets.layouts.PROGRESS_EVERY", 2)
    stored, write = [], checks._progress

    def progress(version, done):  # what the page would have read just before each update
        stored.append(DatasetVersion.objects.get(pk=version.pk).check_progress)
        write(version, done)

    monkeypatch.setattr(checks, "_progress", progress)
    version = checked(owner_api, yolo_set())  # 8 images
    assert stored == [0, 0.25, 0.5, 0.75] and version.check_progress == 1.0 and version.status == "ready"

    events = Event.objects.filter(group=f"datasets_of_user_{version.dataset.owner_id}").order_by("id")
    assert [(e.type, e.payload) for e in events] == [
        *[("check_progress", {"version_id": version.id, "progress": p}) for p in (0.25, 0.5, 0.75, 1.0)],
        ("version_checked", {"version_id": version.id, "status": "ready", "findings": 0}),
    ]


def test_a_training_that_prepares_a_ready_version_again_reports_nothing(owner_api):
    version = checked(owner_api, yolo_set())
    shutil.rmtree(local_copy(version))  # a new machine: no copy in its cache
    before = Event.objects.count()
    assert local_copy(version).is_dir()
    assert Event.objects.count() == before
