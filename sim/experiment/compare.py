"""`skill-sim compare`: two or more finished runs, sweeps or studies side by side, as one table of
their metrics, a table of speedup by alpha, JSON, and one figure of their curves (plots/compare.py).

What a folder holds is told by one small detector (`result_kind`) over the marker files in
KINDS; each kind has a reader (compare_readers.py) giving the entries it contributes: a run or a
sweep one, a study one per combination of its axes (one curve over alpha per value of the others).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from sim.errors import SimError
from sim.experiment import compare_readers as readers
from sim.experiment import results as files
from sim.experiment.crossing import efficiency_crossing

FIGURE = "compare.png"
# (kind, the files that mark it (any one), its reader), in the order they are looked for.
KINDS = (("run", (files.RESULTS,), readers.read_result), ("sweep", (files.SWEEP_JSON,), readers.read_result),
         ("study", (readers.STUDY_JSON, readers.SUMMARY_CSV, readers.STUDY_CSV), readers.read_study))
# The scalar metrics of a run, as results.json names them, in table order.
METRICS = ("alpha", "speedup", "efficiency", "makespan_s", "speedup_bound", "alpha_cost", "bytes_sent", "accuracy",
           "accuracy_auc", "reuse_tasks", "reuse_epochs_saved", "reuse_macs_saved", "tasks_lost", "coverage_final")
USAGE = ("e.g. skill-sim compare runs/ring_51 runs/star_51 (the folders run, sweep or study printed as "
         "'results in DIR')")


@dataclass
class Compared:
    """One entry of a comparison (a run, a sweep, or one combination of a study's axes): what it is,
    its folder, its label in tables and legends, and its data."""

    path: Path
    kind: str
    data: dict[str, Any]
    label: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def curve(self) -> bool:
        """True for a curve over alpha (a sweep, a study line over its alpha axis), False for a point."""
        return "rows" in self.data

    def points(self) -> list[dict[str, Any]]:
        """The (alpha, speedup, efficiency, ...) rows it contributes to curves over alpha."""
        return sorted(self.data["rows"], key=lambda r: r["alpha"]) if self.curve else [self.data]

    def summary(self) -> dict[str, Any]:
        """Plain data for --json: the keys that identify it, its metrics or rows, its crossing."""
        d = self.data
        out = {"dir": str(self.path), "kind": self.kind, "label": self.label, "scenario": d.get("scenario"),
               "overrides": d.get("overrides", []), "topology": d.get("topology"), "agents": d.get("agents"),
               "tasks": d.get("tasks"), "protocol": d.get("protocol"), "seed": d.get("seed")}
        if self.kind == "study":  # summary.csv's means, seeds pooled
            out.update(study=d["study"], axes=d["axes"], seeds=d["seeds"], seed=None)
        if not self.curve:
            out.update({m: d.get(m) for m in METRICS})
            out["survivors"] = d["survivors"] if self.kind == "study" else sum(
                bool(p.get("alive")) for p in d.get("per_agent", []))
        else:
            cross = efficiency_crossing(d["rows"])
            out["rows"] = self.points()
            out["efficiency_half_alpha"] = cross.alpha if cross else None
            out["efficiency_half_between"] = [cross.low, cross.high] if cross else None
        return out


def result_kind(folder: Path) -> str:
    """'run', 'sweep' or 'study': what the folder holds, by its marker files; SimError saying what
    to pass for a missing path, a file, or a folder of anything else."""
    folder = Path(folder)
    if not folder.exists():
        raise SimError(f"{folder}: no such folder; pass the directory of a finished run, sweep or study, {USAGE}")
    if not folder.is_dir():
        raise SimError(f"{folder}: is a file, not a folder; pass the directory that holds it, {USAGE}")
    for kind, markers, _ in KINDS:
        if any((folder / m).is_file() for m in markers):
            return kind
    markers = " or ".join(f"{ms[0]} (a {k})" for k, ms, _ in KINDS)
    raise SimError(f"{folder}: not a skill-sim result directory (no {markers} in it); {USAGE}")


def load(folders: list[Path], note: Callable[[str], None] | None = None) -> list[Compared]:
    """Read every folder (runs and sweeps checked against their manifest) into its entries, and
    give each entry a distinct label."""
    if len(folders) < 2:
        raise SimError(f"compare needs two or more run, sweep or study directories, got {len(folders)}; {USAGE}")
    seen: dict[Path, Path] = {}
    for folder in folders:
        key = Path(folder).resolve()
        if key in seen:
            raise SimError(f"{folder}: given twice (as {seen[key]}); compare different directories")
        seen[key] = Path(folder)
    kinds = [(Path(f), result_kind(Path(f))) for f in folders]
    read = {kind: reader for kind, _, reader in KINDS}
    compared = [Compared(path, kind, data, label) for path, kind in kinds for label, data in read[kind](path, note)]
    _distinct_labels(compared)
    return compared


def figure_path(out: Path | None) -> Path:
    """Where the figure goes: compare.png in `out` or the working directory; refused early when
    `out` is a file (the folder is made by `make_folder`, once every input has been read)."""
    folder = Path(out) if out is not None else Path(".")
    if folder.exists() and not folder.is_dir():
        raise SimError(f"--out {folder}: is a file, not a folder; pass a folder for {FIGURE}")
    return folder / FIGURE


def make_folder(figure: Path) -> None:
    """Make the figure's folder if missing; SimError naming it when that cannot be done."""
    try:
        figure.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SimError(f"--out {figure.parent}: cannot make this folder ({exc.strerror}); pass another") from None


def _distinct_labels(compared: list[Compared]) -> None:
    """Where two folders carry the same label (the same scenario, no overrides), label them by
    their folder names, keeping of a study cell's `field=value__...` name the parts that differ
    (the rest would push them out of a narrow column), and by the path as given where even those agree."""
    _relabel(compared, lambda c, twins: f"{c.label} · {_differing(c.path.name, [t.path.name for t in twins])}")
    _relabel(compared, lambda c, twins: str(c.path))


def _relabel(compared: list[Compared], relabel: Callable[[Compared, list[Compared]], str]) -> None:
    """Give every entry whose label another entry shares the label `relabel(entry, entries sharing it)`."""
    labels = [c.label for c in compared]
    twins = {label: [c for c in compared if c.label == label] for label in labels if labels.count(label) > 1}
    new = {id(c): relabel(c, group) for group in twins.values() for c in group}
    for c in compared:
        c.label = new.get(id(c), c.label)


def _differing(name: str, names: list[str]) -> str:
    """The `__`-separated parts of folder `name` that not every one of `names` has; the whole name
    where none differ."""
    common = set.intersection(*(set(n.split("__")) for n in names))
    return " · ".join(p for p in name.split("__") if p not in common) or name


def print_comparison(console: Console, compared: list[Compared], figure: Path | None) -> None:
    """The metrics side by side (one column per folder, one row per metric), the speedup-by-alpha
    table where curves (sweeps, studies over alpha) are among them, and where the figure is."""
    t = Table(title="skill-sim compare", title_justify="left")
    t.add_column("", style="bold")
    summaries = [c.summary() for c in compared]
    for c in compared:
        t.add_column(escape(c.label), justify="right", overflow="fold")  # a label shown whole
    for name, cell in _ROWS:
        t.add_row(name, *(cell(s) for s in summaries))
    console.print(t)
    if any(c.curve for c in compared):
        console.print(_by_alpha(compared))
    if figure is not None:
        console.print(f"figure in [bold]{escape(str(figure))}[/]", soft_wrap=True, highlight=False)


def _run_only(fmt: Callable[[Any], str], key: str) -> Callable[[dict[str, Any]], str]:
    """A table cell of a point's metric; a curve's is in the by-alpha table."""
    return lambda s: fmt(s.get(key)) if "rows" not in s else "by α ↓"


def _over_alpha(fmt: Callable[[Any], str], key: str) -> Callable[[dict[str, Any]], str]:
    """A table cell of a point's metric; for a curve, its one value or its range over the alphas."""
    def cell(s: dict[str, Any]) -> str:
        if "rows" not in s:
            return fmt(s.get(key))
        values = [r.get(key) for r in s["rows"] if r.get(key) is not None]
        if not values:
            return fmt(None)
        low, high = min(values), max(values)
        return fmt(low) if low == high else f"{fmt(low)} … {fmt(high)}"
    return cell


def _seed(s: dict[str, Any]) -> str:
    """A run's seed; for a study, how many seeds each of its means pools."""
    if s["kind"] != "study":
        return str(s["seed"])
    return f"mean of {'/'.join(str(n) for n in s['seeds'])} seed{'' if s['seeds'] == [1] else 's'}"


def _alphas(s: dict[str, Any]) -> str:
    if "rows" not in s:
        return f"{s['alpha']:g}"
    alphas = [r["alpha"] for r in s["rows"]]
    return f"{min(alphas):g} … {max(alphas):g} ({len(alphas)})"


def _accuracy(s: dict[str, Any]) -> str:
    if "rows" not in s:
        return _pct(s.get("accuracy"))
    accuracies = {r.get("accuracy") for r in s["rows"]}  # one bank, one accuracy, unless failures differ
    return _pct(accuracies.pop()) if len(accuracies) == 1 else "by α"


def _crossing(s: dict[str, Any]) -> str:
    if "rows" not in s:
        return ""
    cross = efficiency_crossing(s["rows"])
    return cross.describe() if cross else "not within the grid"


def _by_alpha(compared: list[Compared]) -> Table:
    """Speedup (efficiency) at every alpha any of them has: one column per folder."""
    t = Table(title="speedup (efficiency) by α", title_justify="left")
    t.add_column("α", justify="right")
    for c in compared:
        t.add_column(escape(c.label), justify="right", overflow="fold")  # a label shown whole
    at = [{r["alpha"]: r for r in c.points()} for c in compared]
    for alpha in sorted({a for rows in at for a in rows}):
        cells = []
        for rows in at:
            r = rows.get(alpha)
            cells.append("" if r is None else f"{_num(r.get('speedup'), '.2f')} ({_num(r.get('efficiency'), '.3f')})")
        t.add_row(f"{alpha:g}", *cells)
    return t


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{100 * x:.1f} %"


def _num(x: float | None, fmt: str) -> str:
    return "—" if x is None else format(x, fmt)


_ROWS: tuple[tuple[str, Callable[[dict[str, Any]], str]], ...] = (
    ("kind", lambda s: s["kind"]),
    ("topology", lambda s: str(s["topology"])),
    ("agents / tasks", lambda s: f"{s['agents']} / {s['tasks']}"),
    ("protocol", lambda s: str(s["protocol"])),
    ("seed", _seed),
    ("α", _alphas),
    ("speedup", _run_only(lambda x: _num(x, ".2f"), "speedup")),
    ("efficiency", _run_only(lambda x: _num(x, ".3f"), "efficiency")),
    ("makespan s", _over_alpha(lambda x: _num(x, ",.2f"), "makespan_s")),
    ("free-comm. bound", _over_alpha(lambda x: _num(x, ".1f"), "speedup_bound")),
    ("alpha cost", _over_alpha(lambda x: _num(x, ".3e"), "alpha_cost")),
    ("bytes sent", _over_alpha(lambda x: _num(x, ".3e"), "bytes_sent")),
    ("accuracy", _accuracy),
    ("accuracy AUC", _over_alpha(lambda x: _num(x, ".3f"), "accuracy_auc")),
    ("tasks reused", _over_alpha(lambda x: _num(x, ",.0f"), "reuse_tasks")),  # — with reuse off
    ("head epochs saved", _over_alpha(lambda x: _num(x, ",.0f"), "reuse_epochs_saved")),
    ("MACs saved (reuse)", _over_alpha(lambda x: _num(x, ".3e"), "reuse_macs_saved")),
    ("tasks lost", _over_alpha(lambda x: _num(x, "g"), "tasks_lost")),
    ("coverage", _over_alpha(_pct, "coverage_final")),
    ("survivors", _over_alpha(lambda x: _num(x, "g"), "survivors")),
    ("efficiency 0.5 at α", _crossing),
)
