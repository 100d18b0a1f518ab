"""Errors raised while building graphs or link attributes."""


class TopologyError(ValueError):
    """A topology family, its parameters or a graph file is invalid; the message says the fix."""
