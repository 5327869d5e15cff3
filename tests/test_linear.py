"""Linear DDPM: exact generated law, Wishart KL, deterministic equivalents, proportional limit."""
import math

import numpy as np
import pytest

from rfdsm import divergences
from rfdsm.linear import (SpectralContour, Training, ancestral_law, generated_spectrum, linear_schedule,
                          power_law_spectrum, proportional_limit, realise, resolvent_traces, train,
                          wishart_kl, wishart_kl_limit)


def _sample_cov(lam, n, rng):
    x = rng.standard_normal((lam.size, n)) * np.sqrt(lam)[:, None]
    return x @ x.T / n


# ---------------------------------------------------------------- exact chain

def test_spectral_law_matches_matrix_recursion_and_sampler():
    """Eigenbasis shortcut == general matrix recursion (1e-10), and == Monte Carlo of the sampler (3%)."""
    rng = np.random.default_rng(1)
    sched = linear_schedule(steps=60, beta_min=1e-3, beta_max=5e-2)
    lam = np.array([2.0, 0.7, 0.3])
    X = 0.5 + rng.standard_normal((6, 3)) * np.sqrt(lam)
    chain = train(X, sched, Training(c=0.05))
    law = chain.generated_law()
    mu0, S0 = law.means[0], law.cov
    W, b = chain.denoisers()
    mu_m, S_m = ancestral_law(W, b, sched)
    np.testing.assert_allclose(mu0, mu_m, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(S0, S_m, rtol=1e-10, atol=1e-12)
    # run the ancestral sampler itself
    n = 40000
    x = rng.standard_normal((n, 3))
    for t in range(sched.steps - 1, -1, -1):
        eps = x @ W[t].T + b[t]
        x = (x - sched.beta[t] / math.sqrt(sched.s[t]) * eps) / math.sqrt(sched.alpha[t])
        x += math.sqrt(sched.sigma2[t]) * rng.standard_normal(x.shape)
    np.testing.assert_allclose(np.cov(x.T), S0, atol=0.03 * np.abs(S0).max())
    np.testing.assert_allclose(x.mean(axis=0), mu0, atol=4 * math.sqrt(S0.max() / n))


def test_kl_infinite_without_regularisation_below_d():
    lam = power_law_spectrum(30, 1.0)
    assert realise(lam, 20, seed=0).kl_gen_true_per_dim == math.inf
    assert realise(lam, 30, seed=0).kl_gen_true_per_dim == math.inf  # N = d, learned mean: rank C <= N - 1
    assert math.isfinite(realise(lam, 31, seed=0).kl_gen_true_per_dim)
    assert proportional_limit(lam, 20).kl_true_gen_per_dim == math.inf
    assert math.isfinite(realise(lam, 20, training=Training(c=1e-2), seed=0).kl_gen_true_per_dim)
    assert math.isfinite(proportional_limit(lam, 20, training=Training(tau=20.0)).kl_gen_true_per_dim)


# ---------------------------------------------------------------- Wishart

@pytest.mark.parametrize("known_mean", [True, False])
def test_wishart_kl_expectations_against_simulation(known_mean):
    """E KL between N(centre, C) and the truth, C about the true mean (known) or the sample mean (learned)."""
    d, N, reps = 8, 30, 1500
    rng = np.random.default_rng(2)
    lam = power_law_spectrum(d, 1.5)
    p = divergences.gaussian(np.zeros(d), lam)
    kls = []
    for _ in range(reps):
        X = rng.standard_normal((N, d)) * np.sqrt(lam)
        centre = np.zeros(d) if known_mean else X.mean(axis=0)
        q = divergences.gaussian(centre, (X - centre).T @ (X - centre) / N)
        kls.append([divergences.kl(q, p), divergences.kl(p, q)])
    kls = np.array(kls)
    exact = np.array(wishart_kl(N, d, known_mean))
    se = kls.std(axis=0) / math.sqrt(reps)
    assert np.all(np.abs(kls.mean(axis=0) - exact) < 4 * se), (kls.mean(axis=0), exact, se)


def test_wishart_kl_limits_and_infinite_ranges():
    assert wishart_kl(10, 9)[1] == math.inf and wishart_kl(5, 6)[0] == math.inf
    assert wishart_kl(11, 9, known_mean=False)[1] == math.inf and wishart_kl(6, 6, known_mean=False)[0] == math.inf
    # proportional limit per dimension, error O(1/d)
    lim = np.array(wishart_kl_limit(2.0))
    np.testing.assert_allclose(np.array(wishart_kl(4000, 2000)) / 2000, lim, rtol=2e-3)


def test_chain_excess_kl_constants_known_and_learned_mean():
    """N > d: the trained chain's total excess KL over N = inf is the Wishart one, ~ d(d+1)/(4N) with a known mean
    and ~ d(d+3)/(4N) with the learned mean (here 40 % apart), both directions; within 4 standard errors."""
    d, N, sets = 4, 40, 300
    lam = power_law_spectrum(d, 0.0)
    g, _ = generated_spectrum(lam, linear_schedule(), Training())
    ratio = g / lam  # N = inf: the chain run on Sigma itself, exact mean
    at_inf = np.array([0.5 * np.sum(ratio - 1 - np.log(ratio)), 0.5 * np.sum(1 / ratio - 1 + np.log(ratio))])
    for known_mean in (True, False):
        kls = np.array([[r.kl_gen_true_per_dim * d, r.kl_true_gen_per_dim * d] for r in
                        (realise(lam, N, known_mean=known_mean, seed=[known_mean, s]) for s in range(sets))])
        excess = kls.mean(axis=0) - at_inf
        se = kls.std(axis=0) / math.sqrt(sets)
        want = np.array(wishart_kl(N, d, known_mean))
        assert np.all(np.abs(excess - want) < 4 * se), (known_mean, excess, want, se)


def test_proportional_limit_excess_low_by_d_over_d_plus_1():
    """At finite d the proportional limit's excess KL is d/(d+1) of the exact known-mean one (d/(d+3) of the
    learned-mean one): it keeps the leading d^2/(4N) only.  2 % at d = 10, N = 20 d, for k = 0 and 1."""
    d, N = 10, 200
    for k in (0.0, 1.0):
        lam = power_law_spectrum(d, k)
        far, near = proportional_limit(lam, 10**7 * d), proportional_limit(lam, N)
        excess = d * np.array([near.kl_gen_true_per_dim - far.kl_gen_true_per_dim,
                               near.kl_true_gen_per_dim - far.kl_true_gen_per_dim])
        np.testing.assert_allclose(excess / np.array(wishart_kl(N, d)), d / (d + 1), rtol=0.02)
        np.testing.assert_allclose(excess / np.array(wishart_kl(N, d, known_mean=False)), d / (d + 3), rtol=0.02)


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
    sim = realise(lam, N, training=training, known_mean=True, seed=4)
    got = [sim.kl_gen_true_per_dim, sim.kl_true_gen_per_dim, sim.train_loss_sum, sim.test_loss_sum]
    want = [th.kl_gen_true_per_dim, th.kl_true_gen_per_dim, th.train_loss_sum, th.test_loss_sum]
    np.testing.assert_allclose(got, want, rtol=0.01)


# ---------------------------------------------------------------- input checks

def test_bad_inputs_raise():
    lam = np.ones(3)
    cases = [
        (lambda: Training(c=-1.0), "c"), (lambda: Training(c="0.1"), "c"), (lambda: Training(tau=0.0), "tau"),
        (lambda: Training(tau="inf"), "tau"), (lambda: Training(eta=math.inf), "eta"),
        (lambda: power_law_spectrum(10, -1.0), "k"), (lambda: power_law_spectrum(0, 1.0), "d"),
        (lambda: power_law_spectrum(math.inf, 1.0), "d"),
        (lambda: realise(np.array([1.0, 0.0]), 5), "spectrum"), (lambda: realise("abc", 5), "spectrum"),
        (lambda: realise(lam, 0), "N"), (lambda: realise(lam, math.inf), "N"), (lambda: realise(lam, 2.5), "N"),
        (lambda: realise(lam, 5, mean=np.zeros(2)), "mean"),
        (lambda: proportional_limit(lam, -2), "N"), (lambda: proportional_limit(lam, 1.5), "N"),
        (lambda: proportional_limit(lam, "10"), "N"), (lambda: proportional_limit("abc", 10), "spectrum"),
        (lambda: proportional_limit(lam, 10, half_angle=2.0), "half_angle"),
        (lambda: linear_schedule(steps=0), "steps"), (lambda: linear_schedule(steps=math.inf), "steps"),
        (lambda: linear_schedule(beta_max=1.5), "beta_max"),
        (lambda: resolvent_traces(-1.0, lam, 2), "shift"), (lambda: resolvent_traces(0.1, lam, 2, b=np.ones(2)), "b"),
        (lambda: resolvent_traces(0.1, lam, math.inf), "n"),
        (lambda: wishart_kl(math.inf, 3), "N"), (lambda: wishart_kl_limit(math.inf), "psi"),
        (lambda: wishart_kl_limit(0.5), "psi"),
        (lambda: train(np.array([[1.0, math.nan]]), linear_schedule(), Training()), "X"),
    ]
    for call, name in cases:
        with pytest.raises(ValueError, match=rf"^{name}:"):
            call()
