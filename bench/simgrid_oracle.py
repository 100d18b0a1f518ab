"""Expected finish times of small network cases, computed with SimGrid (the oracle of the network model).

Run with the SYSTEM python3 (Debian's python3-simgrid: `apt-get install -y python3-simgrid`), not
the project's venv:

    /usr/bin/python3 bench/simgrid_oracle.py      # rewrites tests/sim/engine/oracle/simgrid_cases.json

SimGrid's CM02 model without TCP factors (network/model:CM02, TCP-gamma 0, no cross traffic) is
the fluid max-min model skill-sim implements: every transfer is one comm, its route is the
sender's uplink (when capped), the link direction, the receiver's downlink (when capped); its
bytes flow after the route's latency. A serial receiver is one actor taking its comms one at a
time in the order they were posted (which equals skill-sim's FIFO grant order when the route
latency is 0; the cases with latency and a serial NIC have transfers that never overlap, where
serial and shared receive agree).

One difference is kept out of the cases on purpose: CM02 weights a comm's share by its route's
latency (its sharing penalty is the sum of the latencies: a 10 ms flow gets twice the share of a
20 ms one), while skill-sim's max-min is unweighted, as the issue asks. Flows that share a
resource here have routes of equal latency, where the two models agree exactly. tests/sim/engine/test_simgrid_oracle.py replays every case
on skill-sim's network and compares, without needing SimGrid.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

MB = 1_000_000

# name: agents, edges [u, v, bandwidth B/s, latency s], NIC caps {agent: B/s}, serial receive,
# transfers [start s, src, dst, bytes] (each its own connection: skill-sim's per_package).
CASES = {
    "issue_two_packages_one_edge": dict(  # issue 12: both end at 2 s
        agents=2, edges=[[0, 1, 1e6, 0.0]], transfers=[[0.0, 0, 1, MB], [0.0, 0, 1, MB]]),
    "issue_late_joiner": dict(  # issue 12: 2 MB joined at t = 1 by 1 MB: both end at 3 s
        agents=2, edges=[[0, 1, 1e6, 0.0]], transfers=[[0.0, 0, 1, 2 * MB], [1.0, 0, 1, MB]]),
    "issue_latency_then_downlink": dict(  # issue 12: latencies 1 s and 0 s into a 1 MB/s downlink
        agents=3, edges=[[0, 2, 1e9, 1.0], [1, 2, 1e9, 0.0]], downlink={2: 1e6},
        transfers=[[0.0, 0, 2, MB], [0.0, 1, 2, MB]]),
    "issue_latency_then_serial_downlink": dict(  # the same through a serial NIC: never 2 MB/s
        agents=3, edges=[[0, 2, 1e9, 1.0], [1, 2, 1e9, 0.0]], downlink={2: 1e6}, serial_receive=True,
        transfers=[[0.0, 0, 2, MB], [0.0, 1, 2, MB]], oracle_serial=False,
        note="the bytes of the two transfers never overlap (1 s latency), so the serial NIC gives the "
             "shared NIC's times; SimGrid's one-get-at-a-time receiver would pay the latency after "
             "matching (2 s, 3 s), which is not skill-sim's model: a transfer holds nothing while "
             "its first byte travels"),
    "independent_links_with_latency": dict(  # alone on its link: start + bytes / bw + latency
        agents=3, edges=[[0, 1, 2e6, 0.25], [1, 2, 5e5, 0.125]],
        transfers=[[0.5, 0, 1, 3 * MB], [0.0, 2, 1, MB], [1.0, 1, 2, 250_000]]),
    "equal_sharing_three_ways": dict(
        agents=2, edges=[[0, 1, 3e6, 0.0]], transfers=[[0.0, 0, 1, MB], [0.0, 0, 1, 2 * MB], [0.0, 0, 1, 3 * MB]]),
    "unequal_sharing_uplink_fanout": dict(  # one flow held back by its edge leaves more of the uplink
        agents=4, edges=[[0, 1, 2e5, 0.0], [0, 2, 5e6, 0.0], [0, 3, 5e6, 0.0]], uplink={0: 1e6},
        transfers=[[0.0, 0, 1, MB], [0.0, 0, 2, MB], [0.0, 0, 3, 2 * MB]]),
    "late_joiners_staggered": dict(
        agents=3, edges=[[0, 2, 1e7, 0.0], [1, 2, 1e7, 0.0]], downlink={2: 1e6},
        transfers=[[0.0, 0, 2, 3 * MB], [0.5, 1, 2, MB], [1.25, 0, 2, 500_000], [2.0, 1, 2, 2 * MB]]),
    "multi_bottleneck_max_min": dict(  # uplink of 0 and downlink of 2 bind different flows
        agents=4, edges=[[0, 1, 1e7, 0.0], [0, 2, 1e7, 0.0], [3, 2, 1e7, 0.0], [3, 1, 1e7, 0.0]],
        uplink={0: 1.5e6, 3: 4e6}, downlink={2: 1e6},
        transfers=[[0.0, 0, 1, 2 * MB], [0.0, 0, 2, 2 * MB], [0.0, 3, 2, 2 * MB], [0.0, 3, 1, 2 * MB]]),
    "per_agent_nics_phone_and_server": dict(  # a phone (2.5e5 up, 1e6 down) among servers
        agents=3, edges=[[0, 1, 1.25e7, 0.01], [0, 2, 1.25e7, 0.01], [1, 2, 1.25e7, 0.01]],
        uplink={0: 2.5e5, 1: 1e7, 2: 1e7}, downlink={0: 1e6, 1: 2e7, 2: 2e7},
        transfers=[[0.0, 0, 1, 500_000], [0.0, 0, 2, 500_000], [0.0, 1, 0, 3 * MB], [0.0, 2, 0, 3 * MB],
                   [0.5, 1, 2, 4 * MB]]),
    "latency_with_nic_sharing": dict(
        agents=4, edges=[[0, 3, 1e7, 0.3], [1, 3, 1e7, 0.3], [2, 3, 1e7, 0.3]], downlink={3: 2e6},
        uplink={0: 1.5e6},
        transfers=[[0.0, 0, 3, 2 * MB], [0.4, 1, 3, 2 * MB], [0.2, 2, 3, MB], [1.0, 0, 3, MB]]),
    "serial_receive_fifo": dict(  # one at a time, in the order they were sent
        agents=4, edges=[[0, 3, 1e7, 0.0], [1, 3, 1e7, 0.0], [2, 3, 1e7, 0.0]], downlink={3: 1e6},
        serial_receive=True, transfers=[[0.0, 0, 3, MB], [0.1, 1, 3, 2 * MB], [0.2, 2, 3, 500_000]]),
    "serial_receive_limited_by_edges": dict(  # the edge, not the NIC, sets each transfer's rate
        agents=3, edges=[[0, 2, 5e5, 0.0], [1, 2, 2.5e5, 0.0]], downlink={2: 1e6}, serial_receive=True,
        transfers=[[0.0, 0, 2, MB], [0.0, 1, 2, MB]]),
}


def simulate(case: dict) -> list[float]:
    """Finish time of every transfer of `case`, in SimGrid."""
    from simgrid import Actor, Engine, LinkInRoute, Mailbox, NetZone, this_actor

    engine = Engine([sys.argv[0], "--cfg=network/model:CM02", "--cfg=network/TCP-gamma:0",
                     "--cfg=network/crosstraffic:0", "--log=root.thres:critical"])
    zone = NetZone.create_full_zone("zone")
    n = case["agents"]
    hosts = [zone.create_host(f"h{i}", 1e9) for i in range(n)]
    up = {int(a): zone.create_link(f"up{a}", c).seal() for a, c in case.get("uplink", {}).items()}
    down = {int(a): zone.create_link(f"down{a}", c).seal() for a, c in case.get("downlink", {}).items()}
    for u, v, bw, lat in case["edges"]:
        for a, b in ((u, v), (v, u)):
            link = zone.create_link(f"e{a}_{b}", bw).set_latency(lat).seal()
            route = [up[a]] if a in up else []
            route += [link] + ([down[b]] if b in down else [])
            zone.add_route(hosts[a].netpoint, hosts[b].netpoint, None, None, [LinkInRoute(x) for x in route], False)
    zone.seal()
    ends = [0.0] * len(case["transfers"])
    serial = case.get("oracle_serial", case.get("serial_receive", False))

    def sender(k: int, at: float, dst: int, size: int) -> None:
        this_actor.sleep_until(at)
        if serial:
            Mailbox.by_name(f"to{dst}").put(k, size)
        else:
            from simgrid import Comm

            Comm.sendto_async(hosts[case["transfers"][k][1]], hosts[dst], size).wait()
        ends[k] = Engine.clock

    def receiver(agent: int, count: int) -> None:
        box = Mailbox.by_name(f"to{agent}")
        for _ in range(count):
            box.get()

    for k, (at, src, dst, size) in enumerate(case["transfers"]):
        Actor.create(f"s{k}", hosts[src], sender, k, float(at), int(dst), int(size))
    if serial:
        for agent in sorted({t[2] for t in case["transfers"]}):
            count = sum(1 for t in case["transfers"] if t[2] == agent)
            Actor.create(f"r{agent}", hosts[agent], receiver, agent, count)
    engine.run()
    return ends


def main() -> None:
    """Run every case in its own process (one SimGrid engine per process) and write the JSON."""
    import subprocess

    if len(sys.argv) == 3 and sys.argv[1] == "--case":
        print(json.dumps(simulate(CASES[sys.argv[2]])))
        return
    out = {}
    for name, case in CASES.items():
        run = subprocess.run([sys.executable, __file__, "--case", name], capture_output=True, text=True, check=True)
        ends = json.loads(run.stdout.strip().splitlines()[-1])
        out[name] = dict(case, expected_end_s=ends)
        print(f"{name:40s} {ends}")
    import simgrid

    path = Path(__file__).resolve().parents[1] / "tests/sim/engine/oracle/simgrid_cases.json"
    doc = {"simgrid_version": ".".join(map(str, simgrid.simgrid_version)) if hasattr(simgrid, "simgrid_version") else "?",
           "config": "network/model:CM02 network/TCP-gamma:0 network/crosstraffic:0", "cases": out}
    path.write_text(json.dumps(doc, indent=1) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
