"""One-step linear denoiser and the relative distance Delta (docs/distance.md)."""
import math

import mpmath
import numpy as np
import pytest
from scipy import integrate, stats
from scipy.special import logsumexp

from rfdsm import divergences
from rfdsm.distance import (OneStepModel, fit_one_step, generated_law, infinite_data_hellinger2,
                            infinite_data_kl, kernel_reference, prob_delta_positive, relative_distance,
                            sample_pairs)


def test_infinite_data_law_and_formulas():
    """Large n: the fitted law tends to N(mean 1, r sigma^2 I); closed forms equal the generic Gaussian ones."""
    model = OneStepModel(d=3, sigma=1.3, mean=0.7, ell=0.8, t_cut=0.6)
    clean, noisy = sample_pairs(model, 400_000, np.random.default_rng(0))
    G = generated_law(model, *fit_one_step(clean, noisy))
    np.testing.assert_allclose(G.means[0], np.full(3, 0.7), atol=0.01)
    np.testing.assert_allclose(G.cov, model.r * 1.3**2 * np.eye(3), atol=0.01)
    inf_law, O = model.infinite_data_law(), model.sampling_law()
    assert infinite_data_kl(model) == pytest.approx(divergences.kl(inf_law, O), rel=1e-12)
    assert infinite_data_hellinger2(model) == pytest.approx(divergences.hellinger2(inf_law, O), rel=1e-12)
    a2 = math.exp(-1.2)
    assert model.r == pytest.approx(a2 * 1.69 / (a2 * 1.69 + 0.8 * (1 - a2)), rel=1e-14)


def test_kernel_diagonal_equals_sampling_self_overlap():
    """The identity behind the cancelled form: the i = j part of <K,K> at eps_N = sigma N^{-1/d} is <O,O>."""
    model = OneStepModel(d=7, sigma=1.4)
    log_oo = divergences.log_inner(model.sampling_law(), model.sampling_law())
    assert model.log_self_overlap == pytest.approx(log_oo, rel=1e-14)
    for N in (1, 5, 300):
        K = model.kernel_density(model.sample(N, np.random.default_rng(N)))
        log_diag = logsumexp([divergences.log_inner(K, K), divergences.log_inner_off_diagonal(K)], b=[1, -1])
        assert log_diag == pytest.approx(log_oo, rel=1e-12)


def test_kl_infinite_iff_generated_covariance_singular():
    model = OneStepModel(d=10)
    assert relative_distance(model, 10, seed=1).kl_gen_true == math.inf
    r = relative_distance(model, 11, seed=1)
    assert math.isfinite(r.kl_gen_true) and math.isfinite(r.log_dist_train)
    below = relative_distance(model, 6, seed=1)
    assert below.log_dist_train == math.inf and below.delta.sign != 0 and math.isfinite(below.delta.log_abs)


def test_delta_matches_grid_integration_in_2d():
    """Delta = int (T - G)^2 - (O - G)^2 against a 2-d grid, including the kernel width eps = sigma n^{-1/2}."""
    model = OneStepModel(d=2, sigma=1.0, mean=0.5, t_cut=0.4)
    seed, n = 5, 7
    res = relative_distance(model, n, seed=seed)
    clean, noisy = sample_pairs(model, n, np.random.default_rng(seed))
    G = generated_law(model, *fit_one_step(clean, noisy))
    eps = n ** -0.5
    x = np.linspace(-6, 7, 701)
    pts = np.stack(np.meshgrid(x, x, indexing="ij"), axis=-1)
    pT = np.mean([stats.multivariate_normal(xi, eps**2).pdf(pts) for xi in clean], axis=0)
    pO = stats.multivariate_normal([0.5, 0.5], 1.0).pdf(pts)
    pG = stats.multivariate_normal(G.means[0], G.cov).pdf(pts)
    trap = lambda f: integrate.trapezoid(integrate.trapezoid(f, x, axis=1), x)
    e_tg, e_og = trap((pT - pG) ** 2), trap((pO - pG) ** 2)
    assert res.delta.value == pytest.approx(e_tg - e_og, rel=1e-5)
    assert res.log_dist_train == pytest.approx(math.log(e_tg), abs=1e-5)
    assert res.log_dist_ref == pytest.approx(math.log(e_og), abs=1e-5)


def _log_kernel_self_mp(points, eps2):
    """<K,K> of (1/N) sum N(x_i, eps2 I) in mpmath: (1/N^2) sum_ij (4 pi eps2)^{-d/2} exp(-|x_i - x_j|^2 / (4 eps2))."""
    n, d = points.shape
    sq = np.sum((points[:, None, :] - points[None, :, :]) ** 2, axis=-1)  # exact 0 on the diagonal
    pref = (4 * mpmath.pi * eps2) ** (-mpmath.mpf(d) / 2) / n**2
    return pref * mpmath.fsum(mpmath.exp(-mpmath.mpf(v) / (4 * eps2)) for v in sq.ravel())


def _log_gaussian_cross(points, G, eps2):
    """ln <K, G> = ln (1/N) sum_i N(x_i; mu_G, S_G + eps2 I) by scipy (float64 is enough: no cancellation)."""
    law = stats.multivariate_normal(G.means[0], G.cov + float(eps2) * np.eye(G.dim))
    return float(logsumexp(np.atleast_1d(law.logpdf(points)))) - math.log(points.shape[0])


def _naive_delta_mp(model, n, seed, n_ref=None):
    """Delta = <T,T> - 2<T,G> - <R,R> + 2<R,G> summed at 40 digits, the equal diagonal terms NOT removed by hand:
    the cancellation happens in mpmath, where it costs nothing."""
    mpmath.mp.dps = 40
    rng = np.random.default_rng(seed)
    clean, noisy = sample_pairs(model, n, rng)
    G = generated_law(model, *fit_one_step(clean, noisy))
    sigma2 = mpmath.mpf(model.sigma) ** 2
    eps2_t = sigma2 * mpmath.mpf(n) ** (-mpmath.mpf(2) / model.d)
    tt = _log_kernel_self_mp(clean, eps2_t)
    tg = mpmath.exp(_log_gaussian_cross(clean, G, eps2_t))
    if n_ref is None:
        rr = (4 * mpmath.pi * sigma2) ** (-mpmath.mpf(model.d) / 2)
        rg = mpmath.exp(_log_gaussian_cross(np.full((1, model.d), model.mean), G, sigma2))
    else:
        ref = model.sample(n_ref, rng)
        eps2_r = sigma2 * mpmath.mpf(n_ref) ** (-mpmath.mpf(2) / model.d)
        rr = _log_kernel_self_mp(ref, eps2_r)
        rg = mpmath.exp(_log_gaussian_cross(ref, G, eps2_r))
    return tt - 2 * tg - rr + 2 * rg


@pytest.mark.parametrize("d, n, seed, n_ref", [
    (100, 100, [2, 100, 100, 1], None),   # issue 18: the subtracted form gave sign -1
    (100, 100, [2, 100, 100, 7], None),
    (100, 101, 5801, 101),                # kernel reference: the subtracted form gave sign +1
    (120, 3, 11, None),                   # memorisation side, every inner product tiny
])
def test_delta_sign_and_size_against_40_digit_sum(d, n, seed, n_ref):
    """|Delta| ~ e^{-32} <O,O> at n ~ d = 100, below the rounding of the separately formed <T,T> and <O,O>."""
    model = OneStepModel(d)
    res = relative_distance(model, n, seed=seed, reference=n_ref)
    exact = _naive_delta_mp(model, n, seed, n_ref)
    assert res.delta.sign == int(mpmath.sign(exact))
    assert res.delta.log_abs == pytest.approx(float(mpmath.log(abs(exact))), abs=1e-8)


@pytest.mark.parametrize("d, n, seed", [(40, 43, [3, 40, 43, 79]), (100, 101, [3, 100, 101, 2])])
def test_kl_finite_above_d_against_exact_determinant(d, n, seed):
    """n > d: Sigma_G = v A A^T is regular though cond(A)^2 passes 1e12 (issue 18 had KL = inf). Reference:
    KL(G || O) = 1/2 [v |A|_F^2 / s2 + |mu_G - mean 1|^2 / s2 - d + d ln(s2 / v) - 2 ln |det A|],
    ln |det A| from the LU of A (slogdet), itself checked against a 30-digit LU at d = 40."""
    model = OneStepModel(d)
    res = relative_distance(model, n, seed=seed)
    clean, noisy = sample_pairs(model, n, np.random.default_rng(seed))
    A, b = fit_one_step(clean, noisy)
    log_det = np.linalg.slogdet(A)[1]
    if d <= 40:
        mpmath.mp.dps = 30
        assert log_det == pytest.approx(float(mpmath.log(abs(mpmath.det(mpmath.matrix(A.tolist()))))), abs=1e-9)
    v, s2 = model.noisy_var, model.sigma**2
    mu = generated_law(model, A, b).means[0]
    want = 0.5 * (v * np.sum(A * A) / s2 + np.sum((mu - model.mean) ** 2) / s2 - d + d * math.log(s2 / v)
                  - 2 * log_det)
    assert math.isfinite(res.kl_gen_true)
    assert res.kl_gen_true == pytest.approx(want, rel=1e-9)


def test_fixed_kernel_reference_equals_fresh_draw():
    """A KernelReference of the same points gives the same Delta as reference=N drawing them."""
    model = OneStepModel(d=6)
    n, n_ref, seed = 9, 15, 4
    rng = np.random.default_rng(seed)
    sample_pairs(model, n, rng)
    ref = kernel_reference(model, model.sample(n_ref, rng))
    a = relative_distance(model, n, seed=seed, reference=n_ref)
    b = relative_distance(model, n, seed=seed, reference=ref)
    assert a == b


def test_prob_delta_positive_is_reproducible_and_separates_regimes():
    model = OneStepModel(d=10)
    lo = prob_delta_positive(model, 2, n_sets=60, seed=3)
    hi = prob_delta_positive(model, 30, n_sets=60, seed=3)
    again = prob_delta_positive(model, 2, n_sets=60, seed=3)
    assert lo.prob == again.prob
    assert lo.ci_high < 0.5 < hi.ci_low
    assert lo.ci_low <= lo.prob <= lo.ci_high


def test_bad_inputs_raise():
    for kwargs, name in [(dict(d=0), "d"), (dict(d=math.inf), "d"), (dict(d="3"), "d"), (dict(d=2.5), "d"),
                         (dict(d=3, sigma=-1.0), "sigma"), (dict(d=3, t_cut=0.0), "t_cut"),
                         (dict(d=3, t_cut=1e6), "t_cut"), (dict(d=3, mean="1"), "mean"),
                         (dict(d=3, mean=math.nan), "mean"), (dict(d=3, ell=math.inf), "ell")]:
        with pytest.raises(ValueError, match=rf"^{name}:"):
            OneStepModel(**kwargs)
    with pytest.raises(ValueError, match=r"^t_cut:"):
        infinite_data_kl(OneStepModel(d=3, t_cut=1e6))
    model = OneStepModel(d=3)
    for n in (1, math.inf, 4.5):
        with pytest.raises(ValueError, match=r"^n:"):
            relative_distance(model, n)
    for ref in (0, math.inf):
        with pytest.raises(ValueError, match=r"^reference:"):
            relative_distance(model, 5, reference=ref)
    with pytest.raises(ValueError, match=r"^points:"):
        kernel_reference(model, np.zeros((4, 2)))
    for n_sets in (0, math.inf):
        with pytest.raises(ValueError, match=r"^n_sets:"):
            prob_delta_positive(model, 5, n_sets=n_sets)
    x = np.ones((4, 3))
    with pytest.raises(ValueError, match=r"^clean:"):
        fit_one_step(np.where(np.eye(4, 3) > 0, math.nan, x), x)
    with pytest.raises(ValueError, match=r"^noisy:"):
        fit_one_step(x, np.ones((4, 2)))
