"""Training throughput: the platform (real queue and worker) next to bare PyTorch loops on the same machine.

    .venv/bin/python scripts/train_benchmark.py [--images 1800] [--epochs 8] [--batch 32] [--runs N] [JOB ...]

JOB is timm:MODEL:SIZE or ultralytics:MODEL:SIZE, e.g. timm:resnet18:32 (the default) or ultralytics:yolo11n:640.
For each timm job it times, one after the other:
  bound     the model's training steps on synthetic tensors already on the device, with the platform's
            precision and layout: the hardware's bound for that model (images/s);
  today     a bare loop over the same files as the platform trained before (ImageFolder, PIL transforms
            with a horizontal flip, num_workers=0, fp32, a loss read every batch);
  same      a bare loop with the platform's settings (images decoded once into a tensor, the "standard"
            augmentation on the device, bf16 and channels-last on CUDA) and no platform around it;
  platform  the experiment through services, the task queue and a run_worker process, as that worker's
            second job (database, monitor thread, metrics, live events, checkpoint);
and prints images/s (median epoch, training phase), the whole run's seconds, and the ratios.
For Ultralytics it prints the platform's images/s (its own trainer; no bound: a step of its model and loss
on synthetic tensors ran at half the speed of its trainer on the H200, so it bounded nothing).
Everything happens in a scratch folder: SQLite database, synthetic datasets, runs. Figures, not assertions.
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
# A bare loop runs in a process of its own, like the platform's worker, in the same scratch folder.
WORK = Path(os.environ.get("TRAIN_BENCH_WORK") or tempfile.mkdtemp(prefix="train-bench-"))
os.environ.update(
    DJANGO_SETTINGS_MODULE="platform_site.settings",
    DEBUG="1",
    DATABASE_URL=f"sqlite:///{WORK / 'bench.db'}",
    DATASETS_ROOT=str(WORK / "datasets"),
    DATASET_CACHE_DIR=str(WORK / "dataset_cache"),
    RUNS_DIR=str(WORK / "runs"),
    LOG_LEVEL="WARNING",
)

import django  # noqa: E402

django.setup()

import torch  # noqa: E402
from django.core.management import call_command  # noqa: E402

from experiments import services  # noqa: E402
from experiments.models import TrainingJob  # noqa: E402
from projects.models import Project  # noqa: E402

LEARNING_RATE = 0.001


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("jobs", nargs="*", default=["timm:resnet18:32"])
    parser.add_argument("--images", type=int, default=1800, help="images in the synthetic dataset (a fifth: val)")
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--runs", type=int, default=1, help="repeat each measurement; the medians are printed")
    parser.add_argument("--bound-seconds", type=float, default=5, help="how long each bound is timed")
    parser.add_argument("--worker-args", default="", help='more run_worker arguments, e.g. "--gpus all"')
    parser.add_argument("--skip", default="", help="comma-separated: bound, today, same (e.g. on a slow CPU)")
    parser.add_argument("--bare", help=argparse.SUPPRESS)  # in a child process: run one bare loop, print JSON
    args = parser.parse_args()
    skip = set(filter(None, args.skip.split(",")))

    device = "cuda" if torch.cuda.is_available() else "cpu"
    if args.bare:
        print(json.dumps(bare(args.bare, args.jobs[0], args, device)))
        return
    os.environ["TRAIN_BENCH_WORK"] = str(WORK)
    machine = torch.cuda.get_device_name(0) if device == "cuda" else f"CPU ({os.cpu_count()} cores)"
    call_command("migrate", verbosity=0)
    call_command("seed_demo", "--force", "--no-large", verbosity=0)
    call_command("make_demo_datasets", "--images", str(args.images), verbosity=0)
    project = Project.objects.get(pk=1)
    print(f"Machine: {machine}; torch {torch.__version__}; {args.images} images; batch {args.batch}; "
          f"{args.epochs} epochs; {args.runs} run(s) each; python {' '.join(sys.argv)}", flush=True)  # fmt: skip

    rows = []
    for spec in args.jobs:
        rows.append((spec, measure_job(spec, project, device, args, skip)))
        report(rows)
    shutil.rmtree(WORK, ignore_errors=True)


def measure_job(spec, project, device, args, skip):
    """{what: (median images/s, median run seconds)} for one job, each measurement printed as it ends."""
    framework, model, size = spec.split(":")
    size = int(size)
    if framework == "timm":
        measurements = {
            "bound": lambda: in_a_process("bound", spec),
            "today": lambda: in_a_process("today", spec),
            "same": lambda: in_a_process("same", spec),
            "platform": lambda: platform(
                project, framework, model, "image_classification", "shapes-cls", size, args, device
            ),
        }
    else:
        measurements = {
            "platform": lambda: platform(
                project, framework, model, "object_detection", "shapes-det", size, args, device
            ),
        }
    figures = {}
    for _ in range(args.runs):
        for name, measurement in measurements.items():
            if name in skip:
                continue
            try:
                rate, seconds = measurement()
            except Exception as error:  # one broken measurement should not lose the others' figures
                print(f"  {spec} {name}: FAILED {type(error).__name__}: {error}", flush=True)
                continue
            figures.setdefault(name, []).append((rate, seconds))
            print(f"  {spec} {name}: {fmt(rate, 0)} images/s, {fmt(seconds, 1)} s", flush=True)
    medians = {name: median_pair(values) for name, values in figures.items()}
    rounds = list(zip(figures.get("platform", []), figures.get("same", []), strict=False))
    if len(rounds) > 1:  # a ratio per round cancels the machine's slow drifts
        for label, index in (("images/s", 0), ("whole run", 1)):
            ratios = sorted(p[index] / s[index] for p, s in rounds if p[index] and s[index])
            print(f"  {spec} platform ÷ same, {label}, per round: {', '.join(f'{r:.3f}' for r in ratios)}; "
                  f"median {statistics.median(ratios):.3f}", flush=True)  # fmt: skip
    return medians


def in_a_process(name, spec):
    """One bare measurement in a fresh process (as the platform's worker is one): (images/s, seconds)."""
    arguments = [a for a in sys.argv[1:] if not a.startswith(("timm:", "ultralytics:"))]
    command = [sys.executable, __file__, *arguments, "--bare", name, spec]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout  # noqa: S603
    rate, seconds = json.loads(output.strip().splitlines()[-1])
    return rate, seconds


def bare(name, spec, args, device):
    _framework, model, size = spec.split(":")
    size, dataset = int(size), WORK / "datasets" / "shapes-cls"
    if name == "bound":
        return bound(model, size, args.batch, device, args.bound_seconds), None
    if name == "today":
        return bare_loop_today(model, dataset, size, args, device)
    return bare_loop_same(model, dataset, size, args, device)


def median_pair(values):
    rates = [rate for rate, _seconds in values if rate is not None]
    seconds = [seconds for _rate, seconds in values if seconds is not None]
    return (statistics.median(rates) if rates else None, statistics.median(seconds) if seconds else None)


def report(rows):
    print(f"\n{'job':28} {'what':9} {'images/s':>10} {'run s':>8} {'÷ bound':>8} {'time ÷ same':>12}")
    for spec, figures in rows:
        bound_rate = figures.get("bound", (None, None))[0]
        same_seconds = figures.get("same", (None, None))[1]
        for name in ("bound", "today", "same", "platform"):
            if name not in figures:
                continue
            rate, seconds = figures[name]
            of_bound = f"{rate / bound_rate:.2f}" if rate and bound_rate and name != "bound" else ""
            of_same = f"{seconds / same_seconds:.3f}" if seconds and same_seconds else ""
            print(f"{spec:28} {name:9} {fmt(rate, 0):>10} {fmt(seconds, 1):>8} {of_bound:>8} {of_same:>12}")
    sys.stdout.flush()


def fmt(value, digits):
    return "-" if value is None else f"{value:.{digits}f}"


def platform(project, framework, model, task, dataset, size, args, device):
    """The experiment through the service, the queue and a run_worker process, measured as the second job of
    that worker (a long-lived worker has loaded torch and started CUDA before): (median epoch images/s, run
    seconds). The first job, one epoch at another image size, decodes into a cache entry of its own."""
    shutil.rmtree(WORK / "runs" / ".decoded", ignore_errors=True)  # decoded from scratch, like the bare loops
    if device == "cuda":
        torch.cuda.empty_cache()  # what the bare loops held goes back to the worker

    def create(epochs, image_size):
        return services.experiment_create(
            project=project, framework=framework, model_name=model, task_type=task, dataset_path=dataset,
            epochs=epochs, batch_size=args.batch, learning_rate=LEARNING_RATE if framework == "timm" else 0.01,
            image_size=image_size, augmentation="standard",
        )  # fmt: skip

    create(1, size + 32)  # the warm-up
    job = create(args.epochs, size)
    worker = [sys.executable, str(ROOT / "manage.py"), "run_worker", "--batch", "--no-startup-delay",
              "--interval", "0", "--verbosity", "0", *args.worker_args.split()]  # fmt: skip
    subprocess.run(worker, check=True, cwd=ROOT)  # noqa: S603 (our own command)
    job = TrainingJob.objects.get(pk=job.pk)
    if job.status != "completed":
        print(f"  {framework} {model}: {job.status} {job.error_message}", flush=True)
        return None, None
    rates = list(job.metrics.order_by("epoch").values_list("images_per_second", flat=True))
    busy = job.gpu_busy()
    if busy is not None:
        print(f"  {framework} {model} {size}px: GPU busy {busy:.0%} while training", flush=True)
    return statistics.median(rates[1:] or rates), (job.completed_at - job.started_at).total_seconds()


def bound(model_name, size, batch, device, seconds):
    """Training steps of the model on one synthetic batch already on the device, with the platform's
    precision and layout: images/s."""
    import timm

    from experiments.training.hardware import Acceleration

    acceleration = Acceleration.for_device(device)
    model = timm.create_model(model_name, pretrained=False, num_classes=2).to(device)
    images = torch.randn(batch, 3, size, size, device=device)
    labels = torch.randint(0, 2, (batch,), device=device)
    if acceleration.channels_last:
        model, images = (
            model.to(memory_format=torch.channels_last),
            images.contiguous(memory_format=torch.channels_last),
        )
    optimizer = torch.optim.AdamW(model.parameters(), lr=LEARNING_RATE)
    criterion = torch.nn.CrossEntropyLoss()

    def step():
        optimizer.zero_grad(set_to_none=True)
        with acceleration.autocast():
            loss = criterion(model(images), labels)
        loss.backward()
        optimizer.step()

    return _steps_per_second(step, device, seconds) * batch


def _steps_per_second(step, device, seconds):
    for _ in range(5):  # warm up: cuDNN's choice of kernels, allocator
        step()
    _sync(device)
    count, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        step()
        count += 1
        if count % 10 == 0:
            _sync(device)
    _sync(device)
    return count / (time.perf_counter() - started)


def _sync(device):
    if device == "cuda":
        torch.cuda.synchronize()


def bare_loop_today(model_name, dataset, size, args, device):
    """The training as the platform ran it before: PIL decode and transforms every epoch, no workers, fp32."""
    import timm
    from torch.utils.data import DataLoader
    from torchvision import datasets, transforms

    started = time.perf_counter()
    normalize = transforms.Normalize((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))
    train_tf = transforms.Compose([transforms.Resize((size, size)), transforms.RandomHorizontalFlip(),
                                   transforms.ToTensor(), normalize])  # fmt: skip
    val_tf = transforms.Compose([transforms.Resize((size, size)), transforms.ToTensor(), normalize])
    train_set = datasets.ImageFolder(dataset / "train", train_tf)
    val_set = datasets.ImageFolder(dataset / "val", val_tf)
    train_loader = DataLoader(train_set, batch_size=args.batch, shuffle=True, num_workers=0, drop_last=True)
    val_loader = DataLoader(val_set, batch_size=args.batch, num_workers=0)
    torch.manual_seed(0)
    model = timm.create_model(model_name, pretrained=False, num_classes=len(train_set.classes)).to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=LEARNING_RATE)
    criterion = torch.nn.CrossEntropyLoss()
    rates = []
    for _epoch in range(args.epochs):
        epoch_started, seen = time.perf_counter(), 0
        model.train()
        for images, labels in train_loader:
            images, labels = images.to(device), labels.to(device)
            optimizer.zero_grad()
            loss = criterion(model(images), labels)
            loss.backward()
            optimizer.step()
            loss.item()
            seen += len(labels)
        rates.append(seen / (time.perf_counter() - epoch_started))
        model.eval()
        with torch.no_grad():
            for images, labels in val_loader:
                model(images.to(device)).argmax(dim=1).eq(labels.to(device)).sum().item()
    return statistics.median(rates[1:] or rates), time.perf_counter() - started


def bare_loop_same(model_name, dataset, size, args, device):
    """The platform's trainer without the platform: the same decoding, augmentation, precision and steps."""
    import timm

    from experiments.training import images as training_images
    from experiments.training.hardware import Acceleration

    shutil.rmtree(WORK / "runs" / ".decoded", ignore_errors=True)
    started = time.perf_counter()
    acceleration = Acceleration.for_device(device)
    train_set = training_images.Split(dataset / "train", size, device)
    val_set = training_images.Split(dataset / "val", size, device)
    torch.manual_seed(0)
    model = timm.create_model(model_name, pretrained=False, num_classes=len(train_set.classes)).to(device)
    if acceleration.channels_last:
        model = model.to(memory_format=torch.channels_last)
    optimizer = torch.optim.AdamW(model.parameters(), lr=LEARNING_RATE)
    criterion = torch.nn.CrossEntropyLoss()

    def model_input(batch, augmentation=None):
        return training_images.to_model_input(batch, augmentation, channels_last=acceleration.channels_last)

    rates = []
    for _epoch in range(args.epochs):
        epoch_started, seen = time.perf_counter(), 0
        model.train()
        for images, labels in train_set.batches(args.batch, shuffle=True, drop_last=True):
            optimizer.zero_grad(set_to_none=True)
            with acceleration.autocast():
                loss = criterion(model(model_input(images, "standard")), labels)
            loss.backward()
            optimizer.step()
            seen += len(labels)
        _sync(device)
        rates.append(seen / (time.perf_counter() - epoch_started))
        model.eval()
        correct = torch.zeros((), device=device)
        with torch.no_grad(), acceleration.autocast():
            for images, labels in val_set.batches(args.batch, shuffle=False):
                correct += model(model_input(images)).argmax(dim=1).eq(labels).sum()
        correct.item()
    return statistics.median(rates[1:] or rates), time.perf_counter() - started


if __name__ == "__main__":
    main()
