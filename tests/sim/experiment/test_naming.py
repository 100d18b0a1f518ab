"""Run folder names: the pattern a scenario name must match, and the folder that overrides give a run."""

import hashlib

import pytest

from sim.experiment.naming import MAX_SUFFIX, check_name, override_suffix, titled


@pytest.mark.parametrize("bad", ["../../x", "..", ".", "/abs/x", "a/b", "a\\b", ".hidden", "a b", "", "x\n", "a:b"])
def test_a_name_that_is_not_one_plain_folder_is_refused_with_the_pattern(bad):
    with pytest.raises(ValueError, match=r"\[A-Za-z0-9_\]\[A-Za-z0-9_\.-\]\*"):
        check_name(bad)


@pytest.mark.parametrize("good", ["ring_51", "tiny", "a.b-c", "_x", "51"])
def test_plain_names_pass(good):
    assert check_name(good) == good


def test_a_simple_override_stays_readable_and_needs_no_hash():
    assert override_suffix(["agents.count=10"]) == "+agents.count=10"
    assert override_suffix([" seed = 3 "]) == "+seed=3"
    assert override_suffix([]) == ""


def test_independent_overrides_name_one_folder_whatever_their_order():
    assert override_suffix(["seed=3", "agents.count=10"]) == override_suffix(["agents.count=10", "seed=3"]) \
        == "+agents.count=10+seed=3"


def test_overlapping_overrides_keep_their_order_since_the_last_one_wins():
    assert override_suffix(["seed=1", "seed=2"]) == "+seed=1+seed=2" != override_suffix(["seed=2", "seed=1"])
    assert override_suffix(["topology.links={loss: 0.1}", "topology.links.loss=0"]) \
        != override_suffix(["topology.links.loss=0", "topology.links={loss: 0.1}"])


def test_unsafe_characters_are_replaced_and_a_hash_keeps_different_values_apart():
    a, b = override_suffix(["tasks.path=/data/x"]), override_suffix(["tasks.path=/data:x"])
    assert a.startswith("+tasks.path=_data_x~") and b.startswith("+tasks.path=_data_x~") and a != b
    assert a.endswith("~" + hashlib.sha256(b"tasks.path=/data/x").hexdigest()[:8])
    assert "/" not in a and ":" not in b


def test_a_long_override_is_cut_and_hashed_but_stays_distinct():
    long_a = override_suffix(["alpha=[" + ",".join(str(10 ** k) for k in range(30)) + "]"])
    long_b = override_suffix(["alpha=[" + ",".join(str(10 ** k) for k in range(31)) + "]"])
    assert len(long_a) <= MAX_SUFFIX + 9 and long_a != long_b and "~" in long_a


def test_overrides_of_the_name_or_the_output_do_not_rename_the_folder():
    assert override_suffix(["name=other", "output.plots=false", "output.dir=/tmp/x"]) == ""
    assert override_suffix(["name=other", "seed=2"]) == "+seed=2"


def test_titles_name_the_overrides():
    assert titled({"scenario": "ring_51", "overrides": ["agents.count=10", "seed=3"]}) == \
        "ring_51 (agents.count=10, seed=3)"
    assert titled({"scenario": "ring_51"}) == "ring_51"  # runs written before overrides were recorded
