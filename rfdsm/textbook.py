"""Textbook random-matrix and regression limits, computed with the pencil solver (rfdsm.solver) from the generated
models ``marchenko_pastur``, ``ridge`` and ``random_features`` (see derive/models/ for the pencils)."""

from __future__ import annotations

import numpy as np

from rfdsm.activation_constants import constants
from rfdsm.solver import solve, sweep
from rfdsm.validate import positive


def _solve(model: str, params: dict, observable: str):
    """One point as a number, arrays along a warm-started sweep."""
    if all(np.ndim(v) == 0 for v in params.values()):
        return solve(model, params)[observable]
    return sweep(model, params)[observable]


def marchenko_pastur_stieltjes(z, ratio):
    """``s(z) = (1/p) tr (W W^T/d − z)^{-1}`` in the limit, ``W`` a ``p × d`` standard Gaussian matrix, ``ratio = p/d``:
    the root of ``ψ z s² + (z + ψ − 1) s + 1 = 0`` (``ψ = ratio``) with ``Im s > 0`` for ``Im z > 0`` (``s > 0`` for
    ``z < 0``). ``z`` may be complex; arrays are swept."""
    return _solve("marchenko_pastur", {"z": z, "psi": ratio}, "stieltjes")


def marchenko_pastur_density(x, ratio, eta: float = 1e-9):
    """Density of the eigenvalues of ``W W^T/d`` at ``x``: ``Im s(x + iη)/π`` (continuous part; for ``ratio > 1`` the
    atom ``1 − 1/ratio`` at 0 is not included). Closed form ``√((x₊ − x)(x − x₋))/(2π ψ x)``, ``x± = (1 ± √ψ)²``."""
    eta = positive("eta", eta)
    return np.imag(marchenko_pastur_stieltjes(np.asarray(x) + 1j * eta, ratio)) / np.pi


def ridge_test_error(psi_n, lam, noise):
    """Test error ``σ² − λ² r' + (σ²/ψn)(r + λ r')`` of ridge regression on isotropic Gaussian data with a linear teacher
    ``‖b*‖ = 1`` and noise variance ``noise = σ²``, ``n/d = ψn``; ``r(λ) = lim (1/d) tr (X^T X/n + λ)^{-1}``."""
    return _solve("ridge", {"lam": lam, "psi_n": psi_n, "noise": noise}, "test_error")


def rf_ridge_test_error(activation: str, psi_n, psi_p, lam, noise):
    """Test error of random-features ridge regression ``f(x) = B·ρ(W x/√d)``, ``B = (F F^T/n + λ)^{-1} F y/n``, on
    isotropic data with a linear teacher ``‖b*‖ = 1`` and noise variance ``noise``, ``n/d = ψn``, ``p/d = ψp``, in the
    Gaussian-equivalent limit (μ1 and μ*² of ``activation`` at unit pre-activation variance; formula in
    derive/models/random_features.py)."""
    c = constants(activation, t=1.0)  # μ1 and μ*² at q = 1 do not depend on t
    params = {"lam": lam, "psi_n": psi_n, "psi_p": psi_p, "mu1": c.mu1, "mustar2": c.mustar2, "noise": noise}
    return _solve("random_features", params, "test_error")
