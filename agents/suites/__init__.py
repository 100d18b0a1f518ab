"""Task suites: real image data turned into `Task`s (see `list_suites()` for what exists).

Importing this package imports every suite module, and each registers its `build` (registry.py).
"""

from agents.suites.base import Task, TaskSuite
from agents.suites.registry import SUITES, create_suite, list_suites, register_suite, suite_names
from agents.suites import fashion_mnist, digits, textures, mixed, distinct, folder  # noqa: E402,F401  (registration order)

__all__ = ["SUITES", "Task", "TaskSuite", "create_suite", "list_suites", "register_suite", "suite_names"]
