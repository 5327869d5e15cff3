"""The complex-z pencils (derive/models/rfdsm_resolvent.py) and rfdsm.spectrum: Herglotz branch, G(z) ~ 1/z, the
atom as the residue of G, Marchenko–Pastur where U is a shifted Wishart matrix, and histograms of dense U built from
the real non-linear features."""

import math

import numpy as np
import pytest

from rfdsm import constants
from rfdsm.data import Isotropic, TwoAtoms
from rfdsm.simulation.dynamics import eigenvalues
from rfdsm.spectral import _density, setting, spectrum

CASES = [("relu", 0.1, 1.5, 2.0, math.inf), ("tanh", 0.3, 0.5, 2.0, math.inf), ("relu", 0.1, 1.5, 4.0, 3),
         ("erf", 0.5, 1.0, 2.0, 1)]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_transforms_are_herglotz_and_decay_like_one_over_z(case):
    where = setting(*case[:4], m=case[4], data=TwoAtoms(0.5, 1.5))
    rng = np.random.default_rng(0)
    z = rng.uniform(-1, 5, 20) + 1j * np.geomspace(1e-4, 10, 20)
    swept = where.transforms(z)
    for name in ("stieltjes", "v_transform"):
        assert np.all(swept[name].imag > 0), name
    # The lower half-plane is the mirror image: G(z̄) = conj G(z).
    assert np.allclose(where.transforms(np.conj(z))["stieltjes"], np.conj(swept["stieltjes"]), rtol=1e-10, atol=0)
    far = np.array([1e6j, -1e6 + 1e5j, 1e6 + 1e6j])
    assert np.allclose(-far * where.transforms(far)["stieltjes"], 1, rtol=0, atol=1e-5)


@pytest.mark.parametrize("m, psi_n, psi_p", [(3, 1.0, 4.0), (1, 0.5, 1.0), (math.inf, 1.0, 3.0),
                                             (math.inf, 0.5, 1.0)])
def test_the_atom_is_the_residue_of_G(m, psi_n, psi_p):
    # w0 = −(1/2πi) ∮ G dz on a circle around u0 inside the gap below the first bulk (trapezoid rule: G is analytic
    # on an annulus around the circle, so the error falls geometrically); nodes in conjugate pairs.
    where = setting("relu", 0.2, psi_n, psi_p, m=m)
    u0, w0 = where.bottom
    radius = 0.5 * (spectrum("relu", 0.2, psi_n, psi_p, m=m).edges[0, 0] - u0)
    theta = 2 * np.pi * (np.arange(32) + 0.5) / 64
    z = u0 + radius * np.exp(1j * theta)
    G = where.transforms(z)["stieltjes"]
    dz = 1j * (z - u0) * (2 * np.pi / 64)
    residue = -np.sum(G * dz).imag / np.pi  # the lower half adds the conjugate of the upper half's −(G dz)
    assert residue == pytest.approx(w0, abs=1e-10)


@pytest.mark.parametrize("m", [math.inf, 1])
def test_marchenko_pastur_where_U_is_a_shifted_wishart_matrix(m):
    # |x| has μ1 = 0, so the features are their non-linear part alone: U = v² Ω Ωᵀ/n + s² for m = ∞, and
    # U = μ*² Ω Ωᵀ/n for m = 1, Marchenko–Pastur with ratio ψp/ψn.
    t, psi_n, psi_p = 0.3, 2.0, 3.0
    c = constants("abs", t)
    scale, shift = (c.mustar2 * c.kappa, c.mustar2 * (1 - c.kappa)) if m == math.inf else (c.mustar2, 0.0)
    ratio = psi_p / psi_n
    lo, hi = shift + scale * (1 - math.sqrt(ratio)) ** 2, shift + scale * (1 + math.sqrt(ratio)) ** 2
    u = np.linspace(lo, hi, 102)[1:-1]
    law = spectrum("abs", t, psi_n, psi_p, m=m, u=u)
    x = (u - shift) / scale
    closed = np.sqrt((x - (1 - math.sqrt(ratio)) ** 2) * ((1 + math.sqrt(ratio)) ** 2 - x)) / (2 * math.pi * ratio * x)
    interior = (u - lo > 0.02 * (hi - lo)) & (hi - u > 0.02 * (hi - lo))
    assert np.max(np.abs(law.density - closed / scale)[interior]) < 1e-5 * np.max(closed / scale)
    assert law.edges == pytest.approx(np.array([[lo, hi]]), rel=0, abs=2e-5 * hi)  # the documented precision
    assert law.atom == pytest.approx(shift, abs=1e-15)
    assert law.atom_weight == pytest.approx(1 - 1 / ratio, abs=1e-15)
    assert law.mass == pytest.approx(1, abs=1e-5)


HISTOGRAMS = [("relu", 0.1, 1.5, 2.0, math.inf, Isotropic()), ("tanh", 0.3, 2.0, 1.5, 1, Isotropic()),
              ("relu", 0.2, 1.0, 2.0, 3, TwoAtoms(0.5, 1.5))]


def _cumulative(case, u: np.ndarray) -> np.ndarray:
    """The distribution function of the limit law of ``U`` at the increasing points ``u`` (≥ the atom)."""
    activation, t, psi_n, psi_p, m, data = case
    law = spectrum(activation, t, psi_n, psi_p, m=m, data=data)
    fine = np.union1d(u, np.linspace(u[0], u[-1], 4001))
    rho = _density(setting(activation, t, psi_n, psi_p, m=m, data=data), fine, 1e-7 * law.edges[-1, 1])
    area = np.concatenate([[0], np.cumsum(0.5 * (rho[1:] + rho[:-1]) * np.diff(fine))])
    return law.atom_weight + np.interp(u, fine, area)


@pytest.mark.parametrize("case", HISTOGRAMS, ids=["relu-inf", "tanh-1", "relu-3-two-atoms"])
def test_density_against_histograms_of_dense_U(case):
    # The real features, with their μ0 part (one outlier eigenvalue of order p μ0², outside the bins) and every
    # feature at its own pre-activation variance: the histogram approaches the limit law as d grows.
    values = eigenvalues(*case[:5], 400, case[5], seed=7, draws=2)
    law = spectrum(*case[:4], m=case[4], data=case[5])
    assert law.atom_weight == 0 and law.mass == pytest.approx(1, abs=1e-3)
    bins = np.linspace(law.edges[0, 0], law.edges[-1, 1], 21)
    want = np.diff(_cumulative(case, bins))
    got = np.histogram(values, bins)[0] / values.size
    # Four binomial standard errors (eigenvalues fluctuate less than independent draws would).
    assert np.all(np.abs(got - want) <= 4 * np.sqrt(want * (1 - want) / values.size) + 1e-3), (got, want)


@pytest.mark.parametrize("case", HISTOGRAMS[1:], ids=["tanh-1", "relu-3-two-atoms"])
def test_distribution_function_against_dense_U(case):
    # Kolmogorov distance between the eigenvalues of dense U and the limit law: a finite-size bias O(1/d) (measured
    # 0.011 at d = 200, 0.006 at d = 400 for ReLU, m = 3), against 0.07 for the law of m = 4 instead of 3. (For
    # m = ∞ the bottom of the spectrum spreads over O(1/√d), see the docs, and this test does not apply.)
    d = 400
    values = np.sort(eigenvalues(*case[:5], d, case[5], seed=7, draws=2))
    law = spectrum(*case[:4], m=case[4], data=case[5])
    u = np.linspace(law.atom, law.edges[-1, 1], 2001)
    empirical = np.searchsorted(values, u, side="right") / values.size
    assert np.max(np.abs(empirical - _cumulative(case, u))) < 5 / d
