"""Simulations on data models (rfdsm.data): exact expectations on Gaussian data with a spectrum, the means over test
points used for other data, reproducible keyed draws, and agreement with the theory after extrapolation in d."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pytest

import rfdsm
from rfdsm.activations import load
from rfdsm.data import Gaussian, Isotropic, PowerLaw, TwoAtoms
from rfdsm.data.gaussian import GaussianLaw
from rfdsm.runner import read_records, sweep
from rfdsm.simulation.errors import TEST_POINTS, population_errors
from rfdsm.simulation.expectations import correlations
from rfdsm.simulation.ridge import features, fit, sampled_moments
from rfdsm.simulation.run import draw

T = 0.3
A2, H = math.exp(-2 * T), -math.expm1(-2 * T)


@dataclass(frozen=True)
class Sampled:
    """A Gaussian law presented as if it were not Gaussian: the simulation then averages over its test points."""

    law: GaussianLaw
    gaussian = False

    def test(self, rng, n):
        return self.law.test(rng, n)

    def eigh(self):
        return self.law.eigh()


def _trained(activation, data, d=50, n=50, p=100, m=2, seed=3):
    """A score trained on ``n`` points of ``data`` with ``m`` noises each: the module, W, the law and S."""
    W, law, X, Z = draw(np.random.default_rng(seed), data, d, n, p, m)
    module = load(activation)
    return module, W, law, fit(sampled_moments(module.rho, W, X, Z, math.exp(-T), H), 1e-2)


@pytest.mark.parametrize("activation", ["relu", "tanh"])
def test_gaussian_expectations_with_a_spectrum_match_monte_carlo(activation):
    """Two atoms (0.5, 1.5) in a random basis, d = 50: the exact test and score errors against 200 000 test points
    y ~ N(0, Σ_t), score error against −Σ_t^{-1} y: within 4 standard errors; ε_test = C_t + h ε_score to round-off;
    the errors averaged over TEST_POINTS points of the same law (the path of non-Gaussian data) within 4 of their
    standard errors of the exact ones."""
    data = TwoAtoms(0.5, 1.5)
    module, W, law, S = _trained(activation, data)
    test, score = population_errors(module, W, S, T, *correlations(W), law, None)
    assert test == pytest.approx(data.baseline(T) + H * score, abs=1e-13)
    rng = np.random.default_rng(4)
    B = -S.T
    samples = {"test": [], "score": []}
    for _ in range(20):
        x, z = law.sample(rng, 10_000), rng.standard_normal((10_000, law.d))
        y = math.exp(-T) * x + math.sqrt(H) * z
        s = (B @ features(module.rho, W, y)).T
        samples["score"].append(np.sum((s - data.exact_score(y, T)) ** 2, axis=1) / law.d)
        samples["test"].append(np.sum((math.sqrt(H) * s + z) ** 2, axis=1) / law.d)
    sampled = population_errors(module, W, S, T, *correlations(W), Sampled(law), np.random.default_rng(5))
    for name, exact, mean in (("test", test, sampled[0]), ("score", score, sampled[1])):
        values = np.concatenate(samples[name])
        assert abs(values.mean() - exact) < 4 * values.std() / math.sqrt(values.size), name
        assert abs(mean - exact) < 4 * values.std() / math.sqrt(TEST_POINTS), name


def test_the_basis_does_not_change_the_errors():
    """Σ = I written in a random orthogonal basis gives the isotropic test and score errors to 1e-12 relative (the
    general path, with W rotated, against the isotropic one)."""
    module, W, law, S = _trained("tanh", Isotropic())
    basis, _ = np.linalg.qr(np.random.default_rng(6).standard_normal((law.d, law.d)))
    rotated = GaussianLaw(np.ones(law.d), basis)
    plain = population_errors(module, W, S, T, *correlations(W), law, None)
    general = population_errors(module, W, S, T, *correlations(W), rotated, None)
    assert general == pytest.approx(plain, rel=1e-12)


def test_simulation_on_a_spectrum_keeps_the_identity_and_records_the_model(tmp_path):
    """simulate(data=…): ε_test = C_t + h ε_score draw by draw; the data model's repr is in the result and its saved
    file; a resumed sweep never reuses the draws of another data model."""
    data = PowerLaw(0.5)
    result = rfdsm.simulate("relu", T, 40, 1.0, 1.5, m=2, seeds=3, data=data)
    baseline = data.baseline(T, 40)
    assert np.allclose(result.per_seed["test"], baseline + H * result.per_seed["score"], rtol=0, atol=1e-12)
    assert result.data == "PowerLaw(k=0.5)" and "PowerLaw(k=0.5)" in repr(result)
    assert rfdsm.load(result.save(tmp_path / "s.nc")).data == "PowerLaw(k=0.5)"
    isotropic = rfdsm.simulate("relu", T, 40, 1.0, 1.5, m=2, seeds=3)
    assert not np.allclose(result.per_seed["test"], isotropic.per_seed["test"])
    records = tmp_path / "records.jsonl"
    first = sweep("relu", T, 40, 1.0, 1.5, 2, seeds=2, data=data, records=records)
    second = sweep("relu", T, 40, 1.0, 1.5, 2, seeds=2, records=records)
    assert len(read_records(records)) == 4
    assert np.array_equal(first.values["test"].ravel(), result.per_seed["test"][:2])
    assert np.array_equal(second.values["test"].ravel(), isotropic.per_seed["test"][:2])


def test_generation_starts_from_the_law_at_t_max():
    """generate(data=…) trains on the data of simulation draw 0 and starts from N(0, Σ_{t_max}): with t_max = 6
    (a² = 6e-6) the start is N(0, I) to 3e-6, so two laws that differ only in Σ give nearly the same samples but
    different training sets; a two-atom law's training set has the law's covariance."""
    data = TwoAtoms(0.2, 1.8)
    run = rfdsm.generate("tanh", 30, 2.0, 1.0, m=2, samples=10, steps=3, t_max=6.0, data=data)
    W, law, X, _ = draw(rfdsm.simulation.run.generator(0, 0, 30), data, 30, 60, 30, math.inf)
    assert np.array_equal(run.training, X) and run.data == repr(data)
    with pytest.raises(ValueError, match=r"^data:"):
        rfdsm.generate("tanh", 30, 2.0, 1.0, data="isotropic")


@pytest.mark.parametrize("data", [TwoAtoms(0.1, 1.9), PowerLaw(0.8)], ids=repr)
@pytest.mark.parametrize("m", [1, 3, math.inf])
def test_agreement_with_the_theory_on_a_spectrum(data, m):
    """tanh, t = 0.3, ψn = 1, ψp ∈ {0.5, 2}, d = 50 and 100, 8 seeds: the extrapolation in 1/d of the deviation from
    the theory at each d (rfdsm.agreement) lies within 4 standard errors of zero for the test, train and score errors
    (measured |z| ≤ 2.7). The laws are far enough from isotropic that the isotropic curve is rejected: for the two-atom
    law its test error lies more than 4 standard errors away (measured 10, 19 and 77 at m = 1, 3, ∞)."""
    result = rfdsm.compare("tanh", T, 1.0, [0.5, 2.0], m=m, sizes=(50, 100), seeds=8, data=data)
    for name in ("test", "train", "score"):
        assert np.all(np.abs(result.z_extrapolated(name)) < 4), (name, result.table())
    assert result.data == repr(data)
    if isinstance(data, TwoAtoms):  # its theory at each d is the limit curve: the extrapolation is that of the means
        isotropic = rfdsm.learning_curve("tanh", T, 1.0, [0.5, 2.0], m=m).test
        assert np.max(np.abs(result.extrapolated["test"] - isotropic) / result.extrapolated_se["test"]) > 4


@pytest.mark.parametrize("eigenvalues", [[-1.0, 1.0], [], [math.nan, 1.0], [0.0, 0.0]])
def test_bad_spectra_raise(eigenvalues):
    with pytest.raises(ValueError, match=r"^eigenvalues:"):
        Gaussian(eigenvalues)
