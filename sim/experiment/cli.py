"""The `skill-sim` command line: run, sweep, study, curves, validate, report,
compare and list. Only this
module prints (through the print_* functions of report and compare, to the console it hands them).

Exit codes: 0 success, 2 bad input (scenario, data, topology), 1 any other failure.
`cache info | prune` lives in sim/experiment/cache_command.py.
Streams: what a command answers (the summary, "results in DIR", listings, --json) goes to stdout;
progress, warnings and errors to stderr, so `skill-sim run X > log` keeps the summary in the log.
Start-up stays light: torch, timm, scikit-learn, numba, matplotlib and SimPy are imported only by
the commands that use them (run, sweep and curves; report draws with matplotlib), never at module level.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import sys
from pathlib import Path
from typing import Any, Sequence

from rich.console import Console
from rich.markup import escape

from agents.errors import LearningError
from sim.errors import SimError
from sim.experiment import executor_options
from sim.experiment.cli_options import _alpha_list, _alpha_one, _folder, add_common
from topologies.errors import TopologyError

USER_ERRORS = (LearningError, SimError, TopologyError)
DEFAULT_SWEEP = (10.0, 100.0, 1e3, 1e4, 1e5, 1e6, 1e7)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `skill-sim` console script."""
    parser = _parser()
    args = parser.parse_args(argv)
    console = Console(stderr=True, quiet=getattr(args, "quiet", False))  # progress and warnings
    try:
        return args.func(args, console)
    except USER_ERRORS as exc:
        Console(stderr=True).print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
        return 2
    except KeyboardInterrupt:
        Console(stderr=True).print("[yellow]interrupted[/]: finished learning stays cached; rerun to resume")
        return 130
    except Exception as exc:  # noqa: BLE001 - the last line of defence: no bare traceback
        if getattr(args, "debug", False):
            raise
        Console(stderr=True).print(
            f"[bold red]failed:[/] {type(exc).__name__}: {escape(str(exc))}\n(rerun with --debug for the traceback)",
            highlight=False,
            soft_wrap=True,
        )
        return 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="skill-sim",
        description="Simulate Shared Knowledge Lifelong Learning: real agents, modelled network.",
    )
    parser.add_argument("--version", action="version", version=f"skill-sim {_version()}")
    sub = parser.add_subparsers(dest="command", required=True)

    common = add_common

    run = sub.add_parser("run", help="run one scenario: learn, simulate, evaluate, report")
    common(run)
    run.add_argument("--out", type=_folder, help="run directory (default: the scenario's output.dir or runs/NAME)")
    run.add_argument("--alpha", type=_alpha_one, help="MACs per byte (overrides the scenario's alpha)")
    run.add_argument("--cache", type=_folder, help="cache folder (default: $SKILL_SIM_CACHE or ~/.cache/skill-sim)")
    executor_options.add_options(run, inline=True)
    run.set_defaults(func=_cmd_run)

    sweep = sub.add_parser("sweep", help="repeat the simulation over alpha values, reusing learning")
    common(sweep)
    sweep.add_argument("--out", type=_folder, help="sweep directory (default: runs/NAME-sweep)")
    sweep.add_argument("--alpha", type=_alpha_list, help="comma-separated alphas, e.g. 10,100,1e3,1e4")
    sweep.add_argument("--cache", type=_folder, help="cache folder (default: $SKILL_SIM_CACHE or ~/.cache/skill-sim)")
    executor_options.add_options(sweep, inline=True)
    sweep.set_defaults(func=_cmd_sweep)

    curves = sub.add_parser("curves", help="one agent learns the tasks in order: accuracy after each (the paper's Figs 4-8)")
    common(curves)
    curves.add_argument("--out", type=_folder, help="output folder (default: runs/NAME-curves)")
    curves.add_argument("--cache", type=_folder, help="cache folder (default: $SKILL_SIM_CACHE or ~/.cache/skill-sim)")
    curves.set_defaults(func=_cmd_curves)

    validate = sub.add_parser("validate", help="check a scenario file and print it with every default, or check a "
                                               "study file (every cell, as `study` does) and print its cells and axes")
    common(validate)
    validate.add_argument("--out", type=_folder, help="check this run directory as `run --out` would")
    validate.add_argument("--cache", type=_folder, help="check this cache folder as `run --cache` would")
    validate.set_defaults(func=_cmd_validate)

    report = sub.add_parser("report", help="re-render the summary and plots of a finished run, sweep or study")
    report.add_argument("run_dir", type=Path, metavar="DIR", help="a run, sweep or study directory")
    report.add_argument("--y-scale", choices=("auto", "log", "linear"), default="auto",
                        help="speedup axis of a sweep's plot (auto: log when speedups span a wide range)")
    common(report, scenario=False)
    report.set_defaults(func=_cmd_report)

    compare = sub.add_parser("compare", help="put two or more finished runs, sweeps or studies side by side")
    compare.add_argument("dirs", type=Path, nargs="+", metavar="DIR", help="run, sweep or study directories (two or more)")
    compare.add_argument("--out", type=_folder, help="folder for compare.png (default: the current directory)")
    common(compare, scenario=False)
    compare.set_defaults(func=_cmd_compare)

    from sim.experiment.study.command import add_parser as add_study

    add_study(sub, common, _folder)

    listing = sub.add_parser("list", help="list topologies, protocols, suites, backbones, scenarios or studies")
    listing.add_argument("what", choices=["topologies", "protocols", "suites", "backbones", "scenarios", "studies"])
    listing.add_argument("--all", action="store_true", help="backbones: every timm model name, not only the offline ones")
    common(listing, scenario=False)
    listing.set_defaults(func=_cmd_list)

    from sim.experiment import cache_command  # light: no torch (cache info | prune)

    cache_command.add_parser(sub, common, _folder)
    return parser


def _version() -> str:
    """The installed skill-sim version (from its package metadata)."""
    try:
        return importlib.metadata.version("skill-sim")
    except importlib.metadata.PackageNotFoundError:  # run from a checkout that is not installed
        return "unknown (not installed: pip install -e .)"


def _answer(args: argparse.Namespace) -> Console:
    """Where a command's human answer goes: stdout; stderr when --json keeps stdout for JSON; nowhere when --quiet."""
    return Console(stderr=bool(args.json), quiet=args.quiet)


def _print_json(data: Any) -> None:
    """Strict JSON on stdout (NaN and inf as null), as plain text (rich would wrap long lines)."""
    from sim.experiment.results import dumps

    sys.stdout.write(dumps(data) + "\n")


def _print_run_dir(args: argparse.Namespace, out: Path) -> None:
    """With --quiet, the run directory is still said on stdout (one line), unless --json carried it."""
    if args.quiet and not args.json:
        sys.stdout.write(f"{out}\n")


def _load(args: argparse.Namespace):
    """The scenario the command names, with --set / --seed / --alpha applied; args.source becomes
    its resolved file path, the one prefix of every message about it, and args.applied the
    overrides as `key=value` (recorded in results.json, named in titles and the run's folder)."""
    from sim.experiment.loading import load_scenario, resolve_scenario_path
    from sim.experiment.naming import number

    from sim.experiment.study.spec import is_study_file

    if is_study_file(args.scenario):
        raise SimError(f"{args.scenario}: a study file (base, axes, seeds), not a scenario; run it with `skill-sim "
                       f"study {args.scenario}`, or check it with `skill-sim validate {args.scenario}`")
    args.source = str(resolve_scenario_path(args.scenario))

    overrides = list(args.overrides)
    if args.seed is not None:
        overrides.append(f"seed={args.seed}")
    if getattr(args, "alpha", None) is not None and not isinstance(args.alpha, list):
        overrides.append(f"alpha={number(args.alpha)}")
    args.applied = overrides
    args.load_notes = []  # fields a `kind` override dropped: warned about with the checks' warnings
    return load_scenario(args.scenario, overrides, notes=args.load_notes)


def _starting(console: Console, scenario: Any, args: argparse.Namespace, out: Path) -> None:
    """The first line of a run, printed before torch and the engines load (several seconds); where
    overrides chose the folder, a second line says which."""
    from sim.experiment.naming import titled

    title = titled({"scenario": scenario.name, "overrides": args.applied})
    doing = "loading the data and the backbone…" if scenario.workload is None else \
        f"{scenario.workload.kind} workload: costs given, nothing to learn"
    console.print(f"skill-sim · {title} · {scenario.agents.count} agents · {doing}", highlight=False)
    if args.derived_out:
        console.print(f"overrides without --out: writing [bold]{escape(str(out))}[/], not the scenario's own folder",
                      highlight=False, soft_wrap=True)


def _run_dir(args: argparse.Namespace, scenario: Any, sweep: bool = False) -> Path:
    """Where run (or sweep) writes: --out (or --set output.dir) as given; else output.dir (run
    only) or runs/NAME(-sweep), with the overrides in the folder's name (runs/ring_51+seed=3), so a
    variant never replaces the run of the file itself (args.derived_out says it did so)."""
    from sim.experiment.naming import number, override_suffix

    args.derived_out = False
    if args.out:
        return args.out
    if any(o.partition("=")[0].strip() == "output.dir" for o in args.overrides) and scenario.output.dir:
        return scenario.output.dir
    named = list(args.applied)
    if sweep and args.alpha:  # a sweep's own grid (not an override) names it too: 10,100,1e3 is not 10,1e3
        named.append("alpha=" + ",".join(number(a) for a in args.alpha))
    suffix = override_suffix(named)
    args.derived_out = bool(suffix)
    if sweep:
        return Path("runs") / f"{scenario.name}{suffix}-sweep"
    base = scenario.output.dir or Path("runs") / scenario.name
    if suffix and base.name in ("", ".", ".."):  # output.dir: . names no folder to suffix; its real name does
        base = base.resolve()
    if suffix and not base.name:  # the root folder: a run folder inside it
        return base / f"{scenario.name}{suffix}"
    return base.with_name(base.name + suffix) if suffix else base


def _check(args: argparse.Namespace, scenario: Any, out: Path, warn_alpha: bool = False) -> None:
    """The checks `validate`, `run` and `sweep` share, before any learning; warnings on stderr,
    even under --quiet (which hides only progress and the summary)."""
    from sim.experiment.checks import check_scenario

    warnings = [*args.load_notes, *check_scenario(scenario, source=args.source, out=out, cache=args.cache)]
    if warn_alpha and len(scenario.alphas) > 1:
        warnings.append(f"alpha is a list: run uses the first, {scenario.alphas[0]:g}; sweep runs every value")
    for warning in warnings:
        Console(stderr=True).print(f"[yellow]warning:[/] {escape(warning)}", highlight=False, soft_wrap=True)


def _cmd_run(args: argparse.Namespace, console: Console) -> int:
    executor_options.check(args)
    scenario = _load(args)
    out = _run_dir(args, scenario)
    _check(args, scenario, out, warn_alpha=args.alpha is None)  # before the learning side is even imported
    _starting(console, scenario, args, out)
    from sim.experiment import report, rundir, runner
    from sim.experiment.progress import ProgressView

    with ProgressView(console) as view:
        with executor_options.learning_executor(args, scenario.learner.device) as executor:  # closed once learned
            prepared = runner.prepare(scenario, cache_dir=args.cache, progress=view, executor=executor)
        results, raw = runner.run_alpha(prepared, scenario.alphas[0], progress=view)
    results = report.save_run(out, prepared, results, raw, overrides=args.applied)
    if args.json:
        _print_json({"run_dir": str(out), **results})
    report.print_summary(_answer(args), results, out)
    _print_run_dir(args, out)
    return 0


def _cmd_sweep(args: argparse.Namespace, console: Console) -> int:
    executor_options.check(args)
    scenario = _load(args)
    alphas = args.alpha or (scenario.alphas if len(scenario.alphas) > 1 else list(DEFAULT_SWEEP))
    out = _run_dir(args, scenario, sweep=True)
    _check(args, scenario, out)
    _starting(console, scenario, args, out)
    from sim.experiment import report, rundir, runner
    from sim.experiment.progress import ProgressView

    rows = []
    with ProgressView(console) as view, rundir.staged(out) as stage:  # swapped in once every alpha is saved
        with executor_options.learning_executor(args, scenario.learner.device) as executor:
            prepared = runner.prepare(scenario, cache_dir=args.cache, progress=view, executor=executor)
        for alpha in alphas:
            results, raw = runner.run_alpha(prepared, alpha, progress=view)
            rows.append(report.save_run(stage / f"alpha-{alpha:g}", prepared, results, raw, plots=False,
                                        overrides=args.applied))
        sweep = report.save_sweep(stage, scenario, rows, overrides=args.applied)
    if args.json:
        _print_json({"run_dir": str(out), **sweep})
    report.print_sweep(_answer(args), sweep, out)
    _print_run_dir(args, out)
    return 0


def _cmd_curves(args: argparse.Namespace, console: Console) -> int:
    scenario = _load(args)
    from sim.experiment.naming import override_suffix

    args.derived_out = not args.out and bool(override_suffix(args.applied))  # a variant keeps its own folder
    out = args.out or Path("runs") / f"{scenario.name}{override_suffix(args.applied)}-curves"
    _check(args, scenario, out)
    _starting(console, scenario, args, out)
    from sim.experiment import curves, rundir
    from sim.experiment.progress import ProgressView

    with ProgressView(console) as view, rundir.staged(out) as stage:
        data = curves.compute(scenario, cache_dir=args.cache, progress=view)
        curves.save(stage, data)
    if args.json:
        _print_json({"run_dir": str(out), **data})
    _answer(args).print(f"{escape(curves.summary(data))}\nresults in {escape(str(out))}", highlight=False)
    _print_run_dir(args, out)
    return 0


def _cmd_validate(args: argparse.Namespace, console: Console) -> int:
    import yaml

    from sim.experiment.study.spec import is_study_file

    if is_study_file(args.scenario):
        from sim.experiment.study.command import validate_study

        return validate_study(args, console)
    scenario = _load(args)
    _check(args, scenario, _run_dir(args, scenario))  # the very checks `run` makes
    resolved = scenario.resolved()
    if args.json:
        _print_json(resolved)
    elif not args.quiet:  # the resolved scenario on stdout (valid YAML to save), the verdict on stderr
        console.print(f"[green]ok[/]: {escape(args.source)} is a valid scenario", highlight=False)
        sys.stdout.write(yaml.safe_dump(resolved, sort_keys=False))
    return 0


def _cmd_report(args: argparse.Namespace, console: Console) -> int:
    from sim.experiment import report
    from sim.experiment.results import read_results

    def note(text: str) -> None:
        console.print(f"[yellow]note[/]: {escape(text)}", soft_wrap=True, highlight=False)

    if (args.run_dir / "study.json").is_file():
        from sim.experiment.study.command import report_study

        return report_study(args, console)
    data = read_results(args.run_dir, note=note)
    if args.json:
        _print_json({"run_dir": str(args.run_dir), **data})
    # The summary first: it needs no plotting library; the plots are redrawn after it.
    if "rows" in data:
        report.print_sweep(_answer(args), data, args.run_dir)
    else:
        report.print_summary(_answer(args), data, args.run_dir)
    for note in report.render(args.run_dir, data, y_scale=args.y_scale):
        console.print(f"[dim]note:[/] {escape(note)}", highlight=False)
    return 0


def _cmd_compare(args: argparse.Namespace, console: Console) -> int:
    from sim.experiment import compare
    from sim.experiment.plots import compare as figure

    def note(text: str) -> None:
        console.print(f"[yellow]note[/]: {escape(text)}", soft_wrap=True, highlight=False)

    path = compare.figure_path(args.out)  # refused before anything is read
    compared = compare.load(args.dirs, note=note)
    compare.make_folder(path)
    for text in figure.draw(path, compared):
        note(text)
    if args.json:
        _print_json({"figure": str(path), "compared": [c.summary() for c in compared]})
    compare.print_comparison(_answer(args), compared, path)
    _print_run_dir(args, path)  # with --quiet, still where the figure is
    return 0


def _cmd_list(args: argparse.Namespace, console: Console) -> int:
    from sim.experiment import report

    from sim.experiment.listing import listing

    items = listing(args.what, every=args.all)
    if args.json:
        _print_json(items)
    else:
        note = "every timm model name: skill-sim list backbones --all" if args.what == "backbones" and not args.all else None
        report.print_listing(Console(quiet=args.quiet), args.what, items, note=note)
    return 0


if __name__ == "__main__":
    sys.exit(main())
