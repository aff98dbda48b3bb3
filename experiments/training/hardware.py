"""What the trainers ask of the device: its precision and layout settings, and how busy it is."""

import logging
import threading
from dataclasses import dataclass

import torch

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Acceleration:
    """How a model trains on a device: on CUDA in bf16 (where the GPU has it) and channels-last; on the CPU,
    as it always did, in fp32."""

    device: torch.device
    amp_dtype: torch.dtype | None
    channels_last: bool

    @classmethod
    def for_device(cls, device: str) -> "Acceleration":
        device = torch.device(device)
        if device.type != "cuda":
            return cls(device=device, amp_dtype=None, channels_last=False)
        torch.backends.cudnn.benchmark = True  # fixed input sizes: let cuDNN pick its fastest kernels once
        bf16 = torch.cuda.is_bf16_supported(including_emulation=False)
        return cls(device=device, amp_dtype=torch.bfloat16 if bf16 else None, channels_last=True)

    def autocast(self):
        return torch.autocast(
            device_type=self.device.type, dtype=self.amp_dtype or torch.float32, enabled=self.amp_dtype is not None
        )


class GpuSampler(threading.Thread):
    """Beside a training on CUDA: how busy the GPU was (nvidia-ml-py, through torch) and the most memory the
    training held on it, since the last `take()`.

    NVML reports the share of its last sample period (1/6 s to 1 s) in which a kernel ran; an epoch
    shorter than MIN_SAMPLES readings gets no figure rather than a guess.
    """

    INTERVAL_SECONDS = 0.2
    MIN_SAMPLES = 5

    def __init__(self, device: torch.device):
        super().__init__(name="gpu-sampler", daemon=True)
        self.device = device
        self.samples: list[int] = []
        self.lock = threading.Lock()
        self.stopped = threading.Event()

    def run(self):
        while not self.stopped.wait(self.INTERVAL_SECONDS):
            try:
                busy = torch.cuda.utilization(self.device)
            except Exception:  # no NVML (another vendor, a restricted container): no figure, no failure
                logger.warning("Cannot read the GPU's utilisation; not sampling it", exc_info=True)
                return
            with self.lock:
                self.samples.append(busy)

    def take(self) -> tuple[float | None, float | None]:
        """(mean utilisation 0..1, peak memory in MB) since the last take."""
        with self.lock:
            samples, self.samples = self.samples, []
        peak = torch.cuda.max_memory_reserved(self.device) / 2**20
        torch.cuda.reset_peak_memory_stats(self.device)
        busy = sum(samples) / len(samples) / 100 if len(samples) >= self.MIN_SAMPLES else None
        return busy, peak

    def stop(self):
        self.stopped.set()
        self.join(timeout=2)


class NoSampler:
    """Off CUDA there is nothing to sample."""

    def start(self):
        pass

    def take(self) -> tuple[None, None]:
        return None, None

    def stop(self):
        pass


def sampler_for(device: str) -> GpuSampler | NoSampler:
    device = torch.device(device)
    return GpuSampler(device) if device.type == "cuda" else NoSampler()
