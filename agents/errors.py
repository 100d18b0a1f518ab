"""Errors raised by the learning side; each message quotes the bad value and says how to fix it."""


class LearningError(ValueError):
    """Base class for every error of the learning side (`agents/`)."""


class BackboneError(LearningError):
    """A backbone cannot be built or its weights cannot be loaded."""


class DataError(LearningError):
    """A task suite or its data on disk is missing or malformed."""


class PackageError(LearningError):
    """A share package cannot be serialized or parsed."""
