"""Reverse process, distance ratios, bootstrap intervals and memorisation of random-features scores."""

from __future__ import annotations

import math

import numpy as np
import pytest

from rfdsm.activations import load
from rfdsm.generation import distance_ratios, generate, memorised_fraction, sample


@pytest.mark.parametrize("ode", [False, True])
def test_exact_score_keeps_the_standard_gaussian(ode):
    """Linear features with ``B W/√d = −I`` give the exact score ``−y``: the samples stay ``N(0, I)`` (covariance
    entries within 5/√N of the identity, N = 20 000)."""
    rng = np.random.default_rng(0)
    d, p, N = 8, 16, 20_000
    W = rng.standard_normal((p, d))
    B = -math.sqrt(d) * np.linalg.solve(W.T @ W, W.T)
    times = np.geomspace(0.01, 2.0, 30)
    y = sample(load("linear").rho, W, np.repeat(B[None], times.size, axis=0), times, rng.standard_normal((N, d)), rng,
               ode)
    assert np.max(np.abs(np.cov(y.T) - np.eye(d))) < 5 / math.sqrt(N)
    assert np.max(np.abs(y.mean(axis=0))) < 5 / math.sqrt(N)


def test_distance_ratios_and_bootstrap_interval():
    """Ratios against a brute-force loop (1e-10); the interval holds the fraction and has the binomial width (±25 %)."""
    rng = np.random.default_rng(1)
    samples, data = rng.standard_normal((50, 6)), rng.standard_normal((9, 6))
    distances = np.linalg.norm(samples[:, None, :] - data[None, :, :], axis=2)
    ordered = np.sort(distances, axis=1)
    assert np.allclose(distance_ratios(samples, data), ordered[:, 0] / ordered[:, 1], atol=1e-10)
    ratios = np.where(rng.random(2000) < 0.2, 0.1, 0.9)
    fraction, low, high = memorised_fraction(ratios, rng)
    assert low <= fraction <= high
    assert high - low == pytest.approx(2 * 1.96 * math.sqrt(fraction * (1 - fraction) / ratios.size), rel=0.25)


def test_memorisation_appears_with_many_features_and_noises():
    """tanh, d = 40, ψn = 0.1, m = 32, λ = 1e-4: ψp = 8 memorises (interval above 5 %), ψp = 0.5 does not (below 2 %)."""
    many = generate("tanh", 40, 0.1, 8.0, m=32, lam=1e-4, samples=300, steps=25, progress=False)
    few = generate("tanh", 40, 0.1, 0.5, m=32, lam=1e-4, samples=300, steps=25, progress=False)
    assert many.low > 0.05, many
    assert few.high < 0.02, few
    again = generate("tanh", 40, 0.1, 0.5, m=32, lam=1e-4, samples=300, steps=25, progress=False)
    assert np.array_equal(again.samples, few.samples)


@pytest.mark.parametrize(
    "kwargs",
    [{"d": 0}, {"psi_n": -1.0}, {"m": 0}, {"lam": -1.0}, {"samples": 0}, {"steps": 1}, {"t_min": 0.0},
     {"t_max": 0.001}, {"activation": "nope"}],
)
def test_bad_input_raises_value_error(kwargs):
    arguments = {"activation": "relu", "d": 10, "psi_n": 0.5, "psi_p": 1.0} | kwargs
    with pytest.raises(ValueError, match=rf"^{next(iter(kwargs))}:"):
        generate(**arguments, progress=False)
