"""A task head: one linear layer on frozen features, trained with Adam and early stopping.

The validation split is carved from the training data (stratified, seeded) so that test data is
never seen while choosing the epoch to keep. Heads and BB training share the split helper.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from agents.config import HeadConfig
from agents.errors import DataError
from agents.macs import count_macs


@dataclass(frozen=True, eq=False)
class HeadStart:
    """Rows a head starts from instead of random ones (knowledge reuse, agents.reuse): row
    `rows[i]` of the new head starts at weight[i], bias[i], already divided by the banked row's
    infinity norm, times a fresh row's size. With `normalised` the head trains with every row so
    normalised (`InfNormLinear`), else as a plain linear layer."""

    rows: tuple[int, ...]
    weight: np.ndarray  # float32 [len(rows), D]
    bias: np.ndarray  # float32 [len(rows)]
    normalised: bool = True


class InfNormLinear(nn.Linear):
    """A linear layer whose every row is used divided by its infinity norm (the paper's Sec. 7.2),
    times a fixed `scale`: rows copied from another task's head and fresh ones then share one size
    while they train.

    The scale is the fresh rows' own size, PyTorch's init bound 1/sqrt(D) (the largest of D uniform
    draws in +-1/sqrt(D) is that bound to within 1/D), so a fresh row is used as it was drawn and a
    banked row enters at a fresh row's size. Measured on ring_51_reuse's 13 reused tasks (Fig. 11,
    bench/reuse.py): rows used at infinity norm 1 instead gave logits 36x a plain head's and
    matched classes 0.25 validation accuracy after one epoch against 0.74 from random rows."""

    def __init__(self, in_features: int, out_features: int) -> None:
        super().__init__(in_features, out_features)
        self.scale = init_bound(in_features)

    def effective_weight(self) -> torch.Tensor:
        """The weight the layer applies: each row over its largest absolute entry, times `scale`."""
        return self.scale * self.weight / self.weight.abs().amax(dim=1, keepdim=True).clamp_min(1e-12)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return nn.functional.linear(x, self.effective_weight(), self.bias)


@dataclass(frozen=True, eq=False)
class HeadResult:
    """A trained head (plain numpy) plus how well and how expensively it was trained."""

    weight: np.ndarray  # float32 [c, D]
    bias: np.ndarray  # float32 [c]
    val_accuracy: float
    epochs_run: int
    macs: int
    best_epoch: int = 0
    # With `trace`: validation accuracy of each class after each epoch, [epochs_run][c].
    curve: tuple[tuple[float, ...], ...] = ()


def check_labels(labels: np.ndarray, num_classes: int, n: int | None = None) -> np.ndarray:
    """Return labels as int64 [N], or raise DataError naming the bad value."""
    labels = np.asarray(labels)
    if labels.ndim != 1 or not np.issubdtype(labels.dtype, np.integer):
        raise DataError(f"labels must be a 1-D integer array, got shape {labels.shape} "
                        f"dtype {labels.dtype}; pass class ids 0..c-1")
    if n is not None and len(labels) != n:
        raise DataError(f"got {n} samples but {len(labels)} labels; pass one label per sample")
    if num_classes < 1:
        raise DataError(f"num_classes must be >= 1, got {num_classes}")
    if len(labels) and (labels.min() < 0 or labels.max() >= num_classes):
        raise DataError(f"labels must lie in 0..{num_classes - 1}, got range "
                        f"{labels.min()}..{labels.max()}; fix num_classes or the labels")
    return labels.astype(np.int64)  # a writable copy: task arrays are read-only, torch needs writable


def split_train_val(labels: np.ndarray, val_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Stratified, seeded split of sample indices into (train, val); every class keeps >= 1 train sample.

    Per class, round(n_c * val_fraction) samples (at least 1 when the class has 2 or more, at most
    n_c - 1) go to validation, so small classes are still represented on both sides.
    """
    labels = np.asarray(labels)
    if not 0 < val_fraction < 1:
        raise DataError(f"val_fraction must lie in (0, 1), got {val_fraction}")
    rng = np.random.default_rng(seed)
    train, val = [], []
    for c in np.unique(labels):
        idx = np.flatnonzero(labels == c)
        idx = idx[rng.permutation(len(idx))]
        n_val = 0 if len(idx) < 2 else min(len(idx) - 1, max(1, round(len(idx) * val_fraction)))
        val.append(idx[:n_val])
        train.append(idx[n_val:])
    train_idx = np.sort(np.concatenate(train)) if train else np.zeros(0, np.int64)
    val_idx = np.sort(np.concatenate(val)) if val else np.zeros(0, np.int64)
    if len(val_idx) == 0:
        raise DataError(f"cannot carve a validation split from {len(labels)} samples: no class has "
                        f"2 or more samples; give each class at least 2 training samples")
    return train_idx.astype(np.int64), val_idx.astype(np.int64)


def init_bound(in_features: int) -> float:
    """PyTorch's default bound for a linear layer's initial weights, 1/sqrt(D): a fresh row's size."""
    return 1.0 / float(np.sqrt(in_features))


def init_linear(in_features: int, out_features: int, seed: int) -> nn.Linear:
    """nn.Linear with PyTorch's default uniform(+-1/sqrt(D)) init drawn from a seeded numpy RNG.

    Drawing from our own generator keeps results independent of torch's global RNG state.
    """
    layer = nn.Linear(in_features, out_features)
    rng = np.random.default_rng(seed)
    bound = init_bound(in_features)
    with torch.no_grad():
        layer.weight.copy_(torch.from_numpy(rng.uniform(-bound, bound, (out_features, in_features))))
        layer.bias.copy_(torch.from_numpy(rng.uniform(-bound, bound, out_features)))
    return layer


class EarlyStopping:
    """Keeps the best epoch's state by validation accuracy (ties: lower loss) and counts patience."""

    def __init__(self, patience: int) -> None:
        self.patience = patience
        self.best: tuple[float, float] = (-1.0, float("inf"))
        self.best_epoch = 0
        self.best_state: dict[str, torch.Tensor] = {}
        self.bad_epochs = 0

    def update(self, epoch: int, accuracy: float, loss: float, state: dict[str, torch.Tensor]) -> bool:
        """Record one epoch; return True when training should stop."""
        if accuracy > self.best[0] or (accuracy == self.best[0] and loss < self.best[1]):
            self.best = (accuracy, loss)
            self.best_epoch = epoch
            self.best_state = {k: v.detach().clone() for k, v in state.items()}
            self.bad_epochs = 0
        else:
            self.bad_epochs += 1
        return self.bad_epochs >= self.patience


def _resolve_device(device: torch.device | str | None) -> torch.device:
    # Features are small; CPU is the safe default and callers pass the learner's device.
    return torch.device(device) if device is not None else torch.device("cpu")


def _evaluate(head: nn.Linear, x: torch.Tensor, y: torch.Tensor) -> tuple[float, float]:
    with torch.no_grad():
        logits = head(x)
        loss = nn.functional.cross_entropy(logits, y).item()
        acc = (logits.argmax(1) == y).float().mean().item()
    return acc, loss


def _per_class(head: nn.Linear, x: torch.Tensor, y: torch.Tensor, num_classes: int) -> tuple[float, ...]:
    """Validation accuracy of each class (NaN for a class with no validation sample)."""
    with torch.no_grad():
        hit = (head(x).argmax(1) == y).cpu().numpy()
    labels = y.cpu().numpy()
    return tuple(float(hit[labels == c].mean()) if (labels == c).any() else float("nan") for c in range(num_classes))


def _fit(head: nn.Linear, x_tr: torch.Tensor, y_tr: torch.Tensor, x_val: torch.Tensor,
         y_val: torch.Tensor, cfg: HeadConfig, seed: int,
         curve: list | None = None) -> tuple[EarlyStopping, int]:
    opt = torch.optim.Adam(head.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    rng = np.random.default_rng(seed + 1)  # shuffling stream, distinct from the split's
    stopper = EarlyStopping(cfg.patience)
    epochs_run = 0
    for epoch in range(1, cfg.epochs + 1):
        order = torch.from_numpy(rng.permutation(len(y_tr))).to(x_tr.device)
        for start in range(0, len(order), cfg.batch_size):
            batch = order[start:start + cfg.batch_size]
            loss = nn.functional.cross_entropy(head(x_tr[batch]), y_tr[batch])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        epochs_run = epoch
        acc, val_loss = _evaluate(head, x_val, y_val)
        if curve is not None:
            curve.append(_per_class(head, x_val, y_val, head.out_features))
        if stopper.update(epoch, acc, val_loss, head.state_dict()):
            break
    return stopper, epochs_run


def _macs_per_sample(head: nn.Linear, x_tr: torch.Tensor, y_tr: torch.Tensor, x_val: torch.Tensor,
                     cfg: HeadConfig) -> tuple[float, float]:
    """Counted MACs per sample of one training step (forward + backward) and of validation."""
    probe = copy.deepcopy(head)
    batch = min(cfg.batch_size, len(y_tr))

    def step() -> None:
        nn.functional.cross_entropy(probe(x_tr[:batch]), y_tr[:batch]).backward()

    _, train_macs = count_macs(step)
    with torch.no_grad():
        _, val_macs = count_macs(probe, x_val)
    return train_macs / batch, val_macs / max(1, len(x_val))


def train_head(features: np.ndarray, labels: np.ndarray, num_classes: int, cfg: HeadConfig,
               seed: int, device: torch.device | str | None = None, start: HeadStart | None = None,
               trace: bool = False) -> HeadResult:
    """Train one linear layer features -> num_classes; restore the epoch with the best val accuracy.

    MACs are counted by torch's FLOP counter on one training step and one validation pass (forward
    and backward; Adam's elementwise update is not a matmul and is not counted), then scaled by the
    samples processed: a linear layer's cost is exactly linear in batch size, and counting every
    step would make the counter's dispatch overhead dominate the training itself.

    `start`: rows to begin from (knowledge reuse); the head then trains with infinity-normalised
    rows and returns them normalised. `trace`: record each class's validation accuracy per epoch.
    """
    features = np.asarray(features)
    if features.ndim != 2:
        raise DataError(f"features must be 2-D [N, D], got shape {features.shape}")
    labels = check_labels(labels, num_classes, len(features))
    dev = _resolve_device(device)
    tr_idx, val_idx = split_train_val(labels, cfg.val_fraction, seed)
    x = torch.from_numpy(np.ascontiguousarray(features, dtype=np.float32)).to(dev)
    y = torch.from_numpy(labels).to(dev)
    tr, va = torch.from_numpy(tr_idx).to(dev), torch.from_numpy(val_idx).to(dev)

    head = init_linear(features.shape[1], num_classes, seed).to(dev)
    train_per_sample, val_per_sample = _macs_per_sample(head, x[tr], y[tr], x[va], cfg)
    if start is not None:
        head = _started(head, start)
    curve: list | None = [] if trace else None
    stopper, epochs_run = _fit(head, x[tr], y[tr], x[va], y[va], cfg, seed, curve)
    macs = round(epochs_run * (train_per_sample * len(tr_idx) + val_per_sample * len(val_idx)))
    head.load_state_dict(stopper.best_state)
    weight = head.effective_weight() if isinstance(head, InfNormLinear) else head.weight
    return HeadResult(
        weight=weight.detach().cpu().numpy().astype(np.float32),
        bias=head.bias.detach().cpu().numpy().astype(np.float32),
        val_accuracy=float(stopper.best[0]),
        epochs_run=epochs_run,
        macs=macs,
        best_epoch=stopper.best_epoch,
        curve=tuple(curve or ()),
    )


def _started(head: nn.Linear, start: HeadStart) -> nn.Linear:
    """`head`'s random rows (copied into an InfNormLinear if `start.normalised`, else `head`
    itself), the rows `start` names replaced by its rows at a fresh row's size, 1/sqrt(D) (weight and bias alike, so a banked row
    keeps its decision boundary). Every row's parameters then have one size, and Adam's steps, which
    do not depend on the gradient's size, move every row by the same share of it."""
    device = head.weight.device
    out = InfNormLinear(head.in_features, head.out_features).to(device) if start.normalised else head
    rows = torch.as_tensor(list(start.rows), dtype=torch.long, device=device)
    size = init_bound(head.in_features)
    with torch.no_grad():
        if out is not head:
            out.weight.copy_(head.weight)
            out.bias.copy_(head.bias)
        out.weight[rows] = size * torch.as_tensor(np.asarray(start.weight, np.float32), device=device)
        out.bias[rows] = size * torch.as_tensor(np.asarray(start.bias, np.float32), device=device)
    return out
