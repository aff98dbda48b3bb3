"""The timm trainer's input pipeline on the CPU: decoding, the tensor cache, batches, augmentation, precision."""

import os

import pytest
import torch
from PIL import Image

from experiments.training import images
from experiments.training.hardware import Acceleration, NoSampler, sampler_for


@pytest.fixture
def folder(tmp_path):
    """train/{left,right}: 10 images each, white on the left or the right half, 40 px."""
    root = tmp_path / "data" / "train"
    for side in ("left", "right"):
        (root / side).mkdir(parents=True)
        for index in range(10):
            image = Image.new("RGB", (40, 40), (0, 0, 0))
            box = (0, 0, 20, 40) if side == "left" else (20, 0, 40, 40)
            image.paste((255, 255, 255), box)
            image.save(root / side / f"{index}.png")
    return root


@pytest.fixture(autouse=True)
def runs_dir(settings, tmp_path):
    settings.RUNS_DIR = tmp_path / "runs"
    settings.TRAINING_DATALOADER_WORKERS = 0


def cache_files(settings):
    return sorted((settings.RUNS_DIR / ".decoded").glob("*.pt"))


def test_a_small_dataset_is_decoded_once_into_a_cache_file_and_read_from_it_after(folder, settings):
    split = images.Split(folder, 32, "cpu")
    assert split.cached is not None
    cached_images, labels = split.cached
    assert cached_images.dtype == torch.uint8 and cached_images.shape == (20, 3, 32, 32)
    assert labels.tolist() == [0] * 10 + [1] * 10
    (cache,) = cache_files(settings)
    written = cache.stat().st_mtime_ns

    again = images.Split(folder, 32, "cpu")
    assert torch.equal(again.cached[0], cached_images)
    assert cache_files(settings) == [cache] and cache.stat().st_mtime_ns == written


def test_the_cache_holds_what_decoding_each_image_gives(folder):
    split = images.Split(folder, 32, "cpu")
    decoded = images.DecodedImageFolder(folder, 32)
    for index in (0, 7, 19):
        image, label = decoded[index]
        assert torch.equal(split.cached[0][index], image) and split.cached[1][index] == label


def test_another_size_or_a_changed_file_is_decoded_again(folder, settings):
    images.Split(folder, 32, "cpu")
    images.Split(folder, 24, "cpu")
    assert len(cache_files(settings)) == 2
    Image.new("RGB", (40, 40), (9, 9, 9)).save(folder / "left" / "0.png")
    os.utime(folder / "left" / "0.png", ns=(1, 1))  # a different modification time whatever the clock
    changed = images.Split(folder, 32, "cpu")
    assert len(cache_files(settings)) == 3
    assert changed.cached[0][0].max() == 9


def test_an_unreadable_cache_file_is_decoded_again(folder, settings):
    images.Split(folder, 32, "cpu")
    (cache,) = cache_files(settings)
    cache.write_bytes(b"not a tensor file")
    split = images.Split(folder, 32, "cpu")
    assert split.cached[0].shape == (20, 3, 32, 32)
    assert cache.stat().st_size > 1000


def test_a_dataset_over_the_budget_streams_the_same_images_in_batches(folder, settings):
    settings.TRAINING_CACHE_MB = 0
    split = images.Split(folder, 32, "cpu")
    assert split.cached is None and cache_files(settings) == []
    streamed = list(split.batches(8, shuffle=False))
    assert [len(labels) for _images, labels in streamed] == [8, 8, 4]
    settings.TRAINING_CACHE_MB = 4096
    cached = list(images.Split(folder, 32, "cpu").batches(8, shuffle=False))
    for (streamed_images, streamed_labels), (cached_images, cached_labels) in zip(streamed, cached, strict=True):
        assert torch.equal(streamed_images, cached_images) and torch.equal(streamed_labels, cached_labels)


def test_shuffled_batches_cover_every_image_once_and_drop_last_drops_the_rest(folder):
    split = images.Split(folder, 32, "cpu")
    torch.manual_seed(1)
    batches = list(split.batches(8, shuffle=True))
    assert sorted(torch.cat([labels for _images, labels in batches]).tolist()) == [0] * 10 + [1] * 10
    assert [len(labels) for _images, labels in split.batches(8, shuffle=True, drop_last=True)] == [8, 8]


@pytest.mark.parametrize("cores, workers", [(None, 0), (1, 0), (2, 0), (3, 0), (4, 2), (16, 8), (64, 8)])
def test_loader_workers_follow_the_cores(cores, workers):
    assert images.workers_for_cores(cores) == workers


def test_the_setting_overrides_the_loader_workers(settings):
    settings.TRAINING_DATALOADER_WORKERS = 3
    assert images.loader_workers() == 3
    settings.TRAINING_DATALOADER_WORKERS = None
    assert images.loader_workers() == images.workers_for_cores(len(os.sched_getaffinity(0)))


def halves(batch):
    """Mean brightness of the left and right halves of each image."""
    width = batch.shape[-1]
    return batch[..., : width // 2].mean(dim=(1, 2, 3)), batch[..., width // 2 :].mean(dim=(1, 2, 3))


def test_no_augmentation_only_scales_and_normalises(folder):
    uint8, _labels = images.Split(folder, 32, "cpu").cached
    batch = images.to_model_input(uint8, "none", channels_last=False)
    mean = torch.tensor(images.MEAN).view(1, 3, 1, 1)
    std = torch.tensor(images.STD).view(1, 3, 1, 1)
    assert torch.allclose(batch, (uint8.float() / 255 - mean) / std)


def test_light_augmentation_moves_images_but_never_flips_them(folder):
    uint8, labels = images.Split(folder, 32, "cpu").cached
    torch.manual_seed(0)
    batch = images.to_model_input(uint8.repeat(5, 1, 1, 1), "light", channels_last=False)
    left, right = halves(batch)
    white_left = labels.repeat(5) == 0
    assert bool((left[white_left] > right[white_left]).all()) and bool((right[~white_left] > left[~white_left]).all())
    plain = images.to_model_input(uint8.repeat(5, 1, 1, 1), "none", channels_last=False)
    assert not torch.allclose(batch, plain)


def test_standard_augmentation_flips_about_half_of_the_images(folder):
    uint8, labels = images.Split(folder, 32, "cpu").cached
    torch.manual_seed(0)
    batch = images.to_model_input(uint8.repeat(10, 1, 1, 1), "standard", channels_last=False)
    left, right = halves(batch)
    flipped = ((left < right) == (labels.repeat(10) == 0)).float().mean().item()
    assert 0.3 < flipped < 0.7
    assert batch.shape == (200, 3, 32, 32) and torch.isfinite(batch).all()


def test_channels_last_input_for_the_gpu(folder):
    uint8, _labels = images.Split(folder, 32, "cpu").cached
    batch = images.to_model_input(uint8, "standard", channels_last=True)
    assert batch.is_contiguous(memory_format=torch.channels_last)


def test_on_the_cpu_training_stays_in_fp32_with_nothing_to_sample():
    acceleration = Acceleration.for_device("cpu")
    assert (acceleration.amp_dtype, acceleration.channels_last) == (None, False)
    with acceleration.autocast():
        assert not torch.is_autocast_enabled("cpu")
        assert (torch.ones(2, 2) @ torch.ones(2, 2)).dtype == torch.float32
    sampler = sampler_for("cpu")
    assert isinstance(sampler, NoSampler)
    sampler.start()
    assert sampler.take() == (None, None)
    sampler.stop()


@pytest.mark.parametrize("preset", ["none", "light"])
def test_the_presets_are_valid_ultralytics_settings_without_flips(preset):
    from ultralytics.cfg import get_cfg

    from experiments.training.ultralytics_trainer import AUGMENTATION_ARGS

    config = get_cfg(overrides=dict(AUGMENTATION_ARGS[preset]))  # refuses unknown keys and wrong types
    assert config.fliplr == 0 and config.mosaic == 0
