"""The engine's event loop: the garbage collector's thresholds while a run plays, and after."""

import gc

import pytest

from sim.engine.events import GC_THRESHOLD, CountingEnvironment, call_at


def test_run_all_collects_less_often_while_it_runs_and_restores_the_thresholds():
    before = gc.get_threshold()
    env, seen = CountingEnvironment(), []
    call_at(env, 1.0, lambda _e: seen.append(gc.get_threshold()))
    env.run_all()
    assert seen == [GC_THRESHOLD] and GC_THRESHOLD != before
    assert gc.get_threshold() == before and env.now == 1.0


def test_run_all_restores_the_thresholds_when_a_callback_fails():
    before = gc.get_threshold()
    env = CountingEnvironment()
    call_at(env, 2.0, lambda _e: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        env.run_all()
    assert gc.get_threshold() == before
