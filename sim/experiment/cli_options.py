"""The options every `skill-sim` command shares (--quiet, --json, --debug; a scenario with --set and
--seed), each command's help saying what its --json prints and what its --quiet still prints."""

from __future__ import annotations

import argparse
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
