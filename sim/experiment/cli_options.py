"""The options every `skill-sim` command shares (--quiet, --json, --debug; a scenario with --set and
--seed), each command's help saying what its --json prints and what its --quiet still prints; and
the argument types of folders and alphas."""

from __future__ import annotations

import argparse
import math
from pathlib import Path

# Per command: what --json prints, and what --quiet still prints on stdout (None: nothing).
_ANSWERS = {
    "run": ("results.json (with run_dir)", "the run directory"),
    "sweep": ("sweep.json (with run_dir)", "the sweep directory"),
    "curves": ("the curves (with run_dir)", "the output folder"),
    "validate": ("the resolved scenario (for a study: its cells and axes)", None),
    "report": ("the run's, sweep's or study's results", None),
    "compare": ("the compared metrics (with the figure's path)", "the figure's path"),
    "study": ("the study's summary (with study_dir)", "the study directory"),
    "list": ("the listing (name: description)", None),
    "cache info": ("the cache's entries by kind", None),
    "cache prune": ("what was (or, with --dry-run, would be) removed", None),
}


def add_common(p: argparse.ArgumentParser, scenario: bool = True) -> None:
    """Add the options every command shares (and, with `scenario`, the scenario and its overrides)."""
    command = p.prog.removeprefix("skill-sim ")
    what, where = _ANSWERS.get(command, ("the answer", None))
    if scenario:
        p.add_argument("scenario", type=Path, help="scenario YAML file, or a shipped scenario's name from any "
                       "directory (e.g. tiny)" + (", or a study YAML file" if command == "validate" else ""))
        p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                       help="override a scenario field, e.g. --set agents.count=10 (repeatable)")
        p.add_argument("--seed", type=int, help="override the scenario's root seed")
    p.add_argument("--quiet", action="store_true", help="no progress or summary (warnings and errors still "
                   "show)" + (f"; still print {where} on stdout" if where else ""))
    p.add_argument("--json", action="store_true", help=f"print {what} as JSON on stdout, and nothing else there")
    p.add_argument("--debug", action="store_true", help="show tracebacks of unexpected failures")


def _folder(text: str) -> Path:
    """A folder argument (--out, --cache): an empty one is refused, not taken as the working directory."""
    if not text.strip():
        raise argparse.ArgumentTypeError("an empty path; name a folder")
    return Path(text)


def _alpha_one(text: str) -> float:
    """run's --alpha: one number (a list belongs to sweep)."""
    try:
        return float(text)
    except ValueError:
        hint = f"; `skill-sim sweep --alpha {text}` runs several" if "," in text else ""
        raise argparse.ArgumentTypeError(f"{text!r}: run takes one alpha, a number such as 1e3{hint}") from None


def _alpha_list(text: str) -> list[float]:
    try:
        values = [float(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: expected comma-separated numbers, e.g. 10,100,1e3") from None
    if not values or not all(0 < v < math.inf for v in values):
        raise argparse.ArgumentTypeError(f"{text[:80]!r}: alphas must be positive finite numbers")
    if len(set(values)) != len(values):
        twice = sorted({v for v in values if values.count(v) > 1})
        raise argparse.ArgumentTypeError(f"{text[:80]!r}: alpha {', '.join(f'{v:g}' for v in twice)} given twice; "
                                         "give each value once")
    return values
