"""Beneficial-bias variants at the paper's configuration: package bytes and teacher MACs per task.

    .venv/bin/python bench/bb_variants.py

The paper's setting: legacy_xception at 299 px (2048-D), 49 classes, GMMC with k = 25, fp32, and the
SKILL-102 task size (2,041,225 training images over 102 tasks = 20,012 per task). Packages are real
SharePackages with every bias tensor a variant keeps (sizes are exact); per-image costs are counted by
torch's FLOP counter on a meta-device model (shapes only: the same counts as on a CPU, with no compute),
one forward and one BB training step (forward + backward) per variant, and scaled by the learner's
own rule (cost is linear in the images processed): features once per image; BB starts with one
validation pass of the plain head, then per epoch a training step for the 85 % training split and
a forward for the 15 % validation split. The head's cost (< 0.3 % here) is shown at its 60-epoch
maximum. Writes bench/results/bb_variants.json; prints a table next to the paper's figures.
"""

from __future__ import annotations

import platform
import time
from pathlib import Path

import numpy as np
import torch
from rich.console import Console
from rich.table import Table
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from agents.anchors import GMMCAnchor
from agents.bias_layers import bias_layer_names
from agents.biases import attach_biases
from agents.config import HeadConfig, LearnerConfig
from agents.package import SharePackage
from sim.experiment.results import write_json

OUT = Path(__file__).parent / "results" / "bb_variants.json"
D, C, K = 2048, 49, 25
IMAGES_PER_TASK = round(2_041_225 / 102)
PAPER = {"no_bb_total_macs": 1.73e16, "bb_total_macs": 1.56e18, "gmmc_package_kb": 813, "gmmc_bb_package_kb": 883}
VARIANTS = {  # name -> (bb.layers, bb.skip_redundant), None: no BB
    "no BB": None,
    "BB all": ("all", False),
    "BB all, skip_redundant": ("all", True),
    "BB last_half": ("last_half", False),
    "BB last_half, skip_redundant": ("last_half", True),
}


def _macs(fn) -> int:
    with FlopCounterMode(display=False) as counter:
        fn()
    return int(counter.get_total_flops()) // 2


def measure() -> dict:
    """Every variant's package bytes and per-task teacher MACs at the paper's scale."""
    cfg = LearnerConfig.model_validate({"preset": "paper", "backbone": {"weights": "random"}})
    import timm

    with torch.device("meta"):
        model = timm.create_model(cfg.backbone.name, num_classes=0).eval()
        head = nn.Linear(D, C)
    for p in model.parameters():
        p.requires_grad_(False)
    size = cfg.backbone.image_size
    x = torch.zeros(1, 3, size, size, device="meta")
    with torch.no_grad():
        forward = _macs(lambda: model(x))
    head_cfg = HeadConfig()
    n_val = round(IMAGES_PER_TASK * head_cfg.val_fraction)
    n_train = IMAGES_PER_TASK - n_val
    head_macs = head_cfg.epochs * (n_train * 2 * D * C + n_val * D * C)  # forward + weight gradient; val forward
    anchor = GMMCAnchor(np.zeros((K, D), np.float32), np.ones((K, D), np.float32), np.full(K, 1 / K, np.float32), 2450)
    modules = dict(model.named_modules())
    rows = []
    for name, variant in VARIANTS.items():
        biases, step = None, 0
        if variant is not None:
            names = bias_layer_names(model, variant[0], variant[1], example=x)
            biases = {n: np.zeros(modules[n].out_channels, np.float32) for n in names}

            def train_step() -> None:
                out = head(model(x))
                nn.functional.cross_entropy(out, torch.zeros(1, dtype=torch.long, device="meta")).backward()

            with attach_biases(model, names):
                step = _macs(train_step)
        package = SharePackage(0, "task", tuple(f"class_{i}" for i in range(C)), np.zeros((C, D), np.float32),
                               np.zeros(C, np.float32), biases, anchor).nbytes("fp32")
        per_epoch = n_train * step + n_val * (forward + D * C)
        row = {"variant": name, "biases": sum(b.size for b in (biases or {}).values()),
               "bias_layers": len(biases or {}), "package_bytes": package,
               "forward_macs_per_image": forward, "step_macs_per_image": step}
        for epochs in (cfg.bb.epochs, LearnerConfig().bb.epochs):
            bb = 0 if variant is None else n_val * (forward + D * C) + epochs * per_epoch
            row[f"teacher_macs_per_task_{epochs}_epochs"] = forward * IMAGES_PER_TASK + head_macs + bb
        rows.append(row)
    base = rows[0]["teacher_macs_per_task_4_epochs"]
    for row in rows:
        for epochs in (cfg.bb.epochs, 4):
            row[f"vs_no_bb_{epochs}_epochs"] = row[f"teacher_macs_per_task_{epochs}_epochs"] / base
    return {"setting": {"backbone": cfg.backbone.name, "image_size": size, "classes": C, "k": K,
                        "images_per_task": IMAGES_PER_TASK, "paper_bb_epochs": cfg.bb.epochs},
            "paper": PAPER, "paper_bb_ratio": PAPER["bb_total_macs"] / PAPER["no_bb_total_macs"], "rows": rows}


def print_table(report: dict) -> None:
    epochs = report["setting"]["paper_bb_epochs"]
    table = Table(title=f"BB variants at the paper's configuration ({report['setting']['backbone']}, "
                        f"{report['setting']['image_size']} px, {C} classes, GMMC k={K}, fp32)")
    for col in ("variant", "biases", "package kB", "step / forward", f"MACs/task ({epochs} ep)",
                f"vs no BB ({epochs} ep)", "vs no BB (4 ep)"):
        table.add_column(col, justify="left" if col == "variant" else "right")
    for r in report["rows"]:
        ratio = r["step_macs_per_image"] / r["forward_macs_per_image"]
        table.add_row(r["variant"], f"{r['biases']:,}", f"{r['package_bytes'] / 1e3:,.1f}", f"{ratio:.3f}",
                      f"{r[f'teacher_macs_per_task_{epochs}_epochs']:.3e}", f"{r[f'vs_no_bb_{epochs}_epochs']:.1f}x",
                      f"{r['vs_no_bb_4_epochs']:.2f}x")
    console = Console()
    console.print(table)
    p = report["paper"]
    console.print(f"paper: {p['gmmc_package_kb']} kB GMMC, {p['gmmc_bb_package_kb']} kB GMMC + BB; "
                  f"BB {report['paper_bb_ratio']:.1f}x no BB ({p['bb_total_macs']:.3g} vs {p['no_bb_total_macs']:.3g} "
                  f"MACs for 102 tasks: {p['no_bb_total_macs'] / 102:.3e} per task without BB)")


def main() -> None:
    start = time.perf_counter()
    report = measure()
    report["machine"] = {"python": platform.python_version(), "torch": torch.__version__,
                         "seconds": round(time.perf_counter() - start, 1), "date": time.strftime("%Y-%m-%d")}
    print_table(report)
    write_json(OUT, report)
    Console().print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
