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
    """What a trainer calls: between batches (to stop when cancelled) and after each epoch."""

    def should_stop(self) -> bool: ...

    def check_cancelled(self) -> None:
        """Raises TrainingCancelled when the run should stop."""

    def epoch_end(
        self,
        *,
        epoch: int,
        train_loss: float | None,
        val_loss: float | None,
        accuracy: float | None,
        duration_seconds: float,
    ) -> None:
        """Stores the epoch's results; raises TrainingCancelled when the job is no longer this worker's."""
