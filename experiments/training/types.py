"""What the runner and the trainers share: a trainer reports through a Reporter and returns a Result."""

from dataclasses import dataclass
from typing import Protocol


class TrainingCancelled(Exception):
    """The user cancelled the run, or the job is no longer this worker's."""


class TrainingError(Exception):
    """A failure with a one-line reason for the user."""


@dataclass(frozen=True)
class Result:
    accuracy: float | None
    loss: float | None


class Reporter(Protocol):
    """What a trainer calls: between batches (to stop when cancelled), and at the start and end of each epoch."""

    def should_stop(self) -> bool: ...

    def check_cancelled(self) -> None:
        """Raises TrainingCancelled when the run should stop."""

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
