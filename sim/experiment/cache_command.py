"""`skill-sim cache info | prune`: what the learning cache holds, checked entry by entry, and pruning it.

Light on purpose: no torch, no simulation; the scan is agents.cache.inventory's (every content
file is read once to verify its checksum). The cache is --cache, else $SKILL_SIM_CACHE, else
~/.cache/skill-sim, as for `run` and `sweep`.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import Any, Callable

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from sim.errors import SimError

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
CACHE_HELP = "cache folder (default: $SKILL_SIM_CACHE or ~/.cache/skill-sim)"


def add_parser(sub: Any, common: Callable[..., None], folder: Callable[[str], Path]) -> None:
    """Register `cache info` and `cache prune` on the CLI's subparsers."""
    cache = sub.add_parser("cache", help="list (info) or prune the learning cache")
    actions = cache.add_subparsers(dest="action", required=True)
    info = actions.add_parser("info", help="entries by kind, sizes, bad and stale counts, location")
    info.add_argument("--cache", type=folder, help=CACHE_HELP)
    common(info, scenario=False)
    info.set_defaults(func=cmd_info)
    prune = actions.add_parser("prune", help="remove entries (always: dead writers' temp files, stale claims)")
    prune.add_argument("--cache", type=folder, help=CACHE_HELP)
    prune.add_argument("--all", action="store_true", help="every feature, result and evaluation entry")
    prune.add_argument("--older-than", type=duration, metavar="AGE",
                       help="entries untouched for longer than AGE, e.g. 30m, 12h, 7d, 2w")
    prune.add_argument("--bad", action="store_true", help="entries that fail their checksum, and stale ones")
    prune.add_argument("--dry-run", action="store_true", help="say what would go, remove nothing")
    common(prune, scenario=False)
    prune.set_defaults(func=cmd_prune)


def duration(text: str) -> float:
    """An age like 90s, 30m, 12h, 7d or 2w, in seconds."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*", text)
    if not match:
        raise argparse.ArgumentTypeError(f"{text!r}: expected a number and a unit (s, m, h, d, w), e.g. 12h or 7d")
    return float(match[1]) * _UNITS[match[2]]


def cache_root(args: argparse.Namespace) -> Path:
    """The cache folder the command works on; a path that is a file is refused (exit 2)."""
    from agents.features import default_cache_root

    root = Path(args.cache).expanduser() if args.cache is not None else default_cache_root()
    if root.exists() and not root.is_dir():
        raise SimError(f"--cache / $SKILL_SIM_CACHE: {str(root)!r} is a file, not a folder; name the cache folder")
    return root


def cmd_info(args: argparse.Namespace, console: Console) -> int:
    """Print the summary of the cache (or JSON with --json)."""
    from agents.cache import inventory

    summary = inventory.scan(cache_root(args)).summary()
    if args.json:
        _print_json(summary)
        return 0
    out = _answer(args)
    if not summary["exists"]:
        out.print(f"no cache at {escape(summary['location'])} (nothing learned there yet)", highlight=False)
        return 0
    table = Table(title=f"cache {summary['location']}", title_justify="left")
    for column in ("kind", "entries", "size", "sound", "stale", "bad", "live"):
        table.add_column(column, justify="left" if column == "kind" else "right")
    for kind, row in summary["kinds"].items():
        table.add_row(kind, str(row["entries"]), _size(row["bytes"]),
                      *(str(row[s]) for s in ("sound", "stale", "bad", "live")))
    table.add_row("total", str(summary["entries"]), _size(summary["bytes"]), "", "", "", "", style="bold")
    out.print(table)
    for bad in summary["bad"]:
        out.print(f"[red]bad[/] {escape(bad['file'])}: {escape(bad['reason'])}", highlight=False, soft_wrap=True)
    if summary["bad"]:
        out.print("remove them with: skill-sim cache prune --bad (a run would discard and recompute them)")
    return 0


def cmd_prune(args: argparse.Namespace, console: Console) -> int:
    """Remove what the options select; say what went and how much was freed."""
    from agents.cache import inventory

    root = cache_root(args)
    chosen = inventory.select(inventory.scan(root), everything=args.all, older_than_s=args.older_than, bad=args.bad)
    freed = sum(e.bytes for e in chosen) if args.dry_run else inventory.remove(chosen)
    by_kind: dict[str, int] = {}
    for entry in chosen:
        by_kind[entry.kind] = by_kind.get(entry.kind, 0) + 1
    answer = {"location": str(root), "dry_run": bool(args.dry_run), "removed": by_kind, "bytes": freed}
    if args.json:
        _print_json(answer)
        return 0
    verb = "would remove" if args.dry_run else "removed"
    what = ", ".join(f"{n} {kind}" for kind, n in sorted(by_kind.items())) or "nothing"
    _answer(args).print(f"{verb} {what} ({_size(freed)}) from {escape(str(root))}", highlight=False)
    if not (args.all or args.bad or args.older_than is not None):
        _answer(args).print("[dim]only dead writers' temp files and stale claims go without --all, --older-than "
                            "or --bad[/]")
    return 0


def _answer(args: argparse.Namespace) -> Console:
    """Where the human answer goes: stdout (nowhere with --quiet), as for the CLI's other commands."""
    return Console(quiet=args.quiet)


def _print_json(data: Any) -> None:
    from sim.experiment.results import dumps

    sys.stdout.write(dumps(data) + "\n")


def _size(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TiB"
