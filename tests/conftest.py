"""Shared test set-up: never wait on a model hub, keep torch on few threads."""

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TIMM_OFFLINE", "1")

import torch  # noqa: E402

torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))


def pytest_collection_modifyitems(config, items):
    """SKILL_SIM_HYPOTHESIS_EXAMPLES=N: every property test draws N fresh random examples (printing
    a reproduce blob on failure) instead of its fixed CI draw (derandomize=True: the same cases
    every run), to look by hand for cases the fixed draw misses. Uses hypothesis' per-test settings
    attribute, read at call time (no public way to override a test's own max_examples)."""
    examples = os.environ.get("SKILL_SIM_HYPOTHESIS_EXAMPLES")
    if not examples:
        return
    from hypothesis import settings

    for item in items:
        test = getattr(item, "obj", None)
        current = getattr(test, "_hypothesis_internal_use_settings", None)
        if current is not None and current.derandomize:
            test._hypothesis_internal_use_settings = settings(current, derandomize=False, print_blob=True,
                                                              max_examples=int(examples))
