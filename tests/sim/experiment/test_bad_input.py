"""Bad input through the `skill-sim` CLI: every case exits 2, shows no traceback, names the field or
file at fault, and is refused before any learning (the checks come first, so each case is quick).

Each case is a small scenario text plus arguments; `{tmp}` in the arguments is the test's folder and
`{scenario}` the scenario file written there. The base scenario is valid (checked below), so each
case fails for its one change only.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from sim.experiment.cli import main

BASE = """\
name: bad
agents: {count: 4}
tasks: {suite: digits, num_tasks: 4}
topology: {family: ring}
"""

# The same agents and graph with a cost-only workload: a count of tasks, and an explicit list.
SYNTHETIC = """\
name: bad
agents: {count: 4}
workload: {kind: synthetic, tasks: 4, teacher_macs: 1.0e9, package_bytes: 1000}
topology: {family: ring}
"""
SYNTHETIC_LIST = """\
name: bad
agents: {count: 4}
workload:
  kind: synthetic
  tasks:
  - {owner: 0, macs: 1.0e9, bytes: 1000}
  - {owner: 1, macs: 2.0e9, bytes: 5000}
topology: {family: ring}
"""

# A GraphML graph of 3 nodes (the base scenario has 4 agents).
GRAPHML_3 = """\
<?xml version="1.0" encoding="UTF-8"?>
<graphml xmlns="http://graphml.graphdrawing.org/xmlns">
  <graph edgedefault="undirected">
    <node id="0"/><node id="1"/><node id="2"/>
    <edge source="0" target="1"/><edge source="1" target="2"/><edge source="2" target="0"/>
  </graph>
</graphml>
"""


# A GraphML ring of 4 nodes whose node 2 has an uplink cap ({up}).
GRAPHML_4_CAPS = """\
<?xml version="1.0" encoding="UTF-8"?>
<graphml xmlns="http://graphml.graphdrawing.org/xmlns">
  <key id="up" for="node" attr.name="uplink" attr.type="double"/>
  <graph edgedefault="undirected">
    <node id="0"/><node id="1"/><node id="2"><data key="up">{up}</data></node><node id="3"/>
    <edge source="0" target="1"/><edge source="1" target="2"/><edge source="2" target="3"/><edge source="3" target="0"/>
  </graph>
</graphml>
"""


@dataclass(frozen=True)
class Case:
    """One bad input: scenario text, CLI arguments after the command, and what the message names."""

    args: tuple[str, ...] = ()
    text: str | bytes = BASE
    names: tuple[str, ...] = ()
    command: str = "validate"
    files: dict[str, str] = field(default_factory=dict)


def s(*overrides: str, names: tuple[str, ...] | str, base: str = BASE, **kw) -> Case:
    """A case made of `--set` overrides on the base scenario (or on `base`)."""
    args = tuple(a for o in overrides for a in ("--set", o))
    return Case(args=args, text=base, names=(names,) if isinstance(names, str) else names, **kw)


def y(extra: str, names: tuple[str, ...] | str, base: str = BASE, **kw) -> Case:
    """A case made of YAML text appended to the base scenario (sections the base does not have)."""
    return Case(text=base + extra, names=(names,) if isinstance(names, str) else names, **kw)


CASES: dict[str, Case] = {
    # --- types that mean nothing: strict booleans, integers and numbers ---
    "count-true": s("agents.count=true", names="agents.count"),
    "count-float": s("agents.count=2.0", names="agents.count"),
    "count-string": s('agents.count="3"', names="agents.count"),
    "count-zero": s("agents.count=0", names="agents.count"),
    "count-negative": s("agents.count=-3", names="agents.count"),
    "count-in-file-true": y("", base=BASE.replace("count: 4", "count: true"), names="agents.count"),
    "rate-inf": s("agents.rate_macs_per_s=.inf", names="agents.rate_macs_per_s"),
    "rate-nan": s("agents.rate_macs_per_s=.nan", names="agents.rate_macs_per_s"),
    "rate-zero": s("agents.rate_macs_per_s=0", names="agents.rate_macs_per_s"),
    "rate-text": s("agents.rate_macs_per_s=fast", names="agents.rate_macs_per_s"),
    "alpha-inf": s("alpha=.inf", names="alpha"),
    "alpha-nan": s("alpha=.nan", names="alpha"),
    "alpha-negative": s("alpha=-1", names="alpha"),
    "alpha-empty-list": s("alpha=[]", names="alpha"),
    "alpha-list-with-inf": s("alpha=[10, .inf]", names="alpha"),
    "alpha-quoted": s('alpha="1e3"', names="alpha"),
    "run-alpha-flag-inf": Case(args=("--alpha", "inf"), names=("alpha",), command="run"),
    "run-alpha-flag-list": Case(args=("--alpha", "1e3,1e4"), command="run",
                                names=("--alpha", "run takes one alpha", "`skill-sim sweep --alpha 1e3,1e4`")),
    "seed-flag-negative": Case(args=("--seed", "-1"), names=("seed",)),
    "seed-float": s("seed=1.5", names="seed"),
    "loss-timeout-inf": s("network.loss_timeout_s=.inf", names="network.loss_timeout_s"),
    "loss-timeout-negative": s("network.loss_timeout_s=-1", names="network.loss_timeout_s"),
    "max-retries-float": s("network.max_retries=1.5", names="network.max_retries"),
    "reliable-int": s("network.reliable=1", names="network.reliable"),
    "network-mode": s("network.mode=fast", names="network.mode"),
    "network-sharing": s("network.sharing=fair", names="network.sharing"),
    "uplink-zero": s("network.uplink=0", names="network.uplink"),
    "bb-enabled-int": s("learner.bb.enabled=1", names="learner.bb.enabled"),
    # --- knowledge reuse (issue 15): a suite or engine that cannot serve it, refused before learning ---
    "reuse-names-on-distinct-names": s("learner.reuse.enabled=true", names=("learner.reuse.match", "digits"),
                                       command="run"),
    "reuse-names-threshold-validate": s("learner.reuse.enabled=true", "learner.reuse.threshold=1",
                                        names=("learner.reuse.match", "threshold 1")),
    "reuse-compiled-engine": s("learner.reuse.enabled=true", "learner.reuse.match=visual", "engine=compiled",
                               names=("engine='compiled'", "learner.reuse.enabled"), command="run"),
    "reuse-synthetic": s("learner.reuse.enabled=true", base=SYNTHETIC, names=("learner", "synthetic workload"),
                         command="run"),
    "reuse-match": s("learner.reuse.match=colour", names="learner.reuse.match"),
    "reuse-threshold-zero": s("learner.reuse.threshold=0", names="learner.reuse.threshold"),
    "reuse-shots-zero": s("learner.reuse.shots=0", names="learner.reuse.shots"),
    "plots-int": s("output.plots=1", names="output.plots"),
    "num-tasks-true": s("tasks.num_tasks=true", names="tasks.num_tasks"),
    "head-epochs-float": s("learner.head.epochs=2.5", names="learner.head.epochs"),
    "head-lr-zero": s("learner.head.lr=0", names="learner.head.lr"),
    # --- failures: no nan, inf nowhere, agents and links that exist ---
    "recover-nan": s("failures.agents.scheduled=[{agent: 1, at_s: 5, recover_at_s: .nan}]",
                     names="failures.agents.scheduled.0.recover_at_s"),
    "recover-inf": s("failures.agents.scheduled=[{agent: 1, at_s: 5, recover_at_s: .inf}]",
                     names="failures.agents.scheduled.0.recover_at_s"),
    "recover-before-crash": s("failures.agents.scheduled=[{agent: 1, at_s: 5, recover_at_s: 2}]",
                              names=("failures.agents.scheduled.0", "recover_at_s")),
    "crash-no-such-agent": s("failures.agents.scheduled=[{agent: 9, at_s: 5}]",
                             names="failures.agents.scheduled[0].agent"),
    "outage-end-nan": s("failures.links.scheduled=[{edge: [0, 1], start_s: 1, end_s: .nan}]",
                        names="failures.links.scheduled.0.end_s"),
    "outage-end-inf": s("failures.links.scheduled=[{edge: [0, 1], start_s: 1, end_s: .inf}]",
                        names="failures.links.scheduled.0.end_s"),
    "outage-ends-before-start": s("failures.links.scheduled=[{edge: [0, 1], start_s: 5, end_s: 5}]",
                                  names=("failures.links.scheduled.0", "end_s")),
    "outage-no-such-edge": s("failures.links.scheduled=[{edge: [0, 2], start_s: 1, end_s: 2}]",
                             names="failures.links.scheduled[0].edge"),
    "outage-edge-of-bools": s("failures.links.scheduled=[{edge: [true, 1], start_s: 1, end_s: 2}]",
                              names="failures.links.scheduled.0.edge"),
    "partition-no-such-edge": s("failures.partitions=[{edges: [[0, 1], [1, 3]], start_s: 1, end_s: 2}]",
                                names="failures.partitions[0].edges"),
    "random-failures-non-agents": s("failures.agents.random={mtbf_s: 10, agents: [1, 7]}",
                                    names="failures.agents.random.agents"),
    "random-failures-mtbf-zero": s("failures.agents.random={mtbf_s: 0}", names="failures.agents.random.mtbf_s"),
    "random-links-need-mttr": s("failures.links.random={mtbf_s: 10}", names="failures.links.random.mttr_s"),
    "horizon-inf": s("failures.horizon_s=.inf", names="failures.horizon_s"),
    "horizon-nan": s("failures.horizon_s=.nan", names="failures.horizon_s"),
    # --- gossip ---
    "protocol-unknown": s("gossip.protocol=gossipy", names="gossip"),
    "broadcast-on-a-ring": s("gossip.protocol=broadcast", names="gossip.protocol"),
    "push-fanout-above-degree": s("gossip={protocol: push, fanout: 3}", names="gossip.fanout"),
    "push-pull-period-inf": s("gossip={protocol: push_pull, period_s: .inf}", names="gossip.period_s"),
    "flood-has-no-fanout": s("gossip={protocol: flood, fanout: 2}", names="gossip.fanout"),
    # --- typos and unknown keys ---
    "typo-top-level": y("agnets: {count: 3}\n", names=("agnets", "agents")),
    "typo-nested": s("agents.cuont=3", names=("agents.cuont", "count")),
    "unknown-section": y("network_settings: {}\n", names="network_settings"),
    # --- topology ---
    "family-typo": s("topology.family=rnig", names=("topology.family", "ring")),
    "family-param-unknown": s("topology.params={k: 4}", names=("k", "ring")),
    "small-world-k-too-large": s("topology={family: small_world, params: {k: 6}}", names=("topology", "k=6")),
    "erdos-renyi-p-nan": s("topology={family: erdos_renyi, params: {p: .nan}}", names="topology.params.p"),
    "file-without-path": s("topology.family=file", names=("family 'file'", "path")),
    "file-missing": s("topology={family: file, path: nowhere.graphml}", names="nowhere.graphml"),
    "graphml-fewer-nodes": Case(args=("--set", "topology={family: file, path: three.graphml}"),
                                files={"three.graphml": GRAPHML_3}, names=("3 nodes", "agents.count")),
    "edgelist-fewer-nodes": Case(args=("--set", "topology={family: file, path: three.txt}"),
                                 files={"three.txt": "0 1\n1 2\n"}, names=("3 nodes", "agents.count")),
    "bandwidth-negative": s("topology.links.bandwidth=-1", names="topology.links.bandwidth"),
    "bandwidth-inf": s("topology.links.bandwidth=.inf", names="topology.links.bandwidth"),
    "loss-above-one": s("topology.links.loss=1.5", names="topology.links.loss"),
    "latency-dist-nan": s("topology.links.latency={dist: uniform, low: 0.01, high: .nan}",
                          names="topology.links.latency.high"),
    # --- tasks and learner ---
    "suite-unknown": s("tasks.suite=imagenet", names="tasks.suite"),
    "num-tasks-above-suite": s("tasks.num_tasks=6", names=("tasks", "num_tasks=6")),
    "num-tasks-above-distinct": s("tasks={suite: distinct, num_tasks: 30000}", names=("num_tasks=30000", "26168")),
    "folder-without-path": s("tasks={suite: folder}", names="tasks.path"),
    "folder-missing": s("tasks={suite: folder, path: /no/such/folder}", names=("tasks.path", "/no/such/folder")),
    "folder-without-tasks": Case(args=("--set", "tasks={suite: folder, path: {tmp}/empty}"),
                                 files={"empty/.keep": ""}, names=("tasks.path", "no task sub-folders")),
    "train-per-class-one": s("tasks.train_per_class=1", names="tasks.train_per_class"),
    "suite-image-size-tiny": s("tasks.image_size=4", names="tasks.image_size"),
    "mapper-kind-unknown": s("learner.mapper.kind=kmeans", names="learner.mapper"),
    "mapper-foreign-key": s("learner.mapper={kind: mahalanobis, k: 5}", names="learner.mapper.k"),
    "preset-unknown": s("learner.preset=papr", names=("learner.preset", "papr", "default", "paper")),
    "share-images-on-gmmc": s("learner.mapper.share=images", names=("learner.mapper.share", "images", "clusters")),
    "share-unknown": s("learner.mapper={kind: mahalanobis, share: pixels}",
                       names=("learner.mapper.share", "pixels", "features", "images")),
    "exemplars-rule-unknown": s("learner.mapper={kind: mahalanobis, exemplars: nearest}",
                                names=("learner.mapper.exemplars", "nearest", "random", "herding")),
    "exemplars-as-count": s("learner.mapper={kind: mahalanobis, exemplars: 5}", names=("learner.mapper", "m: 5")),
    "m-above-class-images": s("learner.mapper={kind: mahalanobis, m: 500}",
                              names=("learner.mapper.m", "500", "m <= 122")),
    "m-above-train-per-class": s("tasks.train_per_class=20", "learner.mapper={kind: mahalanobis, m: 30}",
                                 names=("learner.mapper.m = 30", "(tasks.train_per_class = 20)", "m <= 20")),
    "gmmc-prior-unknown": s("learner.mapper.prior=size", names=("learner.mapper.prior", "uniform", "samples")),
    "dtype-unknown": s("learner.dtype=fp8", names="learner.dtype"),
    "device-unknown": s("learner.device=gpu", names="learner.device"),
    "weights-missing-file": s("learner.backbone.weights=/no/such/weights.pt", names="learner.backbone.weights"),
    "backbone-image-size": s("learner.backbone.image_size=2000", names="learner.backbone.image_size"),
    "preset-unknown": s("learner.preset=papr", names=("learner.preset", "papr", "'paper'")),
    "bb-layers-match-nothing": s("learner.bb={enabled: true, layers: 'blocks.9*'}",
                                 names=("learner.bb.layers", "blocks.9*", "'last_half'", "fnmatch")),
    "bb-layers-one-pattern-of-two": s("learner.bb={enabled: true, layers: 'conv_head,head*'}",
                                      names=("learner.bb.layers", "'head*'", "conv_head")),
    # --- agents and assignment ---
    "explicit-too-few-lists": s("agents.assignment={kind: explicit, tasks: [[0], [1], [2, 3]]}",
                                names="agents.assignment"),
    "explicit-leaves-tasks-out": s("agents.assignment={kind: explicit, tasks: [[0], [1], [2], []]}",
                                   names=("agents.assignment.tasks", "3")),
    "explicit-task-does-not-exist": s("agents.assignment={kind: explicit, tasks: [[9], [1], [2], [0, 3]]}",
                                      names=("agents.assignment.tasks[0]", "task 9")),
    "explicit-task-twice": s("agents.assignment={kind: explicit, tasks: [[0], [0], [1], [2, 3]]}",
                             names=("agents.assignment.tasks", "task 0")),
    "assignment-kind-unknown": s("agents.assignment={kind: random}", names="agents.assignment"),
    "override-no-such-agent": s("agents.overrides=[{agent: 7, rate_macs_per_s: 1.0e9}]",
                                names=("agents", "overrides[0].agent = 7")),
    "override-rate-inf": s("agents.overrides=[{agent: 1, rate_macs_per_s: .inf}]",
                           names="agents.overrides.0.rate_macs_per_s"),
    "override-uplink-zero": s("agents.overrides=[{agent: 1, uplink: 0}]", names=("agents.overrides.0.uplink", "0")),
    "override-downlink-negative": s("agents.overrides=[{agent: 1, downlink: -5.0}]",
                                    names=("agents.overrides.0.downlink", "-5")),
    "override-uplink-nan": s("agents.overrides=[{agent: 1, uplink: .nan}]", names="agents.overrides.0.uplink"),
    "override-nic-no-such-agent": s("agents.overrides=[{agent: 4, downlink: 1.0e6}]",
                                    names=("agents", "overrides[0].agent = 4", "0..3")),
    "nic-default-distribution-bad": s("network.uplink={dist: uniform, low: 0, high: 1.0e6}",
                                      names=("network.uplink", "uplink=0", "> 0")),
    "nic-default-dist-unknown": s("network.downlink={dist: zipf, a: 2}", names=("network.downlink", "zipf", "uniform")),
    "graphml-node-uplink-zero": Case(args=("--set", "topology={family: file, path: caps.graphml}"),
                                     files={"caps.graphml": GRAPHML_4_CAPS.format(up="0")},
                                     names=("caps.graphml", "agent 2", "uplink", "> 0")),
    "graphml-node-uplink-nan": Case(args=("--set", "topology={family: file, path: caps.graphml}"),
                                    files={"caps.graphml": GRAPHML_4_CAPS.format(up="NaN")},
                                    names=("caps.graphml", "agent 2", "uplink")),
    "streams-unknown": s("network.streams=per_flow", names=("network.streams", "per_package")),
    "engine-compiled-per-package": s("engine=compiled", "network.streams=per_package", names=("engine", "per_package")),
    "engine-compiled-agent-nic": s("engine=compiled", "agents.overrides=[{agent: 1, uplink: 1.0e6}]",
                                   names=("engine", "agent 1")),
    "too-large-for-memory": s("agents.count=10000000", names=("agents.count", "GB")),
    # --- name, engine, timing ---
    "name-empty": s('name=""', names="name"),
    "name-with-slash": s("name=a/b", names="name"),
    # a name is one folder under runs/: climbing out, an absolute path or a hidden folder is refused,
    # naming the file, the field, the value and the pattern a name must match
    "name-climbs-out-of-runs": y("", base=BASE.replace("name: bad", "name: ../../x"), command="run",
                                 names=("{scenario}", "name = '../../x'", "[A-Za-z0-9_][A-Za-z0-9_.-]*")),
    "name-absolute-path": y("", base=BASE.replace("name: bad", "name: /tmp/x"), command="run",
                            names=("{scenario}", "name = '/tmp/x'", "[A-Za-z0-9_][A-Za-z0-9_.-]*")),
    "name-hidden-folder": s("name=.x", names=("name = '.x'", "no leading '.'")),
    "name-with-space": s("name=my run", names=("name = 'my run'", "letters, digits")),
    "name-200-kb": s("name=" + "x" * 200_000, names="name"),
    "value-nested-deeply": s("name=" + "[" * 5000 + "]" * 5000, names="name"),
    "engine-unknown": s("engine=turbo", names="engine"),
    "engine-compiled-where-it-cannot": s("engine=compiled", "network.serial_receive=true", names="engine"),
    "engine-compiled-mahalanobis": s("engine=compiled", "learner.mapper={kind: mahalanobis}",
                                     names=("engine", "mahalanobis", "merges in batches")),
    "timing-unknown": s("timing=wallclock", names="timing"),
    # --- --set itself ---
    "set-without-equals": Case(args=("--set", "agents.count"), names=("--set", "key.path=value")),
    "set-into-a-number": s("agents.count.x=3", names=("--set", "count")),
    "set-duplicate-key": s("agents={count: 2, count: 3}", names=("duplicate key", "count")),
    # --- the file itself ---
    "file-not-utf8": Case(text=bytes(range(128, 256)) * 4, names=("{scenario}", "UTF-8")),
    "file-empty": Case(text="", names=("{scenario}", "empty scenario file")),
    "file-only-comments": Case(text="# nothing here\n", names=("{scenario}", "empty scenario file")),
    "file-duplicate-top-level-key": y("agents: {count: 2}\n", names=("{scenario}", "duplicate key 'agents'", "line 5")),
    "file-duplicate-nested-key": Case(text=BASE.replace("count: 4", "count: 4, count: 5"),
                                      names=("duplicate key 'count'", "line 2")),
    "file-top-level-list": Case(text="- agents\n- tasks\n", names=("{scenario}", "top level")),
    "file-indented-with-a-tab": Case(text=BASE.replace("agents: {count: 4}", "agents:\n\tcount: 4"),
                                     names=("{scenario}", "not valid YAML", "spaces, never tabs", "line 3")),
    "file-bad-yaml": Case(text="agents: {count: 4\n", names=("{scenario}", "not valid YAML")),
    "file-missing": Case(args=(), text=None, names=("{scenario}", "no such scenario file")),  # type: ignore[arg-type]
    # --- folders the run writes ---
    "run-out-is-a-file": Case(args=("--out", "{tmp}/taken"), files={"taken": "x"}, names=("--out", "taken"),
                              command="run"),
    "run-out-inside-a-file": Case(args=("--out", "{tmp}/taken/run"), files={"taken": "x"},
                                  names=("--out", "taken"), command="run"),
    "run-cache-is-a-file": Case(args=("--cache", "{tmp}/cachefile"), files={"cachefile": "x"},
                                names=("--cache", "cachefile"), command="run"),
    "run-output-dir-is-a-file": Case(args=("--set", "output.dir={tmp}/taken"), files={"taken": "x"},
                                     names=("output.dir", "taken"), command="run"),
    "sweep-out-is-a-file": Case(args=("--out", "{tmp}/taken"), files={"taken": "x"}, names=("--out", "taken"),
                                command="sweep"),
    "sweep-alpha-flag-inf": Case(args=("--alpha", "10,inf"), names=("--alpha",), command="sweep"),
    # --- run refuses before learning what validate refuses ---
    "run-explicit-leaves-tasks-out": s("agents.assignment={kind: explicit, tasks: [[0], [1], [2], []]}",
                                       names="agents.assignment.tasks", command="run"),
    "run-outage-no-such-edge": s("failures.links.scheduled=[{edge: [0, 2], start_s: 1, end_s: 2}]",
                                 names="failures.links.scheduled[0].edge", command="run"),
    "run-loss-timeout-inf": s("network.loss_timeout_s=.inf", names="network.loss_timeout_s", command="run"),
    "run-graphml-fewer-nodes": Case(args=("--set", "topology={family: file, path: three.graphml}"),
                                    files={"three.graphml": GRAPHML_3}, names=("3 nodes",), command="run"),
    "run-crash-no-such-agent": s("failures.agents.scheduled=[{agent: 9, at_s: 5}]",
                                 names="failures.agents.scheduled[0].agent", command="run"),
    # --- validate refuses what run refuses before learning (issue 10 review) ---
    **{f"{cmd}-{name}": Case(**{**kw, "command": cmd}) for cmd in ("validate", "run") for name, kw in {
        "output-dir-is-a-file": dict(args=("--set", "output.dir={tmp}/garbage.yaml"), files={"garbage.yaml": "x"},
                                     names=("output.dir", "garbage.yaml", "a file")),
        "backbone-without-offline-weights": dict(args=("--set", "learner.backbone.name=resnet18"),
                                                 names=("learner.backbone.name", "resnet18", "offline")),
        "backbone-not-in-timm": dict(args=("--set", "learner.backbone.name=nonexistent_model",
                                           "--set", "learner.backbone.weights=random"),
                                     names=("learner.backbone.name", "nonexistent_model", "not a timm model")),
        "fashion-mnist-folder-without-idx-files": dict(
            args=("--set", "tasks={suite: fashion_mnist, num_tasks: 2, path: {tmp}/bad}"), files={"bad/.keep": ""},
            names=("tasks", "train-images-idx3-ubyte", "not found")),
        "out-not-writable": dict(args=("--out", "/proc/nope"), names=("--out", "/proc/nope", "cannot be written")),
        "cache-not-writable": dict(args=("--cache", "/proc/nope"), names=("--cache", "/proc/nope", "cannot be written")),
        "out-empty": dict(args=("--out", ""), names=("--out", "empty path")),
        "cache-empty": dict(args=("--cache", ""), names=("--cache", "empty path")),
        "out-holds-other-files": dict(args=("--out", "{tmp}/mine"), files={"mine/thesis.tex": "x"},
                                      names=("--out", "mine", "not a skill-sim run")),
        "alpha-listed-twice": dict(args=("--set", "alpha=[10, 1e3, 10]"), names=("alpha", "10", "twice")),
        "events-csv-yes": dict(args=("--set", "output.events_csv=yes"), names=("output.events_csv", "'yes'")),
        "plots-on-in-file": dict(text=BASE + "output: {plots: on}\n", names=("output.plots", "'on'")),
        "explicit-task-twice-to-one-agent": dict(
            args=("--set", "agents.assignment={kind: explicit, tasks: [[0, 0], [1], [2], [3]]}"),
            names=("agents.assignment.tasks[0]", "task 0 twice")),
    }.items()},
    "sweep-alpha-flag-twice": Case(args=("--alpha", "10,10"), names=("--alpha", "alpha 10 given twice"), command="sweep"),
    # --- a synthetic workload (costs given, nothing learned) ---
    "synthetic-owner-out-of-range": y("", base=SYNTHETIC_LIST.replace("owner: 1", "owner: 7"), command="run",
                                      names=("{scenario}", "workload.tasks[1].owner = 7", "0..3")),
    "synthetic-negative-macs": y("", base=SYNTHETIC_LIST.replace("macs: 2.0e9", "macs: -5"),
                                 names=("workload.tasks.1.macs = -5", "greater than or equal to 0")),
    "synthetic-zero-bytes": y("", base=SYNTHETIC_LIST.replace("bytes: 5000", "bytes: 0"),
                              names=("workload.tasks.1.bytes = 0", "greater than or equal to 1")),
    "synthetic-negative-teacher": s("workload.teacher_macs=-1", base=SYNTHETIC, command="run",
                                    names=("{scenario}", "workload.teacher_macs = -1", ">= 0")),
    "synthetic-negative-student": s("workload.student_macs=-3", base=SYNTHETIC, names=("workload.student_macs", ">= 0")),
    "synthetic-nan-bytes": s("workload.package_bytes=.nan", base=SYNTHETIC, names="workload.package_bytes = nan"),
    "synthetic-unknown-dist": s("workload.teacher_macs={dist: gauss, mean: 1}", base=SYNTHETIC,
                                names=("workload.teacher_macs", "unknown dist 'gauss'", "uniform")),
    "synthetic-uniform-below-floor": s("workload.package_bytes={dist: uniform, low: 0, high: 9}", base=SYNTHETIC,
                                       names=("workload.package_bytes", "low = 0", ">= 1")),
    "synthetic-count-without-costs": y("", base=SYNTHETIC.replace("teacher_macs: 1.0e9, ", ""),
                                       names=("workload", "needs teacher_macs")),
    "synthetic-zero-tasks": s("workload.tasks=0", base=SYNTHETIC, names=("workload.tasks = 0", "greater than or equal to 1")),
    "synthetic-with-tasks": y("tasks: {suite: digits, num_tasks: 4}\n", base=SYNTHETIC, command="run",
                              names=("workload and tasks are both given", "drop one")),
    "synthetic-with-learner": s("learner.mapper.k=7", base=SYNTHETIC, names="workload and learner are both given"),
    "synthetic-wall-timing": s("timing=wall", base=SYNTHETIC, names=("timing = 'wall'", "timing: macs")),
    "synthetic-list-and-assignment": y("", base=SYNTHETIC_LIST.replace("agents: {count: 4}",
                                                                    "agents: {count: 4, assignment: {kind: blocks}}"),
                                       names=("agents.assignment", "drop agents.assignment")),
    "synthetic-list-and-costs": s("workload.package_bytes=10", base=SYNTHETIC_LIST,
                                  names=("package_bytes given with an explicit task list",)),
    "synthetic-unknown-kind": s("workload.kind=replay", base=SYNTHETIC, names=("workload", "'replay'", "'synthetic'")),
    "synthetic-typo": s("workload.package_byte=10", base=SYNTHETIC, names=("workload.package_byte", "package_bytes")),
    "synthetic-task-typo": y("", base=SYNTHETIC_LIST.replace("bytes: 5000", "byts: 5000"),
                             names=("workload.tasks.1.byts", "Did you mean 'bytes'")),
    # --- evaluation: accuracy over simulated time (sim.experiment.evaluation_config) ---
    "evaluation-negative-checkpoint": y("evaluation: {checkpoints: [0.5, -1.0]}\n", command="run",
                                        names=("{scenario}", "evaluation.checkpoints", "checkpoints[1] = -1.0", ">= 0")),
    "evaluation-unsorted-checkpoints": y("evaluation: {checkpoints: [0.5, 0.2]}\n",
                                         names=("{scenario}", "evaluation.checkpoints", "checkpoints[1] = 0.2",
                                                "increasing order")),
    "evaluation-repeated-checkpoint": y("evaluation: {checkpoints: [0.5, 0.5]}\n",
                                        names=("evaluation.checkpoints", "checkpoints[1] = 0.5", "each once")),
    "evaluation-empty-checkpoints": y("evaluation: {checkpoints: []}\n", names=("evaluation", "checkpoints is empty")),
    "evaluation-sample-above-count": y("evaluation: {every_s: 0.1, agents: {sample: 5}}\n", command="run",
                                       names=("{scenario}", "evaluation.agents.sample = 5", "4 agents",
                                              "agents: all")),
    "evaluation-sample-zero": y("evaluation: {every_s: 0.1, agents: {sample: 0}}\n",
                                names=("evaluation.agents", "sample = 0", "at least 1")),
    "evaluation-agents-word": y("evaluation: {every_s: 0.1, agents: some}\n",
                                names=("evaluation.agents = 'some'", "agents: all", "{sample: K}")),
    "evaluation-both-schedules": y("evaluation: {checkpoints: [1.0], every_s: 0.1}\n", command="run",
                                   names=("{scenario}", "evaluation", "both checkpoints and every_s")),
    "evaluation-no-schedule": y("evaluation: {agents: all}\n", names=("evaluation", "neither is given")),
    "evaluation-every-negative": y("evaluation: {every_s: -1.0}\n", names=("evaluation.every_s = -1.0", "greater than 0")),
    "evaluation-until-without-every": y("evaluation: {checkpoints: [1.0], until_s: 2.0}\n",
                                        names=("evaluation", "until_s goes with every_s")),
    "evaluation-too-many": y("evaluation: {every_s: 1.0e-9, until_s: 100.0}\n", names=("evaluation", "every_s = 1e-09",
                                                                                       "more than 10000")),
    "evaluation-typo": y("evaluation: {every_s: 0.1, per_agnt: true}\n",
                         names=("evaluation.per_agnt", "Did you mean 'per_agent'")),
    "evaluation-synthetic": y("evaluation: {every_s: 0.1}\n", base=SYNTHETIC, command="run",
                              names=("evaluation is given with a synthetic workload", "drop evaluation")),
}


def invoke(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    """Exit code and everything printed (argparse's own errors exit through SystemExit)."""
    try:
        code = main(argv)
    except SystemExit as exc:
        code = exc.code
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def setup(case: Case, tmp: Path) -> tuple[list[str], Path, Path]:
    """Write the case's files; return its argv, its scenario path and the cache folder it may use."""
    scenario = tmp / "scenario.yaml"
    if case.text is not None:
        if isinstance(case.text, bytes):
            scenario.write_bytes(case.text)
        else:
            scenario.write_text(case.text)
    for name, content in case.files.items():
        (tmp / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp / name).write_text(content)
    cache = tmp / "cache"
    args = [a.replace("{tmp}", str(tmp)) for a in case.args]
    argv = [case.command, str(scenario), *args]
    if case.command in ("run", "sweep"):
        if "--cache" not in args:
            argv += ["--cache", str(cache)]
        if "--out" not in args and not any(a.startswith("output.dir=") for a in args):
            argv += ["--out", str(tmp / "out")]
        argv.append("--quiet")
    return argv, scenario, cache


def test_the_table_has_at_least_60_cases_and_run_is_among_them():
    assert len(CASES) >= 60
    assert sum(c.command == "run" for c in CASES.values()) >= 5


@pytest.mark.parametrize("base", [BASE, SYNTHETIC, SYNTHETIC_LIST], ids=["learned", "synthetic", "synthetic-list"])
def test_the_base_scenario_is_valid(base, tmp_path, capsys):
    (tmp_path / "ok.yaml").write_text(base)
    code, text = invoke(["validate", str(tmp_path / "ok.yaml")], capsys)
    assert code == 0, text


@pytest.mark.parametrize("name", sorted(CASES))
def test_bad_input_exits_2_naming_the_field_before_any_learning(name, tmp_path, capsys):
    case = CASES[name]
    argv, scenario, cache = setup(case, tmp_path)
    start = time.perf_counter()
    code, text = invoke(argv, capsys)
    elapsed = time.perf_counter() - start
    assert code == 2, text
    assert "Traceback" not in text
    for needle in case.names:
        assert needle.replace("{scenario}", str(scenario)) in text, (needle, text)
    # short messages: a 200 KB value is not echoed back
    assert len(text) < 3000, text[:300]
    if case.command in ("run", "sweep"):
        # refused before learning: nothing was cached (and no learning takes this little time)
        assert not any(p.is_file() for p in cache.rglob("*")) if cache.is_dir() else True
        assert not (tmp_path / "out").exists()
        assert elapsed < 5.0


# Unions (a field that takes one of several shapes or kinds): one line each, naming the file, the
# field, the value and what is allowed, with none of pydantic's member names ("AgentSample",
# "literal['all']", "dict[str,any]", "Input tag ...").
UNIONS: dict[str, tuple[str, tuple[str, ...]]] = {
    "sample-typo": ("evaluation: {every_s: 0.1, agents: {sampel: 2}}\n",
                    ("evaluation.agents.sampel: unknown key", "Did you mean 'sample'?")),
    "reuse-as-a-boolean": ("learner: {reuse: true}\n",
                           ("learner.reuse = true", "a section", "`reuse: {enabled: true}`", "match, shots")),
    "bb-as-yes": ("learner: {bb: yes}\n", ("learner.bb = 'yes'", "`bb: {enabled: true}`")),
    "mapper-kind-typo": ("learner: {mapper: {kind: gmcc}}\n",
                         ("learner.mapper.kind = 'gmcc'", "unknown kind", "Did you mean 'gmmc'?",
                          "Allowed: 'gmmc', 'mahalanobis'")),
    "protocol-typo": ("gossip: {protocol: flod}\n",
                      ("gossip.protocol = 'flod'", "Did you mean 'flood'?", "'push_pull'")),
    "gossip-as-a-protocol-name": ("gossip: push_pull\n", ("gossip = 'push_pull'", "`gossip: {protocol: push_pull}`")),
    "mapper-as-a-kind-name": ("learner: {mapper: mahalanobis}\n",
                              ("learner.mapper = 'mahalanobis'", "`mapper: {kind: mahalanobis}`")),
    "mapper-as-a-number": ("learner: {mapper: 3}\n",
                           ("learner.mapper = 3", "`mapper: {kind: gmmc | mahalanobis, ...}`")),
    "bool-yes": ("output: {events_csv: yes}\n", ("output.events_csv = 'yes'", "true or false")),
    "bool-one": ("output: {plots: 1}\n", ("output.plots = 1", "true or false")),
    "bool-on-reuse": ("learner: {reuse: {enabled: on}}\n", ("learner.reuse.enabled = 'on'", "true or false")),
    "alpha-list-with-text": ("alpha: [10, x]\n", ("alpha.1 = 'x'", "valid number")),
    "alpha-mapping": ("alpha: {a: 1}\n", ("alpha = {'a': 1}", "expected a number or a list")),
    "latency-list": ("topology: {family: ring, links: {latency: [1]}}\n",
                     ("topology.links.latency = [1]", "expected a number or a mapping")),
    "mode-typo": ("network: {mode: explict}\n", ("network.mode = 'explict'", "Did you mean 'explicit'?")),
}


@pytest.mark.parametrize("name", sorted(UNIONS))
def test_a_union_error_is_one_line_naming_file_field_value_and_what_is_allowed(name, tmp_path, capsys):
    extra, needles = UNIONS[name]
    text = BASE.replace("topology: {family: ring}\n", "") if "topology:" in extra else BASE
    (tmp_path / "s.yaml").write_text(text + extra)
    code, out = invoke(["validate", str(tmp_path / "s.yaml")], capsys)
    assert code == 2, out
    lines = out.strip().splitlines()
    assert lines[0] == f"error: {tmp_path / 's.yaml'}: invalid scenario:" and len(lines) == 2, out
    for needle in needles:
        assert needle in out, (needle, out)
    for internal in ("AgentSample", "ReuseConfig", "literal[", "dict[", "Input tag", "input_value", "found using"):
        assert internal not in out, (internal, out)


def test_a_study_file_error_uses_the_same_lines(tmp_path, capsys):
    (tmp_path / "base.yaml").write_text(BASE)
    (tmp_path / "st.yaml").write_text("name: st\nbase: base.yaml\nseeds: yes\naxis: {alpha: [1]}\n")
    code, out = invoke(["study", str(tmp_path / "st.yaml")], capsys)
    assert code == 2, out
    assert "seeds = 'yes': Input should be a valid list" in out
    assert "axis: unknown key. Did you mean 'axes'?" in out


def test_a_kind_override_drops_the_old_kinds_fields_with_a_warning(tmp_path, capsys):
    """`--set learner.mapper.kind=mahalanobis` on a file whose mapper is `{kind: gmmc, k: 5}`: k is a
    GMMC field, so it is dropped (named in a warning with the way to set the whole mapper) and the
    mapper is Mahalanobis with its defaults; a GMMC field the override itself gives is still refused."""
    (tmp_path / "s.yaml").write_text(BASE + "learner: {mapper: {kind: gmmc, k: 5}}\n")
    code, text = invoke(["validate", str(tmp_path / "s.yaml"), "--json", "--set", "learner.mapper.kind=mahalanobis"],
                        capsys)
    assert code == 0, text
    assert "learner.mapper.kind=mahalanobis: dropped k: 5" in text and "'gmmc'" in text
    assert "--set 'learner.mapper={kind: mahalanobis}'" in text
    from sim.experiment.loading import load_scenario

    assert load_scenario(tmp_path / "s.yaml", ["learner.mapper.kind=mahalanobis"]).learner.mapper == \
        load_scenario(tmp_path / "s.yaml", ["learner.mapper={kind: mahalanobis}"]).learner.mapper
    code, text = invoke(["validate", str(tmp_path / "s.yaml"), "--set", "learner.mapper.kind=mahalanobis",
                         "--set", "learner.mapper.k=3"], capsys)
    assert code == 2 and "learner.mapper.k: unknown key" in text
    # the same for gossip's protocol: push's fanout is dropped when the override says flood
    (tmp_path / "g.yaml").write_text(BASE + "gossip: {protocol: push, fanout: 2}\n")
    code, text = invoke(["validate", str(tmp_path / "g.yaml"), "--quiet", "--set", "gossip.protocol=flood"], capsys)
    assert code == 0 and "gossip.protocol=flood: dropped fanout: 2" in text
    # a kind the file already has, or one that does not exist, drops nothing
    code, text = invoke(["validate", str(tmp_path / "s.yaml"), "--quiet", "--set", "learner.mapper.kind=gmmc"], capsys)
    assert code == 0 and text == ""
    code, text = invoke(["validate", str(tmp_path / "s.yaml"), "--set", "learner.mapper.kind=gmcc"], capsys)
    assert code == 2 and "dropped" not in text and "Did you mean 'gmmc'?" in text


def test_report_names_a_missing_folder_and_the_runs_inside_a_parent(tmp_path, capsys):
    code, text = invoke(["report", str(tmp_path / "nowhere")], capsys)
    assert code == 2 and "nowhere: no such folder" in text and "'results in DIR'" in text
    for name in ("a", "b"):
        (tmp_path / "runs" / name).mkdir(parents=True)
        (tmp_path / "runs" / name / "results.json").write_text("{}")
    code, text = invoke(["report", str(tmp_path / "runs")], capsys)
    assert code == 2 and "no results.json, sweep.json or study.json here" in text
    assert f"it holds 2 run folder(s), e.g. {tmp_path / 'runs' / 'a'}: pass one" in " ".join(text.split())


def test_a_disconnected_edge_list_validates_with_a_warning(tmp_path, capsys):
    (tmp_path / "two.txt").write_text("0 1\n2 3\n")
    (tmp_path / "s.yaml").write_text(BASE.replace("{family: ring}", "{family: file, path: two.txt}"))
    code, text = invoke(["validate", str(tmp_path / "s.yaml")], capsys)
    assert code == 0, text
    assert "warning" in text and "2 parts" in text and "never reached" in text


def test_more_agents_than_tasks_warns_who_learns_nothing(tmp_path, capsys):
    (tmp_path / "s.yaml").write_text(BASE.replace("count: 4", "count: 6"))
    code, text = invoke(["validate", str(tmp_path / "s.yaml")], capsys)
    assert code == 0, text
    assert "4 tasks for 6 agents: agents 4..5 learn nothing" in text


def test_one_idle_agent_is_named_alone(tmp_path, capsys):
    (tmp_path / "s.yaml").write_text(BASE.replace("count: 4", "count: 5"))
    code, text = invoke(["validate", str(tmp_path / "s.yaml")], capsys)
    assert code == 0, text
    assert "4 tasks for 5 agents: agent 4 learns nothing" in text


def test_warnings_still_print_under_quiet(tmp_path, capsys):
    (tmp_path / "s.yaml").write_text(BASE.replace("count: 4", "count: 6"))
    code = main(["validate", str(tmp_path / "s.yaml"), "--quiet"])
    captured = capsys.readouterr()
    assert code == 0
    assert "warning" in captured.err and "agents 4..5 learn nothing" in captured.err
    assert captured.out == ""


def test_run_with_an_alpha_list_warns_it_uses_the_first(tmp_path, capsys, monkeypatch):
    from sim.errors import SimError
    from sim.experiment import runner

    def stop(*args, **kwargs):
        raise SimError("stopped before learning")

    monkeypatch.setattr(runner, "prepare", stop)
    (tmp_path / "s.yaml").write_text(BASE + "alpha: [10, 1e3]\n")
    code = main(["run", str(tmp_path / "s.yaml"), "--quiet", "--out", str(tmp_path / "out"),
                 "--cache", str(tmp_path / "cache")])
    err = capsys.readouterr().err
    assert code == 2
    assert "alpha is a list: run uses the first, 10; sweep runs every value" in err


def test_cuda_asked_where_there_is_none_is_refused_before_learning(tmp_path, capsys, monkeypatch):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    (tmp_path / "s.yaml").write_text(BASE)
    for command in ("validate", "run"):
        code, text = invoke([command, str(tmp_path / "s.yaml"), "--set", "learner.device=cuda",
                             "--out", str(tmp_path / "out"), "--cache", str(tmp_path / "cache")], capsys)
        assert code == 2, text
        assert "learner.device = 'cuda'" in text and "CUDA is not available" in text
        assert "Traceback" not in text and not (tmp_path / "out").exists()


def test_messages_name_the_resolved_scenario_file(tmp_path, capsys, monkeypatch):
    """In a folder with its own scenarios/ but no tiny.yaml, `scenarios/tiny.yaml` is the shipped
    file: ok, errors of the schema and errors of the checks all name that file, one way."""
    from sim.experiment.loading import SHIPPED_DIR

    (tmp_path / "scenarios").mkdir()
    monkeypatch.chdir(tmp_path)
    shipped = str(SHIPPED_DIR / "tiny.yaml")
    code, text = invoke(["validate", "scenarios/tiny.yaml", "--quiet"], capsys)
    assert code == 0 and text == ""
    code, text = invoke(["validate", "scenarios/tiny.yaml"], capsys)
    assert code == 0 and f"ok: {shipped} is a valid scenario" in text
    code, text = invoke(["validate", "tiny", "--set", "agents.count=0"], capsys)
    assert code == 2 and f"error: {shipped}: invalid scenario:" in text
    code, text = invoke(["validate", "tiny", "--set", "failures.agents.scheduled=[{agent: 99, at_s: 1}]"], capsys)
    assert code == 2 and f"error: {shipped}: failures.agents.scheduled[0].agent" in text


@pytest.mark.parametrize("override, warning", [
    # digits: 70% of each digit is train; the smallest digit (8, 174 images) has round(121.8) = 122
    ("tasks.train_per_class=1000", "tasks.train_per_class = 1000, but digits has only 122 train images in its "
                                   "smallest class: the run uses at most 122 per class"),
    # tasks 0..3 of digits: {0,1} 125+127, {2,3} 124+128, {4,5} 127+127, {6,7} 127+125: fewest 252
    ("learner.mapper={kind: gmmc, k: 1000}", "learner.mapper.k = 1000, but a task has as few as 252 train images: "
                              "the run fits min(k, images) = 252 clusters there"),
])
def test_settings_the_data_cannot_meet_warn_before_learning(override, warning, tmp_path, capsys):
    (tmp_path / "s.yaml").write_text(BASE)
    code, text = invoke(["validate", str(tmp_path / "s.yaml"), "--set", override, "--quiet"], capsys)
    assert code == 0, text
    assert warning in " ".join(text.split())


@pytest.mark.parametrize("overrides, warning", [
    # digits' smallest train class has 122 images (above); 200 shots cannot all be drawn
    (["learner.reuse={enabled: true, match: visual, shots: 200}"],
     "learner.reuse.shots = 200, but a class has as few as 122 train images (digits has only 122 in its smallest "
     "class): visual matching looks at 122 there"),
    # capped at 20 per class by the scenario itself
    (["learner.reuse={enabled: true, match: visual, shots: 30}", "tasks.train_per_class=20"],
     "learner.reuse.shots = 30, but a class has as few as 20 train images (tasks.train_per_class = 20)"),
    # at the limit, with names matching (shots unused) or with reuse off: nothing to say
    (["learner.reuse={enabled: true, match: visual, shots: 122}"], None),
    (["learner.reuse={enabled: false, match: visual, shots: 500}"], None),
])
def test_reuse_shots_above_a_class_warn_before_learning(overrides, warning, tmp_path, capsys):
    (tmp_path / "s.yaml").write_text(BASE)
    argv = ["validate", str(tmp_path / "s.yaml"), "--quiet"]
    code, text = invoke(argv + [a for o in overrides for a in ("--set", o)], capsys)
    assert code == 0, text
    if warning is None:
        assert "shots" not in text
    else:
        assert warning in " ".join(text.split())


def test_a_bandwidth_ignored_by_alpha_mode_warns(tmp_path, capsys):
    (tmp_path / "s.yaml").write_text(BASE)
    argv = ["validate", str(tmp_path / "s.yaml"), "--set", "network.mode=alpha", "--quiet"]
    code, text = invoke(argv + ["--set", "topology.links.bandwidth=5.0e6"], capsys)
    assert code == 0 and "topology.links.bandwidth is set, but network.mode is 'alpha'" in " ".join(text.split())
    code, text = invoke(argv, capsys)
    assert code == 0 and text == ""


def test_a_cuda_index_past_the_devices_is_refused_naming_the_ones_there(tmp_path, capsys, monkeypatch):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    (tmp_path / "s.yaml").write_text(BASE)
    code, text = invoke(["validate", str(tmp_path / "s.yaml"), "--set", "learner.device=cuda:3"], capsys)
    assert code == 2, text
    assert "learner.device = 'cuda:3'" in text and "2 CUDA device(s), cuda:0..cuda:1" in text
    assert "Traceback" not in text


def test_a_schema_error_under_set_names_the_overrides_that_changed_the_file(capsys):
    """The value may come from --set rather than the file: the message says which overrides applied;
    without overrides it stays two lines (file, field)."""
    code, text = invoke(["validate", "tiny", "--set", "learner.mapper.kind=gmcc", "--set", "alpha=10"], capsys)
    lines = text.strip().splitlines()
    assert code == 2 and "learner.mapper.kind = 'gmcc'" in lines[1], text
    assert lines[-1].strip() == "(the file as changed by --set learner.mapper.kind=gmcc --set alpha=10)", text


def test_names_matching_on_too_few_tasks_of_a_suite_that_shares_names_says_how_many_it_needs(tmp_path, capsys):
    """mixed repeats a class name only after some tasks: the refusal names the task count where it
    first does, and that count (not one fewer) validates."""
    (tmp_path / "s.yaml").write_text(BASE.replace("suite: digits, num_tasks: 4", "suite: mixed, num_tasks: 4"))
    argv = ["validate", str(tmp_path / "s.yaml"), "--set", "learner.reuse.enabled=true", "--quiet"]
    code, text = invoke(argv, capsys)
    assert code == 2 and "Traceback" not in text
    needed = int(" ".join(text.split()).split("tasks.num_tasks >= ")[1].split()[0])
    assert needed > 4
    assert invoke(argv + ["--set", f"tasks.num_tasks={needed - 1}"], capsys)[0] == 2
    assert invoke(argv + ["--set", f"tasks.num_tasks={needed}"], capsys)[0] == 0
