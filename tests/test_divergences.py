"""Gaussian divergences: closed forms against brute-force integration (d = 1, 2), the rank rule, log space."""
import math

import mpmath
import numpy as np
import pytest
from scipy import integrate, stats

from rfdsm import divergences as g


def _grid_2d(n=801, half=9.0):
    x = np.linspace(-half, half, n)
    xx, yy = np.meshgrid(x, x, indexing="ij")
    return x, np.stack([xx, yy], axis=-1)


def _pdf(pts, mixture):
    return sum(w * stats.multivariate_normal(m, mixture.cov).pdf(pts)
               for w, m in zip(mixture.weights, mixture.means))


P = g.gaussian([0.3, -0.2], [[1.2, 0.4], [0.4, 0.7]])
Q = g.gaussian([-0.1, 0.5], [[0.8, -0.2], [-0.2, 1.5]])


def test_kl_hellinger_l2_match_grid_integration_in_2d():
    x, pts = _grid_2d()
    p, q = _pdf(pts, P), _pdf(pts, Q)
    trap = lambda f: integrate.trapezoid(integrate.trapezoid(f, x, axis=1), x)
    assert g.kl(P, Q) == pytest.approx(trap(p * np.log(p / q)), rel=1e-6)
    assert g.kl(Q, P) == pytest.approx(trap(q * np.log(q / p)), rel=1e-6)
    assert g.hellinger2(P, Q) == pytest.approx(1 - trap(np.sqrt(p * q)), rel=1e-6)
    assert g.l2sq(P, Q).value == pytest.approx(trap((p - q) ** 2), rel=1e-6)


def test_mixture_l2_matches_quadrature_in_1d():
    mix = g.kernel_density(np.array([[-1.0], [0.2], [1.5]]), 0.4)
    ref = g.gaussian([0.1], 0.9)
    f = lambda t: (_pdf(np.array([t]), mix) - _pdf(np.array([t]), ref)) ** 2
    brute, _ = integrate.quad(f, -15, 15, epsabs=1e-13, limit=200)
    assert g.l2sq(mix, ref).value == pytest.approx(brute, rel=1e-8)
    assert g.l2sq(mix, mix).sign == 0 or abs(g.l2sq(mix, mix).value) < 1e-14


def test_kl_infinite_when_singular_and_isotropic_closed_form():
    sing = g.gaussian([0.0, 0.0], [[1.0, 1.0], [1.0, 1.0]])
    assert g.kl(sing, Q) == math.inf and g.kl(Q, sing) == math.inf
    assert g.hellinger2(sing, Q) == 1.0
    d, r = 7, 0.3
    p, q = g.gaussian(np.ones(d), r), g.gaussian(np.ones(d), 1.0)
    assert g.kl(p, q) == pytest.approx(0.5 * d * (r - 1 - math.log(r)), rel=1e-12)
    assert g.hellinger2(p, q) == pytest.approx(1 - (2 * math.sqrt(r) / (1 + r)) ** (d / 2), rel=1e-12)


def test_log_space_l2_survives_where_float64_overflows():
    # d = 400 narrow Gaussians: <p,p> ~ exp(+1e3), beyond float64; compare with mpmath
    d = 400
    p, q = g.gaussian(np.zeros(d), 1e-3), g.gaussian(np.full(d, 1e-3), 1.1e-3)
    res = g.l2sq(p, q)
    mpmath.mp.dps = 60
    terms = [g.log_inner(p, p), g.log_inner(q, q), g.log_inner(p, q)]
    exact = mpmath.exp(terms[0]) + mpmath.exp(terms[1]) - 2 * mpmath.exp(terms[2])
    assert res.sign == 1 and res.value == math.inf
    assert res.log_abs == pytest.approx(float(mpmath.log(exact)), rel=1e-12)


def test_factor_resolves_covariances_whose_matrix_is_numerically_singular():
    """S = F F^T with F's singular values (1, 1e-10): as a matrix, S has condition 1e20 and counts as singular;
    given by F it does not, and KL(N(0, S) || N(0, I)) = 1/2 sum (s^2 - 1 - ln s^2) to rounding."""
    rot = np.array([[0.6, -0.8], [0.8, 0.6]])
    s = np.array([1.0, 1e-10])
    F = rot * s
    assert g.gaussian([0.0, 0.0], F @ F.T).singular
    p = g.gaussian([0.0, 0.0], factor=F)
    assert not p.singular
    want = 0.5 * np.sum(s**2 - 1 - np.log(s**2))
    assert g.kl(p, g.gaussian([0.0, 0.0], 1.0)) == pytest.approx(want, rel=1e-12)
    want_back = 0.5 * np.sum(1 / s**2 - 1 + np.log(s**2))
    assert g.kl(g.gaussian([0.0, 0.0], 1.0), p) == pytest.approx(want_back, rel=1e-12)
    rank_one = g.gaussian([0.0, 0.0], factor=rot * np.array([1.0, 0.0]))
    assert rank_one.singular and g.kl(rank_one, Q) == math.inf
    assert g.gaussian(np.zeros(3), factor=np.ones((3, 2))).singular  # fewer columns than d


def test_off_diagonal_inner_product_against_explicit_pairs():
    """ln sum_{i != j} w_i w_j N(a_i - a_j; 0, 2 eps^2 I), and <p,p> = diagonal + off-diagonal."""
    x = np.array([[0.0, 0.3], [1.1, -0.4], [-0.7, 0.9], [0.2, 0.2]])
    mix = g.kernel_density(x, 0.6)
    pair = stats.multivariate_normal(np.zeros(2), 2 * 0.36)
    off = sum(pair.pdf(x[i] - x[j]) for i in range(4) for j in range(4) if i != j) / 16
    assert g.log_inner_off_diagonal(mix) == pytest.approx(math.log(off), rel=1e-13)
    diag = pair.pdf(np.zeros(2)) / 4
    assert g.log_inner(mix, mix) == pytest.approx(math.log(off + diag), rel=1e-13)
    assert g.log_inner_off_diagonal(g.kernel_density(x[:1], 0.6)) == -math.inf


def test_signed_logsumexp_signs_and_cancellation():
    assert g.signed_logsumexp([1.0, 1.0], [1, -1]).sign == 0
    r = g.signed_logsumexp([math.log(3.0), -math.inf, math.log(5.0)], [1, 1, -1])
    assert r.sign == -1 and r.log_abs == pytest.approx(math.log(2.0), rel=1e-15)
    assert g.signed_logsumexp([800.0, 0.0], [1, 1]).value == math.inf


def test_bad_inputs_raise():
    with pytest.raises(ValueError, match=r"^cov:"):
        g.gaussian([0.0, 0.0], [[1.0, 2.0], [2.0, 1.0]])
    with pytest.raises(ValueError, match=r"^cov:"):
        g.gaussian([0.0, 0.0], 1.0, factor=np.eye(2))
    with pytest.raises(ValueError, match=r"^factor:"):
        g.gaussian([0.0, 0.0], factor=np.eye(3))
    with pytest.raises(ValueError, match=r"^weights:"):
        g.GaussianMixture(np.array([0.5, 0.6]), np.zeros((2, 1)), 1.0)
    with pytest.raises(ValueError, match=r"^means:"):
        g.gaussian([0.0, math.nan], 1.0)
    with pytest.raises(ValueError, match=r"^eps:"):
        g.kernel_density(np.zeros((3, 2)), 0.0)
    with pytest.raises(ValueError, match=r"^samples:"):
        g.kernel_density(np.zeros((0, 2)), 1.0)
    with pytest.raises(ValueError, match=r"^logs:"):
        g.signed_logsumexp([math.inf, 0.0], [1, -1])
