"""pggan's two failures besides bugs: a bad setting (exit code 2, like all bad input) and a run that diverged (3)."""

from __future__ import annotations

from ganeval.errors import GanevalInputError

EXIT_DIVERGED = 3


class ConfigError(GanevalInputError):
    """A TrainConfig setting that is of the wrong type, out of range or inconsistent; `field` names it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class TrainingDivergedError(RuntimeError):
    """A loss, a weight or an optimiser statistic became NaN/inf; the run stops and its last good checkpoint stays
    the newest one. The command line exits with `EXIT_DIVERGED`."""
