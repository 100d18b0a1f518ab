"""What a study's worker process does: learning jobs and cells, plain data in and out, so that any
executor (process pool, Ray) can run them. A worker builds each task suite and backbone once and
serves many jobs with them; torch is imported on its first job, not per cell."""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterator, MutableMapping

from agents.errors import LearningError
from sim.errors import SimError
from sim.experiment.learn_jobs import LearnJob, LearnOutput, learning_group  # noqa: F401  (executors' job types)
from topologies.errors import TopologyError

USER_ERRORS = (LearningError, SimError, TopologyError)


@dataclass(frozen=True)
class CellJob:
    """Run one cell: its resolved scenario (JSON), where the shared learning and evaluations live."""

    name: str
    key: str
    group: str
    scenario: dict[str, Any]
    cache_dir: str | None
    evaluations_dir: str  # evaluations shared by cells with identical final banks
    entries: list[tuple[str, Any]] | None = None  # learned results to install first (no shared filesystem)


@dataclass
class CellOutput:
    """A finished cell: status ("ok", "failed", "bad-input"), results, the run directory's files, timings."""

    name: str
    key: str
    status: str
    message: str = ""
    results: dict[str, Any] | None = None
    files: dict[str, bytes] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)


class Workshop:
    """A worker's reusable parts: task suites and backbones by their settings (built once per process)."""

    def __init__(self, threads: int = 1) -> None:
        from agents.device import limit_threads

        limit_threads(threads)
        self._suites: dict[str, Any] = {}
        self._backbones: dict[str, Any] = {}
        self._installed: set[tuple[str, str | None]] = set()  # (group, cache) whose shipped results are in

    def suite(self, tasks: Any) -> Any:
        """The task suite of a `tasks` section, built on first use."""
        from agents.suites import create_suite

        key = json.dumps(tasks.model_dump(mode="json"), sort_keys=True)
        if key not in self._suites:
            self._suites[key] = create_suite(tasks)
        return self._suites[key]

    def backbone(self, learner: Any, device: str | None = None) -> Any:
        """The backbone of a `learner` section on its device (or `device`, an executor's choice), built
        on first use."""
        from agents.backbone import create_backbone
        from agents.device import best_device

        device = device or learner.device
        key = json.dumps([learner.backbone.model_dump(mode="json"), device], sort_keys=True)
        if key not in self._backbones:
            self._backbones[key] = create_backbone(learner.backbone, device=best_device(device))
        return self._backbones[key]

    def learn(self, job: LearnJob) -> LearnOutput:
        """Learn the job's share of its group's tasks into the cache (sim.experiment.learned.learn_job)."""
        from agents.config import LearnerConfig, SuiteConfig
        from sim.experiment.learned import learn_job

        learner = LearnerConfig.model_validate(job.learner)
        return learn_job(job, self.suite(SuiteConfig.model_validate(job.tasks)), self.backbone(learner, job.device))

    def installed(self, group: str, cache_dir: str | None) -> bool:
        """Whether this process has installed `group`'s shipped results into `cache_dir` already."""
        return (group, cache_dir) in self._installed

    def install(self, group: str, cache_dir: str | None, entries: list[tuple[str, Any]]) -> None:
        """Write a group's shipped results (cache key, result) that this node's cache lacks, once per process."""
        if self.installed(group, cache_dir):
            return
        from agents.features import FeatureCache
        from agents.learner import ResultStore

        store = ResultStore(FeatureCache(Path(cache_dir) if cache_dir else None).root / "results")
        for key, result in entries:
            if store.get_key(key) is None:
                store.put_key(key, result)
        self._installed.add((group, cache_dir))

    def run_cell(self, job: CellJob) -> CellOutput:
        """Prepare (every task a cache hit), simulate, evaluate and save one cell; never raises."""
        try:
            return self._run_cell(job)
        except USER_ERRORS as exc:
            return CellOutput(job.name, job.key, "bad-input", f"{type(exc).__name__}: {exc}")
        except Exception as exc:  # noqa: BLE001 - a failed cell is recorded; the study goes on
            return CellOutput(job.name, job.key, "failed", f"{type(exc).__name__}: {exc}")

    def _run_cell(self, job: CellJob) -> CellOutput:
        from sim.experiment import report, runner
        from sim.experiment.scenario import Scenario
        from sim.experiment.study.evaluations import EvaluationStore

        marks = {"start": time.perf_counter()}
        scenario = Scenario.model_validate(job.scenario)
        cache_dir = Path(job.cache_dir) if job.cache_dir else None
        if job.entries:  # install learned results this node's cache lacks
            self.install(job.group, job.cache_dir, job.entries)
        evaluations = EvaluationStore(Path(job.evaluations_dir) / job.group)
        learns = scenario.workload is None  # a synthetic workload has no suite or backbone
        prepared = runner.prepare(scenario, cache_dir=cache_dir, evaluations=evaluations,
                                  suite=self.suite(scenario.tasks) if learns else None,
                                  backbone=self.backbone(scenario.learner) if learns else None)
        marks["resolved"] = time.perf_counter()

        def observe(name: str, /, **fields: Any) -> None:
            if name == "evaluating":
                marks["evaluating"] = time.perf_counter()

        results, raw = runner.run_alpha(prepared, scenario.alphas[0], progress=observe)
        marks["evaluated"] = time.perf_counter()
        with tempfile.TemporaryDirectory(prefix="skill-sim-cell-") as tmp:
            saved = report.save_run(Path(tmp) / "run", prepared, results, raw, plots=False)
            files = dict(_read_tree(Path(tmp) / "run"))
        marks["written"] = time.perf_counter()
        timings = {
            "resolution_s": marks["resolved"] - marks["start"],
            "simulation_s": marks.get("evaluating", marks["evaluated"]) - marks["resolved"],
            "evaluation_s": marks["evaluated"] - marks.get("evaluating", marks["evaluated"]),
            "writing_s": marks["written"] - marks["evaluated"],
            "fresh_evaluations": evaluations.computed,
        }
        return CellOutput(job.name, job.key, "ok", results=saved, files=files, timings=timings)


def _read_tree(root: Path) -> Iterator[tuple[str, bytes]]:
    for path in sorted(root.rglob("*")):
        if path.is_file():
            yield path.relative_to(root).as_posix(), path.read_bytes()


def install_tree(files: dict[str, bytes], stage: Path) -> None:
    """Write a cell's files (from `run_cell`) into a staged run directory."""
    for rel, data in files.items():
        target = stage / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)


# One workshop per worker process, made on its first job (a process pool or Ray worker serves many).
_WORKSHOP: Workshop | None = None


def workshop(threads: int = 1) -> Workshop:
    """This process's workshop."""
    global _WORKSHOP
    if _WORKSHOP is None:
        _WORKSHOP = Workshop(threads)
    return _WORKSHOP


def learn(job: LearnJob, threads: int = 1) -> LearnOutput:
    """Entry point of a learning job in a worker process."""
    return workshop(threads).learn(job)


def run_cell(job: CellJob, threads: int = 1) -> CellOutput:
    """Entry point of a cell in a worker process."""
    return workshop(threads).run_cell(job)


def as_dict(output: Any) -> dict[str, Any]:
    """A job output as a plain dict (for logs and tests)."""
    return asdict(output)
