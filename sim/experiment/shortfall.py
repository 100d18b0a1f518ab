"""Why a run's makespan is never reached, in words for results.json and the summary."""

from __future__ import annotations

# Protocols that deliver each package once and never resend it to an agent that lost it.
ONE_SHOT = ("flood", "broadcast")


def never_reached(protocol: str, alive: int, pairs_missing: int, wiped_survivors: list[int]) -> str | None:
    """The reason no makespan exists (None when every survivor knows every surviving task)."""
    if alive == 0:
        return "no agent survived"
    if pairs_missing == 0:
        return None
    missing = f"survivors miss {pairs_missing} (agent, task) pair{'s' if pairs_missing != 1 else ''} of surviving tasks"
    if wiped_survivors and protocol in ONE_SHOT:
        who = ", ".join(str(a) for a in wiped_survivors)
        return (f"{missing}: agent{'s' if len(wiped_survivors) > 1 else ''} {who} came back with a wiped bank, and {protocol} delivers each package once "
                f"and never repairs a bank (push_pull's digests do)")
    return missing
