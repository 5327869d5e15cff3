"""rfdsm.dynamics: the ridge limit, the start of training, the two-point function against dense matrices, the
quadrature's error estimate, gradient descent as the Euler scheme of the flow, and agreement with the finite-d closed
form (eigendecomposition of U, real non-linear features) after extrapolation in d."""

import importlib
import math

import numpy as np
import pytest

import rfdsm
from rfdsm.activations import load
from rfdsm.agreement import extrapolate
from rfdsm.data import Isotropic, PowerLaw, TwoAtoms
from rfdsm.dynamics import dynamics, flow_factor
from rfdsm.simulation.dynamics import descend, flow_errors, moments
from rfdsm.simulation.errors import population_errors
from rfdsm.simulation.expectations import correlations
from rfdsm.simulation.ridge import fit, train_errors
from rfdsm.simulation.run import draw, generator, sizes
from rfdsm.spectral import setting

ERRORS = ("test", "train", "train_ridge", "score")


@pytest.mark.parametrize("activation, t, psi_n, psi_p, m, lam, data", [
    ("relu", 0.1, 2.0, 1.0, math.inf, 1e-3, None),
    ("tanh", 0.1, 1.5, 4.0, 3, 1e-2, None),
    ("relu", 0.3, 1.0, 2.0, 1, 1e-3, None),
    ("erf", 0.05, 0.5, 3.0, 2, 1e-3, TwoAtoms(0.5, 1.5)),
    ("relu", 0.2, 1.0, 0.5, math.inf, 1e-2, PowerLaw(0.5)),
])
def test_infinite_time_is_the_ridge_minimiser(activation, t, psi_n, psi_p, m, lam, data):
    flow = dynamics(activation, t, psi_n, psi_p, m=m, lam=lam, tau=[1e7, math.inf], data=data)
    curve = rfdsm.learning_curve(activation, t, psi_n, psi_p, m=m, lam=lam, data=data)
    for name in ERRORS:
        assert getattr(flow, name) == pytest.approx(float(getattr(curve, name)), rel=0, abs=1e-6), name
    assert flow.baseline == pytest.approx(curve.baseline, abs=1e-15)


def test_training_starts_from_the_zero_score():
    flow = dynamics("relu", 0.2, 1.0, 2.0, m=2, lam=1e-3, tau=[0.0, 1e-9], data=TwoAtoms(0.5, 1.5))
    # B = 0: every error is (1/d) E‖z‖² = 1, the score error that of s = 0: (1 − C_t)/h.
    for name in ("test", "train", "train_ridge"):
        assert getattr(flow, name) == pytest.approx([1.0, 1.0], abs=1e-8), name
    h = -math.expm1(-0.4)
    assert flow.score == pytest.approx((1 - flow.baseline) / h, abs=1e-8)


@pytest.mark.parametrize("tau", [-1.0, [0.0, -1e-3], math.nan, [1.0, math.nan], [], "1", 1j, [[1.0]]])
def test_bad_times_are_refused(tau):
    with pytest.raises(ValueError, match=r"^tau:"):
        dynamics("relu", 0.1, 1.0, 2.0, m=1, tau=tau)


def test_the_error_estimate_bounds_the_quadrature_error():
    taus = np.geomspace(1e-2, 1e5, 12)
    coarse = dynamics("relu", 0.1, 4.0, 8.0, m=1, lam=1e-4, tau=taus, tol=1e-5)
    fine = dynamics("relu", 0.1, 4.0, 8.0, m=1, lam=1e-4, tau=taus, tol=1e-12)
    assert coarse.nodes < fine.nodes
    for name in ERRORS:
        assert np.all(np.abs(getattr(coarse, name) - getattr(fine, name)) <= coarse.error + 1e-12), name


def _two_point(model: str, where, z1: complex, z2: complex) -> complex:
    """The generated two-point function at (z1, z2), as rfdsm.dynamics assembles it."""
    pairs = importlib.import_module(f"generated.pairs.{model}")
    x = np.concatenate([where.transforms(np.array([z])).x[0] for z in (z1, z2)])
    p = np.array([z1, z2] + [where.params[k] for k in pairs.PARAMETERS[2:]], dtype=complex)
    out = pairs.terms(x, p, where.s)
    k = len(pairs.CROSS)
    M, r, O = out[: k * k].reshape(k, k), out[k * k: k * k + k], out[k * k + k: k * k + 2 * k]
    return out[-2] + out[-1] * (O @ np.linalg.solve(np.eye(k) - M, -r) - out[-3])


@pytest.mark.parametrize("m", [math.inf, 3])
def test_two_point_function_against_dense_matrices(m):
    # (h c²/d) tr Vᵀ R(z1) A_t R(z2) V of the Gaussian-equivalent model at d = 1000 (docs/models.md §3), Σ = I.
    t, psi_n, psi_p = 0.25, 1.5, 0.8
    where = setting("relu", t, psi_n, psi_p, m=m)
    c = where.consts
    z1, z2 = 0.7 + 0.3j, 2.1 - 0.5j
    # At z1 = z2 the linear response is the implicit-function derivative of the single pencil.
    assert _two_point(where.model, where, z1, z1) == pytest.approx(where.transforms(np.array([z1]))["pair"][0],
                                                                   rel=1e-10)
    got = _two_point(where.model, where, z1, z2)
    assert _two_point(where.model, where, z2, z1) == pytest.approx(got, rel=1e-10)
    d = 1000
    rng = np.random.default_rng(1)
    n, p = round(psi_n * d), round(psi_p * d)
    a, h, mu1, ms2, kappa = math.sqrt(1 - c.h), c.h, c.mu1, c.mustar2, c.kappa
    W = rng.standard_normal((p, d)) / math.sqrt(d)
    X = rng.standard_normal((d, n)) / math.sqrt(d)

    def omega(columns):
        return rng.standard_normal((p, columns)) / math.sqrt(d)

    if m == math.inf:
        G = a * mu1 * W @ X + math.sqrt(ms2 * kappa) * omega(n)
        U = G @ G.T / psi_n + h * mu1**2 * W @ W.T + ms2 * (1 - kappa) * np.eye(p)
        V = mu1 * W
    else:
        Z1, Z2 = (rng.standard_normal((d, k)) / math.sqrt(d) for k in (n, n * (m - 1)))
        F1 = mu1 * W @ (math.sqrt(m) * a * X + math.sqrt(h) * Z1) + math.sqrt(ms2) * (
            math.sqrt(m * kappa) * omega(n) + math.sqrt(1 - kappa) * omega(n))
        F2 = mu1 * math.sqrt(h) * W @ Z2 + math.sqrt(ms2 * (1 - kappa)) * omega(n * (m - 1))
        F, Z = np.hstack([F1, F2]), np.hstack([Z1, Z2])
        U, V = F @ F.T / (psi_n * m), F @ Z.T / (math.sqrt(h) * psi_n * m)
    R1, R2 = (np.linalg.inv(U - z * np.eye(p)) for z in (z1, z2))
    dense = h * mu1**2 / d * np.trace(V.T @ R1 @ W @ W.T @ R2 @ V)
    # Finite-size corrections O(1/√d) of a single draw: 3e-3 relative measured at d = 1000, 1e-2 at d = 250.
    assert abs(got - dense) < 1e-2 * abs(dense)


def test_gradient_descent_is_the_euler_scheme_of_the_flow():
    # Plain GD on L(A) (gradient from the features themselves) with step η is B_{k+1} = B_k − Δτ [B_k (U + λ) + Vᵀ]
    # with Δτ = 2 h η/(p d), exactly; as Δτ → 0 it approaches the flow at τ = k Δτ.
    module, t, lam = load("relu"), 0.1, 0.1
    d, n, p = sizes(20, 1.0, 1.5)
    W, _, X, Z = draw(generator(1, 0, d), Isotropic(), d, n, p, 2)
    found = moments(module, t, W, X, Z)
    h = -math.expm1(-2 * t)
    u, Q = np.linalg.eigh(found.U)
    gaps = []
    for eta, steps in ((50.0, 200), (5.0, 2000)):
        A, tau = descend(module, t, W, X, Z, lam, eta, steps)
        step = 2 * h * eta / (p * d)
        assert tau == pytest.approx(steps * step)
        discrete = -(Q @ (((1 - (1 - step * (u + lam)) ** steps) / (u + lam))[:, None] * (Q.T @ found.V))).T
        assert np.max(np.abs(A / math.sqrt(p) - discrete)) < 1e-12 * np.max(np.abs(discrete))
        flow = -(Q @ (flow_factor(u, np.array([tau]), lam)[0][:, None] * (Q.T @ found.V))).T
        gaps.append(np.max(np.abs(A / math.sqrt(p) - flow)) / np.max(np.abs(flow)))
    # First order in Δτ: ten times smaller steps, ten times closer to the flow at the same τ.
    assert 8 < gaps[0] / gaps[1] < 12


@pytest.mark.parametrize("m", [math.inf, 2])
def test_closed_form_at_infinite_time_is_the_ridge_fit(m):
    module, t, lam = load("tanh"), 0.2, 1e-2
    d, n, p = sizes(60, 1.0, 1.5)
    W, law, X, Z = draw(generator(3, 0, d), TwoAtoms(0.2, 1.8), d, n, p, m)
    flow = flow_errors(module, t, W, law, X, Z, lam, np.array([math.inf]))
    found = moments(module, t, W, X, Z)
    S = fit(found, lam)
    train, ridge = train_errors(found, S, lam, -math.expm1(-2 * t))
    test, score = population_errors(module, W, S, t, *correlations(W), law, None)
    for name, want in (("train", train), ("train_ridge", ridge), ("test", test), ("score", score)):
        assert flow[name][0] == pytest.approx(want, rel=1e-9), name


TAUS = np.array([0.3, 3.0, 30.0, 300.0])


@pytest.mark.slow
@pytest.mark.parametrize("m", [1, 3, math.inf])
def test_simulated_dynamics_extrapolate_to_the_theory(m):
    activation, t, psi_n, psi_p, lam = "relu", 0.1, 1.0, 1.5, 1e-2
    module = load(activation)
    theory = dynamics(activation, t, psi_n, psi_p, m=m, lam=lam, tau=TAUS)
    grid, seeds = (100, 200, 300, 400), 8
    means, ses = {k: [] for k in ERRORS}, {k: [] for k in ERRORS}
    for d in grid:
        d, n, p = sizes(d, psi_n, psi_p)
        runs = [flow_errors(module, t, *draw(generator(0, k, d), Isotropic(), d, n, p, m), lam, TAUS) for k in range(seeds)]
        for name in ERRORS:
            values = np.array([r[name] for r in runs])
            means[name].append(values.mean(axis=0))
            ses[name].append(values.std(axis=0, ddof=1) / math.sqrt(seeds))
    for name in ERRORS:
        limit, se = extrapolate(grid, np.array(means[name]), np.array(ses[name]))
        assert np.all(np.abs(limit - getattr(theory, name)) <= 3 * se), (name, limit, getattr(theory, name), se)


def test_results_save_and_load(tmp_path):
    flow = dynamics("relu", 0.1, 1.0, 2.0, m=math.inf, lam=1e-2, tau=[0.0, 1.0, math.inf], data=TwoAtoms(0.5, 1.5))
    law = rfdsm.spectrum("relu", 0.1, 1.0, 2.0, m=3, points=20)
    for result in (flow, law):
        back = rfdsm.load(result.save(tmp_path / f"{type(result).__name__}.nc"))
        assert type(back) is type(result) and repr(back) == repr(result)
        for name, value in vars(result).items():
            assert np.array_equal(getattr(back, name), value) if isinstance(value, np.ndarray) else (
                getattr(back, name) == value), name
