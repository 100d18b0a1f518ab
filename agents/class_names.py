"""Class-name similarity for knowledge reuse's `names` matching (agents.reuse), without torch, so the
scenario checks can ask whether a suite's names can ever match before anything is learned."""

from __future__ import annotations

import difflib
from collections import Counter


def name_similarity(a: str, b: str) -> float:
    """1 for equal names (case and surrounding space ignored), else difflib's ratio of the two."""
    a, b = a.strip().lower(), b.strip().lower()
    return 1.0 if a == b else difflib.SequenceMatcher(None, a, b).ratio()


def names_can_match(classes_by_task: list[tuple[str, ...]], threshold: float) -> bool:
    """Whether some class of one task is at least `threshold` similar by name to a class of another:
    without such a pair, names matching can never reuse anything on this suite."""
    if threshold >= 1:  # equal names only: a name in two tasks
        tasks_of = Counter(name.strip().lower() for classes in classes_by_task for name in set(classes))
        return any(n > 1 for n in tasks_of.values())
    seen: list[tuple[int, str]] = []
    for t, classes in enumerate(classes_by_task):
        for name in classes:
            if any(u != t and name_similarity(name, other) >= threshold for u, other in seen):
                return True
        seen += [(t, name) for name in classes]
    return False
