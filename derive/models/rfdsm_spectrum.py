"""Random-features denoising score matching on Gaussian data ``x = Σ^{1/2} x0 ~ N(0, Σ)`` (docs/data.md): the pencils
of the test, train and score errors for ``m = ∞`` and for every finite ``m``, generalising derive/models/rfdsm.py
(whose conventions and formulas this module follows; a spectrum of ones gives its numbers back).

Data and features. ``y = a x + √h z``, ``Σ_t = a² Σ + h``, ``P_t = N(0, Σ_t)``. The pre-activations ``W̃ y`` have
variance ``q = a² tr Σ/d + h`` (a parameter: the runtime gives it with the activation constants ``μ1, μ*², κ`` at that
variance, rfdsm/constants.py), so Gaussian equivalence reads ``ρ(W̃ y) ≈ μ0 + c W̃ y + μ* ω`` with ``c = μ1/√q``, and
two noisy copies of one point share the fraction ``κ`` of ``ω``. Then ``E ρ(W̃ y) z^T = √h c W̃`` and
``E ρ(W̃ y) y^T = c W̃ Σ_t`` (Stein), the population feature covariance is ``Ũ = c² W̃ Σ_t W̃^T + μ*²``, and with
``B = −V^T R``, ``R = (U + λ)^{-1}``, per dimension

    ε_test  = 1 + (h/d) tr V^T R Ũ R V − (2 h c/d) tr V^T R W̃,
    ε_score = (1/d) E ‖s(y) + Σ_t^{-1} y‖² = (ε_test − C_t)/h,     C_t = 1 − h Mean(1/(a² ev + h)),

``ε_train_ridge = 1 − (h/d) tr V^T R V`` and ``ε_train = ε_train_ridge − (h λ/d) tr V^T R² V`` as for isotropic data.

``Σ^{1/2}`` in the pencil. The data enter ``U`` as ``W̃ S X̂ X̂^T S W̃^T`` (``S = Σ^{1/2}``, ``X̂ = X0/√d``). A chain of
four data-dimension blocks carries it without inverting ``S`` (``Σ`` may be singular): ``(w2, w) = −1``,
``(w, w3) = S``, ``(w3, w4) = −1`` and ``X̂`` between ``w4`` and the data points; read as equations of
``L [u, …] = [f, 0, …]``, its rows give ``w2 = S w3``, ``w4 = S w`` and ``w3 ∝ X̂ y``, so the data enter as ``S X̂``.

m = ∞. ``U = Ĝ Ĝ^T/ψn + h c² W̃ W̃^T + s²``, ``Ĝ = a c W̃ S X̂ + v Ω̂``, ``V = c W̃``. Blocks ``u`` (p), ``w'``, ``w2``,
``w``, ``w3``, ``w4`` (d), ``y`` (n): ``(u, w') = √h c W̃``, ``(u, w2) = a c W̃``, ``(u, y) = v Ω̂/√ψn``,
``(w4, y) = X̂/√ψn``, ``(w', w') = −1 + ζ Σ_t``. At ``ζ = 0``, ``[L^{-1}]_{w'w'} = −1 + A``, ``A = h c² W̃^T R W̃``;
``∂_ζ [L^{-1}]_{w'w'} = −(−1 + A) Σ_t (−1 + A)``. So with ``g = g_{w'w'}``, ``g^Σt = (1/d) tr Σ_t [L^{-1}]_{w'w'}``
(a weighted trace) and ``q_t = tr Σ_t/d = Mean(a² ev + h)``: ``tr A/d = 1 + g``, ``tr A Σ_t/d = q_t + g^Σt``,
``tr A Σ_t A/d = q_t + 2 g^Σt − ∂_ζ g`` and

    ε_train_ridge = −g,   ε_train = −g + λ ∂_λ g,   ε_test = −1 − 2 g + (q_t + 2 g^Σt − ∂_ζ g)/h − μ*² ∂_λ g.

Finite m. The rotated copies of derive/models/rfdsm.py with ``μ1 → c`` and ``X → S X̂``:
``F1 = c W̃ (√m a S X̂ + √h Z1) + μ* (√(m κ) Ω1 + √(1 − κ) Ω1')``, ``F2 = c √h W̃ Z2 + μ* √(1 − κ) Ω2``. The chain
hangs on ``w`` beside the noise atoms, and ``ζ Σ_t`` on the diagonal of ``w`` gives
``∂_ζ [L^{-1}]_{e'e'} = −[L^{-1}]_{e'w} Σ_t [L^{-1}]_{we'}``, the ``Ũ`` term of the test error, so the formulas of the
isotropic pencil hold unchanged (with ``g = g_{e'e'}``, ``k = g_{we'}``):

    ε_train_ridge = −g/(ψn m),   ε_train = (−g + λ ∂_λ g)/(ψn m),
    ε_test = 1 − (∂_ζ g + μ*² ∂_λ g)/(ψn m) − 2 √h k/√(ψn m).
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from derive.models.rfdsm import physical
from derive.pencil import EV, SIGMA, Pencil, matrix_function

# The symbols of derive/models/rfdsm.py, and q; defined here so that this file alone fixes the generated modules (it is
# the one the provenance hash covers).
lam = sp.Symbol("lam", nonnegative=True)
psi_n = sp.Symbol("psi_n", positive=True)
psi_p = sp.Symbol("psi_p", positive=True)
m = sp.Symbol("m", positive=True)
h = sp.Symbol("h", positive=True)
q = sp.Symbol("q", positive=True)
mu1 = sp.Symbol("mu1", real=True)
mustar2 = sp.Symbol("mustar2", nonnegative=True)
kappa = sp.Symbol("kappa", nonnegative=True)
zeta = sp.Symbol("zeta", real=True)

_CONTINUATION = (lam, 1e4)
#: Parameters of the identity checks (sizes as in rfdsm.py); ``ζ ≠ 0`` checks the deterministic ``ζ Σ_t`` block too.
_CHECK = {"lam": 0.3, "psi_n": 0.5, "psi_p": 0.75, "m": 3, "h": 0.4, "q": 1.3, "mu1": 0.6, "mustar2": 0.2,
          "kappa": 0.45, "zeta": 0.0}
_CHECK_ZETA = dict(_CHECK, zeta=0.15)


def _a(q_: dict) -> float:
    return np.sqrt(1 - q_["h"])


def _c(q_: dict) -> float:
    """``c = μ1/√q``, the linear coefficient of the features in ``W̃ y``."""
    return q_["mu1"] / np.sqrt(q_["q"])


def _sigma_t(a: dict, q_: dict) -> np.ndarray:
    return (1 - q_["h"]) * a[SIGMA] + q_["h"] * np.eye(a[SIGMA].shape[0])


def _root(a: dict) -> np.ndarray:
    return matrix_function(a[SIGMA], np.sqrt)


def _infinite_data(a: dict, q_: dict) -> np.ndarray:
    """``Ĝ = a c W̃ S X̂ + v Ω̂``."""
    return _a(q_) * _c(q_) * a["W"] @ _root(a) @ a["X"] + np.sqrt(q_["mustar2"] * q_["kappa"]) * a["Omega"]


def _infinite_resolvent(a: dict, q_: dict) -> np.ndarray:
    """``R_ζ = (Ĝ Ĝ^T/ψn + h c² W̃ (1 − ζ Σ_t)^{-1} W̃^T + s² + λ)^{-1}`` (the ``w'`` block eliminated at any ``ζ``)."""
    W, G = a["W"], _infinite_data(a, q_)
    eye = np.eye(W.shape[0])
    noise = W @ np.linalg.inv(np.eye(W.shape[1]) - q_["zeta"] * _sigma_t(a, q_)) @ W.T
    U = G @ G.T / q_["psi_n"] + q_["h"] * _c(q_) ** 2 * noise + q_["mustar2"] * (1 - q_["kappa"]) * eye
    return np.linalg.inv(U + q_["lam"] * eye)


def _infinite_wp(a: dict, q_: dict) -> np.ndarray:
    """``[L^{-1}]_{w'w'} = (−1 + ζ Σ_t − h c² W̃^T (Ĝ Ĝ^T/ψn + s² + λ)^{-1} W̃)^{-1}`` (Schur complement on ``w'``)."""
    W, G = a["W"], _infinite_data(a, q_)
    rest = np.linalg.inv(G @ G.T / q_["psi_n"] + (q_["mustar2"] * (1 - q_["kappa"]) + q_["lam"]) * np.eye(W.shape[0]))
    d = W.shape[1]
    return np.linalg.inv(-np.eye(d) + q_["zeta"] * _sigma_t(a, q_) - q_["h"] * _c(q_) ** 2 * W.T @ rest @ W)


def _infinite_points(a: dict, q_: dict) -> np.ndarray:
    """``[L^{-1}]_{yy} = −1 + Ĝ^T R Ĝ/ψn`` (at ``ζ = 0``)."""
    G = _infinite_data(a, q_)
    return -np.eye(G.shape[1]) + G.T @ _infinite_resolvent(a, q_) @ G / q_["psi_n"]


def build_infinite() -> Pencil:
    a = sp.sqrt(1 - h)
    c = mu1 / sp.sqrt(q)
    sigma_t = a**2 * EV + h
    P = Pencil(
        "rfdsm_spectrum_infinite",
        sizes={"u": psi_p, "wp": 1, "w2": 1, "w": 1, "w3": 1, "w4": 1, "y": psi_n},
        parameters=[lam, psi_n, psi_p, h, q, mu1, mustar2, kappa, zeta],
        continuation=_CONTINUATION,
        markers=(zeta,),
        doc="RF-DSM on Gaussian data N(0, Sigma) (spectral law s) with m = infinity noise samples per data point; "
        "h = 1 - exp(-2t), q = (1 - h) tr Sigma/d + h the pre-activation variance, constants mu1, mustar2, kappa of "
        "the activation at time t and variance q; zeta = 0 except for derivatives.",
    )
    P.constant("u", "u", mustar2 * (1 - kappa) + lam)
    P.deterministic("wp", "wp", -1 + zeta * sigma_t)
    P.constant("w2", "w", -1)
    P.deterministic("w", "w3", sp.sqrt(EV))
    P.constant("w3", "w4", -1)
    P.constant("y", "y", -1)
    P.gaussian("u", "wp", "W", sp.sqrt(h) * c)
    P.gaussian("u", "w2", "W", a * c)
    P.gaussian("u", "y", "Omega", sp.sqrt(mustar2 * kappa / psi_n))
    P.gaussian("w4", "y", "X", 1 / sp.sqrt(psi_n))
    g, g_lam = P.g("wp", "wp"), P.dg("wp", "wp", lam)
    trace_t = P.mean(sigma_t)
    test = -1 - 2 * g + (trace_t + 2 * P.g("wp", "wp", weight=sigma_t) - P.dg("wp", "wp", zeta)) / h - mustar2 * g_lam
    P.observable("train_ridge", -g)
    P.observable("train", -g + lam * g_lam)
    P.observable("test", test)
    P.observable("score", (test - (1 - h * P.mean(1 / sigma_t))) / h)
    physical(P, 1 - h * P.mean(1 / sigma_t))
    for params in (_CHECK, _CHECK_ZETA):
        P.identity(("u", "u"), _infinite_resolvent, params)
        P.identity(("wp", "wp"), _infinite_wp, params)
    P.identity(("y", "y"), _infinite_points, _CHECK)
    return P


def _finite_features(a: dict, q_: dict) -> tuple[np.ndarray, np.ndarray]:
    """``F̂ = [F̂1 F̂2]`` and ``Ẑ = [Ẑ1 Ẑ2]`` of the rotated copies (module docstring)."""
    c, ms, k, h_, m_ = _c(q_), np.sqrt(q_["mustar2"]), q_["kappa"], q_["h"], q_["m"]
    W = a["W"]
    F1 = c * W @ (np.sqrt(m_) * _a(q_) * _root(a) @ a["X"] + np.sqrt(h_) * a["Z1"]) + ms * (
        np.sqrt(m_ * k) * a["Omega1"] + np.sqrt(1 - k) * a["Omega1p"]
    )
    F2 = c * np.sqrt(h_) * W @ a["Z2"] + ms * np.sqrt(1 - k) * a["Omega2"]
    return np.hstack([F1, F2]), np.hstack([a["Z1"], a["Z2"]])


def _finite_resolvent(a: dict, q_: dict) -> np.ndarray:
    """``R_ζ = (F̂ F̂^T/(ψn m) + λ + ζ c² W̃ Σ_t W̃^T)^{-1}``."""
    F, _ = _finite_features(a, q_)
    W = a["W"]
    U = F @ F.T / (q_["psi_n"] * q_["m"]) + q_["zeta"] * _c(q_) ** 2 * W @ _sigma_t(a, q_) @ W.T
    return np.linalg.inv(U + q_["lam"] * np.eye(F.shape[0]))


def _finite_targets(a: dict, q_: dict) -> np.ndarray:
    """``[L^{-1}]_{e'e'} = Ẑ F̂^T R F̂ Ẑ^T/(ψn m) − Ẑ Ẑ^T``."""
    F, Z = _finite_features(a, q_)
    return Z @ F.T @ _finite_resolvent(a, q_) @ F @ Z.T / (q_["psi_n"] * q_["m"]) - Z @ Z.T


def _finite_cross(a: dict, q_: dict) -> np.ndarray:
    """``[L^{-1}]_{we'} = c W̃^T R F̂ Ẑ^T/√(ψn m)``."""
    F, Z = _finite_features(a, q_)
    return _c(q_) * a["W"].T @ _finite_resolvent(a, q_) @ F @ Z.T / np.sqrt(q_["psi_n"] * q_["m"])


def build_finite() -> Pencil:
    a = sp.sqrt(1 - h)
    c = mu1 / sp.sqrt(q)
    scale = 1 / sp.sqrt(psi_n * m)
    P = Pencil(
        "rfdsm_spectrum_finite",
        sizes={"u": psi_p, "w2": 1, "w": 1, "w3": 1, "w4": 1, "y1": psi_n, "y2": psi_n * (m - 1), "e": 1, "ep": 1},
        parameters=[lam, psi_n, psi_p, m, h, q, mu1, mustar2, kappa, zeta],
        continuation=_CONTINUATION,
        markers=(zeta,),
        doc="RF-DSM on Gaussian data N(0, Sigma) (spectral law s) with m >= 1 noise samples per data point (any real "
        "m >= 1 in the equations); h = 1 - exp(-2t), q = (1 - h) tr Sigma/d + h the pre-activation variance, "
        "constants mu1, mustar2, kappa of the activation at time t and variance q; zeta = 0 except for derivatives.",
    )
    P.constant("u", "u", lam)
    P.constant("w2", "w", -1)
    P.deterministic("w", "w", zeta * (a**2 * EV + h))
    P.deterministic("w", "w3", sp.sqrt(EV))
    P.constant("w3", "w4", -1)
    P.constant("y1", "y1", -1)
    P.constant("y2", "y2", -1)
    P.constant("e", "ep", -1)
    P.gaussian("u", "w2", "W", c)
    # w2 collects the inputs Ŷ y/√(ψn m): the noise of every copy through w, the data of the mean copy through the
    # chain w → w3 → w4 (w4 = S w, w3 = X̂ y1 a √m/√(ψn m)).
    P.gaussian("w", "y1", "Z1", sp.sqrt(h) * scale)
    P.gaussian("w", "y2", "Z2", sp.sqrt(h) * scale)
    P.gaussian("w4", "y1", "X", a * sp.sqrt(m) * scale)
    P.gaussian("u", "y1", "Omega1", sp.sqrt(mustar2 * m * kappa) * scale)
    P.gaussian("u", "y1", "Omega1p", sp.sqrt(mustar2 * (1 - kappa)) * scale)
    P.gaussian("u", "y2", "Omega2", sp.sqrt(mustar2 * (1 - kappa)) * scale)
    P.gaussian("e", "y1", "Z1", 1)
    P.gaussian("e", "y2", "Z2", 1)
    g, k = P.g("ep", "ep"), P.g("w", "ep")
    norm = psi_n * m
    test = 1 - (P.dg("ep", "ep", zeta) + mustar2 * P.dg("ep", "ep", lam)) / norm - 2 * sp.sqrt(h) * k / sp.sqrt(norm)
    P.observable("train_ridge", -g / norm)
    P.observable("train", (-g + lam * P.dg("ep", "ep", lam)) / norm)
    P.observable("test", test)
    P.observable("score", (test - (1 - h * P.mean(1 / (a**2 * EV + h)))) / h)
    physical(P, 1 - h * P.mean(1 / (a**2 * EV + h)))
    for params in (_CHECK, _CHECK_ZETA):
        P.identity(("u", "u"), _finite_resolvent, params)
    P.identity(("ep", "ep"), _finite_targets, _CHECK)
    P.identity(("w", "ep"), _finite_cross, _CHECK)
    return P
