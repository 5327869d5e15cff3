"""Textbook models from pencils: closed forms, dense random matrices at two sizes d, and a simulation of the real
non-linear random-features model."""

import numpy as np

from derive.models import marchenko_pastur, ridge
from rfdsm.activations import load
from rfdsm.textbook import marchenko_pastur_density, marchenko_pastur_stieltjes, rf_ridge_test_error, ridge_test_error


def test_marchenko_pastur_density_closed_form():
    psi = 0.5
    x = np.linspace(0.1, 2.9, 57)
    lo, hi = (1 - np.sqrt(psi)) ** 2, (1 + np.sqrt(psi)) ** 2
    want = np.sqrt(np.clip((hi - x) * (x - lo), 0, None)) / (2 * np.pi * psi * x)
    got = marchenko_pastur_density(x, psi)
    assert np.max(np.abs(got - want)) < 1e-6
    outside = np.array([0.02, 0.05, 3.0, 4.0])
    assert np.max(marchenko_pastur_density(outside, psi)) < 1e-8  # of order η = 1e-9 outside the support


def dense_error(pencil, params, symbol, theory, sizes, seeds=3):
    """Mean |block trace of the dense inverse − theory| over seeds, at each d."""
    return [np.mean([abs(pencil.block_traces(d, params, seed=s)[symbol] - theory) for s in range(seeds)]) for d in sizes]


def test_marchenko_pastur_against_dense_matrices():
    P = marchenko_pastur.build()
    params = {"z": 0.8 + 0.3j, "psi": 0.5}
    theory = marchenko_pastur_stieltjes(params["z"], params["psi"])
    small, large = dense_error(P, params, P.g("u", "u"), theory, (100, 800))
    assert large < 1e-2 * abs(theory) and large < small / 2


def test_ridge_closed_form_and_dense_traces():
    lam, psi_n, noise = 0.3, 1.5, 0.2
    psi, z = 1 / psi_n, -lam
    r = max(np.roots([psi * z, z + psi - 1, 1]).real)
    dr = (psi * r * r + r) / (2 * psi * z * r + z + psi - 1)  # dr/dλ = −ds/dz
    closed = noise - lam**2 * dr + noise / psi_n * (r + lam * dr)
    assert abs(ridge_test_error(psi_n, lam, noise) - closed) < 1e-12
    # Finite d: σ² + λ² (1/d) tr (Σ̂+λ)^-2 + (σ²/n) tr Σ̂ (Σ̂+λ)^-2 with the actual Σ̂ = X^T X/n.
    errors = []
    for d in (100, 800):
        values = []
        for seed in range(3):
            X = np.random.default_rng(seed).standard_normal((int(psi_n * d), d))
            S = X.T @ X / X.shape[0]
            R = np.linalg.inv(S + lam * np.eye(d))
            R2 = R @ R
            values.append(noise + lam**2 * np.trace(R2) / d + noise * np.trace(S @ R2) / X.shape[0])
        errors.append(abs(np.mean(values) - closed))
    assert errors[1] < 1e-2 * closed and errors[1] < errors[0] / 2
    # And the pencil's own block trace of g_ww.
    P = ridge.build()
    small, large = dense_error(P, {"lam": lam, "psi_n": psi_n, "noise": noise}, P.g("w", "w"), r, (100, 800))
    assert large < 1e-2 * r and large < small / 2


def simulate_rf_ridge(d, psi_n, psi_p, lam, noise, seed, n_test=4000):
    """Test error of the real ReLU random-features ridge regression, on a fresh test sample."""
    rho = load("relu").rho
    rng = np.random.default_rng(seed)
    n, p = int(psi_n * d), int(psi_p * d)
    W = rng.standard_normal((p, d))
    b = rng.standard_normal(d)
    b /= np.linalg.norm(b)
    X = rng.standard_normal((d, n))
    y = X.T @ b + np.sqrt(noise) * rng.standard_normal(n)
    F = rho(W @ X / np.sqrt(d))
    B = np.linalg.solve(F @ F.T / n + lam * np.eye(p), F @ y / n)
    Xt = rng.standard_normal((d, n_test))
    return noise + np.mean((Xt.T @ b - rho(W @ Xt / np.sqrt(d)).T @ B) ** 2)


def test_rf_ridge_against_simulation_of_the_relu_model():
    args = dict(psi_n=1.5, psi_p=0.7, lam=0.2, noise=0.1)
    theory = rf_ridge_test_error("relu", **args)
    gaps, errs = [], []
    for d in (100, 400):
        runs = [simulate_rf_ridge(d, seed=s, **args) for s in range(10)]
        gaps.append(abs(np.mean(runs) - theory))
        errs.append(np.std(runs) / np.sqrt(len(runs)))
    assert gaps[1] < 3 * errs[1]  # agreement within 3 standard errors at d = 400
    assert gaps[1] < gaps[0]  # and better than at d = 100 (finite-size bias)
