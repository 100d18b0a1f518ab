"""Suite registry: `register_suite` on each suite's `build`, behind one `create_suite` factory.

Each suite module registers itself when `agents.suites` imports it; the scenario schema's
`tasks.suite` choices (agents.config), `skill-sim list suites` and the README reference derive
from this table, so a new suite is one module with one decorator (and one import line in
agents/suites/__init__.py).
"""

from __future__ import annotations

from typing import Callable

from agents.errors import DataError
from agents.suites.base import SuiteSettings, TaskSuite

Builder = Callable[[SuiteSettings], TaskSuite]
Counter = Callable[[SuiteSettings], int]
SUITES: dict[str, tuple[Builder, str]] = {}  # name -> (build, one-line description); the default first
COUNTS: dict[str, Counter] = {}  # name -> how many tasks build(settings) will make, cheaply
# (fewest train images of one class, fewest train images of one task) that build(settings) will use
Sizer = Callable[[SuiteSettings], tuple[int, int]]
SIZES: dict[str, Sizer] = {}  # name -> its Sizer, for the suites that know it cheaply
Namer = Callable[[SuiteSettings], list[tuple[str, ...]]]
NAMES: dict[str, Namer] = {}  # name -> each task's class names, for the suites that know them cheaply
DEFAULT: list[str] = []  # the name registered with default=True


def register_suite(name: str, description: str, count: Counter, default: bool = False,
                   sizes: Sizer | None = None, names: Namer | None = None) -> Callable[[Builder], Builder]:
    """Decorator: register a suite's `build(settings) -> TaskSuite` under `name`.

    `count(settings)` says how many tasks `build` will make without loading any image, raising the
    DataError `build` would raise (missing data, too many tasks asked): the checks run it before
    learning. `default`: the suite a scenario gets when it names none; it is listed first.
    `sizes(settings)`, where a suite knows it cheaply: (fewest train images of one class, fewest
    of one task) that `build` will use, so the checks can say when a setting asks for more.
    `names(settings)`, where a suite knows them without drawing images: each task's class names, in
    task order, as `build` names them (knowledge reuse's `names` check reads them).
    """

    def decorate(build: Builder) -> Builder:
        if name in SUITES:
            raise ValueError(f"suite {name!r} is registered twice")
        SUITES[name] = (build, description)
        COUNTS[name] = count
        if sizes is not None:
            SIZES[name] = sizes
        if names is not None:
            NAMES[name] = names
        if default:
            DEFAULT.append(name)
        return build

    return decorate


def suite_names() -> tuple[str, ...]:
    """Every registered suite name, the default first."""
    import agents.suites  # noqa: F401  (imports, and so registers, every suite module)

    return tuple(DEFAULT) + tuple(n for n in SUITES if n not in DEFAULT)


def default_suite() -> str:
    """The suite a scenario gets when it names none."""
    suite_names()
    return DEFAULT[0]


def create_suite(cfg: SuiteSettings) -> TaskSuite:
    """Build the suite cfg.suite names; same cfg gives byte-identical arrays and fingerprints."""
    names = suite_names()
    if cfg.suite not in SUITES:
        raise DataError(f"unknown suite {cfg.suite!r}; choose one of {', '.join(names)}")
    builder, _ = SUITES[cfg.suite]
    return builder(cfg)


def count_tasks(cfg: SuiteSettings) -> int:
    """How many tasks `create_suite(cfg)` will build, from the settings and file listings only;
    DataError when it could not build them."""
    names = suite_names()
    if cfg.suite not in COUNTS:
        raise DataError(f"unknown suite {cfg.suite!r}; choose one of {', '.join(names)}")
    return COUNTS[cfg.suite](cfg)


def train_sizes(cfg: SuiteSettings) -> tuple[int, int] | None:
    """(fewest train images of one class, fewest of one task) that `create_suite(cfg)` will use;
    None where the suite does not know it without loading its images (mixed)."""
    suite_names()
    sizer = SIZES.get(cfg.suite)
    return None if sizer is None else sizer(cfg)


def class_names(cfg: SuiteSettings) -> list[tuple[str, ...]]:
    """Each task's class names, in task order, as `create_suite(cfg)` names them: from the suite's
    plan where it registered `names` (no image drawn), else from the built suite."""
    suite_names()
    namer = NAMES.get(cfg.suite)
    return namer(cfg) if namer is not None else [t.classes for t in create_suite(cfg).tasks]


def list_suites() -> dict[str, str]:
    """Suite name -> one-line description (for `skill-sim list suites`)."""
    return {name: SUITES[name][1] for name in suite_names()}
