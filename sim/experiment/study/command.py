"""`skill-sim study STUDY.yaml` and `skill-sim report STUDY_DIR`: the study's part of the command line
(cli.py registers it). Only the light modules are imported here; the executor and learning load later."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, Callable

from rich.console import Console
from rich.markup import escape

from sim.experiment import executor_options


def add_parser(sub: Any, common: Callable[..., None], folder: Callable[[str], Path]) -> None:
    """Register `study` on the CLI's subparsers."""
    study = sub.add_parser("study", help="run a grid of scenarios (axes x seeds) in parallel, with tables and figures")
    study.add_argument("study", type=Path, help="study YAML file, or a shipped study's name from any directory "
                                                "(skill-sim list studies)")
    study.add_argument("--out", type=folder, help="study directory (default: runs/NAME); rerun to resume")
    executor_options.add_options(study, inline=False)
    study.add_argument("--cache", type=folder, help="cache folder (default: $SKILL_SIM_CACHE or ~/.cache/skill-sim)")
    common(study, scenario=False)
    study.set_defaults(func=cmd_study)


def cmd_study(args: argparse.Namespace, console: Console) -> int:
    """Run a study; exit 0 when every cell finished, 1 when some failed, 2 on bad input."""
    from sim.experiment.study.driver import check_study_dir, run_study
    from sim.experiment.study.executors import create_executor
    from sim.experiment.study.progress import StudyView
    from sim.experiment.study.spec import load_study

    executor_options.check(args)
    study = load_study(args.study)
    from sim.experiment.study.cells import expand

    cells = expand(study)  # every cell resolves (combinations too) before an executor starts
    out = check_study_dir(args.out or Path("runs") / study.spec.name)
    _check_cells(str(study.path), args.cache, cells, study.notes)
    console.print(f"skill-sim study · {study.spec.name} · base {study.base_path.name} · "
                  f"axes {', '.join(study.axis_fields) or '(none)'} · {len(study.spec.seeds)} seeds", highlight=False)
    def start() -> Any:  # only when a cell is left to run: a finished study starts no pool or Ray instance
        return create_executor(args.executor, args.workers, args.address)

    with StudyView(console) as view:
        outcome = run_study(study, out, start, cache_dir=args.cache, progress=view)
    if args.json:
        _print_json({"study_dir": str(out), "executed": outcome.executed, "reused": outcome.reused,
                     "failed": [r["name"] for r in outcome.failed], **outcome.summary})
    _print_outcome(Console(stderr=bool(args.json), quiet=args.quiet), outcome.summary, out,
                   executed=outcome.executed, reused=outcome.reused)
    if outcome.failed:
        err = Console(stderr=True)
        err.print(f"[bold red]{len(outcome.failed)} cell(s) failed[/] (recorded in study.csv; rerun to retry them):",
                  highlight=False)
        for r in outcome.failed:
            err.print(f"  {escape(r['name'])} ({r['status']}): {escape(r['message'])}", highlight=False, soft_wrap=True)
    if args.quiet and not args.json:
        sys.stdout.write(f"{out}\n")
    return outcome.exit_code


def report_study(args: argparse.Namespace, console: Console) -> int:
    """`skill-sim report STUDY_DIR`: rewrite study.csv, summary.csv, study.json and the figures."""
    from sim.experiment.study.driver import rerender

    data = rerender(args.run_dir)
    if args.json:
        _print_json({"study_dir": str(args.run_dir), **data})
    _print_outcome(Console(stderr=bool(args.json), quiet=args.quiet), data, Path(args.run_dir))
    return 0


def _print_outcome(console: Console, data: dict[str, Any], out: Path, executed: int | None = None,
                   reused: int | None = None) -> None:
    counts = data.get("counts", {})
    done = f" ({executed} run now, {reused} finished before)" if executed is not None else ""
    console.print(f"[bold]{data['study']['name']}[/]: {sum(counts.values())} cells{done} · "
                  + " · ".join(f"{n} {status}" for status, n in sorted(counts.items())), highlight=False)
    for c in data.get("crossings", []):
        where = ", ".join(f"{k}={v}" for k, v in c.items() if k not in ("line", "efficiency_half_alpha", "interpolated"))
        alpha = c["efficiency_half_alpha"]
        text = f"α ≈ {alpha:.3g} (interpolated in log α)" if alpha else "not crossed on this α grid"
        console.print(f"  efficiency crosses 0.5 · {escape(c['line'])}{' · ' + escape(where) if where else ''}: {text}",
                      highlight=False)
    console.print(f"tables: study.csv, summary.csv · figures: {', '.join(data.get('figures', [])) or 'none'}",
                  highlight=False)
    console.print(f"results in {escape(str(out))}", highlight=False)


def validate_study(args: argparse.Namespace, console: Console) -> int:
    """`skill-sim validate STUDY.yaml`: the checks `study` makes before anything runs (the file, the
    base scenario, every axis value, every cell as `run` checks it); a summary of cells and axes."""
    import yaml

    from sim.experiment.study.cells import expand
    from sim.experiment.study.driver import check_study_dir
    from sim.experiment.study.spec import StudyError, load_study

    if args.overrides or args.seed is not None:
        given = "--set" if args.overrides else "--seed"
        raise StudyError(f"{args.scenario}: {given}: this is a study file, and {given} changes a scenario; a study "
                         "fixes fields under `set:` and lists its seeds under `seeds:` (edit the file, or "
                         "validate its base scenario with --set)")
    study = load_study(args.scenario)
    cells = expand(study)
    if args.out:
        check_study_dir(args.out)
    _check_cells(str(study.path), args.cache, cells, study.notes)
    combos = len(study.points())
    summary = {"study": study.spec.name, "file": str(study.path), "base": str(study.base_path),
               "cells": len(cells), "combinations": combos, "seeds": list(study.spec.seeds),
               "axes": {f: [p[i] for p in d.points] for d in study.dimensions for i, f in enumerate(d.fields)},
               "zip": [list(d.fields) for d in study.dimensions if len(d.fields) > 1]}
    if args.json:
        _print_json(summary)
    elif not args.quiet:  # the verdict on stderr, the summary on stdout (YAML), as for a scenario
        axes = ", ".join(f"{f} ({len(v)})" for f, v in summary["axes"].items()) or "none"
        console.print(f"[green]ok[/]: {escape(str(study.path))} is a valid study: {len(cells)} cells "
                      f"({combos} combination{'s' if combos != 1 else ''} x {len(study.spec.seeds)} "
                      f"seed{'s' if len(study.spec.seeds) != 1 else ''}), axes {escape(axes)}; every cell "
                      "passed the checks `run` makes", highlight=False, soft_wrap=True)
        sys.stdout.write(yaml.safe_dump(summary, sort_keys=False, default_flow_style=None))
    return 0


def _check_cells(source: str, cache: Path | None, cells: list[Any], notes: list[str] | None = None) -> None:
    """The checks `run` makes beyond the schema, on every cell before anything is learned (cells
    that differ only in alpha are checked once: no check reads it); a bad cell stops the study with
    exit 2 naming the study file and the cell, and each distinct warning is printed once."""
    from sim.experiment.checks import check_scenario

    seen: set[str] = set()
    warnings: dict[str, None] = {}
    for cell in cells:
        shape = cell.scenario.model_dump_json(exclude={"alpha"})
        if shape in seen:
            continue
        seen.add(shape)
        where = f"{source} (cell {cell.label})"
        warnings.update(dict.fromkeys(check_scenario(cell.scenario, source=where, cache=cache)))
    for warning in [*(notes or []), *warnings]:
        Console(stderr=True).print(f"[yellow]warning:[/] {escape(warning)}", highlight=False, soft_wrap=True)


def _print_json(data: Any) -> None:
    """Strict JSON on stdout (NaN and inf as null), as the other commands print it."""
    from sim.experiment.results import dumps

    sys.stdout.write(dumps(data) + "\n")
