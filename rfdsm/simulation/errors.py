"""Test and score errors of a trained random-features score: exact Gaussian expectations over the test point when the
data are Gaussian, means over test points of the data otherwise.

The score is ``s(y) = B ρ(W y/√d)`` with ``B = −Sᵀ``; the score error is measured against the Gaussian score
``−Σ_t^{-1} y`` of the data's covariance ``Σ`` (``Σ_t = a² Σ + h I``, ``Σ = O Λ Oᵀ`` from ``law.eigh()``): the exact
score for Gaussian data, the score of the Gaussian model otherwise (docs/data.md).

*Gaussian data* (``law.gaussian``), ``y ~ N(0, Σ_t)``. The pre-activations ``u = W y/√d`` are those of isotropic
``y`` with the rows of ``W̃ = W O Λ_t^{1/2}`` (``Λ_t = a² Λ + h``), so the feature kernel ``K = E ρ(u) ρ(u)ᵀ`` is the
isotropic one of ``W̃`` (``rfdsm.simulation.expectations.feature_kernel``). By Stein's lemma
``E[Σ_t^{-1} y ρ(u_k)] = (w_k/√d) E ρ'(u_k) = (w_k/√d) D_k`` with ``D_k = μ1(q̃_k)/√q̃_k``, ``q̃_k = ‖w̃_k‖²/d``
(``μ1(q) = E[g ρ(√q g)]``), and ``E‖Σ_t^{-1} y‖² = tr Σ_t^{-1}``:

    ε_score = (1/d) E‖s(y) + Σ_t^{-1} y‖² = (1/d) [tr Σ_t^{-1} + ⟨S, K S⟩ − (2/√d) Σ_k D_k ⟨s_k, w_k⟩]

(``s_k, w_k`` rows of ``S, W``). For the test error ``y = a x + √h z`` and ``E[z ρ(u_k)] = √h (w_k/√d) D_k``, which
gives term by term ``ε_test = (1/d) E‖√h s(y) + z‖² = C_t + h ε_score`` with ``C_t = 1 − (h/d) tr Σ_t^{-1}``, the
identity of docs/data.md, to round-off. Nothing here is Monte Carlo. For isotropic data ``W̃ = W`` up to a scale and
the correlations of ``W`` are reused.

The quadratic term is taken as ``⟨S, K S⟩ = ⟨K, S Sᵀ⟩``: a SYRK (half the flops of the GEMM ``K S``) and a sum over
the upper triangles, the only part of ``K`` that ``feature_kernel`` computes.

*Other data* (``law.gaussian`` false: a non-linear manifold, images): the same two means over ``TEST_POINTS`` test
points ``x`` of the law (``law.test``) with fresh noises ``z``, in blocks of ``BLOCK`` points.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numba import njit
from scipy.linalg.blas import dsyrk

from rfdsm.simulation.expectations import correlations, feature_kernel

#: Test points of a draw when the errors are means over the data (the spread of one point's error is O(1/√d), that of
#: the exact expectation over draws O(1/d): a few thousand points keep the former below the latter up to d ≈ 4000).
TEST_POINTS = 4096
#: Test points per block (bounds the p × BLOCK feature matrix).
BLOCK = 512


@njit(cache=True)
def _symmetric_inner(A, B):
    """``⟨A, B⟩ = Σ_k A_kk B_kk + 2 Σ_{k<l} A_kl B_kl`` of two symmetric matrices given by their upper triangles."""
    diagonal = off = 0.0
    for l in range(A.shape[0]):  # column by column: contiguous in Fortran order
        diagonal += A[l, l] * B[l, l]
        for k in range(l):
            off += A[k, l] * B[k, l]
    return diagonal + 2.0 * off


def population_errors(module, W: np.ndarray, S: np.ndarray, t: float, q: np.ndarray, gamma: np.ndarray, law,
                      rng: np.random.Generator) -> tuple[float, float]:
    """``(ε_test, ε_score)`` of the score ``−Sᵀ ρ(W y/√d)`` at time ``t`` on the data law ``law`` (module docstring);
    ``q, gamma = correlations(W)``; ``rng`` draws the test points when ``law`` is not Gaussian."""
    if not law.gaussian:
        return _sampled_errors(module, W, S, t, law, rng)
    G = dsyrk(1.0, S)  # before the serial loops: a BLAS call right after a serial loop starts slower
    terms = gaussian_terms(module, W, t, q, gamma, law)
    quadratic = _symmetric_inner(terms.kernel, G)
    cross = float(terms.slope @ np.einsum("ij,ij->i", S, W)) / math.sqrt(W.shape[1])
    score = terms.inverse_trace + (quadratic - 2.0 * cross) / W.shape[1]
    return terms.baseline + terms.h * score, score


@dataclass(frozen=True)
class GaussianTerms:
    """What the test and score errors on ``N(0, Σ_t)`` need besides ``S`` (module docstring): the feature kernel ``K``
    (upper triangle), the Stein slopes ``D_k``, ``tr Σ_t^{-1}/d``, ``C_t`` and ``h``, so that
    ``ε_score = inverse_trace + [⟨S, K S⟩ − (2/√d) Σ_k D_k ⟨s_k, w_k⟩]/d`` and ``ε_test = baseline + h ε_score``."""

    kernel: np.ndarray
    slope: np.ndarray
    inverse_trace: float
    baseline: float
    h: float


def gaussian_terms(module, W: np.ndarray, t: float, q: np.ndarray, gamma: np.ndarray, law) -> GaussianTerms:
    """The ``GaussianTerms`` of the features ``ρ(W y/√d)`` at time ``t`` on the Gaussian law ``law``;
    ``q, gamma = correlations(W)`` (reused when ``Σ_t`` is a multiple of the identity)."""
    a2, h = math.exp(-2.0 * t), -math.expm1(-2.0 * t)
    values, basis = law.eigh()
    variances = a2 * values + h  # the eigenvalues of Σ_t
    if basis is None and np.all(variances == variances[0]):  # Σ_t = c I: W̃ = √c W has the correlations of W
        q = variances[0] * q
    else:
        rotated = W if basis is None else W @ basis
        q, gamma = correlations(rotated * np.sqrt(variances))
    _, mu1, norm2 = module.row_moments(q)
    return GaussianTerms(feature_kernel(module, q, gamma, norm2), mu1 / np.sqrt(q), float(np.mean(1.0 / variances)),
                         a2 * float(np.mean(values / variances)),  # C_t = 1 − h tr Σ_t^{-1}/d, no cancellation
                         h)


def _sampled_errors(module, W, S, t, law, rng) -> tuple[float, float]:
    """Means of ``‖√h s(y) + z‖²/d`` and ``‖s(y) + Σ_t^{-1} y‖²/d`` over the test points of ``law``."""
    a2, h = math.exp(-2.0 * t), -math.expm1(-2.0 * t)
    values, basis = law.eigh()
    variances = a2 * values + h  # the eigenvalues of Σ_t
    d = W.shape[1]
    x = law.test(rng, TEST_POINTS)
    test = score = 0.0
    for start in range(0, x.shape[0], BLOCK):
        z = rng.standard_normal((min(BLOCK, x.shape[0] - start), d))
        y = math.sqrt(a2) * x[start:start + z.shape[0]] + math.sqrt(h) * z
        s = -(module.rho(y @ (W.T / math.sqrt(d))) @ S)  # rows: s(y) = −Sᵀ ρ(W y/√d)
        exact = -(y / variances if basis is None else ((y @ basis) / variances) @ basis.T)
        test += float(np.sum((math.sqrt(h) * s + z) ** 2))
        score += float(np.sum((s - exact) ** 2))
    return test / (x.shape[0] * d), score / (x.shape[0] * d)
