import random
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.core.management.color import no_style
from django.db import connection, transaction

from experiments.models import TrainingJob
from projects.models import Project

DEMO_PASSWORD = "demo1234"  # noqa: S105 (documented demo credentials, DEBUG only)
SEOUL = ZoneInfo("Asia/Seoul")
Status = TrainingJob.Status
Framework = TrainingJob.Framework
Task = TrainingJob.TaskType


def seoul(*args) -> datetime:
    return datetime(*args, tzinfo=SEOUL)


# The example data of docs/api.md, with its exact ids. Id 4 belongs to the
# second demo user's project.
EXAMPLE_PROJECTS = [
    {
        "id": 1,
        "owner": "demo",
        "name": "Dog vs Cat",
        "description": "개/고양이 분류 프로젝트",
        "created_at": seoul(2024, 1, 15, 14, 0),
        "updated_at": seoul(2024, 1, 18, 11, 30),
    },
    {
        "id": 2,
        "owner": "demo2",
        "name": "Street Scenes",
        "description": "도로 객체 탐지",
        "created_at": seoul(2024, 1, 16, 9, 0),
        "updated_at": seoul(2024, 1, 17, 9, 0),
    },
]
EXAMPLE_JOBS = [
    {
        "id": 1,
        "project_id": 1,
        "model_name": "efficientnetv2_s",
        "framework": Framework.TIMM,
        "task_type": Task.IMAGE_CLASSIFICATION,
        "status": Status.COMPLETED,
        "accuracy": 0.92,
        "loss": 0.156,
        "dataset_path": "/app/datasets/dogs-vs-cats",
        "epochs": 30,
        "batch_size": 32,
        "learning_rate": 0.001,
        "created_at": seoul(2024, 1, 15, 16, 45),
        "started_at": seoul(2024, 1, 15, 16, 46),
        "completed_at": seoul(2024, 1, 15, 18, 10),
    },
    {
        "id": 2,
        "project_id": 1,
        "model_name": "resnet50",
        "framework": Framework.TIMM,
        "task_type": Task.IMAGE_CLASSIFICATION,
        "status": Status.FAILED,
        "error_message": "CUDA out of memory",
        "dataset_path": "/app/datasets/dogs-vs-cats",
        "epochs": 30,
        "batch_size": 128,
        "learning_rate": 0.001,
        "created_at": seoul(2024, 1, 16, 14, 20),
        "started_at": seoul(2024, 1, 16, 14, 21),
        "completed_at": seoul(2024, 1, 16, 14, 23),
    },
    {
        "id": 3,
        "project_id": 1,
        "model_name": "yolo11n",
        "framework": Framework.ULTRALYTICS,
        "task_type": Task.OBJECT_DETECTION,
        "status": Status.COMPLETED,
        "accuracy": 0.89,
        "loss": 0.234,
        "dataset_path": "/app/datasets/coco8",
        "epochs": 50,
        "batch_size": 16,
        "learning_rate": 0.01,
        "created_at": seoul(2024, 1, 17, 10, 0),
        "started_at": seoul(2024, 1, 17, 10, 1),
        "completed_at": seoul(2024, 1, 17, 11, 45),
    },
    {
        "id": 4,
        "project_id": 2,
        "model_name": "yolov8n",
        "framework": Framework.ULTRALYTICS,
        "task_type": Task.OBJECT_DETECTION,
        "status": Status.COMPLETED,
        "accuracy": 0.71,
        "loss": 0.402,
        "dataset_path": "/app/datasets/streets",
        "epochs": 40,
        "batch_size": 16,
        "learning_rate": 0.01,
        "created_at": seoul(2024, 1, 16, 11, 0),
        "started_at": seoul(2024, 1, 16, 11, 1),
        "completed_at": seoul(2024, 1, 16, 12, 30),
    },
    {
        "id": 5,
        "project_id": 1,
        "model_name": "yolo11n-seg",
        "framework": Framework.ULTRALYTICS,
        "task_type": Task.INSTANCE_SEGMENTATION,
        "status": Status.RUNNING,
        "dataset_path": "/app/datasets/seg-coco8",
        "epochs": 50,
        "batch_size": 16,
        "learning_rate": 0.01,
        "created_at": seoul(2024, 1, 18, 15, 30),
        "started_at": seoul(2024, 1, 18, 15, 31),
    },
]

LARGE_PROJECT_NAME = "Model zoo sweep"
LARGE_PROJECT_SIZE = 240
MODELS = [
    ("resnet18", Framework.TIMM, Task.IMAGE_CLASSIFICATION),
    ("mobilenetv3_small_100", Framework.TIMM, Task.IMAGE_CLASSIFICATION),
    ("efficientnet_b0", Framework.TIMM, Task.IMAGE_CLASSIFICATION),
    ("yolo11n", Framework.ULTRALYTICS, Task.OBJECT_DETECTION),
    ("yolov8n", Framework.ULTRALYTICS, Task.OBJECT_DETECTION),
    ("yolo11n-seg", Framework.ULTRALYTICS, Task.INSTANCE_SEGMENTATION),
]
STATUS_MIX = [Status.COMPLETED] * 14 + [Status.FAILED] * 3 + [Status.CANCELLED] * 2 + [Status.PENDING, Status.RUNNING]

FAILURES = ["CUDA out of memory", "Dataset has no val split", "Worker lost"]


class Command(BaseCommand):
    help = (
        "Creates the demo users (demo and demo2, password demo1234), the 'Dog vs Cat' "
        "project with the experiments of docs/api.md, and a larger project to page through. "
        "Idempotent. Refuses to run with DEBUG off unless --force is given."
    )

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="Seed even with DEBUG off.")
        parser.add_argument("--no-large", action="store_true", help="Skip the larger project.")

    def handle(self, *args, force=False, no_large=False, **options):
        if not settings.DEBUG and not force:
            raise CommandError(
                "seed_demo creates accounts with a known password; it runs only with DEBUG=1 or --force."
            )
        with transaction.atomic():
            users = {name: self.demo_user(name) for name in ("demo", "demo2")}
            for row in EXAMPLE_PROJECTS:
                fields = {k: v for k, v in row.items() if k not in ("id", "owner", "updated_at")}
                Project.objects.update_or_create(id=row["id"], defaults={**fields, "owner": users[row["owner"]]})
            for row in EXAMPLE_JOBS:
                defaults = {"error_message": None, "accuracy": None, "loss": None, "completed_at": None}
                defaults.update({k: v for k, v in row.items() if k != "id"})
                TrainingJob.objects.update_or_create(id=row["id"], defaults=defaults)
            # auto_now overwrote updated_at on save; restore the values of the spec.
            for row in EXAMPLE_PROJECTS:
                Project.objects.filter(id=row["id"]).update(updated_at=row["updated_at"])
            for row in EXAMPLE_JOBS:
                TrainingJob.objects.filter(id=row["id"]).update(updated_at=row.get("completed_at") or row["started_at"])
            self.reset_sequences()
            if not no_large:
                self.large_project(users["demo"])
        self.stdout.write(
            self.style.SUCCESS(f"Demo data ready. Log in as demo / {DEMO_PASSWORD} (or demo2 / {DEMO_PASSWORD}).")
        )

    def demo_user(self, username: str):
        user, created = get_user_model().objects.get_or_create(
            username=username, defaults={"email": f"{username}@example.com"}
        )
        if created or not user.check_password(DEMO_PASSWORD):
            user.set_password(DEMO_PASSWORD)
            user.save()
        return user

    def reset_sequences(self):
        """Rows were inserted with explicit ids: move PostgreSQL's sequences past them."""
        statements = connection.ops.sequence_reset_sql(no_style(), [Project, TrainingJob])
        with connection.cursor() as cursor:
            for sql in statements:
                cursor.execute(sql)

    def large_project(self, owner):
        project, _created = Project.objects.get_or_create(
            owner=owner,
            name=LARGE_PROJECT_NAME,
            defaults={"description": "A few hundred experiments of mixed status, to page and filter through."},
        )
        missing = LARGE_PROJECT_SIZE - project.jobs.count()
        if missing <= 0:
            return
        rng = random.Random(42)
        start = seoul(2024, 2, 1, 9, 0)
        jobs = []
        for i in range(missing):
            model_name, framework, task = rng.choice(MODELS)
            status = rng.choice(STATUS_MIX)
            created = start + timedelta(hours=6 * i, minutes=rng.randrange(60))
            finished = status in TrainingJob.TERMINAL_STATUSES
            jobs.append(
                TrainingJob(
                    project=project,
                    model_name=model_name,
                    framework=framework,
                    task_type=task,
                    status=status,
                    dataset_path=f"/app/datasets/sweep-{task}",
                    epochs=rng.choice([10, 20, 50]),
                    batch_size=rng.choice([16, 32, 64]),
                    learning_rate=rng.choice([0.01, 0.001, 0.0003]),
                    accuracy=round(rng.uniform(0.55, 0.97), 4) if status == Status.COMPLETED else None,
                    loss=round(rng.uniform(0.08, 0.9), 4) if status == Status.COMPLETED else None,
                    error_message={Status.FAILED: rng.choice(FAILURES), Status.CANCELLED: "Cancelled by user"}.get(
                        status
                    ),
                    created_at=created,
                    started_at=created + timedelta(minutes=1) if status != Status.PENDING else None,
                    completed_at=created + timedelta(minutes=rng.randrange(5, 120)) if finished else None,
                )
            )
        TrainingJob.objects.bulk_create(jobs)
