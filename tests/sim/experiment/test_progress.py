"""The progress view as drawn on a terminal: bar, count and ETA survive 80 columns, the detail is cut
first, and an evaluation with nothing to evaluate shows as done ("reused"), not 0/0 with no ETA."""

import re
from io import StringIO

from rich.console import Console

from sim.experiment.progress import ProgressView

LONG_NAME = "textures/banded-striped-zigzagged-honeycombed"
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def _draw(width: int, events: list[tuple[str, dict]]) -> list[str]:
    """Feed events to a ProgressView on a terminal of `width` columns; the lines of its last frame."""
    buffer = StringIO()
    console = Console(file=buffer, width=width, force_terminal=True, color_system=None)
    with ProgressView(console) as view:
        for name, fields in events:
            view(name, **fields)
    # each redraw returns to column 0 and moves the cursor up over the previous frame: the last
    # frame is what follows the last carriage return, once the escape codes are gone
    frame = ANSI.sub("", buffer.getvalue()).split("\r")[-1]
    return [line for line in frame.splitlines() if line.strip()]


def _learning(total: int, done: int) -> list[tuple[str, dict]]:
    events = [("learning_started", {"total": total, "device": "cpu"})]
    events += [("task_learned", {"task": i, "agent": 17, "name": LONG_NAME, "cached": i < 3, "bytes": 1})
               for i in range(done)]
    return events


def test_learning_at_80_columns_keeps_bar_count_and_eta_and_cuts_the_detail():
    lines = _draw(80, _learning(102, 40))
    line = [x for x in lines if x.startswith("learning (cpu)")][-1]
    assert len(line) <= 80
    assert "━" in line  # the bar
    assert "40/102" in line  # the count
    assert re.search(r"\d+:\d\d:\d\d|-:--:--", line)  # the ETA column
    assert LONG_NAME not in line and line.rstrip().endswith("…")  # the detail, cut with an ellipsis


def test_a_wide_terminal_shows_the_whole_detail():
    line = [x for x in _draw(200, _learning(102, 40)) if x.startswith("learning (cpu)")][-1]
    assert f"3 cached · agent 17: {LONG_NAME}" in line and "40/102" in line


def test_nothing_to_evaluate_shows_as_reused_and_done():
    events = _learning(8, 8) + [("learning_done", {"seconds": 1.0, "cached": 3}),
                                ("simulating", {"alpha": 1e4}), ("simulated", {"seconds": 0.1}),
                                ("evaluating", {"total": 0})]
    lines = _draw(80, events)
    line = [x for x in lines if x.startswith("evaluating")][-1]
    assert "reused" in line and "0:00:00" in line
    assert "0/0" not in line and "-:--:--" not in line
    assert all(len(x) <= 80 for x in lines)


def test_evaluating_banks_counts_them():
    events = _learning(8, 8) + [("evaluating", {"total": 3}), ("evaluated", {"tasks": 8}),
                                ("evaluated", {"tasks": 6})]
    line = [x for x in _draw(80, events) if x.startswith("evaluating")][-1]
    assert "2/3" in line and "bank of 6 tasks" in line


def test_a_lesson_being_learned_is_shown_and_lessons_are_counted():
    """Co-simulation: the lesson in progress shows at once; once simulated, the lessons answered."""
    asked = [("simulating", {"alpha": 1e3}), ("lesson_started", {"agent": 1, "task": 0, "bank": 0}),
             ("lesson_done", {"agent": 1, "task": 0}), ("lesson_started", {"agent": 5, "task": 12, "bank": 14})]
    line = [x for x in _draw(120, asked) if x.startswith("simulating")][-1]
    assert "lesson 2: agent 5 learns task 12 from a bank of 14" in line
    done = asked + [("lesson_done", {"agent": 5, "task": 12}), ("simulated", {"seconds": 0.5})]
    line = [x for x in _draw(120, done) if x.startswith("simulating")][-1]
    assert "0 deliveries · 2 lessons · 0.50 s wall" in line

def test_a_quiet_console_draws_nothing():
    buffer = StringIO()
    with ProgressView(Console(file=buffer, width=80, force_terminal=True, quiet=True)) as view:
        for name, fields in _learning(8, 8):
            view(name, **fields)
    assert buffer.getvalue() == ""
