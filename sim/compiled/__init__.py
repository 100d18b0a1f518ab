"""Compiled accelerators (numba) of the SimPy engine: loops that give its answer bit for bit where
they apply, behind one interface: `supports(...)` (None, or why not) and `run(LoopInput) ->
LoopOutput`. Importing this package loads no numba; a loop is compiled or loaded on first use."""

from sim.compiled.contract import LoopInput, LoopOutput
from sim.compiled.runner import COMPILED_FROM_PAIRS, loop_input, pick, run, run_compiled, supports

__all__ = ["COMPILED_FROM_PAIRS", "LoopInput", "LoopOutput", "loop_input", "pick", "run", "run_compiled", "supports"]
