"""Training of the random-features score by its closed-form ridge solution (docs/models.md §1).

With features ``F_ij = ρ(W y_ij/√d)``, ``U = (1/nm) Σ F Fᵀ`` and ``V = (1/(√h nm)) Σ F zᵀ`` the minimiser of the
loss is ``B = A/√p = −Vᵀ (U + λ I_p)^{−1}``; it is computed as ``B = −Sᵀ`` with ``S = (U + λ I)^{−1} V`` by a
Cholesky factorisation (LAPACK ``potrf``/``potrs``), never an explicit inverse.

For ``m = ∞`` the sums over the noises become expectations over ``z`` at each data point, computed exactly
(``rfdsm.simulation.expectations``): with means ``μ_ik = a w_k·x_i/√d`` and ``σ_k = √(h q_k)``,
``U_∞ = (1/n) Σ_i E_z[ρ(u_i) ρ(u_i)ᵀ]`` (Mehler sum) and, by Stein's lemma ``E_z[z ρ(u_k)] = √h (w_k/√d) E ρ'(u_k)``
with ``E ρ'(μ + σ g) = c_1(μ, σ)/σ``, ``V_∞ = diag((1/n) Σ_i c_1(μ_ik, σ_k)/σ_k) W/√d``.

Train errors by traces (no residual matrix): with ``z2 = (1/nm) Σ ‖z_ij‖²`` (``= d`` for ``m = ∞``)

    ε_train_ridge = (z2 − h ⟨S, V⟩)/d,     ε_train = ε_train_ridge − h λ ‖S‖²_F / d,

because ``tr(B U Bᵀ) = ⟨S, (U + λ − λ) S⟩ = ⟨S, V⟩ − λ‖S‖²`` and the ridge term is ``h λ ‖B‖²_F / d``.

Every dense product goes through ``scipy.linalg.blas``, the OpenBLAS that also runs the Cholesky: NumPy ships its own
OpenBLAS, whose threads keep spinning for a while after each call, and alternating the two thread pools on a small
machine made both the GEMMs and the Cholesky twice as slow or worse. Symmetric matrices are held as their upper
triangle in Fortran order, as SYRK writes them and the Cholesky reads them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numba import vectorize
from scipy.linalg import cho_factor, cho_solve
from scipy.linalg.blas import dgemm, dsyrk

from rfdsm.simulation.expectations import ShiftedHermite, mehler_order, mehler_sum


@dataclass(frozen=True)
class Moments:
    """``U`` (upper triangle, zero below), ``V`` and ``z2`` of one training set."""

    U: np.ndarray
    V: np.ndarray
    z2: float


@vectorize(["float64(float64, float64, float64, float64)"], cache=True)
def _combine(x, z, a, s):
    """``a x + s z``: one pass over the broadcast arrays, where NumPy's expression makes three with two temporaries."""
    return a * x + s * z


def features(rho, W: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """``F = ρ(W Yᵀ/√d)`` (``p × N``, Fortran order, for ``N`` points, the rows of ``Y``): one GEMM, then the Numba
    ufunc in place."""
    # Wᵀ and Yᵀ are Fortran-ordered views of the C-ordered W and Y: BLAS reads them without a copy.
    F = dgemm(1.0 / math.sqrt(W.shape[1]), W.T, Y.T, trans_a=1)
    rho(F, out=F)
    return F


def sampled_moments(rho, W: np.ndarray, X: np.ndarray, Z: np.ndarray, a: float, h: float) -> Moments:
    """Moments of the training set ``y_ij = a x_i + √h z_ij``, ``Z`` of shape ``(n, m, d)``."""
    n, m, d = Z.shape
    noise = Z.reshape(n * m, d)
    Y = _combine(X[:, None, :], Z, a, math.sqrt(h)).reshape(n * m, d)
    F = features(rho, W, Y)
    U = dsyrk(1.0 / (n * m), F)  # half the flops of the GEMM F Fᵀ
    V = dgemm(1.0 / (math.sqrt(h) * n * m), F, noise.T, trans_b=1)
    return Moments(U, V, float(np.einsum("ij,ij->", noise, noise)) / (n * m))


def averaged_moments(rho, W: np.ndarray, X: np.ndarray, a: float, h: float, q: np.ndarray, gamma: np.ndarray
                     ) -> Moments:
    """Moments with the expectation over the noise of every data point (``m = ∞``), exact up to ``MEHLER_TOL``;
    ``q, gamma = correlations(W)``, which the caller computes once per ``W``."""
    d = W.shape[1]
    sigma = np.sqrt(h * q)
    mu = dgemm(a / math.sqrt(d), X.T, W.T, trans_a=1).T  # μ_ki = a w_k·x_i/√d, features × points, C order
    shifted = ShiftedHermite(rho, mu, sigma, mehler_order(gamma))
    U = mehler_sum(shifted, gamma)
    slope = shifted.means[1] / sigma
    V = (slope[:, None] / math.sqrt(d)) * W
    return Moments(U, V, float(d))


def fit(moments: Moments, lam: float, overwrite: bool = False) -> np.ndarray:
    """``S = (U + λ I)^{−1} V`` by Cholesky (the trained score is ``s(y) = −Sᵀ ρ(W y/√d)``).

    ``overwrite=True`` factorises ``moments.U`` in place, sparing a p×p copy: ``U`` is destroyed.
    """
    # Fortran order is LAPACK's: the factorisation works in place, without a transposed copy.
    C = moments.U if overwrite else np.array(moments.U, order="F")
    C[np.diag_indices_from(C)] += lam
    try:
        factor = cho_factor(C, lower=False, overwrite_a=True, check_finite=False)
    except np.linalg.LinAlgError:
        raise ValueError(f"lam: U + λI is not positive definite in double precision at λ = {lam:g} (U is singular "
                         "when p > n m); take a larger ridge") from None
    return cho_solve(factor, moments.V, check_finite=False)


def train_errors(moments: Moments, S: np.ndarray, lam: float, h: float) -> tuple[float, float]:
    """``(ε_train, ε_train_ridge)`` by the trace formulas of the module docstring."""
    d = S.shape[1]
    ridge = (moments.z2 - h * float(np.einsum("ij,ij->", S, moments.V))) / d
    return ridge - h * lam * float(np.einsum("ij,ij->", S, S)) / d, ridge
