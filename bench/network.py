"""Network engine benchmark: cost-only workloads, flood and push_pull on ring and small-world graphs.

Each case runs in its own process (so peak RSS is that run's alone) and reports the engine that ran
("auto": the compiled loops from N = 500 on, SimPy at N = 51), wall seconds, events per wall second,
transfers (flows), agent-package deliveries and peak memory; a case on a compiled loop below
N = --big also runs on the SimPy engine, for the speed ratio measured in the same run, and the
benchmark stops if the two engines disagree on makespan, bytes, transfers or deliveries. The table
ends with how wall time grows with N. Writes bench/results/network.json.

Network variants (--variants, SimPy at --variant-n, default 500): "per_package" streams (every
package its own max-min flow) and "agent_nics" (per-agent NIC caps: every 10th agent a phone with a
2.5e5 B/s uplink and 1e6 B/s downlink, the others without a NIC limit). Capping every agent's NIC
couples all flows into one max-min component, re-solved at every flow start and end (O(F log F)
each), which is far slower: "all_nics" (every agent capped at 1.25e7, phones as above) measures it.
"serial_broadcast" is the paper's N = 102 setting on its own: a full graph, broadcast, serial
receive, one task per agent, all learned at once (N is 102 whatever --variant-n says). --before REF also runs every
compiled case and every case at N >= --big on the tree of git revision REF (exported with `git archive`, no
worktree), right after the same case on this tree, and prints the wall and CPU ratios after / before; --repeat K
runs K such pairs, interleaved (the machine's load then moves both alike), and keeps the least of each. The run
stops unless both trees give the same events, metrics and sha256 of merge times, banks and transfer rows.

    .venv/bin/python bench/network.py                 # N = 51, 500, 5000
    .venv/bin/python bench/network.py --sizes 51 500  # a subset
    .venv/bin/python bench/network.py --sizes 5000 --before main --variants per_package agent_nics
    .venv/bin/python bench/network.py --sizes 500 5000 --graphs small_world --before main --repeat 3
    .venv/bin/python bench/network.py --sizes 500 --big 500 --graphs small_world --engine simpy \
        --before f73843c --before-timeout 120 --variants per_package --variant-n 60 500 --timeout 2400 \
        --out bench/results/network_per_package.json   # SimPy before/after, per_link and per_package
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "network.json"

# Paper-like costs: a GMMC package is ~813 KB; 100 Mbit/s links with 5 ms latency; a device at
# 1 GMAC/s learning a task in 10 s. Links then carry the whole knowledge base in about a minute.
PACKAGE_BYTES = 813_000
TASK_MACS = 10**10
RATE = 1e9
BANDWIDTH = 12.5e6
LATENCY = 0.005
PERIOD_S = 1.0
AGREE = ("makespan_s", "bytes_sent", "transfers", "deliveries", "speedup")  # what both engines must give alike
# ... and, to the last bit, the merge times, banks and transfer rows (sha256 of their bytes)
DIGESTS = ("known_at_sha256", "held_sha256", "flows_sha256")
SAME_AS_BEFORE = AGREE + DIGESTS + ("events",)  # what a tree must give as the tree before it did


def build_graph(kind: str, n: int, seed: int):
    """Ring or connected Watts-Strogatz small world (k=4, p=0.1) with uniform links."""
    import networkx as nx

    graph = nx.cycle_graph(n) if kind == "ring" else nx.connected_watts_strogatz_graph(n, 4, 0.1, seed=seed)
    nx.set_edge_attributes(graph, BANDWIDTH, "bandwidth")
    nx.set_edge_attributes(graph, LATENCY, "latency")
    nx.set_edge_attributes(graph, 0.0, "loss")
    return graph


PHONE_UP, PHONE_DOWN, SERVER_NIC = 2.5e5, 1e6, 12.5e6  # the agent_nics / all_nics variants, bytes/s


def run_one(protocol: str, kind: str, n: int, engine: str = "auto", seed: int = 0, variant: str = "plain") -> dict:
    """One simulation; returns its measurements (the tree under $SKILL_SIM_BENCH_ROOT, default this one)."""
    sys.path.insert(0, os.environ.get("SKILL_SIM_BENCH_ROOT", str(ROOT)))
    from sim.compiled import pick
    from sim.config import FailuresConfig, FloodConfig, NetworkConfig, PushPullConfig
    from sim.simulate import simulate
    from sim.workload import synthetic_workload

    graph = build_graph(kind, n, seed)
    work = synthetic_workload(n, 2, macs=TASK_MACS, nbytes=PACKAGE_BYTES, seed=seed, jitter=0.2)
    gossip = FloodConfig() if protocol == "flood" else PushPullConfig(period_s=PERIOD_S)
    network = NetworkConfig(streams="per_package") if variant == "per_package" else NetworkConfig()
    if variant == "serial_broadcast":
        import networkx as nx

        from sim.config import BroadcastConfig

        n, kind, protocol = 102, "full", "broadcast"
        graph = nx.complete_graph(n)
        nx.set_edge_attributes(graph, BANDWIDTH, "bandwidth")
        nx.set_edge_attributes(graph, LATENCY, "latency")
        work = synthetic_workload(n, 1, macs=TASK_MACS, nbytes=PACKAGE_BYTES, seed=seed, jitter=0.0)
        gossip, network = BroadcastConfig(), NetworkConfig(serial_receive=True)
    for v in graph.nodes if variant in ("agent_nics", "all_nics") else ():
        if v % 10 == 0:
            graph.nodes[v].update(uplink=PHONE_UP, downlink=PHONE_DOWN)
        elif variant == "all_nics":
            graph.nodes[v].update(uplink=SERVER_NIC, downlink=SERVER_NIC)
    engine = pick(graph, work, network, gossip, FailuresConfig(), engine)[0]
    start, cpu = time.perf_counter(), time.process_time()
    res = simulate(graph, work, rates=[RATE] * n, network=network, gossip=gossip,
                   failures=FailuresConfig(), seed=seed, record_packages=False, engine=engine)
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # the run's, before the digests' copies
    m = res.metrics
    return {**digests(res), 
        "protocol": protocol, "graph": kind, "n": n, "engine": engine, "variant": variant, "packages": work.num_tasks,
        "deliveries": int(res.held.sum()) - work.num_tasks, "wall_s": wall, "cpu_s": cpu, "events": m.events,
        "events_per_s": m.events / wall, "transfers": m.transfers, "makespan_s": m.makespan_s,
        "speedup": m.speedup, "complete": m.complete, "bytes_sent": m.bytes_sent,
        "peak_rss_mb": peak_mb,
    }


def digests(res) -> dict:
    """sha256 of the run's merge times, banks and transfer rows (in finish order), to compare runs
    bit for bit across engines and trees without keeping them."""
    import hashlib

    import numpy as np

    rec, flows = res.recorder, hashlib.sha256()
    if hasattr(rec, "columns"):
        cols = rec.columns()
    else:  # a tree from before Recorder.columns: the same rows, sorted the same way
        raw = rec._bulk if rec._bulk is not None else {k: getattr(rec, k) for k in ("start", "end", "src", "dst", "nbytes")}
        raw = {k: np.asarray(raw[k], dtype=np.int64 if k in ("src", "dst") else np.float64) for k in raw}
        order = np.lexsort((raw["dst"], raw["src"], raw["start"], raw["end"]))
        cols = {k: raw[k][order] for k in ("start", "end", "src", "dst", "nbytes")}
    for col in cols.values():
        flows.update(np.ascontiguousarray(col).tobytes())
    return {"known_at_sha256": hashlib.sha256(np.ascontiguousarray(res.known_at, dtype=np.float64).tobytes()).hexdigest(),
            "held_sha256": hashlib.sha256(np.ascontiguousarray(res.held, dtype=np.bool_).tobytes()).hexdigest(),
            "flows_sha256": flows.hexdigest()}


def same_as_before(row: dict, old: dict) -> None:
    """Stop unless the tree under test gives the old tree's run to the last bit (wall time aside)."""
    if old["wall_s"] and row["wall_s"]:
        differ = {k: (old.get(k), row.get(k)) for k in SAME_AS_BEFORE if old.get(k) != row.get(k)}
        if differ:
            raise SystemExit(f"{row['protocol']} {row['graph']} N {row['n']} differs from {old['tree']}: {differ}")
        print(f"same   {row['protocol']:10} {row['graph']:12} N {row['n']}: {', '.join(SAME_AS_BEFORE)} as at {old['tree']}")


def run_case(protocol: str, kind: str, n: int, timeout_s: float, engine: str = "auto", variant: str = "plain",
             tree: Path | None = None) -> dict:
    """Run one case in a fresh process (on the source tree `tree`, default this one); a case over
    the time limit is reported as such."""
    cmd = [sys.executable, __file__, "--one", protocol, kind, str(n), engine, variant]
    env = dict(os.environ, SKILL_SIM_BENCH_ROOT=str(tree or ROOT), PYTHONPATH=str(tree or ROOT))
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s, check=True, env=env)
    except subprocess.TimeoutExpired:
        return {"protocol": protocol, "graph": kind, "n": n, "wall_s": None, "note": f"over {timeout_s:.0f} s limit"}
    except subprocess.CalledProcessError as err:
        return {"protocol": protocol, "graph": kind, "n": n, "wall_s": None, "note": err.stderr[-500:]}
    return json.loads(out.stdout.strip().splitlines()[-1])


def export_tree(ref: str) -> Path:
    """The sources of git revision `ref` in a temporary folder (git archive: no worktree is made)."""
    import tempfile

    folder = Path(tempfile.mkdtemp(prefix="skill-sim-before-"))
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", ref], capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
    return folder


def growth(rows: list[dict]) -> list[dict]:
    """Per protocol and graph: wall-time ratio and exponent between consecutive sizes."""
    import math

    out = []
    for key in sorted({(r["protocol"], r["graph"]) for r in rows}):
        series = sorted((r["n"], r["wall_s"]) for r in rows if (r["protocol"], r["graph"]) == key and r["wall_s"])
        for (n0, w0), (n1, w1) in zip(series, series[1:]):
            out.append({"protocol": key[0], "graph": key[1], "from_n": n0, "to_n": n1, "wall_ratio": w1 / w0,
                        "exponent": math.log(w1 / w0) / math.log(n1 / n0)})
    return out


def before_after(row: dict, protocol: str, kind: str, n: int, args, before_tree: Path) -> dict:
    """The case on the old tree right after `row`, then (--repeat) more pairs, interleaved: the
    machine's load moves both alike. Both rows keep every pair's wall and CPU seconds and report
    the least; the old row is returned, the runs checked equal to the last bit."""
    old = run_case(protocol, kind, n, args.before_timeout or args.timeout, args.engine, tree=before_tree)
    old.update(reference=True, tree=args.before)
    _print_row(old)
    same_as_before(row, old)
    for r in (row, old):
        r["wall_runs"], r["cpu_runs"] = [r["wall_s"]], [r.get("cpu_s")]
    for _ in range(args.repeat - 1):
        for r, tree in ((row, None), (old, before_tree)):
            again = run_case(protocol, kind, n, args.timeout if tree is None else args.before_timeout or args.timeout,
                             args.engine, tree=tree)
            r["wall_runs"].append(again["wall_s"])
            r["cpu_runs"].append(again.get("cpu_s"))
    for r in (row, old):
        if None not in r["wall_runs"]:
            r["wall_s"], r["cpu_s"] = min(r["wall_runs"]), min(r["cpu_runs"])
    if old["wall_s"] and row["wall_s"]:
        row["wall_vs_before"], row["cpu_vs_before"] = row["wall_s"] / old["wall_s"], row["cpu_s"] / old["cpu_s"]
        print(f"before {protocol:10} {kind:12} N {n}: least of {args.repeat}: wall {row['wall_s']:.2f} s now, "
              f"{old['wall_s']:.2f} s at {args.before} (x{row['wall_vs_before']:.3f}); CPU {row['cpu_s']:.2f} s vs "
              f"{old['cpu_s']:.2f} s (x{row['cpu_vs_before']:.3f})", flush=True)
    return old


def _print_row(row: dict) -> None:
    """One line of the table."""
    if row["wall_s"] is None:
        print(f"{row['protocol']:10} {row['graph']:12} {row['n']:>5} {row['note']}")
        return
    print(f"{row['protocol']:10} {row['graph']:12} {row['n']:>5} {row['engine']:>8} {row['wall_s']:8.2f} "
          f"{row.get('cpu_s', float('nan')):8.2f} "
          f"{row['events']:9d} {row['events_per_s']:8.0f} {row['transfers']:9d} {row['deliveries']:11d} "
          f"{row['makespan_s']:9.1f} {row['peak_rss_mb']:7.0f}", flush=True)


def main() -> None:
    """Run the grid, print a table, write the JSON."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[51, 500, 5000])
    parser.add_argument("--protocols", nargs="+", default=["flood", "push_pull"])
    parser.add_argument("--graphs", nargs="+", default=["ring", "small_world"])
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds allowed per case")
    parser.add_argument("--big", type=int, default=5000, help="from this N on, run only --big-graphs")
    parser.add_argument("--big-graphs", nargs="+", default=["small_world"],
                        help="graphs run at N >= --big (the issue's N=5000 target is small world)")
    parser.add_argument("--variants", nargs="*", default=[], choices=["per_package", "agent_nics", "all_nics", "serial_broadcast"],
                        help="network variants to run on SimPy at --variant-n")
    parser.add_argument("--variant-n", type=int, nargs="+", default=[500], help="sizes of the variant runs")
    parser.add_argument("--engine", default="auto", choices=["auto", "simpy", "compiled"], help="engine of the grid cases")
    parser.add_argument("--before", metavar="REF", help="also run the compiled, N >= --big and variant cases on git "
                        "revision REF, right after each (all but the variants must match it to the last bit)")
    parser.add_argument("--before-timeout", type=float, help="seconds allowed per case on REF (default: --timeout)")
    parser.add_argument("--repeat", type=int, default=1, help="with --before: before/after pairs per case (least kept)")
    parser.add_argument("--json", "--out", dest="json", type=Path, default=RESULTS, help="where to write the results")
    parser.add_argument("--one", nargs=5, metavar=("PROTOCOL", "GRAPH", "N", "ENGINE", "VARIANT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_one(args.one[0], args.one[1], int(args.one[2]), args.one[3], variant=args.one[4])))
        return
    before_tree = export_tree(args.before) if args.before else None
    warm = {}
    for protocol in args.protocols if args.engine != "simpy" else ():  # loads (or first compiles) each loop
        warm[protocol] = run_case(protocol, "ring", 200, args.timeout, "compiled")["wall_s"]
        if before_tree:
            run_case(protocol, "ring", 200, args.timeout, "compiled", tree=before_tree)
        print(f"compiled {protocol} loop ready in {warm[protocol] or float('nan'):.1f} s (numba compiles it on "
              "the first run after an install or an edit, then loads it from its cache)")
    rows = []
    header = f"{'protocol':10} {'graph':12} {'N':>5} {'engine':>8} {'wall s':>8} {'cpu s':>8} {'events':>9} {'ev/s':>8} {'flows':>9} {'deliveries':>11} {'makespan':>9} {'RSS MB':>7}"
    print(header)
    for n in args.sizes:
        for kind in args.graphs if n < args.big else [g for g in args.graphs if g in args.big_graphs]:
            for protocol in args.protocols:
                row = run_case(protocol, kind, n, args.timeout, args.engine)
                row["reference"] = False
                rows.append(row)
                _print_row(row)
                if before_tree and (n >= args.big or row.get("engine") == "compiled"):
                    old = before_after(row, protocol, kind, n, args, before_tree)
                    rows.append(old)
                    if n >= args.big:
                        continue
                if row.get("engine") == "compiled" and n < args.big:  # the same case on SimPy, for the ratio
                    ref = run_case(protocol, kind, n, args.timeout, "simpy")
                    ref["reference"] = True
                    rows.append(ref)
                    _print_row(ref)
    for variant, variant_n in ((v, n) for n in args.variant_n for v in args.variants):
        for protocol in args.protocols[:1] if variant == "serial_broadcast" else args.protocols:
            row = run_case(protocol, "small_world", variant_n, args.timeout, "simpy", variant)
            row["reference"] = False
            rows.append(row)
            print(f"{variant:12}", end=" ")
            _print_row(row)
            if before_tree:  # the same variant on the old tree, right after
                old = run_case(protocol, "small_world", variant_n, args.before_timeout or args.timeout, "simpy",
                               variant, tree=before_tree)
                old.update(reference=True, tree=args.before, variant=variant)
                rows.append(old)
                print(f"{variant:12}", end=" ")
                _print_row(old)
                if old["wall_s"] and row["wall_s"]:
                    row["wall_vs_before"] = row["wall_s"] / old["wall_s"]
    for row in rows:
        if row.get("tree") or row.get("variant", "plain") != "plain":
            continue
        if row["reference"] and not row["wall_s"]:  # no reference: the engines' agreement is unchecked
            raise SystemExit(f"the SimPy reference of {row['protocol']} {row['graph']} N {row['n']} did not finish "
                             f"({row.get('note', '')}); raise --timeout")
        if row["reference"]:
            fast = next(r for r in rows if not r["reference"] and r.get("variant", "plain") == "plain"
                        and (r["protocol"], r["graph"], r["n"]) == (row["protocol"], row["graph"], row["n"]))
            if fast["wall_s"]:
                row["compiled_speedup"] = row["wall_s"] / fast["wall_s"]
                print(f"ratio  {row['protocol']:10} {row['graph']:12} N {row['n']}: compiled loop "
                      f"{row['compiled_speedup']:.1f}x faster than the SimPy engine")
                same = {k: (row[k], fast[k]) for k in AGREE + DIGESTS if row[k] != fast[k]}
                if same:  # the compiled loop must give the SimPy engine's answer
                    raise SystemExit(f"engines disagree on {row['protocol']} {row['graph']} N {row['n']}: {same}")
                print(f"agree  {row['protocol']:10} {row['graph']:12} N {row['n']}: same "
                      f"{', '.join(AGREE + DIGESTS)} on both engines")
    grow = growth([r for r in rows if not r["reference"] and r.get("variant", "plain") == "plain"])
    for g in grow:
        print(f"growth {g['protocol']:10} {g['graph']:12} N {g['from_n']} -> {g['to_n']}: "
              f"wall x{g['wall_ratio']:.1f} (N^{g['exponent']:.2f})")
    payload = {"machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
               "costs": {"package_bytes": PACKAGE_BYTES, "task_macs": TASK_MACS, "rate": RATE,
                         "bandwidth": BANDWIDTH, "latency": LATENCY, "push_pull_period_s": PERIOD_S},
               "compiled_loop_warmup_s": warm, "runs": rows, "growth": grow}
    args.json.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.json.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(payload, indent=2))
    tmp.replace(args.json)
    print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
