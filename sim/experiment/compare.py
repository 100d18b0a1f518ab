"""`skill-sim compare`: two or more finished runs or sweeps side by side, as one table of their
metrics, a table of speedup by alpha, JSON, and one figure of their curves (plots/compare.py).

What a folder holds is told by one small detector (`result_kind`) over the marker files in
KINDS; a new kind of result directory (a study's study.csv) joins by adding its marker and a
reader, and until then is refused with a message that says what to pass instead.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from sim.errors import SimError
from sim.experiment import results as files
from sim.experiment.crossing import efficiency_crossing
from sim.experiment.naming import titled

FIGURE = "compare.png"
# (kind, the file that marks it), in the order they are looked for.
KINDS = (("run", files.RESULTS), ("sweep", files.SWEEP_JSON))
# Result folders compare does not read (yet), with what to pass instead.
NOT_READ = {"study.csv": "a study directory; compare reads runs and sweeps: pass two or more of its cells' "
                         "run directories, or sweeps"}
# The scalar metrics of a run, as results.json names them, in table order.
METRICS = ("alpha", "speedup", "efficiency", "makespan_s", "speedup_bound", "alpha_cost", "bytes_sent", "accuracy",
           "tasks_lost", "coverage_final")
USAGE = "e.g. skill-sim compare runs/ring_51 runs/star_51 (the folders run or sweep printed as 'results in DIR')"


@dataclass
class Compared:
    """One folder of a comparison: what it is, its label in tables and legends, and its data."""

    path: Path
    kind: str
    data: dict[str, Any]
    label: str = ""
    notes: list[str] = field(default_factory=list)

    def points(self) -> list[dict[str, Any]]:
        """The (alpha, speedup, efficiency, ...) rows it contributes to curves over alpha."""
        return sorted(self.data["rows"], key=lambda r: r["alpha"]) if self.kind == "sweep" else [self.data]

    def summary(self) -> dict[str, Any]:
        """Plain data for --json: the keys that identify it, its metrics or rows, its crossing."""
        d = self.data
        out = {"dir": str(self.path), "kind": self.kind, "label": self.label, "scenario": d.get("scenario"),
               "overrides": d.get("overrides", []), "topology": d.get("topology"), "agents": d.get("agents"),
               "tasks": d.get("tasks"), "protocol": d.get("protocol"), "seed": d.get("seed")}
        if self.kind == "run":
            out.update({m: d.get(m) for m in METRICS})
            out["survivors"] = sum(bool(p.get("alive")) for p in d.get("per_agent", []))
        else:
            cross = efficiency_crossing(d["rows"])
            out["rows"] = self.points()
            out["efficiency_half_alpha"] = cross.alpha if cross else None
            out["efficiency_half_between"] = [cross.low, cross.high] if cross else None
        return out


def result_kind(folder: Path) -> str:
    """'run' or 'sweep': what the folder holds, by its marker file; SimError saying what to pass
    for a missing path, a file, or a folder of anything else."""
    folder = Path(folder)
    if not folder.exists():
        raise SimError(f"{folder}: no such folder; pass the directory of a finished run or sweep, {USAGE}")
    if not folder.is_dir():
        raise SimError(f"{folder}: is a file, not a folder; pass the directory that holds it, {USAGE}")
    for kind, marker in KINDS:
        if (folder / marker).is_file():
            return kind
    for marker, why in NOT_READ.items():
        if (folder / marker).is_file():
            raise SimError(f"{folder}: holds {marker}, {why}")
    markers = " or ".join(f"{m} (a {k})" for k, m in KINDS)
    raise SimError(f"{folder}: not a skill-sim result directory (no {markers} in it); {USAGE}")


def load(folders: list[Path], note: Callable[[str], None] | None = None) -> list[Compared]:
    """Read every folder (each checked against its manifest) and give each a distinct label."""
    if len(folders) < 2:
        raise SimError(f"compare needs two or more run or sweep directories, got {len(folders)}; {USAGE}")
    seen: dict[Path, Path] = {}
    for folder in folders:
        key = Path(folder).resolve()
        if key in seen:
            raise SimError(f"{folder}: given twice (as {seen[key]}); compare different directories")
        seen[key] = Path(folder)
    compared = [Compared(Path(f), result_kind(Path(f)), {}) for f in folders]
    for c in compared:
        c.data = files.read_results(c.path, note=note)
        c.label = titled(c.data)
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
    their folder name instead, and by the path as given where even those agree."""
    for relabel in (lambda c: f"{c.label} · {c.path.name}", lambda c: str(c.path)):
        labels = [c.label for c in compared]
        for c in compared:
            if labels.count(c.label) > 1:
                c.label = relabel(c)


def print_comparison(console: Console, compared: list[Compared], figure: Path | None) -> None:
    """The metrics side by side (one column per folder, one row per metric), the speedup-by-alpha
    table where sweeps are among them, and where the figure is."""
    t = Table(title="skill-sim compare", title_justify="left")
    t.add_column("", style="bold")
    summaries = [c.summary() for c in compared]
    for c in compared:
        t.add_column(escape(c.label), justify="right")
    for name, cell in _ROWS:
        t.add_row(name, *(cell(s) for s in summaries))
    console.print(t)
    if any(c.kind == "sweep" for c in compared):
        console.print(_by_alpha(compared))
    if figure is not None:
        console.print(f"figure in [bold]{escape(str(figure))}[/]", soft_wrap=True, highlight=False)


def _run_only(fmt: Callable[[Any], str], key: str) -> Callable[[dict[str, Any]], str]:
    """A table cell of a run's metric; a sweep's is in the by-alpha table."""
    return lambda s: fmt(s.get(key)) if s["kind"] == "run" else "by α ↓"


def _alphas(s: dict[str, Any]) -> str:
    if s["kind"] == "run":
        return f"{s['alpha']:g}"
    alphas = [r["alpha"] for r in s["rows"]]
    return f"{min(alphas):g} … {max(alphas):g} ({len(alphas)})"


def _accuracy(s: dict[str, Any]) -> str:
    if s["kind"] == "run":
        return _pct(s.get("accuracy"))
    accuracies = {r.get("accuracy") for r in s["rows"]}  # one bank, one accuracy, unless failures differ
    return _pct(accuracies.pop()) if len(accuracies) == 1 else "by α"


def _crossing(s: dict[str, Any]) -> str:
    if s["kind"] == "run":
        return ""
    cross = efficiency_crossing(s["rows"])
    return cross.describe() if cross else "not within the grid"


def _by_alpha(compared: list[Compared]) -> Table:
    """Speedup (efficiency) at every alpha any of them has: one column per folder."""
    t = Table(title="speedup (efficiency) by α", title_justify="left")
    t.add_column("α", justify="right")
    for c in compared:
        t.add_column(escape(c.label), justify="right")
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
    ("seed", lambda s: str(s["seed"])),
    ("α", _alphas),
    ("speedup", _run_only(lambda x: _num(x, ".2f"), "speedup")),
    ("efficiency", _run_only(lambda x: _num(x, ".3f"), "efficiency")),
    ("makespan s", _run_only(lambda x: _num(x, ",.2f"), "makespan_s")),
    ("free-comm. bound", _run_only(lambda x: _num(x, ".1f"), "speedup_bound")),
    ("alpha cost", _run_only(lambda x: _num(x, ".3e"), "alpha_cost")),
    ("bytes sent", _run_only(lambda x: _num(x, ".3e"), "bytes_sent")),
    ("accuracy", _accuracy),
    ("tasks lost", _run_only(str, "tasks_lost")),
    ("coverage", _run_only(_pct, "coverage_final")),
    ("survivors", _run_only(str, "survivors")),
    ("efficiency 0.5 at α", _crossing),
)
