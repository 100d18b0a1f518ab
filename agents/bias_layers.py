"""Which layers of a backbone get beneficial biases: `bb.layers` (all, last_half, fnmatch patterns) and
`bb.skip_redundant` (leave out biases that the next layer absorbs exactly).

A bias b added to the output of layer A that feeds only a 1x1 convolution (or linear layer) B, with
nothing in between, reaches B's output as W_B b: a constant per output channel, which is exactly what
B's own bias adds. So A's bias adds nothing that B's cannot learn, and can be dropped. Whether
"nothing in between" holds is observed, not assumed from the architecture: one probe forward pass
records every torch operation that reads A's output; A is redundant when the only one runs inside B.
"""

from __future__ import annotations

import difflib
import fnmatch
from typing import Any

import torch
from torch import nn
from torch.overrides import TorchFunctionMode
from torch.utils._pytree import tree_flatten

from agents.errors import LearningError

ALL, LAST_HALF = "all", "last_half"


def biasable(module: nn.Module) -> bool:
    """Whether BB puts biases on this module: every nn.Conv2d and nn.Linear (subclasses included)."""
    return isinstance(module, (nn.Conv2d, nn.Linear))


def biasable_names(model: nn.Module) -> list[str]:
    """Names of the model's Conv2d / Linear modules, in the order the model registers them."""
    return [name for name, module in model.named_modules() if biasable(module)]


def select_layers(model: nn.Module, layers: str) -> list[str]:
    """The layers `layers` names: "all", "last_half" (the later half, rounding up) or comma-separated
    fnmatch patterns over module names; LearningError for a pattern that matches no layer."""
    names = biasable_names(model)
    if layers == ALL:
        return names
    if layers == LAST_HALF:
        return names[len(names) // 2:]
    patterns = [p.strip() for p in layers.split(",") if p.strip()]
    middle = names[len(names) // 2] if names else ""
    example = middle.rsplit(".", 1)[0] + ".*" if "." in middle else middle
    for pattern in patterns:
        if not any(fnmatch.fnmatchcase(name, pattern) for name in names):
            near = difflib.get_close_matches(pattern, names, n=3, cutoff=0.5)
            hint = f"; close: {', '.join(map(repr, near))}" if near else ""
            raise LearningError(
                f"learner.bb.layers = {layers!r}: pattern {pattern!r} matches no Conv2d / Linear layer of "
                f"{type(model).__name__} ({len(names)} layers: {', '.join(map(repr, names[:4]))}, ..., "
                f"{names[-1]!r}){hint}; allowed: 'all', 'last_half' or comma-separated fnmatch patterns "
                f"over those names (e.g. {example!r})"
            )
    if not patterns:
        raise LearningError(f"learner.bb.layers = {layers!r}: names no pattern; allowed: 'all', 'last_half' "
                            f"or comma-separated fnmatch patterns over module names")
    return [name for name in names if any(fnmatch.fnmatchcase(name, p) for p in patterns)]


def _absorbs(module: nn.Module) -> bool:
    """A layer that maps a per-channel constant on its input to a per-channel constant on its output,
    everywhere: a linear layer, or a 1x1 convolution without padding (padding would zero the edges)."""
    if isinstance(module, nn.Linear):
        return True
    return isinstance(module, nn.Conv2d) and tuple(module.kernel_size) == (1, 1) \
        and tuple(module.padding) == (0, 0) and module.padding_mode == "zeros"


class _Readers(TorchFunctionMode):
    """Records, for every torch operation run, which tensors it read and inside which layer it ran."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.reads: list[tuple[list[int], str | None]] = []

    def __torch_function__(self, func: Any, types: Any, args: tuple = (), kwargs: dict | None = None) -> Any:
        kwargs = kwargs or {}
        if getattr(func, "__name__", "") not in ("__get__", "size", "dim"):  # metadata, not values
            leaves, _ = tree_flatten((args, kwargs))
            read = [id(x) for x in leaves if isinstance(x, torch.Tensor)]
            self.reads.append((read, self.stack[-1] if self.stack else None))
        return func(*args, **kwargs)


def redundant_layers(model: nn.Module, selected: list[str], example: torch.Tensor) -> set[str]:
    """The selected layers whose biases a following selected layer absorbs exactly (see the module doc),
    found by running `model` once on `example` (one preprocessed input is enough)."""
    modules = dict(model.named_modules())
    chosen = set(selected)
    outputs: dict[str, torch.Tensor] = {}
    born: dict[str, int] = {}  # how many reads had been recorded when the output was made
    calls: dict[str, int] = {}
    mode = _Readers()
    handles = []
    for name in selected:
        module = modules[name]

        def enter(_m: nn.Module, _inputs: tuple, name: str = name) -> None:
            mode.stack.append(name)

        def leave(_m: nn.Module, _inputs: tuple, output: torch.Tensor, name: str = name) -> None:
            mode.stack.pop()
            outputs[name] = output  # kept alive so that no later tensor reuses its id
            born[name] = len(mode.reads)
            calls[name] = calls.get(name, 0) + 1

        handles.append(module.register_forward_pre_hook(enter))
        handles.append(module.register_forward_hook(leave))
    try:
        with torch.no_grad(), mode:
            model(example)
    finally:
        for handle in handles:
            handle.remove()
    redundant = set()
    for name, output in outputs.items():
        if calls[name] != 1:  # a layer run twice: its bias reaches more than one place
            continue
        who = [inside for read, inside in mode.reads[born[name]:] if id(output) in read]
        if len(who) == 1 and who[0] in chosen and who[0] != name and _absorbs(modules[who[0]]):
            redundant.add(name)
    return redundant


def bias_layer_names(model: nn.Module, layers: str, skip_redundant: bool, example: torch.Tensor | None = None
                     ) -> list[str]:
    """The names of the layers that get biases under `bb.layers` and `bb.skip_redundant`, in model order."""
    selected = select_layers(model, layers)
    if not skip_redundant:
        return selected
    if example is None:
        raise LearningError("bb.skip_redundant needs an example input to observe the layers' data flow")
    drop = redundant_layers(model, selected, example)
    return [name for name in selected if name not in drop]


def check_layer_pattern(backbone_name: str, layers: str) -> None:
    """LearningError when `layers` holds a pattern that matches no layer of the timm model `backbone_name`;
    builds the model on the meta device (no weights, no memory), so it is cheap enough for `validate`."""
    if layers in (ALL, LAST_HALF):
        return
    import timm

    with torch.device("meta"):
        model = timm.create_model(backbone_name, num_classes=0)
    select_layers(model, layers)
