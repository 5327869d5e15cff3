"""The Monte Carlo simulator: exact Gaussian expectations, the closed-form training, and agreement with theory."""

from __future__ import annotations

import inspect
import math

import numpy as np
import pytest
from scipy.stats import norm

from rfdsm.activations import load
from rfdsm.data import Isotropic
from rfdsm.agreement import compare, extrapolate
from rfdsm.simulation import simulate
from rfdsm.simulation.errors import population_errors
from rfdsm.simulation.expectations import (
    MEHLER_TOL,
    correlations,
    feature_kernel,
    mehler_order,
    ShiftedHermite,
    mehler_sum,
)
from rfdsm.simulation.ridge import averaged_moments, features, fit, sampled_moments, train_errors
from rfdsm.curves import learning_curve as learning_curve_api
from rfdsm.generation import generate
from rfdsm.runner import sweep
from rfdsm.simulation.run import aggregate, draw, draw_errors, generator, point
from tests.reference_equations import learning_curve

T = 0.3
A2, H = math.exp(-2 * T), -math.expm1(-2 * T)


def _relu_hermite(mu, sigma, order):
    """ReLU: c_0 = μΦ + σφ, c_1 = σΦ, c_j = σ φ(g*) He_{j−2}(g*) with g* = −μ/σ (Stein), divided by √j!."""
    g = -mu / sigma
    he = [1.0, g]
    for j in range(1, order):
        he.append(g * he[j] - j * he[j - 1])
    c = [mu * norm.cdf(-g) + sigma * norm.pdf(g), sigma * norm.cdf(-g)]
    c += [sigma * norm.pdf(g) * he[j - 2] for j in range(2, order + 1)]
    return np.array(c) / np.sqrt([float(math.factorial(j)) for j in range(order + 1)])


def shifted_hermite(rho, mu, sigma, order):
    """Every order ``≤ order`` of ``ShiftedHermite``, ``(order + 1, p, n)``, and the object."""
    shifted = ShiftedHermite(rho, mu, sigma, order)
    return np.array([shifted.coefficients(j, np.empty(mu.shape)) for j in range(order + 1)]), shifted


def test_shifted_hermite_coefficients_are_exact():
    """Taylor shifts from quadrature nodes vs the ReLU closed forms (kink anywhere, points far from and next to the
    nodes) and vs tanh's generated ``hermite``: 1e-10. Their means and mean squares over the points, summed by the
    moments of the offsets at each node, equal those of the Taylor shifts evaluated at every point (1e-14), and the
    mean second moment the closed form's (1e-12)."""
    rng = np.random.default_rng(1)
    mu = rng.normal(0, 3, (60, 40))
    sigma = rng.uniform(0.2, 1.5, 60)
    coefficients, shifted = shifted_hermite(load("relu").rho, mu, sigma, 30)
    exact = np.array([[_relu_hermite(mu[k, i], sigma[k], 30) for i in range(40)] for k in range(60)]).transpose(2, 0, 1)
    assert np.max(np.abs(coefficients - exact)) < 1e-10
    assert np.max(np.abs(shifted.means - coefficients.mean(axis=2))) < 1e-14
    assert np.max(np.abs(shifted.powers - (coefficients**2).mean(axis=2))) < 1e-14
    ratio = mu / sigma[:, None]
    second = (mu**2 + sigma[:, None] ** 2) * norm.cdf(ratio) + mu * sigma[:, None] * norm.pdf(ratio)
    assert np.max(np.abs(shifted.second - second.mean(axis=1))) < 1e-12
    tanh = load("tanh")
    coefficients, shifted = shifted_hermite(tanh.rho, np.zeros((1, 1)), np.array([math.sqrt(1.7)]), 30)
    expected = tanh.hermite(1.7, 30) / np.sqrt([float(math.factorial(j)) for j in range(31)])
    assert np.max(np.abs(coefficients[:, 0, 0] - expected)) < 1e-10
    assert shifted.second[0] == pytest.approx(tanh.moments(1.7)[2], abs=1e-11)


def test_feature_kernel_paths_agree():
    """tanh: the Mehler sum against the 2-D quadrature ``kernel``; ReLU: closed form against the Mehler sum (1e-9).
    Both are upper triangles (``k ≤ l``)."""
    rng = np.random.default_rng(2)
    W = rng.standard_normal((80, 50))
    q, gamma = correlations(W)
    tanh = load("tanh")
    K = feature_kernel(tanh, q, gamma, tanh.row_moments(q)[2])
    off = np.abs(gamma - np.eye(80))
    pairs = [np.unravel_index(np.argmax(off), off.shape)] + [tuple(sorted(rng.integers(0, 80, 2))) for _ in range(15)]
    for k, l in pairs:
        assert K[k, l] == pytest.approx(tanh.kernel(gamma[k, l], q[k], q[l]), abs=1e-10)
    relu = load("relu")
    K = feature_kernel(relu, q, gamma, relu.row_moments(q)[2])
    U = mehler_sum(ShiftedHermite(relu.rho, np.zeros((80, 1)), np.sqrt(q), mehler_order(gamma)), gamma)
    assert np.max(np.abs(U - K)) < 1e-9


def test_feature_kernel_takes_nearly_parallel_rows_by_quadrature():
    """Rows with |γ| > GAMMA_MAX (what a strongly anisotropic Σ_t gives at small d): the kernel of a quadrature
    activation equals the 2-D quadrature ``kernel`` at every pair (1e-10), the close pairs included; the Mehler
    expectations of ``m = ∞`` training still refuse such rows."""
    rng = np.random.default_rng(7)
    W = rng.standard_normal((30, 40))
    W[1] = W[0] + 0.2 * rng.standard_normal(40)  # γ ≈ 0.98
    W[5] = -W[4] + 0.6 * rng.standard_normal(40)  # γ ≈ −0.85
    q, gamma = correlations(W)
    assert abs(gamma[0, 1]) > 0.95 and -0.95 < gamma[4, 5] < -0.75
    tanh = load("tanh")
    assert not tanh.EXACT
    K = feature_kernel(tanh, q, gamma, tanh.row_moments(q)[2])
    for k, l in zip(*np.triu_indices(30, 1)):
        assert K[k, l] == pytest.approx(tanh.kernel(gamma[k, l], q[k], q[l]), abs=1e-10)
    with pytest.raises(ValueError, match=r"^d: rows of W are too correlated"):
        mehler_order(gamma)


@pytest.mark.parametrize("activation, t", [("tanh", 0.01), ("tanh", 1.0), ("relu", 0.3), ("sign", 0.3)])
def test_shifted_mehler_sum_stops_each_pair_within_tolerance(activation, t):
    """Per-pair orders (from |γ| and the coefficient tails; only the orders some pair needs are computed) against every
    order up to the global one plus 6 for every pair: every entry within MEHLER_TOL √(E_k E_l) (ReLU, sign: slowly
    decaying tails; tanh: fast)."""
    rng = np.random.default_rng(6)
    d, n, p = 60, 90, 120
    W, X = rng.standard_normal((p, d)), rng.standard_normal((n, d))
    q, gamma = correlations(W)
    sigma, mu = np.sqrt(-math.expm1(-2 * t) * q), math.exp(-t) * W @ X.T / math.sqrt(d)
    order = mehler_order(gamma)
    coefficients, _ = shifted_hermite(load(activation).rho, mu, sigma, order + 6)
    full = np.triu(gamma) ** np.arange(order + 7)[:, None, None]
    reference = np.einsum("jkl,jki,jli->kl", full, coefficients, coefficients) / n
    U = mehler_sum(ShiftedHermite(load(activation).rho, mu, sigma, order), gamma)
    scale = np.sqrt(np.outer(np.diag(U), np.diag(U)))
    upper = np.triu_indices(p, 1)
    assert np.max(np.abs(U - reference)[upper] / scale[upper]) < MEHLER_TOL


def _trained(activation, d=50, n=50, p=100, m=2, seed=3):
    rng = np.random.default_rng(seed)
    W, _, X, Z = draw(rng, Isotropic(), d, n, p, m)
    module = load(activation)
    moments = sampled_moments(module.rho, W, X, Z, math.exp(-T), H)
    return module, W, X, Z, moments, fit(moments, 1e-2)


@pytest.mark.parametrize("activation", ["relu", "tanh"])
def test_exact_test_and_score_errors_match_monte_carlo(activation):
    """Exact expectations vs 200 000 Gaussian test points: within 4 standard errors; the identity to round-off."""
    module, W, _, _, _, S = _trained(activation)
    test, score = population_errors(module, W, S, T, *correlations(W), Isotropic().realise(np.random.default_rng(0), 50), None)
    assert test == pytest.approx(A2 + H * score, abs=1e-13)
    rng = np.random.default_rng(4)
    B = -S.T
    samples = {"test": [], "score": []}
    for _ in range(20):
        x, z = rng.standard_normal((2, 10_000, W.shape[1]))
        y = math.exp(-T) * x + math.sqrt(H) * z
        s = (B @ features(module.rho, W, y)).T
        samples["score"].append(np.sum((s + y) ** 2, axis=1) / W.shape[1])
        samples["test"].append(np.sum((math.sqrt(H) * s + z) ** 2, axis=1) / W.shape[1])
    for name, exact in (("test", test), ("score", score)):
        values = np.concatenate(samples[name])
        assert abs(values.mean() - exact) < 4 * values.std() / math.sqrt(values.size), name


def test_train_errors_match_residuals_and_solve_the_normal_equations():
    """Trace formulas vs the residuals ``√h B F + z``; the gradient of the loss vanishes at ``B`` (1e-10)."""
    module, W, X, Z, moments, S = _trained("relu")
    lam, (n, m, d) = 1e-2, Z.shape
    B = -S.T
    F = features(module.rho, W, (math.exp(-T) * X[:, None, :] + math.sqrt(H) * Z).reshape(n * m, d))
    residual = math.sqrt(H) * B @ F + Z.reshape(n * m, d).T
    train = np.sum(residual**2) / (n * m * d)
    ridge = train + H * lam * np.sum(B**2) / d
    assert train_errors(moments, S, lam, H) == pytest.approx((train, ridge), rel=1e-10)
    gradient = math.sqrt(H) * residual @ F.T / (n * m) + H * lam * B
    assert np.max(np.abs(gradient)) < 1e-10


@pytest.mark.parametrize("activation", ["relu", "tanh"])
def test_m_infinity_moments_match_monte_carlo_over_noises(activation):
    """``U_∞`` (upper triangle), ``V_∞`` vs 40 000 noises per data point (2 points): every entry within 5 standard
    errors."""
    rng = np.random.default_rng(5)
    d, n, p, draws = 60, 2, 30, 40_000
    W, X = rng.standard_normal((p, d)), rng.standard_normal((n, d))
    module = load(activation)
    exact = averaged_moments(module.rho, W, X, math.exp(-T), H, *correlations(W))
    mean_U, mean_V, var_U, var_V = (np.zeros((p, p)), np.zeros((p, d)), np.zeros((p, p)), np.zeros((p, d)))
    for i in range(n):  # per-point sample means and variances of the entries, by products (no p×p×draws array)
        z = rng.standard_normal((draws, d))
        F = features(module.rho, W, math.exp(-T) * X[i] + math.sqrt(H) * z)
        G = z / math.sqrt(H)
        for total, variance, first, second in ((mean_U, var_U, F, F.T), (mean_V, var_V, F, G)):
            m1 = first @ second / draws
            m2 = (first**2) @ (second**2) / draws
            total += m1 / n
            variance += (m2 - m1**2) / (draws * n * n)
    upper = np.triu_indices(p)
    assert np.max(np.abs(mean_U - exact.U)[upper] / np.sqrt(var_U[upper])) < 5
    assert np.max(np.abs(mean_V - exact.V) / np.sqrt(var_V)) < 5


def test_reference_solver_general_m_tends_to_m_infinity():
    """The general-m equations at m = 10⁷ agree with the m = ∞ ones (a check of the reference solver itself)."""
    psi = [0.5, 1.0, 3.0]
    big, infinite = learning_curve("tanh", T, 1.0, psi, m=1e7), learning_curve("tanh", T, 1.0, psi)
    for name in ("test", "train", "train_ridge"):
        assert np.allclose(getattr(big, name), getattr(infinite, name), atol=1e-5)


@pytest.mark.parametrize("m", [1, 3, math.inf])
def test_agreement_with_the_theory(m):
    """tanh, t = 0.3, ψn = 1, ψp ∈ {0.5, 2}, d = 50 and 100, 6 seeds: the 1/d extrapolation of the simulated test
    and train errors lies within 4 standard errors of rfdsm.learning_curve; d = 100 alone is within 8 % of it (its
    O(1/d) finite-size correction, measured ≈ 7/d relative for m = 1 at ψp = 2, is not in the standard error)."""
    result = compare("tanh", T, 1.0, [0.5, 2.0], m=m, sizes=(50, 100), seeds=6)
    for name in ("test", "train"):
        assert np.all(np.abs(result.z_extrapolated(name)) < 4), (name, result.table())
    assert np.all(np.abs(result.mean["test"][1] / result.theory["test"] - 1) < 0.08), result.table()


def test_extrapolation_to_infinite_d():
    """Two sizes: the straight line ``(d2 ε2 − d1 ε1)/(d2 − d1)``; three or more: exact on ``ε_∞ + c₁/d + c₂/d²``
    data, with the standard error of the weighted fit (checked against 4000 noisy replicas to 5 %)."""
    sizes = np.array([100.0, 150.0, 200.0, 400.0])
    exact = 0.8 + 1.0 / sizes - 30.0 / sizes**2
    se = 0.02 / sizes
    value, value_se = extrapolate(sizes[[0, 3]], exact[[0, 3], None], se[[0, 3], None])
    assert value[0] == pytest.approx((400 * exact[3] - 100 * exact[0]) / 300, abs=1e-14)
    value, value_se = extrapolate(sizes, exact[:, None], se[:, None])
    assert value[0] == pytest.approx(0.8, abs=1e-12)
    noisy = exact[:, None] + se[:, None] * np.random.default_rng(5).standard_normal((4, 4000))
    replicas, _ = extrapolate(sizes, noisy, np.repeat(se[:, None], 4000, axis=1))
    assert replicas.std() == pytest.approx(value_se[0], rel=0.05)


def test_runs_are_reproducible():
    """Same seed, same numbers; draw k of a run does not depend on how many draws it has; the draws are pure units
    (``draw_errors`` twice gives the same record) keyed by (seed, k, d), so another size draws other numbers."""
    first = simulate("relu", T, 30, 1.0, 1.5, m=2, seeds=3)
    again = simulate("relu", T, 30, 1.0, 1.5, m=2, seeds=2)
    other = simulate("relu", T, 30, 1.0, 1.5, m=2, seeds=2, seed=1)
    for name in ("test", "train", "train_ridge", "score"):
        assert np.array_equal(first.per_seed[name][:2], again.per_seed[name])
        assert not np.array_equal(other.per_seed[name], again.per_seed[name])
    assert first.test == pytest.approx(A2 + H * first.score, abs=1e-12)
    assert first.test_se == pytest.approx(first.per_seed["test"].std(ddof=1) / math.sqrt(3))
    where = point("relu", T, 30, 1.0, 1.5, m=2)
    record = draw_errors(where, 0, 1)
    assert record == draw_errors(where, 0, 1) and record["test"] == first.per_seed["test"][1]
    shuffled = aggregate([draw_errors(where, 0, k) for k in (2, 0, 1)])  # aggregation sorts the draws
    assert all(np.array_equal(shuffled.per_seed[name], first.per_seed[name]) for name in first.per_seed)
    W30 = draw(generator(0, 1, 30), Isotropic(), 30, 30, 45, 2)[0]
    assert not np.array_equal(draw(generator(0, 1, 40), Isotropic(), 40, 40, 60, 2)[0][:45, :30], W30)


def test_theory_and_simulation_share_the_default_m_and_libraries_show_no_progress():
    """m = ∞ by default in learning_curve, simulate, compare, generate and sweep; progress bars off by default."""
    functions = (learning_curve_api, simulate, compare, generate, sweep)
    assert {inspect.signature(f).parameters["m"].default for f in functions} == {math.inf}
    assert {inspect.signature(f).parameters["progress"].default for f in functions[1:]} == {False}


@pytest.mark.parametrize(
    "kwargs",
    [
        {"d": 0},
        {"d": 2.5},
        {"psi_n": 0.0},
        {"psi_p": -1.0},
        {"psi_p": 1e-4},
        {"lam": -1e-3},
        {"lam": 0.0},
        {"m": 0},
        {"m": 1.5},
        {"m": -math.inf},
        {"seeds": 0},
        {"t": 0.0},
        {"activation": "no_such_activation"},
    ],
)
def test_bad_input_raises_value_error(kwargs):
    arguments = {"activation": "relu", "t": T, "d": 20, "psi_n": 1.0, "psi_p": 1.0} | kwargs
    name = next(iter(kwargs))
    with pytest.raises(ValueError, match=rf"^{name}:" if name != "psi_p" or kwargs[name] < 0 else r"^psi_n, psi_p:"):
        simulate(**arguments)


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"sizes": (100,)}, "sizes"),
        ({"sizes": (100, 150), "psi_p": [0.25]}, "psi_p"),
        ({"sizes": (100, 150), "psi_n": 0.25}, "psi_n"),
        ({"seeds": 1}, "seeds"),
    ],
)
def test_compare_rejects_bad_input(kwargs, name):
    """One size cannot be extrapolated; a ψ d that is not whole would be simulated at another ψ."""
    arguments = {"activation": "relu", "t": T, "psi_n": 1.0, "psi_p": [1.0]} | kwargs
    with pytest.raises(ValueError, match=rf"^{name}:"):
        compare(**arguments)


def test_simulate_names_a_ridge_too_small_and_a_draw_too_large():
    with pytest.raises(ValueError, match=r"^lam: U \+ λI is not positive definite"):
        simulate("relu", 0.1, 20, 1.0, 2.0, m=1, lam=1e-300, seeds=2)
    with pytest.raises(ValueError, match=r"^d: a draw at d = 100000, .* needs [0-9.]+ GiB; this machine has"):
        simulate("relu", 0.1, 100000, 1.0, 2.0, m=1, seeds=2)
