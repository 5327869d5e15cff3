"""Errors along gradient-flow training at finite ``d`` (docs/dynamics.md), for the checks of rfdsm.dynamics.

Closed form. With ``U = Q diag(u_i) Qᵀ`` and ``Ṽ = Qᵀ V``, the flow ``dB/dτ = −[B (U + λ) + Vᵀ]`` from ``B = 0`` is
``B(τ) = −Sᵀ``, ``S = Q diag(f_τ(u_i)) Ṽ``, ``f_τ(u) = (1 − e^{−τ(u + λ)})/(u + λ)``. With ``v_i = ‖Ṽ_i‖²`` the train
errors are sums over the eigenvalues (``z2 = (1/nm) Σ ‖z_ij‖²``, ``= d`` for ``m = ∞``):

    d ε_train = z2 + h Σ_i (u_i f_i² − 2 f_i) v_i,     d ε_train_ridge = d ε_train + h λ Σ_i f_i² v_i,

and the test and score errors are the exact Gaussian expectations of rfdsm/simulation/errors.py on Gaussian data
``N(0, Σ)``, ``ε_score = tr Σ_t^{-1}/d + [⟨S, K S⟩ − (2/√d) Σ_k D_k ⟨s_k, w_k⟩]/d`` and ``ε_test = C_t + h ε_score``
(``gaussian_terms``), here as ``⟨S, K S⟩ = fᵀ [(Qᵀ K Q) ∘ (Ṽ Ṽᵀ)] f`` and
``Σ_k D_k ⟨s_k, w_k⟩ = Σ_i f_i ⟨Ṽ_i, (Qᵀ diag(D) W)_i⟩``: one eigendecomposition and one kernel per draw serve every
``τ``.

Plain gradient descent (``descend``) on the loss as written, ``L(A) = 1/(n m d) Σ ‖√h A F_ij/√p + z_ij‖² + (h λ/(p d))
‖A‖_F²`` with step ``η``, is the Euler scheme of the flow with ``Δτ = 2 h η/(p d)`` (docs/dynamics.md §1).
"""

from __future__ import annotations

import math

import numpy as np

from rfdsm.activations import load
from rfdsm.dynamics import flow_factor
from rfdsm.simulation.errors import gaussian_terms
from rfdsm.simulation.expectations import correlations
from rfdsm.simulation.ridge import Moments, averaged_moments, sampled_moments
from rfdsm.simulation.run import draw, generator, sizes


def moments(module, t: float, W: np.ndarray, X: np.ndarray, Z: np.ndarray | None) -> Moments:
    """``U`` (full, symmetric), ``V`` and ``z2`` of one draw (``Z = None``: ``m = ∞``)."""
    a, h = math.exp(-t), -math.expm1(-2.0 * t)
    if Z is None:
        q, gamma = correlations(W)
        found = averaged_moments(module.rho, W, X, a, h, q, gamma)
    else:
        found = sampled_moments(module.rho, W, X, Z, a, h)
    U = np.triu(found.U) + np.triu(found.U, 1).T
    return Moments(U, found.V, found.z2)


def flow_errors(module, t: float, W: np.ndarray, law, X: np.ndarray, Z: np.ndarray | None, lam: float,
                taus: np.ndarray) -> dict[str, np.ndarray]:
    """The four errors of one draw (``W``, its Gaussian data law ``law`` and training set ``X``, noises ``Z``) at every
    time ``taus`` (module docstring)."""
    if not law.gaussian:
        raise ValueError("data: the errors along the flow are simulated on Gaussian data only")
    d = W.shape[1]
    h = -math.expm1(-2.0 * t)
    found = moments(module, t, W, X, Z)
    u, Q = np.linalg.eigh(found.U)
    Vq = Q.T @ found.V
    v = np.einsum("ij,ij->i", Vq, Vq)
    f = flow_factor(u, taus, lam)
    train = (found.z2 + h * (f**2 * u - 2 * f) @ v) / d
    ridge = train + h * lam * (f**2 @ v) / d
    terms = gaussian_terms(module, W, t, *correlations(W), law)
    K = np.triu(terms.kernel) + np.triu(terms.kernel, 1).T
    inner = (Q.T @ K @ Q) * (Vq @ Vq.T)
    quadratic = np.einsum("ai,ij,aj->a", f, inner, f)
    cross = f @ np.einsum("ij,ij->i", Vq, Q.T @ (terms.slope[:, None] * W)) / math.sqrt(d)
    score = terms.inverse_trace + (quadratic - 2.0 * cross) / d
    return {"test": terms.baseline + h * score, "train": train, "train_ridge": ridge, "score": score}


def descend(module, t: float, W: np.ndarray, X: np.ndarray, Z: np.ndarray, lam: float, eta: float, steps: int
            ) -> tuple[np.ndarray, float]:
    """``A`` after ``steps`` steps of plain gradient descent with step ``eta`` on ``L(A)`` from ``A = 0`` (gradient
    from the features and noises themselves, not from ``U`` and ``V``), and the flow time they stand for."""
    n, m, d = Z.shape
    p = W.shape[0]
    a, h = math.exp(-t), -math.expm1(-2.0 * t)
    Y = (a * X[:, None, :] + math.sqrt(h) * Z).reshape(n * m, d)
    F = module.rho(W @ Y.T / math.sqrt(d))
    noise = Z.reshape(n * m, d).T
    A = np.zeros((d, p))
    for _ in range(steps):
        residual = math.sqrt(h) * A @ F / math.sqrt(p) + noise
        gradient = 2 * math.sqrt(h) / (n * m * d * math.sqrt(p)) * residual @ F.T + 2 * h * lam / (p * d) * A
        A -= eta * gradient
    return A, steps * 2 * h * eta / (p * d)


def eigenvalues(activation: str, t: float, psi_n: float, psi_p: float, m, d: int, data, seed: int = 0,
                draws: int = 1) -> np.ndarray:
    """The eigenvalues of ``U`` of ``draws`` independent training sets at dimension ``d`` (real features, their
    ``μ0`` part included; data drawn from ``data``, a model of rfdsm.data), concatenated."""
    module = load(activation)
    d, n, p = sizes(d, psi_n, psi_p)
    values = []
    for k in range(draws):
        W, _, X, Z = draw(generator(seed, k, d), data, d, n, p, m)
        values.append(np.linalg.eigvalsh(moments(module, t, W, X, Z).U))
    return np.concatenate(values)
