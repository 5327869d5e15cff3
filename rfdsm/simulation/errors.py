"""Test and score errors of a trained random-features score, as exact Gaussian expectations over the test point.

The score is ``s(y) = B ρ(W y/√d)`` with ``B = −Sᵀ``. For ``y ~ N(0, I_d)`` (every ``P_t`` of isotropic data), with the
feature kernel ``K = E ρ(u) ρ(u)ᵀ`` of ``u = W y/√d`` (``rfdsm.simulation.expectations.feature_kernel``) and, by Stein's
lemma, ``E[y ρ(u_k)] = (w_k/√d) E ρ'(u_k) = (w_k/√d) D_k`` with ``D_k = μ1(q_k)/√q_k`` (``μ1(q) = E[g ρ(√q g)]``):

    ε_score = (1/d) E‖s(y) + y‖² = 1 + [⟨S, K S⟩ − (2/√d) Σ_k D_k ⟨s_k, w_k⟩] / d     (s_k, w_k rows of S, W)

For the test error ``y = a x + √h z`` and ``E[z ρ(u_k)] = √h (w_k/√d) D_k``, which gives
``ε_test = (1/d) E‖√h s(y) + z‖² = 1 + h (ε_score − 1) = a² + h ε_score`` term by term: the identity of
docs/models.md §1 holds for these expectations to round-off. Nothing here is Monte Carlo.

The quadratic term is taken as ``⟨S, K S⟩ = ⟨K, S Sᵀ⟩``: a SYRK (half the flops of the GEMM ``K S``) and a sum over
the upper triangles, the only part of ``K`` that ``feature_kernel`` computes.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit
from scipy.linalg.blas import dsyrk

from rfdsm.simulation.expectations import feature_kernel


@njit(cache=True)
def _symmetric_inner(A, B):
    """``⟨A, B⟩ = Σ_k A_kk B_kk + 2 Σ_{k<l} A_kl B_kl`` of two symmetric matrices given by their upper triangles."""
    diagonal = off = 0.0
    for l in range(A.shape[0]):  # column by column: contiguous in Fortran order
        diagonal += A[l, l] * B[l, l]
        for k in range(l):
            off += A[k, l] * B[k, l]
    return diagonal + 2.0 * off


def population_errors(module, W: np.ndarray, S: np.ndarray, t: float, q: np.ndarray, gamma: np.ndarray
                      ) -> tuple[float, float]:
    """``(ε_test, ε_score)`` of the score ``−Sᵀ ρ(W y/√d)`` at time ``t``; ``q, gamma = correlations(W)``."""
    d = W.shape[1]
    G = dsyrk(1.0, S)  # before the serial loops: a BLAS call right after a serial loop starts slower
    _, mu1, norm2 = module.row_moments(q)
    K = feature_kernel(module, q, gamma, norm2)
    slope = mu1 / np.sqrt(q)
    quadratic = _symmetric_inner(K, G)
    cross = float(slope @ np.einsum("ij,ij->i", S, W)) / math.sqrt(d)
    score = 1.0 + (quadratic - 2.0 * cross) / d
    a2 = math.exp(-2.0 * t)
    return a2 + (1.0 - a2) * score, score
