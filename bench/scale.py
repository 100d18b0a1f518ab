"""Scale benchmark: a folder suite of real JPEG files streamed through the backbone.

    .venv/bin/python bench/scale.py [--tasks 20] [--per-task 1000] [--scale 4] [--pairs 3]

Builds a folder data set of 299 px JPEGs cut from the offline photos (scikit-image, as the
textures suite does): `--tasks` tasks of 2 photo classes with `--per-task` images each, and the
same layout with `--scale` times the images per task (the small set is hard links to the first
images of the large one). Then measures
  throughput  images/s of the whole feature pipeline (decode + resize in loader workers + forward,
              `Backbone.features` on image files) against a bare forward of the same model, image
              size and batch on tensors made beforehand; pairs run interleaved, so that load from
              other jobs on a shared machine falls on both sides alike;
  memory      peak RSS of a process that builds the folder suite and extracts (into a fresh
              feature cache) the features of every task, at 1x and at `--scale`x the images.
Writes bench/results/scale.json atomically; prints a table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402
from PIL import Image  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from agents.backbone import create_backbone  # noqa: E402
from agents.config import BackboneConfig, SuiteConfig  # noqa: E402
from agents.features import FeatureCache  # noqa: E402
from agents.suites import create_suite, textures  # noqa: E402
from agents.suites.files import ImageFiles  # noqa: E402
from agents.suites.images import task_rng  # noqa: E402
from sim.experiment.results import write_json  # noqa: E402

OUT = Path(__file__).parent / "results" / "scale.json"
SIZE = 299  # the paper's xception input: files are written at it
TEST_SHARE = 0.2


def make_dataset(root: Path, tasks: int, per_task: int, seed: int = 0) -> int:
    """Write tasks x per_task JPEGs (2 photo classes a task, 80 % train); return files written."""
    written = 0
    photos = textures.PHOTOS
    for t in range(tasks):
        classes = (photos[(2 * t) % len(photos)], photos[(2 * t + 1) % len(photos)])
        rng = task_rng(seed, t)
        for split, share in (("train", 1 - TEST_SHARE), ("test", TEST_SHARE)):
            n = max(2, int(round(per_task * share / 2)))
            for c in classes:
                folder = root / f"task{t:03d}" / split / c
                if folder.is_dir() and len(list(folder.iterdir())) == n:
                    continue  # already there from an earlier run
                folder.mkdir(parents=True, exist_ok=True)
                for i, patch in enumerate(textures.sample_patches(c, split, n, SIZE, rng)):
                    Image.fromarray(patch).save(folder / f"{i:05d}.jpg", quality=90)
                    written += 1
    return written


def link_subset(big: Path, small: Path, fraction: float) -> None:
    """`small`: the same layout as `big` with the first `fraction` of each class's files, hard-linked."""
    for folder in sorted(p for p in big.glob("*/*/*") if p.is_dir()):
        files = sorted(folder.iterdir())
        target = small / folder.relative_to(big)
        target.mkdir(parents=True, exist_ok=True)
        for f in files[:max(2, int(round(len(files) * fraction)))]:
            if not (target / f.name).exists():
                os.link(f, target / f.name)


def throughput(paths: list[Path], cfg: BackboneConfig, pairs: int) -> dict:
    """Pipeline vs bare forward images/s over the same images, `pairs` interleaved pairs."""
    backbone = create_backbone(cfg, torch.device("cpu"))
    files = ImageFiles(tuple(paths))
    rng = np.random.default_rng(0)
    tensors = [backbone.preprocess(rng.integers(0, 256, (min(backbone.batch_size, len(paths) - s), SIZE, SIZE, 3),
                                                dtype=np.uint8))
               for s in range(0, len(paths), backbone.batch_size)]

    def bare() -> float:
        start = time.perf_counter()
        with torch.inference_mode():
            for x in tensors:
                backbone.model(x)
        return time.perf_counter() - start

    def pipeline() -> float:
        start = time.perf_counter()
        backbone.features(files)
        return time.perf_counter() - start

    with torch.inference_mode():  # warm-up, one batch each: first-touch allocations, lazy imports
        backbone.model(tensors[0])
    backbone.features(ImageFiles(files.paths[:backbone.batch_size]))
    rows = []
    for i in range(pairs):
        # Alternate which side goes first, so a load change mid-pair does not favour one side.
        first, second = (pipeline, bare) if i % 2 == 0 else (bare, pipeline)
        a, b = first(), second()
        p, f = (a, b) if first is pipeline else (b, a)
        rows.append({"pipeline_images_per_s": len(paths) / p, "bare_forward_images_per_s": len(paths) / f,
                     "ratio": f / p})
    decode_start = time.perf_counter()
    for i in range(0, len(paths), backbone.batch_size):
        files.at_size(backbone.image_size)[i:i + backbone.batch_size]
    decode_s = time.perf_counter() - decode_start
    return {"backbone": backbone.name, "image_size": backbone.image_size, "batch_size": backbone.batch_size,
            "workers": backbone.workers, "images": len(paths), "torch_threads": torch.get_num_threads(),
            "macs_per_image": backbone.macs_per_image, "pairs": rows,
            "ratio_median": statistics.median(r["ratio"] for r in rows),
            "decode_only_images_per_s_one_process": len(paths) / decode_s}


def rss_child(root: Path, cfg_json: str) -> None:
    """(Child process) build the folder suite and extract every task's features; print JSON."""
    cfg = BackboneConfig.model_validate_json(cfg_json)
    start = time.perf_counter()
    suite = create_suite(SuiteConfig(suite="folder", path=root))
    backbone = create_backbone(cfg, torch.device("cpu"))
    images = 0
    with tempfile.TemporaryDirectory(prefix="scale-cache-") as tmp:
        cache = FeatureCache(Path(tmp))
        for task in suite.tasks:
            for split, x in (("train", task.x_train), ("test", task.x_test)):
                cache.get(backbone, x, f"{task.fingerprint}/{split}")
                images += len(x)
    child_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    print(json.dumps({"images": images, "tasks": len(suite), "seconds": time.perf_counter() - start,
                      "peak_rss_mb": _high_water_kb() / 1024, "peak_worker_rss_mb": child_kb / 1024}))


def _high_water_kb() -> int:
    """This process's peak RSS (VmHWM). Not ru_maxrss: Linux keeps that across execve, so a child
    started by a big parent would report the parent's peak."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def measure_rss(root: Path, cfg: BackboneConfig) -> dict:
    """Peak RSS of a fresh process streaming `root`'s features (see rss_child)."""
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    out = subprocess.run([sys.executable, __file__, "--rss-child", str(root), "--cfg", cfg.model_dump_json()],
                         env=env, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def print_table(report: dict) -> None:
    table = Table(title="folder suite at scale (CPU)")
    for col in ("measure", "value"):
        table.add_column(col)
    t = report["throughput"]
    for i, row in enumerate(t["pairs"]):
        table.add_row(f"pair {i}: pipeline / bare img/s",
                      f"{row['pipeline_images_per_s']:.2f} / {row['bare_forward_images_per_s']:.2f} "
                      f"= {row['ratio']:.3f}")
    table.add_row("pipeline / bare (median)", f"{t['ratio_median']:.3f} (target >= 0.9)")
    m = report["memory"]
    for key in ("1x", f"{report['settings']['scale']}x"):
        table.add_row(f"peak RSS {key} ({m[key]['images']} images)",
                      f"{m[key]['peak_rss_mb']:.0f} MB main, {m[key]['peak_worker_rss_mb']:.0f} MB worker")
    table.add_row("RSS growth", f"{m['growth']:+.1%} (limit 10 %)")
    Console().print(table)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=20)
    parser.add_argument("--per-task", type=int, default=1000)
    parser.add_argument("--scale", type=int, default=4)
    parser.add_argument("--pairs", type=int, default=3)
    parser.add_argument("--speed-images", type=int, default=96, help="images per throughput measurement")
    parser.add_argument("--model", default="tf_efficientnet_lite0")
    parser.add_argument("--image-size", type=int, default=224)
    parser.add_argument("--memory-image-size", type=int, default=64,
                        help="backbone size of the memory passes (cheap: they stream every image)")
    parser.add_argument("--data", type=Path, default=Path(tempfile.gettempdir()) / "skill-sim-scale")
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--only", choices=("all", "throughput", "memory"), default="all",
                        help="measure one part and keep the other from the existing --out file")
    parser.add_argument("--rss-child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--cfg", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.rss_child is not None:
        rss_child(args.rss_child, args.cfg)
        return
    start = time.perf_counter()
    big, small = args.data / f"x{args.scale}", args.data / "x1"
    written = make_dataset(big, args.tasks, args.per_task * args.scale)
    link_subset(big, small, 1 / args.scale)
    generated_s = time.perf_counter() - start
    weights = "offline" if args.model == "tf_efficientnet_lite0" else "random"
    paths = sorted(small.glob("*/train/*/*.jpg"))[:args.speed_images]
    earlier = json.loads(args.out.read_text()) if args.only != "all" and args.out.is_file() else {}
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    if args.only in ("all", "throughput"):
        speed = throughput(paths, BackboneConfig(name=args.model, weights=weights, image_size=args.image_size,
                                                 batch_size=32), args.pairs)
        speed["measured_at"] = now
    else:
        speed = earlier["throughput"]
    if args.only in ("all", "memory"):
        mem_cfg = BackboneConfig(image_size=args.memory_image_size)
        memory = {"1x": measure_rss(small, mem_cfg), f"{args.scale}x": measure_rss(big, mem_cfg)}
        memory["growth"] = memory[f"{args.scale}x"]["peak_rss_mb"] / memory["1x"]["peak_rss_mb"] - 1
        memory["backbone"] = mem_cfg.model_dump(mode="json")
        memory["measured_at"] = now
    else:
        memory = earlier["memory"]
    jpeg_bytes = sum(p.stat().st_size for p in paths)
    report = {
        "settings": {
            "tasks": args.tasks, "per_task": args.per_task, "scale": args.scale, "jpeg_size": SIZE,
            "files_written_now": written, "generate_seconds": generated_s,
            "mean_jpeg_bytes": jpeg_bytes / max(1, len(paths)),
            "cpus": os.cpu_count(), "load_average_at_start": os.getloadavg(),
            "host": platform.node(), "torch": torch.__version__, "python": platform.python_version(),
            "note": "2-core CPU shared with other jobs while measured: absolute speeds are noisy; "
                    "pipeline and bare forward run interleaved in pairs (alternating which goes first) "
                    "and the ratio per pair is what compares them. No GPU was lent to this run.",
        },
        "throughput": speed,
        "memory": memory,
        "total_seconds": time.perf_counter() - start,
    }
    write_json(args.out, report)
    print_table(report)
    print(f"wrote {args.out} in {report['total_seconds']:.0f}s")


if __name__ == "__main__":
    main()
