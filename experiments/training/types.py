"""What the runner and the trainers share: a trainer reports through a Reporter and returns a Result."""

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol


class TrainingCancelled(Exception):
    """The user cancelled the run, or the job is no longer this worker's."""


class TrainingError(Exception):
    """A failure with a one-line reason for the user."""


@dataclass(frozen=True)
class Result:
    accuracy: float | None
    loss: float | None


@dataclass(frozen=True)
class Start:
    """Where a run starts: a checkpoint of its own to resume from, other weights to start from (pretrained,
    or an earlier run's best; their head is replaced when the classes differ), or neither: from scratch."""

    checkpoint: Path | None = None
    best: Path | None = None  # with a checkpoint: the best weights up to it
    weights: Path | None = None


class Reporter(Protocol):
    """What a trainer calls: between batches (to stop when cancelled), and at the start and end of each epoch."""

    def should_stop(self) -> bool: ...

    def check_cancelled(self) -> None:
        """Raises TrainingCancelled when the run should stop."""

    def resumed(self, *, epoch: int) -> None:
        """The run continues after this epoch of its checkpoint: later epochs' metrics are dropped."""

    def checkpoint_saved(self, last: Path, best: Path | None) -> None:
        """The trainer wrote its last checkpoint (at most every TRAINING_CHECKPOINT_SECONDS): it is stored
        with the best weights so far, for a resume on any worker."""

    def epoch_start(self) -> None:
        """Marks where an epoch's training phase begins: its system figures (GPU utilisation and memory)
        cover that phase, not the validation."""

    def train_end(self) -> None:
        """Marks where the epoch's training phase ends."""

    def epoch_end(
        self,
        *,
        epoch: int,
        train_loss: float | None,
        val_loss: float | None,
        accuracy: float | None,
        duration_seconds: float,
        images_per_second: float | None,
    ) -> None:
        """Stores the epoch's results; raises TrainingCancelled when the job is no longer this worker's."""
