"""Task suites: real image data turned into `Task`s (see `list_suites()` for what exists)."""

from agents.suites.base import Task, TaskSuite
from agents.suites.registry import SUITES, create_suite, list_suites

__all__ = ["SUITES", "Task", "TaskSuite", "create_suite", "list_suites"]
