"""Closed-form Gaussian divergences against brute-force integration on a grid (d = 1, 2)."""
import math

import mpmath
import numpy as np
import pytest
from scipy import integrate, stats

from rfdsm import gaussians as g


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


def test_bad_inputs_raise():
    with pytest.raises(ValueError, match="cov"):
        g.gaussian([0.0, 0.0], [[1.0, 2.0], [2.0, 1.0]])
    with pytest.raises(ValueError, match="weights"):
        g.GaussianMixture(np.array([0.5, 0.6]), np.zeros((2, 1)), 1.0)
    with pytest.raises(ValueError, match="eps"):
        g.kernel_density(np.zeros((3, 2)), 0.0)
