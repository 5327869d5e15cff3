"""One-step linear denoiser and the relative distance Delta."""
import math

import mpmath
import numpy as np
import pytest
from scipy import integrate, stats
from scipy.special import logsumexp

from rfdsm import gaussians
from rfdsm.distance import (OneStepModel, fit_one_step, generated_law, infinite_data_hellinger2,
                            infinite_data_kl, prob_delta_positive, relative_distance, sample_pairs)


def test_infinite_data_law_and_formulas():
    """Large n: the fitted law tends to N(m 1, r sigma^2 I); closed forms equal the generic Gaussian ones."""
    model = OneStepModel(d=3, sigma=1.3, m=0.7, ell=0.8, T=0.6)
    x0, xT = sample_pairs(model, 400_000, np.random.default_rng(0))
    G = generated_law(model, *fit_one_step(x0, xT))
    np.testing.assert_allclose(G.means[0], np.full(3, 0.7), atol=0.01)
    np.testing.assert_allclose(G.cov, model.r * 1.3**2 * np.eye(3), atol=0.01)
    inf_law, O = model.infinite_data_law(), model.sampling_law()
    assert infinite_data_kl(model) == pytest.approx(gaussians.kl(inf_law, O), rel=1e-12)
    assert infinite_data_hellinger2(model) == pytest.approx(gaussians.hellinger2(inf_law, O), rel=1e-12)
    a2 = math.exp(-1.2)
    assert model.r == pytest.approx(a2 * 1.69 / (a2 * 1.69 + 0.8 * (1 - a2)), rel=1e-14)


def test_kl_infinite_iff_generated_covariance_singular():
    model = OneStepModel(d=10)
    assert relative_distance(model, 10, seed=1).kl_gen_true == math.inf
    r = relative_distance(model, 11, seed=1)
    assert math.isfinite(r.kl_gen_true) and math.isfinite(r.log_E_TG)
    below = relative_distance(model, 6, seed=1)
    assert below.log_E_TG == math.inf and below.delta.sign != 0 and math.isfinite(below.delta.log_abs)


def test_delta_matches_grid_integration_in_2d():
    """Delta = int (T - G)^2 - (O - G)^2 against a 2-d grid, including the kernel width eps = sigma n^{-1/2}."""
    model = OneStepModel(d=2, sigma=1.0, m=0.5, T=0.4)
    seed, n = 5, 7
    res = relative_distance(model, n, seed=seed)
    x0, xT = sample_pairs(model, n, np.random.default_rng(seed))
    G = generated_law(model, *fit_one_step(x0, xT))
    eps = n ** -0.5
    x = np.linspace(-6, 7, 1101)
    pts = np.stack(np.meshgrid(x, x, indexing="ij"), axis=-1)
    pT = np.mean([stats.multivariate_normal(xi, eps**2).pdf(pts) for xi in x0], axis=0)
    pO = stats.multivariate_normal([0.5, 0.5], 1.0).pdf(pts)
    pG = stats.multivariate_normal(G.means[0], G.cov).pdf(pts)
    trap = lambda f: integrate.trapezoid(integrate.trapezoid(f, x, axis=1), x)
    e_tg, e_og = trap((pT - pG) ** 2), trap((pO - pG) ** 2)
    assert res.delta.value == pytest.approx(e_tg - e_og, rel=1e-5)
    assert res.log_E_TG == pytest.approx(math.log(e_tg), abs=1e-5)
    assert res.log_E_OG == pytest.approx(math.log(e_og), abs=1e-5)


def _independent_log_inners(model, n, seed):
    """The four log inner products from scipy's logpdf and logsumexp (no whitening, no Numba)."""
    x0, xT = sample_pairs(model, n, np.random.default_rng(seed))
    G = generated_law(model, *fit_one_step(x0, xT))
    eps2 = model.kernel_width(n) ** 2
    d = model.d
    diffs = (x0[:, None, :] - x0[None, :, :]).reshape(-1, d)
    ltt = logsumexp(stats.multivariate_normal(np.zeros(d), 2 * eps2).logpdf(diffs)) - 2 * math.log(n)
    ltg = logsumexp(stats.multivariate_normal(G.means[0], G.cov + eps2 * np.eye(d)).logpdf(x0)) - math.log(n)
    loo = stats.multivariate_normal(np.zeros(d), 2 * model.sigma**2).logpdf(np.zeros(d))
    log_ = stats.multivariate_normal(G.means[0], G.cov + model.sigma**2 * np.eye(d)).logpdf(np.full(d, model.m))
    return ltt, ltg, loo, log_


@pytest.mark.parametrize("n, sign", [(3, -1), (240, 1)])
def test_delta_finite_and_right_sign_where_float32_fails(n, sign):
    """d = 120: every inner product underflows float32; log space keeps Delta and its sign (checked in mpmath)."""
    model = OneStepModel(d=120)
    res = relative_distance(model, n, seed=11)
    logs = _independent_log_inners(model, n, seed=11)
    naive = np.exp(np.float32(logs[0])) - 2 * np.exp(np.float32(logs[1])) \
        - np.exp(np.float32(logs[2])) + 2 * np.exp(np.float32(logs[3]))
    assert naive == 0.0  # float32 loses all four terms
    mpmath.mp.dps = 50
    exact = (mpmath.exp(logs[0]) - 2 * mpmath.exp(logs[1]) - mpmath.exp(logs[2]) + 2 * mpmath.exp(logs[3]))
    assert res.delta.sign == sign == int(mpmath.sign(exact))
    assert math.isfinite(res.delta.log_abs)
    assert res.delta.log_abs == pytest.approx(float(mpmath.log(abs(exact))), rel=1e-9)


def test_prob_delta_positive_is_reproducible_and_separates_regimes():
    model = OneStepModel(d=10)
    lo = prob_delta_positive(model, 3, n_sets=60, seed=3, progress=False)
    hi = prob_delta_positive(model, 30, n_sets=60, seed=3, progress=False)
    again = prob_delta_positive(model, 3, n_sets=60, seed=3, progress=False)
    assert lo.p == again.p
    assert lo.ci_high < 0.5 < hi.ci_low
    assert lo.ci_low <= lo.p <= lo.ci_high


def test_bad_inputs_raise():
    with pytest.raises(ValueError, match="d"):
        OneStepModel(d=0)
    with pytest.raises(ValueError, match="sigma"):
        OneStepModel(d=3, sigma=-1.0)
    with pytest.raises(ValueError, match="T"):
        OneStepModel(d=3, T=0.0)
    with pytest.raises(ValueError, match="n"):
        relative_distance(OneStepModel(d=3), 1)
    with pytest.raises(ValueError, match="n_sets"):
        prob_delta_positive(OneStepModel(d=3), 5, n_sets=0)
