"""Errors raised by the simulated side; the CLI turns them into exit code 2 with the message."""


class SimError(ValueError):
    """Base class for every error of the simulated side (`sim/`)."""


class ScenarioError(SimError):
    """A scenario file is missing, unreadable or invalid, or `simulate` was given invalid settings;
    the message names the file (or `simulate()`), the field, the value and the fix."""
