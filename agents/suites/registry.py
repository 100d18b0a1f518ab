"""Suite registry: `register_suite` on each suite's `build`, behind one `create_suite` factory.

Each suite module registers itself when `agents.suites` imports it; the scenario schema's
`tasks.suite` choices (agents.config), `skill-sim list suites` and the README reference derive
from this table, so a new suite is one module with one decorator (and one import line in
agents/suites/__init__.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

from agents.errors import DataError

if TYPE_CHECKING:
    from agents.config import SuiteConfig
    from agents.suites.base import TaskSuite

Builder = Callable[["SuiteConfig"], "TaskSuite"]
SUITES: dict[str, tuple[Builder, str]] = {}  # name -> (build, one-line description), in registration order


def register_suite(name: str, description: str) -> Callable[[Builder], Builder]:
    """Decorator: register a suite's `build(cfg) -> TaskSuite` under `name`."""

    def decorate(build: Builder) -> Builder:
        if name in SUITES:
            raise ValueError(f"suite {name!r} is registered twice")
        SUITES[name] = (build, description)
        return build

    return decorate


def suite_names() -> tuple[str, ...]:
    """Every registered suite name."""
    import agents.suites  # noqa: F401  (imports, and so registers, every suite module)

    return tuple(SUITES)


def create_suite(cfg: "SuiteConfig") -> "TaskSuite":
    """Build the suite cfg.suite names; same cfg gives byte-identical arrays and fingerprints."""
    names = suite_names()
    if cfg.suite not in SUITES:
        raise DataError(f"unknown suite {cfg.suite!r}; choose one of {', '.join(names)}")
    builder, _ = SUITES[cfg.suite]
    return builder(cfg)


def list_suites() -> dict[str, str]:
    """Suite name -> one-line description (for `skill-sim list suites`)."""
    suite_names()
    return {name: desc for name, (_, desc) in SUITES.items()}
