"""The study's progress: one bar of cells done / total with the counts of cells finished before and
failed, the last cell as detail, each failed cell printed above the bars."""

import re
from io import StringIO

from rich.console import Console

from sim.experiment.study.progress import StudyView

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def test_study_bar_counts_done_reused_and_failed():
    buffer = StringIO()
    console = Console(file=buffer, width=100, force_terminal=True, color_system=None)
    with StudyView(console) as view:
        view("study_started", total=8, reused=3, executor="local · 2 workers")
        view("learning_started", jobs=2, groups=1)
        view("learning_job_done", tasks=4, fresh=1)
        view("learning_job_done", tasks=4, fresh=0)
        view("cell_done", label="alpha=10 seed=0", status="ok", message="", seconds=1.5)
        view("cell_done", label="alpha=100 seed=0", status="failed", message="boom", seconds=0.2)
    text = ANSI.sub("", buffer.getvalue())
    frame = text.split("\r")[-1]
    study = [line for line in frame.splitlines() if line.startswith("study ")][-1]
    assert "5/8" in study  # 3 finished before + 2 now
    assert "3 reused · 1 failed" in study
    learning = [line for line in frame.splitlines() if line.startswith("learning")][-1]
    assert "2/2" in learning and "8 tasks · 7 cached" in learning
    assert "cell failed (failed): alpha=100 seed=0: boom" in text
    assert "study: 8 cells, 3 finished before · local · 2 workers" in text


def test_quiet_draws_nothing():
    buffer = StringIO()
    with StudyView(Console(file=buffer, quiet=True)) as view:
        view("study_started", total=1, reused=0, executor="local")
        view("cell_done", label="x", status="ok", message="", seconds=0.1)
    assert buffer.getvalue() == ""


def test_a_finished_study_says_every_cell_is_reused_and_nothing_starts():
    buffer = StringIO()
    with StudyView(Console(file=buffer, width=60, force_terminal=True, color_system=None)) as view:
        view("study_started", total=6, reused=6, executor="none")
    text = ANSI.sub("", buffer.getvalue())
    assert "study: all 6 cells finished before (reused): nothing to run, no executor started" in text
    assert "6/6" in text.split("\r")[-1]
