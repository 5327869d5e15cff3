"""Linear DDPM: exact generated law, Wishart KL, deterministic equivalents, proportional limit."""
import math

import numpy as np
import pytest

from rfdsm import gaussians
from rfdsm.linear import (SpectralContour, Training, ancestral_law, linear_schedule,
                          power_law_spectrum, proportional_limit, resolvent_traces, simulate, train,
                          wishart_kl, wishart_kl_limit)


def _sample_cov(lam, n, rng):
    x = rng.standard_normal((lam.size, n)) * np.sqrt(lam)[:, None]
    return x @ x.T / n


# ---------------------------------------------------------------- exact chain

def test_spectral_law_matches_matrix_recursion_and_sampler():
    """Eigenbasis shortcut == general matrix recursion (1e-10), and == Monte Carlo of the sampler (3%)."""
    rng = np.random.default_rng(1)
    sched = linear_schedule(T=60, beta_min=1e-3, beta_max=5e-2)
    lam = np.array([2.0, 0.7, 0.3])
    X = 0.5 + rng.standard_normal((6, 3)) * np.sqrt(lam)
    chain = train(X, sched, Training(c=0.05))
    mu0, S0 = chain.generated_law()
    W, b = chain.denoisers()
    mu_m, S_m = ancestral_law(W, b, sched)
    np.testing.assert_allclose(mu0, mu_m, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(S0, S_m, rtol=1e-10, atol=1e-12)
    # run the ancestral sampler itself
    n = 40000
    x = rng.standard_normal((n, 3))
    for t in range(sched.T - 1, -1, -1):
        eps = x @ W[t].T + b[t]
        x = (x - sched.beta[t] / math.sqrt(sched.s[t]) * eps) / math.sqrt(sched.alpha[t])
        x += math.sqrt(sched.sigma2[t]) * rng.standard_normal(x.shape)
    np.testing.assert_allclose(np.cov(x.T), S0, atol=0.03 * np.abs(S0).max())
    np.testing.assert_allclose(x.mean(axis=0), mu0, atol=4 * math.sqrt(S0.max() / n))


def test_kl_infinite_without_regularisation_below_d():
    lam = power_law_spectrum(30, 1.0)
    assert simulate(lam, 20, seed=0).kl_gen_true == math.inf
    assert proportional_limit(lam, 20).kl_true_gen == math.inf
    assert math.isfinite(simulate(lam, 20, training=Training(c=1e-2), seed=0).kl_gen_true)
    assert math.isfinite(proportional_limit(lam, 20, training=Training(tau=20.0)).kl_gen_true)


# ---------------------------------------------------------------- Wishart

def test_wishart_kl_expectations_against_simulation():
    d, N, reps = 8, 30, 3000
    rng = np.random.default_rng(2)
    lam = power_law_spectrum(d, 1.5)
    p = gaussians.gaussian(np.zeros(d), lam)
    kls = np.array([[gaussians.kl(q, p), gaussians.kl(p, q)]
                    for q in (gaussians.gaussian(np.zeros(d), _sample_cov(lam, N, rng)) for _ in range(reps))])
    exact = np.array(wishart_kl(N, d))
    se = kls.std(axis=0) / math.sqrt(reps)
    assert np.all(np.abs(kls.mean(axis=0) - exact) < 4 * se), (kls.mean(axis=0), exact, se)
    assert wishart_kl(N, N - 1)[1] == math.inf and wishart_kl(5, 6)[0] == math.inf
    # proportional limit per dimension, error O(1/d)
    lim = np.array(wishart_kl_limit(2.0))
    np.testing.assert_allclose(np.array(wishart_kl(4000, 2000)) / 2000, lim, rtol=2e-3)


# ---------------------------------------------------------------- deterministic equivalents

def test_resolvent_equivalent_against_dense_numerics_error_shrinks_with_d():
    """Mean |relative error| of tr(Sigma R)/d and tr(Sigma R^2)/d, R = (C + zeta)^{-1}: ~1.5e-2 at d=100, ~5e-4 at d=1000."""
    rng = np.random.default_rng(3)
    errs = []
    for d, reps in ((100, 10), (1000, 2)):
        lam = power_law_spectrum(d, 1.0)
        n, zeta = d // 2, 0.05
        r1, r2 = resolvent_traces(zeta, lam, n, b=lam)
        e = []
        for _ in range(reps):
            R = np.linalg.inv(_sample_cov(lam, n, rng) + zeta * np.eye(d))
            e.append(max(abs(np.sum(lam * np.diag(R)) / d / r1 - 1),
                         abs(np.sum(lam * np.einsum("ij,ji->i", R, R)) / d / r2 - 1)))
        errs.append(np.mean(e))
    assert errs[0] < 0.04 and errs[1] < 0.004 and errs[1] < errs[0] / 4, errs


@pytest.mark.parametrize("k, ratio", [(1.5, 0.5), (1.5, 3.0), (0.0, 0.21), (0.0, 1.2)])
def test_contour_traces_match_closed_form_resolvent(k, ratio):
    lam = power_law_spectrum(300, k)
    n = int(ratio * 300)
    sc = SpectralContour(lam, n)
    for zeta in (1e-3, 0.3):
        r1, r2 = resolvent_traces(zeta, lam, n, b=lam)
        assert sc.trace(1 / (sc.z + zeta), f0=1 / zeta, b=lam) == pytest.approx(r1, rel=1e-10)
        assert sc.trace((sc.z + zeta) ** -2.0, f0=zeta**-2.0, b=lam) == pytest.approx(r2, rel=1e-9)


# ---------------------------------------------------------------- proportional limit vs simulation

@pytest.mark.parametrize("N_over_d, training", [(2.0, Training()), (0.5, Training(c=1e-2)),
                                                (0.5, Training(tau=50.0))])
def test_proportional_limit_matches_simulation(N_over_d, training):
    """Known mean, mu = 0: finite-d simulation within 1% (KL/d, summed losses) at d = 400."""
    d = 400
    lam = power_law_spectrum(d, 1.0)
    N = int(N_over_d * d)
    th = proportional_limit(lam, N, training=training)
    sim = simulate(lam, N, training=training, mean="known", seed=4)
    got = [sim.kl_gen_true / d, sim.kl_true_gen / d, sim.train_loss_sum, sim.test_loss_sum]
    want = [th.kl_gen_true, th.kl_true_gen, th.train_loss_sum, th.test_loss_sum]
    np.testing.assert_allclose(got, want, rtol=0.01)


def test_excess_kl_linear_in_d_over_N():
    """For N >> d the excess KL/d falls like (d/N)/4 (Wishart law), for isotropic and power-law data."""
    for k in (0.0, 1.0):
        lam = power_law_spectrum(400, k)
        kl = [proportional_limit(lam, int(psi * 400)).kl_gen_true for psi in (100, 200, 1e5)]
        slope = (kl[0] - kl[1]) / (1 / 100 - 1 / 200)
        assert slope == pytest.approx(0.25, rel=0.1), (k, slope)


# ---------------------------------------------------------------- input checks

def test_bad_inputs_raise():
    with pytest.raises(ValueError, match="c"):
        Training(c=-1.0)
    with pytest.raises(ValueError, match="tau"):
        Training(tau=0.0)
    with pytest.raises(ValueError, match="k"):
        power_law_spectrum(10, -1.0)
    with pytest.raises(ValueError, match="d"):
        power_law_spectrum(0, 1.0)
    with pytest.raises(ValueError, match="spectrum"):
        simulate(np.array([1.0, 0.0]), 5)
    with pytest.raises(ValueError, match="N"):
        simulate(np.ones(3), 0)
    with pytest.raises(ValueError, match="N"):
        proportional_limit(np.ones(3), -2)
    with pytest.raises(ValueError, match="T"):
        linear_schedule(T=0)
    with pytest.raises(ValueError, match="zeta"):
        resolvent_traces(-1.0, np.ones(3), 2)
