"""results.json's incident summary: counts by kind, the first LISTED in time order, bounded."""

import json

from sim.experiment import incidents
from sim.recorder import Event


def churn(n):
    """n crash / recovery pairs of agent k % 3 at times 2k and 2k + 1, with a link cut in the middle."""
    events = []
    for k in range(n):
        events += [Event(2.0 * k, "crashed", k % 3, keep_bank=True), Event(2.0 * k + 1, "recovered", k % 3, keep_bank=True)]
    events.insert(3, Event(1.5, "link_down", edges=((1, 2),), cause="random", detail="random [(1, 2)]"))
    return events


def test_a_few_incidents_are_all_listed_with_agent_or_edges():
    summary = incidents.summarise(churn(2))
    assert summary["total"] == 5 and summary["truncated"] is False
    assert summary["by_kind"] == {"crashed": 2, "recovered": 2, "link_down": 1, "link_up": 0}
    assert summary["listed"] == [
        {"time_s": 0.0, "kind": "crashed", "agent": 0, "edges": None, "detail": "bank kept"},
        {"time_s": 1.0, "kind": "recovered", "agent": 0, "edges": None, "detail": "bank kept"},
        {"time_s": 1.5, "kind": "link_down", "agent": None, "edges": [[1, 2]], "detail": "random [(1, 2)]"},
        {"time_s": 2.0, "kind": "crashed", "agent": 1, "edges": None, "detail": "bank kept"},
        {"time_s": 3.0, "kind": "recovered", "agent": 1, "edges": None, "detail": "bank kept"},
    ]


def test_a_churn_run_is_counted_in_full_but_listed_only_up_to_the_limit():
    events = churn(5000)  # 10,001 incidents
    summary = incidents.summarise(events)
    assert summary["total"] == 10_001 and summary["truncated"] is True
    assert sum(summary["by_kind"].values()) == 10_001
    assert len(summary["listed"]) == incidents.LISTED == 1000
    times = [row["time_s"] for row in summary["listed"]]
    assert times == sorted(times) and times[-1] == 998.0  # one incident a second from 0, plus the cut at 1.5: the 1000th is at 998 s
    assert len(json.dumps(summary)) < 150_000  # whatever the churn


def test_events_out_of_time_order_are_listed_in_time_order():
    late, early = Event(5.0, "link_up", edges=((0, 1),), cause="scheduled"), Event(1.0, "crashed", 4)
    summary = incidents.summarise([late, early], limit=1)
    assert [row["time_s"] for row in summary["listed"]] == [1.0] and summary["truncated"]
    assert summary["listed"][0]["detail"] == ""  # no recovery coming: the bank's fate is not known
