"""Sample complexity (rfdsm/complexity.py): ψn* is the least ψn whose excess score error is at most the target, the
n → ∞ value, the seed's claim where it holds, saved results, bad input."""

import math

import numpy as np
import pytest

import rfdsm
from rfdsm.complexity import LIMIT
from rfdsm.data import Isotropic, Manifold

ARGS = ("relu", 0.1, 100.0)  # activation, t, ψp


def score(data, psi_n, m=math.inf):
    return rfdsm.learning_curve(*ARGS[:2], psi_n, ARGS[2], m=m, lam=1e-3, data=data).score


@pytest.mark.parametrize("m", [1, math.inf])
def test_psi_n_star_is_the_least_psi_n_below_the_target(m):
    data = [Manifold(0.2), Manifold(0.2, "tanh"), Isotropic()]
    result = rfdsm.sample_complexity(*ARGS, data, 0.1, m=m)
    assert result.data == tuple(repr(d) for d in data) and result.psi_n.shape == (3,)
    for model, psi_n, limit in zip(data, result.psi_n, result.limit):
        assert limit == pytest.approx(float(score(model, LIMIT, m)), rel=1e-12)
        assert score(model, psi_n, m) - limit <= 0.1
        assert score(model, psi_n * (1 - 1e-5), m) - limit > 0.1
        before = np.geomspace(1e-3, psi_n * (1 - 1e-5), 300)  # finer than the bracketing grid
        assert np.all(score(model, before, m) - limit > 0.1)
    np.testing.assert_allclose(result.excess, 0.1, rtol=1e-4)


def test_the_limit_is_the_end_of_the_one_over_psi_n_tail():
    """ε_score(ψn) ≈ ε_∞ + C/ψn at large ψn: Richardson from ψn = 1e5 and 2e5 gives ε_∞ at LIMIT."""
    data = Manifold(0.3, "tanh")
    limit = rfdsm.sample_complexity(*ARGS, data, 0.1).limit[0]
    first, second = score(data, [1e5, 2e5])
    assert 2 * second - first == pytest.approx(limit, rel=1e-6)
    assert first - limit > 1e-5  # the tail is resolved: the limit is not the curve at 1e5


def test_smaller_targets_need_more_samples():
    targets = [0.3, 0.1, 0.03]
    psi_n = [rfdsm.sample_complexity(*ARGS, Manifold(0.4), target).psi_n[0] for target in targets]
    assert psi_n[0] < psi_n[1] < psi_n[2]


def test_linear_growth_in_the_intrinsic_dimension_where_the_claim_holds():
    """The seed's claim at t = 0.1, ψp = 100, m = ∞ (docs/manifolds.md gives where it fails): on linear manifolds ψn*
    is proportional to ψ_D at small ψ_D (doubling ψ_D doubles it, to 10 %); on tanh manifolds it is not (a floor
    set by the full-rank non-linear part ν*² I)."""
    psi_D = [0.05, 0.1, 0.2]
    linear = rfdsm.sample_complexity(*ARGS, [Manifold(p) for p in psi_D], 0.1).psi_n
    np.testing.assert_allclose(linear[1:] / linear[:-1], 2.0, rtol=0.1)
    tanh = rfdsm.sample_complexity(*ARGS, [Manifold(p, "tanh") for p in psi_D], 0.1).psi_n
    assert np.all(tanh[1:] / tanh[:-1] < 1.5)


def test_saved_result_loads_back(tmp_path):
    result = rfdsm.sample_complexity(*ARGS, [Manifold(0.1), Manifold(0.5, "tanh")], 0.1, m=2, lam=1e-2)
    loaded = rfdsm.load(result.save(tmp_path / "n.nc"))
    assert loaded.data == result.data and (loaded.m, loaded.lam, loaded.target) == (2, 1e-2, 0.1)
    np.testing.assert_array_equal(loaded.psi_n, result.psi_n)
    assert "target=0.1; 2 data models" in repr(loaded)


def test_bad_input():
    data = Manifold(0.2)
    for target in (0, -1, math.nan):
        with pytest.raises(ValueError, match=r"^target:"):
            rfdsm.sample_complexity(*ARGS, data, target)
    with pytest.raises(ValueError, match=r"^target: 1e-09 is not within psi_n_range"):
        rfdsm.sample_complexity(*ARGS, data, 1e-9, psi_n_range=(1e-3, 1e3))
    with pytest.raises(ValueError, match=r"^target: 1e\+06 is already at the lower end"):
        rfdsm.sample_complexity(*ARGS, data, 1e6)
    for bad in ((10, 1), (0, 1), (1, 1e12)):
        with pytest.raises(ValueError, match=r"^psi_n_range:"):
            rfdsm.sample_complexity(*ARGS, data, 0.1, psi_n_range=bad)
    with pytest.raises(ValueError, match=r"^data:"):
        rfdsm.sample_complexity(*ARGS, "manifold", 0.1)
