"""Beneficial biases (BB): one learnable bias per neuron of the frozen backbone, trained with the head.

A forward hook adds the bias to each nn.Conv2d output (one value per output channel, broadcast over
H and W) and each nn.Linear output (one per unit). Adding it to the layer's output places it before
whatever norm follows, exactly where the layer's own bias would sit; the frozen weights never change.
Which layers get biases (`bb.layers`, `bb.skip_redundant`) is agents.bias_layers' business; a
receiver applies exactly the layers a package carries.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Callable, Collection, Iterator, Mapping

import numpy as np
import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from agents.bias_layers import bias_layer_names, biasable_names
from agents.config import BBConfig, HeadConfig
from agents.device import autocast
from agents.errors import LearningError
from agents.head import EarlyStopping, HeadResult, check_labels, init_linear, split_train_val
from agents.suites.files import ImageFiles


def _width(module: nn.Module) -> int | None:
    if isinstance(module, nn.Conv2d):
        return module.out_channels
    if isinstance(module, nn.Linear):
        return module.out_features
    return None


class BiasSet:
    """Zero-initialised biases hooked onto the Conv2d / Linear layers of `model` named in `names`
    (None: every one; see agents.bias_layers for choosing them); detach() removes them."""

    def __init__(self, model: nn.Module, names: Collection[str] | None = None) -> None:
        self.model = model
        self.biases: dict[str, nn.Parameter] = {}
        self._handles = []
        wanted = None if names is None else set(names)
        if wanted is not None:
            unknown = sorted(wanted - set(biasable_names(model)))
            if unknown:
                raise LearningError(f"biases do not fit this backbone: unexpected {unknown[:5]}; load biases "
                                    f"trained on the same backbone")
        for name, module in model.named_modules():
            width = _width(module)
            if width is None or (wanted is not None and name not in wanted):
                continue
            ref = module.weight
            bias = nn.Parameter(torch.zeros(width, device=ref.device, dtype=ref.dtype))
            self.biases[name] = bias
            self._handles.append(module.register_forward_hook(self._hook(bias, module)))
        if not self.biases:
            raise LearningError(f"{type(model).__name__} has no nn.Conv2d or nn.Linear layer to "
                                f"attach beneficial biases to; disable bb for this backbone")

    @staticmethod
    def _hook(bias: nn.Parameter, module: nn.Module) -> Callable:
        # Conv output is [N, C, H, W]: view the bias as [1, C, 1, 1] so it is per channel and the
        # same at every spatial position. Linear output is [..., units]: plain broadcasting.
        shape = (1, -1, 1, 1) if isinstance(module, nn.Conv2d) else (-1,)

        def hook(_module: nn.Module, _inputs: tuple, output: torch.Tensor) -> torch.Tensor:
            return output + bias.view(shape)

        return hook

    def parameters(self) -> list[nn.Parameter]:
        """The learnable biases, for an optimizer."""
        return list(self.biases.values())

    def num_biases(self) -> int:
        """Total number of bias values (what BB adds to a share package)."""
        return sum(b.numel() for b in self.biases.values())

    def state(self) -> dict[str, np.ndarray]:
        """The biases as plain float32 numpy arrays keyed by module name."""
        return {k: v.detach().cpu().numpy().astype(np.float32) for k, v in self.biases.items()}

    def load(self, biases: Mapping[str, np.ndarray]) -> None:
        """Set every bias from {module_name: array}; names and shapes must match this model exactly."""
        missing = sorted(set(self.biases) - set(biases))
        extra = sorted(set(biases) - set(self.biases))
        if missing or extra:
            raise LearningError(f"biases do not fit this backbone: missing {missing[:5]}, unexpected "
                                f"{extra[:5]}; load biases trained on the same backbone")
        with torch.no_grad():
            for name, value in biases.items():
                value = np.asarray(value)
                target = self.biases[name]
                if value.shape != tuple(target.shape):
                    raise LearningError(f"bias {name!r} has shape {value.shape}, expected "
                                        f"{tuple(target.shape)}; load biases from the same backbone")
                target.copy_(torch.from_numpy(value.astype(np.float32)))

    def detach(self) -> None:
        """Remove the hooks: the model computes exactly what it did before attach."""
        for handle in self._handles:
            handle.remove()
        self._handles = []

    def __enter__(self) -> "BiasSet":
        return self

    def __exit__(self, *exc: object) -> None:
        self.detach()


def attach_biases(model: nn.Module, names: Collection[str] | None = None) -> BiasSet:
    """Hook zero-initialised learnable biases onto the Conv2d and Linear layers `names` (None: all)."""
    return BiasSet(model, names)


@contextmanager
def applied_biases(model: nn.Module, biases: Mapping[str, np.ndarray] | None) -> Iterator[BiasSet | None]:
    """Apply another agent's biases to `model` for the duration of a with-block (None: no-op)."""
    if biases is None:
        yield None
        return
    bias_set = BiasSet(model, list(biases))  # the sender's layers (bb.layers may pick a subset)
    try:
        bias_set.load(biases)
        yield bias_set
    finally:
        bias_set.detach()


@contextmanager
def _frozen(model: nn.Module) -> Iterator[None]:
    # Eval mode (BN uses running stats, no dropout) and no weight gradients; restored afterwards
    # because the backbone is shared with whoever called us.
    flags = [(p, p.requires_grad) for p in model.parameters()]
    was_training = model.training
    model.eval()
    for p, _ in flags:
        p.requires_grad_(False)
    try:
        yield
    finally:
        for p, flag in flags:
            p.requires_grad_(flag)
        model.train(was_training)


def _head_input(model: nn.Module, preprocess: Callable, images: np.ndarray) -> torch.Tensor:
    out = model(preprocess(images))
    return out.flatten(1) if out.ndim > 2 else out


def _validate(model: nn.Module, head: nn.Linear, preprocess: Callable, images: np.ndarray | ImageFiles,
              labels: torch.Tensor, batch_size: int) -> tuple[float, float, int]:
    correct, loss_sum, macs = 0, 0.0, 0
    with torch.no_grad():
        for start in range(0, len(images), batch_size):
            y = labels[start:start + batch_size]
            if start == 0:  # count one batch for real; cost is linear in the batch size
                with FlopCounterMode(display=False) as counter:
                    logits = head(_head_input(model, preprocess, images[start:start + batch_size]))
                per_batch, first = counter.get_total_flops() // 2, len(y)
            else:
                logits = head(_head_input(model, preprocess, images[start:start + batch_size]))
            loss_sum += nn.functional.cross_entropy(logits.float(), y, reduction="sum").item()
            correct += int((logits.argmax(1) == y).sum().item())
    macs = per_batch * len(images) // first
    return correct / len(images), loss_sum / len(images), macs


def train_head_with_biases(model: nn.Module, preprocess: Callable[[np.ndarray], torch.Tensor],
                           images_uint8: np.ndarray | ImageFiles, labels: np.ndarray, num_classes: int,
                           head_cfg: HeadConfig, bb_cfg: BBConfig, seed: int,
                           device: torch.device | str | None = None,
                           init_head: HeadResult | None = None, precision: str = "fp32",
                           ) -> tuple[HeadResult, dict[str, np.ndarray], int]:
    """Train a head and the backbone's beneficial biases jointly; keep the best validation epoch.

    With `init_head` (a head already trained on cached features, which is cheap) training starts
    from it and its validation score is epoch 0, so biases are kept only if they beat the plain
    head: a few expensive epochs through the backbone then refine rather than start from scratch.

    Uses the same stratified split as `train_head` (same seed, same split). The head learns at
    head_cfg.lr, the biases at bb_cfg.lr, for bb_cfg.epochs with bb_cfg.patience (default: the head's),
    on the layers bb_cfg.layers and bb_cfg.skip_redundant choose. MACs: the
    first training step and first validation batch are run under torch's FLOP counter and scaled
    by the number of samples processed (conv/linear cost is linear in batch size), so they do
    not depend on `precision` ("bf16" / "fp16": forward and loss under torch.autocast, fp16 with
    a gradient scaler; the head and biases themselves stay float32). Image files (`ImageFiles`,
    bound to a size) are decoded a batch at a time.
    """
    if not isinstance(images_uint8, ImageFiles):
        images_uint8 = np.asarray(images_uint8)
    labels = check_labels(labels, num_classes, len(images_uint8))
    dev = torch.device(device) if device is not None else next(model.parameters()).device
    tr_idx, val_idx = split_train_val(labels, head_cfg.val_fraction, seed)
    y_all = torch.from_numpy(labels).to(dev)
    x_val = images_uint8.select(val_idx) if isinstance(images_uint8, ImageFiles) else images_uint8[val_idx]
    y_val = y_all[torch.from_numpy(val_idx).to(dev)]
    scaler = torch.amp.GradScaler(dev.type, enabled=precision == "fp16")

    with _frozen(model):
        names = bias_layer_names(model, bb_cfg.layers, bb_cfg.skip_redundant,
                                 example=preprocess(images_uint8[:1]))
    with _frozen(model), attach_biases(model, names) as bias_set:
        with torch.no_grad():
            dim = _head_input(model, preprocess, images_uint8[:1]).shape[1]
        head = init_linear(dim, num_classes, seed).to(dev)
        if init_head is not None:
            with torch.no_grad():
                head.weight.copy_(torch.from_numpy(init_head.weight))
                head.bias.copy_(torch.from_numpy(init_head.bias))
        opt = torch.optim.Adam([
            {"params": head.parameters(), "lr": head_cfg.lr, "weight_decay": head_cfg.weight_decay},
            # No weight decay on the biases: they are small corrections starting from zero.
            {"params": bias_set.parameters(), "lr": bb_cfg.lr, "weight_decay": 0.0},
        ])
        rng = np.random.default_rng(seed + 1)
        stopper = EarlyStopping(bb_cfg.patience or head_cfg.patience)
        step_macs = step_size = samples = val_macs = epochs_run = 0

        def snapshot() -> dict[str, torch.Tensor]:
            state = {f"head.{k}": v for k, v in head.state_dict().items()}
            state.update({f"bb.{k}": v for k, v in bias_set.biases.items()})
            return state

        if init_head is not None:
            with autocast(dev, precision):
                acc, val_loss, val_macs = _validate(model, head, preprocess, x_val, y_val, bb_cfg.batch_size)
            stopper.update(0, acc, val_loss, snapshot())
        for epoch in range(1, bb_cfg.epochs + 1):
            order = tr_idx[rng.permutation(len(tr_idx))]
            for start in range(0, len(order), bb_cfg.batch_size):
                batch = order[start:start + bb_cfg.batch_size]

                def step() -> None:
                    with autocast(dev, precision):
                        logits = head(_head_input(model, preprocess, images_uint8[batch]))
                        loss = nn.functional.cross_entropy(logits.float(), y_all[torch.from_numpy(batch).to(dev)])
                    opt.zero_grad(set_to_none=True)
                    scaler.scale(loss).backward()
                    scaler.step(opt)
                    scaler.update()

                if step_size == 0:  # count one real step: forward + backward through the backbone
                    with FlopCounterMode(display=False) as counter:
                        step()
                    step_macs, step_size = counter.get_total_flops() // 2, len(batch)
                else:
                    step()
                samples += len(batch)
            epochs_run = epoch
            with autocast(dev, precision):
                acc, val_loss, macs = _validate(model, head, preprocess, x_val, y_val, bb_cfg.batch_size)
            val_macs += macs
            if stopper.update(epoch, acc, val_loss, snapshot()):
                break
        best = stopper.best_state
        biases = {k[3:]: v.cpu().numpy().astype(np.float32) for k, v in best.items() if k.startswith("bb.")}

    total_macs = int(step_macs * samples // step_size) + int(val_macs)
    result = HeadResult(
        weight=best["head.weight"].cpu().numpy().astype(np.float32),
        bias=best["head.bias"].cpu().numpy().astype(np.float32),
        val_accuracy=float(stopper.best[0]),
        epochs_run=epochs_run,
        macs=total_macs,
        best_epoch=stopper.best_epoch,
    )
    return result, biases, total_macs
