"""MAC accounting: the FLOP counter gives exact counts for known layers; formulas scale as documented."""

import pytest
import torch
from torch import nn

from agents.macs import (class_means_macs, count_macs, gmm_fit_macs, gmm_score_macs, mahalanobis_inverse_macs,
                         mahalanobis_scatter_macs, mahalanobis_update_macs)


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


def test_mahalanobis_and_class_mean_counts_by_hand():
    """d = 64, d**3 = 262,144: scatter of 10 exemplars 10 * 4,096 = 40,960; Cholesky factor and
    solve 4 * 262,144 / 3 = 349,525 (floored); when singular, the failed factor 87,381 plus
    eigendecomposition and V diag V' 5.5 * 262,144 = 1,441,792: 1,529,173."""
    assert mahalanobis_scatter_macs(10, 64) == 40_960
    assert mahalanobis_inverse_macs(64) == 349_525
    assert mahalanobis_inverse_macs(64, pseudo=True) == 1_529_173
    assert mahalanobis_update_macs(10, 64) == 40_960 + 349_525
    # The paper's 2048-D features: one inversion 1.145e10 MACs, 2.3x Table 2's 5.0e9 per package.
    assert mahalanobis_inverse_macs(2048) == 11_453_246_122
    assert class_means_macs(50, 32) == 1_600
