"""The on-disk cache of bank evaluations: a hit needs the same packages (by content) and the same
settings, a damaged entry is reported, discarded and missed, and `cache info` lists the entries."""

import json

import pytest

from agents.agent import Evaluation
from agents.cache import inventory
from agents.cache.evaluations import EvaluationCache, settings_key

PACKAGES = {0: b"package zero", 1: b"package one", 2: b"package two"}
SETTINGS = settings_key("backbone-fp", {"mapper": {"kind": "gmmc", "k": 2}}, "suite-fp")
EVAL = Evaluation(accuracy=0.5, mapper_accuracy=0.75, oracle_accuracy=2 / 3, per_task={0: 1.0, 1: 0.0, 2: float("nan")},
                  per_task_mapper={0: 1.0, 1: 0.5, 2: 0.0}, per_task_oracle={0: 1 / 3, 1: 0.25, 2: 0.0}, tasks_known=2)
BANK = frozenset({0, 1})


def _cache(root, settings=SETTINGS, packages=PACKAGES, reports=None):
    return EvaluationCache(root, settings, packages, report=(reports.append if reports is not None else None))


def _same(a: Evaluation, b: Evaluation) -> bool:
    """Field by field, NaN equal to NaN (a task with no test inputs)."""
    return json.dumps(a.__dict__, sort_keys=True) == json.dumps(b.__dict__, sort_keys=True)


def test_a_stored_evaluation_comes_back_exactly_and_counts_a_hit(tmp_path):
    cache = _cache(tmp_path)
    assert cache.get(BANK) is None and cache.misses == 1
    cache.put(BANK, EVAL)
    found = _cache(tmp_path).get(BANK)  # another run: a new cache object on the same folder
    assert _same(found, EVAL) and found.per_task_oracle[0] == 1 / 3 and set(found.per_task) == {0, 1, 2}


@pytest.mark.parametrize("other", [
    {"bank": frozenset({0, 2})},                                            # another bank
    {"packages": {**PACKAGES, 1: b"package one, relearned"}},               # a package of the bank changed
    {"settings": settings_key("backbone-fp", {"mapper": {"kind": "gmmc", "k": 3}}, "suite-fp")},
    {"settings": settings_key("other-backbone", {"mapper": {"kind": "gmmc", "k": 2}}, "suite-fp")},
    {"settings": settings_key("backbone-fp", {"mapper": {"kind": "gmmc", "k": 2}}, "other-suite")},
])
def test_other_packages_banks_or_settings_miss(tmp_path, other):
    _cache(tmp_path).put(BANK, EVAL)
    cache = _cache(tmp_path, settings=other.get("settings", SETTINGS), packages=other.get("packages", PACKAGES))
    assert cache.get(other.get("bank", BANK)) is None and cache.hits == 0 and cache.discarded == 0


def test_a_package_outside_the_bank_does_not_change_its_entry(tmp_path):
    _cache(tmp_path).put(BANK, EVAL)
    assert _same(_cache(tmp_path, packages={**PACKAGES, 2: b"another task two"}).get(BANK), EVAL)


@pytest.mark.parametrize("damage, why", [
    (lambda c, r: c.write_bytes(c.read_bytes().replace(b"0.75", b"0.76")), "checksum"),   # same size, bytes changed
    (lambda c, r: c.write_bytes(c.read_bytes() + b" "), "bytes, sealed at"),
    (lambda c, r: r.write_text(r.read_text().replace('"tasks": 2', '"tasks": 3')), "altered"),
    (lambda c, r: r.write_text("{not json"), "not valid JSON"),
    (lambda c, r: c.unlink(), "missing"),
])
def test_a_damaged_entry_is_reported_discarded_and_evaluated_again(tmp_path, damage, why):
    _cache(tmp_path).put(BANK, EVAL)
    content = _cache(tmp_path).path_for(BANK)
    damage(content, content.with_suffix(".json"))
    reports = []
    cache = _cache(tmp_path, reports=reports)
    assert cache.get(BANK) is None and cache.discarded == 1
    assert len(reports) == 1 and why in reports[0] and str(content) in reports[0]
    assert not content.exists() and not content.with_suffix(".json").exists()
    cache.put(BANK, EVAL)  # what the caller does next: evaluate and store again
    assert _same(_cache(tmp_path).get(BANK), EVAL)


def test_a_sealed_entry_that_is_not_an_evaluation_is_discarded(tmp_path):
    from agents.cache import integrity

    cache = _cache(tmp_path)
    path = cache.path_for(BANK)
    path.parent.mkdir(parents=True)
    data = json.dumps({"accuracy": 0.5}).encode()
    path.write_bytes(data)
    path.with_suffix(".json").write_text(json.dumps(
        integrity.seal_bytes({"tasks": 2}, kind="evaluation", key=cache.key(BANK), content=data)))
    reports = []
    assert _cache(tmp_path, reports=reports).get(BANK) is None and "not an evaluation" in reports[0]


def test_an_entry_copied_under_another_bank_is_bad(tmp_path):
    cache = _cache(tmp_path)
    cache.put(BANK, EVAL)
    src, dst = cache.path_for(BANK), cache.path_for(frozenset({0}))
    dst.write_bytes(src.read_bytes())
    dst.with_suffix(".json").write_bytes(src.with_suffix(".json").read_bytes())
    reports = []
    assert _cache(tmp_path, reports=reports).get(frozenset({0})) is None and "other inputs" in reports[0]


def test_cache_info_lists_evaluation_entries_and_their_state(tmp_path):
    cache = _cache(tmp_path)
    cache.put(BANK, EVAL)
    cache.put(frozenset({2}), EVAL)
    bad = cache.path_for(frozenset({2}))
    bad.write_bytes(bad.read_bytes().replace(b"0.75", b"0.76"))
    summary = inventory.scan(tmp_path).summary()
    assert summary["kinds"]["evaluation"] | {"bytes": 0} == {"entries": 2, "bytes": 0, "sound": 1, "stale": 0,
                                                             "bad": 1, "live": 0}
    assert summary["bad"] == [{"kind": "evaluation", "file": str(bad), "reason": summary["bad"][0]["reason"]}]
    assert "checksum" in summary["bad"][0]["reason"]
    chosen = inventory.select(inventory.scan(tmp_path), bad=True)
    assert [e.files[0] for e in chosen] == [bad]
