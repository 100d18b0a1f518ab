"""MAC accounting: the FLOP counter gives exact counts for known layers; formulas scale as documented."""

import pytest
import torch
from torch import nn

from agents.macs import (class_means_macs, count_macs, gmm_fit_macs, gmm_score_macs,
                         mahalanobis_update_macs)


@pytest.mark.parametrize("batch, d_in, d_out", [(1, 8, 3), (7, 64, 10), (32, 1280, 49)])
def test_linear_macs_are_exactly_in_times_out_times_batch(batch, d_in, d_out):
    layer = nn.Linear(d_in, d_out)
    out, macs = count_macs(layer, torch.zeros(batch, d_in))
    assert out.shape == (batch, d_out)
    assert macs == batch * d_in * d_out


def test_count_macs_passes_kwargs_and_counts_nothing_for_elementwise_ops():
    result, macs = count_macs(torch.add, torch.ones(3), other=torch.ones(3))
    assert torch.equal(result, torch.full((3,), 2.0))
    assert macs == 0


def test_gmm_formulas_are_positive_and_linear_in_n():
    d, k, iters = 1280, 25, 10
    for fn, args in [(gmm_fit_macs, (d, k, iters)), (gmm_score_macs, (d, k))]:
        one, two = fn(100, *args), fn(200, *args)
        assert one > 0
        assert two == 2 * one


def test_mahalanobis_and_class_mean_formulas():
    assert mahalanobis_update_macs(10, 64) == 10 * 64 * 64 + (4 * 64**3) // 3
    assert class_means_macs(50, 32) == 50 * 32
    assert mahalanobis_update_macs(20, 64) > mahalanobis_update_macs(10, 64) > 0
