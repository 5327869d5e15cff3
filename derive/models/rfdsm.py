"""Random-features denoising score matching on isotropic Gaussian data (docs/models.md §1, §3): the pencils of the test,
train and score errors, for ``m = ∞`` and for every finite ``m`` (``m = 1`` included).

Conventions. ``W̃ = W/√d`` (``p × d``), ``X̂ = X/√d``, ``Ẑ = Z/√d``, ``Ω̂ = Ω/√d``: atoms with entries of variance
``1/d``. Pre-activations are ``W̃ y``; ``a = √(1 − h)``. ``B = −V^T R`` with ``R = (U + λ)^{-1}``, and, per dimension,

    ε_train_ridge = 1 − (h/d) tr V^T R V,
    ε_train       = ε_train_ridge − (h λ/d) tr V^T R² V,                      (‖B‖² = tr V^T R² V)
    ε_test        = 1 + (h/d) tr V^T R Ũ R V − (2 h μ1/d) tr V^T R W̃,       (Stein: E ρ(W̃ y) z^T = √h μ1 W̃)
    ε_score       = (ε_test − a²)/h,

with the population feature covariance ``Ũ = μ1² W̃ W̃^T + μ*²``. The traces are normalised block traces of a pencil
and their derivatives: ``R² = −∂_λ R`` gives the ``μ*²`` part of ``R Ũ R`` and ``λ tr V^T R² V``, and the ``μ1²`` part,
``tr V^T R W̃ W̃^T R V = ‖W̃^T R V‖²``, is the derivative in a constant ``ζ`` added to the diagonal of the block ``b``
whose off-diagonal block ``[L^{-1}]_{b e}`` is ``∝ W̃^T R V`` (first-order perturbation: ``∂_ζ [L^{-1}]_{ee} =
−[L^{-1}]_{eb} [L^{-1}]_{be}``). The pencil at ``ζ = 0`` is unchanged, so no block grows with ``1/λ`` to cancel against
another (an earlier deformation of ``R`` itself did, and lost 6e-3 relative precision in ε_train at λ = 1e-3).

m = ∞ (docs/method.md §5): ``U = G G^T/n + h μ1² W̃ W̃^T + s²``, ``G = a μ1 W X/√d + v Ω``, ``V = μ1 W̃``; the block
``w'`` (``w' = √h μ1 W̃^T u``, ``L0 = −1 + ζ``) has ``[L^{-1}]_{w'w'} = −1 + A``, ``A = h μ1² W̃^T R W̃``, so with
``g = g_{w'w'}``: ``tr A/d = 1 + g``, ``tr A²/d = 1 + 2 g − ∂_ζ g`` and

    ε_train_ridge = −g,   ε_train = −g + λ ∂_λ g,   ε_test = −1 − 2 g + (1 + 2 g − ∂_ζ g)/h − μ*² ∂_λ g.

Finite m: rotate the ``m`` noisy copies of each data point by an orthogonal matrix whose first row is ``1/√m`` (the
loss is invariant). The mean copy has features ``F1 = μ1 W̃ (√m a X + √h Z1) + μ* (√(m κ) Ω1 + √(1 − κ) Ω1')`` and
target noise ``Z1``; the ``m − 1`` others ``F2 = μ1 √h W̃ Z2 + μ* √(1 − κ) Ω2`` and ``Z2``, all atoms independent
(``Z1``: ``d × n``; ``Z2``: ``d × n(m − 1)``). Then ``U = F F^T/(n m)``, ``V = F Z^T/(√h n m)``. The blocks ``e, e'``
(``L0 = −1`` between them, ``Z1``, ``Z2`` between ``e`` and the ``y``'s) give

    [L^{-1}]_{e'e'} = Ẑ F̂^T R F̂ Ẑ^T/(ψn m) − Ẑ Ẑ^T,   [L^{-1}]_{w e'} = μ1 W̃^T R F̂ Ẑ^T/√(ψn m)   (F̂ = F/√d),

so that with ``g = g_{e'e'}``, ``k = g_{w e'}`` and ``ζ`` on the diagonal of ``w``

    ε_train_ridge = −g/(ψn m),   ε_train = (−g + λ ∂_λ g)/(ψn m),
    ε_test = 1 − (∂_ζ g + μ*² ∂_λ g)/(ψn m) − 2 √h k/√(ψn m).

``m`` enters only through block sizes and coefficients, so one pencil serves every ``m ≥ 1`` (at ``m = 1`` the blocks
of the other copies have size 0).
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from derive.pencil import Pencil

lam = sp.Symbol("lam", nonnegative=True)
psi_n = sp.Symbol("psi_n", positive=True)
psi_p = sp.Symbol("psi_p", positive=True)
m = sp.Symbol("m", positive=True)
h = sp.Symbol("h", positive=True)
mu1 = sp.Symbol("mu1", real=True)
mustar2 = sp.Symbol("mustar2", nonnegative=True)
kappa = sp.Symbol("kappa", nonnegative=True)
zeta = sp.Symbol("zeta", real=True)

_CONTINUATION = (lam, 1e4)
#: Parameters of the identity checks: sizes ψ·d integral at d = 12 (p = 9, n = 6, n(m − 1) = 12); ζ = 0, where the
#: blocks are the named traces (ζ only marks a derivative).
_CHECK = {"lam": 0.3, "psi_n": 0.5, "psi_p": 0.75, "m": 3, "h": 0.4, "mu1": 0.6, "mustar2": 0.2, "kappa": 0.45,
          "zeta": 0.0}


def physical(P: Pencil, baseline) -> None:
    """The conditions every physical solution meets (``Pencil.condition``), with ``R = (U + λ)^{-1}``, ``r = g_uu =
    tr R/p``: ``0 ≤ r ≤ 1/λ``; ``r² ≤ −∂_λ r = tr R²/p ≤ r/λ`` (Jensen; ``R U R ⪰ 0``); ``0 ≤ ε_train ≤
    ε_train_ridge ≤ 1`` (the loss at ``B = 0`` is 1); ``ε_test ≥ baseline`` (the test error of the exact score, the
    best score: ``a²`` here, ``C_t`` on data with a spectrum)."""
    r, dr = P.g("u", "u"), P.dg("u", "u", lam)
    train_ridge, train, test = (P.observables[k] for k in ("train_ridge", "train", "test"))
    P.condition(r, r)
    P.condition(1 - lam * r, 1)
    P.condition(-dr - r**2, r**2)
    P.condition(r + lam * dr, r)
    P.condition(train, train_ridge)
    P.condition(train_ridge - train, train_ridge)
    P.condition(1 - train_ridge, 1)
    P.condition(test - baseline, test)


def _infinite_resolvent(a: dict, q: dict) -> np.ndarray:
    """``R = (U_∞ + λ)^{-1}``, ``U_∞ = Ĝ Ĝ^T/ψn + h μ1² W̃ W̃^T + s²``, ``Ĝ = a μ1 W̃ X̂ + v Ω̂``."""
    W, h_ = a["W"], q["h"]
    G = np.sqrt(1 - h_) * q["mu1"] * W @ a["X"] + np.sqrt(q["mustar2"] * q["kappa"]) * a["Omega"]
    U = G @ G.T / q["psi_n"] + h_ * q["mu1"] ** 2 * W @ W.T + q["mustar2"] * (1 - q["kappa"]) * np.eye(W.shape[0])
    return np.linalg.inv(U + q["lam"] * np.eye(W.shape[0]))


def build_infinite() -> Pencil:
    a = sp.sqrt(1 - h)
    P = Pencil(
        "rfdsm_infinite",
        sizes={"u": psi_p, "wp": 1, "w2": 1, "w": 1, "y": psi_n},
        parameters=[lam, psi_n, psi_p, h, mu1, mustar2, kappa, zeta],
        continuation=_CONTINUATION,
        markers=(zeta,),
        doc="RF-DSM on isotropic Gaussian data with m = infinity noise samples per data point; h = 1 - exp(-2t), "
        "constants mu1, mustar2, kappa of the activation at time t; zeta = 0 except for derivatives.",
    )
    P.constant("u", "u", mustar2 * (1 - kappa) + lam)
    P.constant("wp", "wp", -1 + zeta)
    P.constant("w2", "w", -1)
    P.constant("y", "y", -1)
    P.gaussian("u", "wp", "W", sp.sqrt(h) * mu1)
    P.gaussian("u", "w2", "W", a * mu1)
    P.gaussian("u", "y", "Omega", sp.sqrt(mustar2 * kappa / psi_n))
    P.gaussian("w", "y", "X", 1 / sp.sqrt(psi_n))
    g, g_lam = P.g("wp", "wp"), P.dg("wp", "wp", lam)
    test = -1 - 2 * g + (1 + 2 * g - P.dg("wp", "wp", zeta)) / h - mustar2 * g_lam
    P.observable("train_ridge", -g)
    P.observable("train", -g + lam * g_lam)
    P.observable("test", test)
    P.observable("score", (test - (1 - h)) / h)
    physical(P, 1 - h)
    P.identity(("u", "u"), _infinite_resolvent, _CHECK)
    P.identity(
        ("wp", "wp"),
        lambda a, q: -np.eye(a["W"].shape[1]) + q["h"] * q["mu1"] ** 2 * a["W"].T @ _infinite_resolvent(a, q) @ a["W"],
        _CHECK,
    )
    return P


def _finite_features(a: dict, q: dict) -> tuple[np.ndarray, np.ndarray]:
    """``F̂ = [F̂1 F̂2]`` and ``Ẑ = [Ẑ1 Ẑ2]`` of the rotated copies (module docstring)."""
    mu1_, ms, k, h_, m_ = q["mu1"], np.sqrt(q["mustar2"]), q["kappa"], q["h"], q["m"]
    W = a["W"]
    F1 = mu1_ * W @ (np.sqrt(m_ * (1 - h_)) * a["X"] + np.sqrt(h_) * a["Z1"]) + ms * (
        np.sqrt(m_ * k) * a["Omega1"] + np.sqrt(1 - k) * a["Omega1p"]
    )
    F2 = mu1_ * np.sqrt(h_) * W @ a["Z2"] + ms * np.sqrt(1 - k) * a["Omega2"]
    return np.hstack([F1, F2]), np.hstack([a["Z1"], a["Z2"]])


def _finite_resolvent(a: dict, q: dict) -> np.ndarray:
    """``R = (F̂ F̂^T/(ψn m) + λ)^{-1}``."""
    F, _ = _finite_features(a, q)
    eye = np.eye(F.shape[0])
    return np.linalg.inv(F @ F.T / (q["psi_n"] * q["m"]) + q["lam"] * eye)


def build_finite() -> Pencil:
    a = sp.sqrt(1 - h)
    scale = 1 / sp.sqrt(psi_n * m)
    P = Pencil(
        "rfdsm_finite",
        sizes={"u": psi_p, "w2": 1, "w": 1, "y1": psi_n, "y2": psi_n * (m - 1), "e": 1, "ep": 1},
        parameters=[lam, psi_n, psi_p, m, h, mu1, mustar2, kappa, zeta],
        continuation=_CONTINUATION,
        markers=(zeta,),
        doc="RF-DSM on isotropic Gaussian data with m >= 1 noise samples per data point (any real m >= 1 in the "
        "equations); h = 1 - exp(-2t), constants mu1, mustar2, kappa of the activation at time t; zeta = 0 except "
        "for derivatives.",
    )
    P.constant("u", "u", lam)
    P.constant("w", "w", zeta)
    P.constant("w2", "w", -1)
    P.constant("y1", "y1", -1)
    P.constant("y2", "y2", -1)
    P.constant("e", "ep", -1)
    P.gaussian("u", "w2", "W", mu1)
    # w2 collects Ŷ y/√(ψn m): the data and noise of the mean copy, the noise of the others.
    P.gaussian("w", "y1", "X", a * sp.sqrt(m) * scale)
    P.gaussian("w", "y1", "Z1", sp.sqrt(h) * scale)
    P.gaussian("w", "y2", "Z2", sp.sqrt(h) * scale)
    P.gaussian("u", "y1", "Omega1", sp.sqrt(mustar2 * m * kappa) * scale)
    P.gaussian("u", "y1", "Omega1p", sp.sqrt(mustar2 * (1 - kappa)) * scale)
    P.gaussian("u", "y2", "Omega2", sp.sqrt(mustar2 * (1 - kappa)) * scale)
    # The targets: e' = Ẑ y reads Z F^T R F Z^T (and, against w, W^T R F Z^T).
    P.gaussian("e", "y1", "Z1", 1)
    P.gaussian("e", "y2", "Z2", 1)
    g, k = P.g("ep", "ep"), P.g("w", "ep")
    norm = psi_n * m
    test = 1 - (P.dg("ep", "ep", zeta) + mustar2 * P.dg("ep", "ep", lam)) / norm - 2 * sp.sqrt(h) * k / sp.sqrt(norm)
    P.observable("train_ridge", -g / norm)
    P.observable("train", (-g + lam * P.dg("ep", "ep", lam)) / norm)
    P.observable("test", test)
    P.observable("score", (test - (1 - h)) / h)
    physical(P, 1 - h)
    P.identity(("u", "u"), _finite_resolvent, _CHECK)

    def targets(a: dict, q: dict) -> np.ndarray:
        F, Z = _finite_features(a, q)
        return Z @ F.T @ _finite_resolvent(a, q) @ F @ Z.T / (q["psi_n"] * q["m"]) - Z @ Z.T

    def cross(a: dict, q: dict) -> np.ndarray:
        F, Z = _finite_features(a, q)
        return q["mu1"] * a["W"].T @ _finite_resolvent(a, q) @ F @ Z.T / np.sqrt(q["psi_n"] * q["m"])

    P.identity(("ep", "ep"), targets, _CHECK)
    P.identity(("w", "ep"), cross, _CHECK)
    return P
