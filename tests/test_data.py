"""Data models (rfdsm/data): spectra, sampling, the exact score, the baseline C_t and ε_test = C_t + h ε_score, bad
spectra."""

import math

import numpy as np
import pytest
from scipy.integrate import quad

from rfdsm.activation_constants import constants
from rfdsm.data import Gaussian, Isotropic, PowerLaw, TwoAtoms

MODELS = [Isotropic(), Gaussian([0.2, 0.2, 1.0, 2.6]), TwoAtoms(1, 3, weight=0.3), PowerLaw(0.6)]


@pytest.mark.parametrize("data", MODELS, ids=repr)
def test_spectrum_at_d_is_the_law_of_the_sampled_covariance(data):
    d = 60
    law = data.spectrum(d)
    assert law.shape[1] == 2 and np.all(np.diff(law[:, 0]) > 0) and abs(law[:, 1].sum() - 1) < 1e-15
    values = np.linalg.eigvalsh(data.covariance(d))
    assert np.allclose(np.sort(values), data.eigenvalues(d), atol=1e-12)
    assert np.allclose(np.repeat(law[:, 0], np.round(law[:, 1] * d).astype(int)), data.eigenvalues(d))
    assert data.second_moment(d) == pytest.approx(np.trace(data.covariance(d)) / d, rel=1e-13)
    basis = data.basis(d)
    assert np.allclose(basis.T @ basis, np.eye(d), atol=1e-12) and np.array_equal(data.basis(d), basis)


@pytest.mark.parametrize("data", MODELS, ids=repr)
def test_samples_have_the_covariance(data):
    d, n = 30, 200_000
    X = data.sample(np.random.default_rng(1), n, d)
    error = np.abs(X.T @ X / n - data.covariance(d))
    assert np.max(error) < 6 * np.sqrt(2 * np.max(data.eigenvalues(d)) ** 2 / n)


@pytest.mark.parametrize("data", MODELS, ids=repr)
def test_exact_score_and_baseline_against_dense_algebra(data):
    d, t = 40, 0.3
    a2, h = math.exp(-2 * t), -math.expm1(-2 * t)
    sigma_t = a2 * data.covariance(d) + h * np.eye(d)
    y = np.random.default_rng(2).standard_normal((5, d))
    assert np.allclose(data.exact_score(y, t), -np.linalg.solve(sigma_t, y.T).T, atol=1e-12)
    assert data.baseline(t, d) == pytest.approx(1 - h * np.trace(np.linalg.inv(sigma_t)) / d, rel=1e-13)
    assert data.preactivation_variance(t, d) == pytest.approx(np.trace(sigma_t) / d, rel=1e-13)
    c = data.constants("tanh", t, d)
    assert c.q == pytest.approx(data.preactivation_variance(t, d), rel=1e-15)
    assert c.mu1 == constants("tanh", t, data.second_moment(d)).mu1


@pytest.mark.parametrize("data", [Gaussian([0.3, 1.0, 1.7]), PowerLaw(0.5)], ids=repr)
def test_test_error_is_the_baseline_plus_h_times_the_score_error(data):
    # For any score s (here a random linear one): (1/d) E‖√h s(y) + z‖² − h (1/d) E‖s(y) − ∇log p_t(y)‖² = C_t, with
    # y = a x + √h z drawn from sample and the exact score of the data model; Monte Carlo within 5 standard errors.
    d, n, t = 20, 200_000, 0.4
    rng = np.random.default_rng(3)
    a, h = math.exp(-t), -math.expm1(-2 * t)
    M = rng.standard_normal((d, d)) / math.sqrt(d)
    x, z = data.sample(rng, n, d), rng.standard_normal((n, d))
    y = a * x + math.sqrt(h) * z
    s = y @ M.T
    each = (np.sum((math.sqrt(h) * s + z) ** 2, axis=1) - h * np.sum((s - data.exact_score(y, t)) ** 2, axis=1)) / d
    assert abs(each.mean() - data.baseline(t, d)) < 5 * each.std() / math.sqrt(n)


def test_isotropic_data():
    data = Isotropic()
    assert np.array_equal(data.spectrum(), [[1.0, 1.0]]) and np.array_equal(data.spectrum(7), [[1.0, 1.0]])
    assert data.baseline(0.3) == pytest.approx(math.exp(-0.6), rel=1e-15)
    assert data.preactivation_variance(0.3) == pytest.approx(1.0, rel=1e-15)
    y = np.arange(6.0).reshape(2, 3)
    assert np.array_equal(data.exact_score(y, 0.7), -y)
    assert np.array_equal(data.basis(4), np.eye(4))


def test_two_atoms_have_mean_one_and_their_weights():
    data = TwoAtoms(1, 3, weight=0.25)
    assert np.allclose(data.spectrum(), [[0.4, 0.25], [1.2, 0.75]])
    assert data.second_moment() == pytest.approx(1.0, rel=1e-15)
    assert np.array_equal(data.eigenvalues(8), [0.4, 0.4, 1.2, 1.2, 1.2, 1.2, 1.2, 1.2])


def test_power_law_eigenvalues_and_limit_law():
    data = PowerLaw(0.5)
    values = data.eigenvalues(100)
    assert values.mean() == pytest.approx(1.0, rel=1e-14)
    assert np.allclose(values[::-1] / values[-1], np.arange(1, 101) ** -0.5)
    law = data.spectrum()
    assert law.shape == (64, 2) and abs(law[:, 1].sum() - 1) < 1e-14 and abs(law[:, 0] @ law[:, 1] - 1) < 1e-12
    # The limit law is that of (1 − k) U^{−k}: a spectral mean of the quadrature against the integral over U.
    for k in (0.3, 0.9):
        a2, h = math.exp(-0.2), -math.expm1(-0.2)
        exact = 1 - h * quad(lambda u: 1 / (a2 * (1 - k) * u**-k + h), 0, 1, epsabs=1e-14, limit=200)[0]
        assert PowerLaw(k).baseline(0.1) == pytest.approx(exact, abs=1e-12)
    assert np.array_equal(PowerLaw(0).spectrum(), [[1.0, 1.0]])


def test_from_samples_recovers_the_spectrum():
    truth = TwoAtoms(0.5, 1.5)
    d = 20
    X = truth.sample(np.random.default_rng(4), 100_000, d) + 3.0  # a mean, which the model removes
    data = Gaussian.from_samples(X)
    assert np.allclose(data.eigenvalues(d), truth.eigenvalues(d), atol=0.03)
    few = Gaussian.from_samples(X[:5])
    assert np.sum(few.eigenvalues(d) == 0) == d - 4  # n < d: the sample covariance has rank n − 1


@pytest.mark.parametrize(
    "make, name",
    [
        (lambda: Gaussian([]), "eigenvalues"),
        (lambda: Gaussian([1.0, -0.5]), "eigenvalues"),
        (lambda: Gaussian([1.0, math.nan]), "eigenvalues"),
        (lambda: Gaussian([0.0, 0.0]), "eigenvalues"),
        (lambda: Gaussian([[1.0, 2.0]]), "eigenvalues"),
        (lambda: Gaussian([1.0, 2.0], [0.5]), "weights"),
        (lambda: Gaussian([1.0, 2.0], [0.5, -0.5]), "weights"),
        (lambda: Gaussian.from_samples(np.ones((1, 3))), "X"),
        (lambda: Gaussian.from_samples([[1.0, math.inf], [0.0, 1.0]]), "X"),
        (lambda: PowerLaw(1.0), "k"),
        (lambda: PowerLaw(-0.1), "k"),
        (lambda: PowerLaw(0.5, atoms=0), "atoms"),
        (lambda: TwoAtoms(0.0, 0.0), "l1"),
        (lambda: TwoAtoms(-1.0, 1.0), "l1"),
        (lambda: TwoAtoms(1.0, math.nan), "l2"),
        (lambda: TwoAtoms(1.0, 2.0, weight=1.0), "weight"),
        (lambda: Isotropic().sample(np.random.default_rng(0), 0, 3), "n"),
        (lambda: Isotropic().sample(0, 2, 3), "rng"),
        (lambda: Isotropic().spectrum(0), "d"),
        (lambda: Isotropic().baseline(0.0), "t"),
        (lambda: Isotropic().exact_score(np.ones(3), -1.0), "t"),
    ],
)
def test_bad_input_raises_value_error_naming_the_argument(make, name):
    with pytest.raises(ValueError, match=rf"^{name}:"):
        make()
