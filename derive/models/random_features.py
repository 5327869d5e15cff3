"""Random-features ridge regression with Gaussian-equivalent features (docs/models.md §3).

Teacher ``y = x·b* + σ ε`` (``x ~ N(0, I_d)``, ``‖b*‖ = 1``); features ``φ(x) = ρ(W x/√d) ≈ μ0 + μ1 W̃ x + μ* ω``
(``W̃ = W/√d``, ``p × d``); training features ``F = μ1 W̃ X + μ* Ω`` (``p × n``); ``R = (F F^T/n + λ)^{-1}``,
``B = R F y/n``. With ``K = μ1² W̃ W̃^T + μ*²`` the feature covariance and ``R_ζ = (F F^T/n + λ − ζ K)^{-1}``
(so ``∂_ζ R_ζ = R K R`` at ``ζ = 0``), the test error ``σ² + E_x (x·b* − B·φ(x))²`` averaged over ``b*`` and ``ε`` is::

    ε_test = σ² + 1 − 2 μ1 (1/(d n)) tr W̃^T R F X^T + (1/(d n²)) tr X F^T R K R F X^T + (σ²/n²) tr F^T R K R F
           = σ² + 1 − 2 (g_{w2,w} + 1) + ∂_ζ g_{w2,w2} + σ² ∂_ζ g_{yy}        (at ζ = 0)

Pencil (blocks ``u`` (p), ``w2``, ``w``, ``w'``, ``w''`` (d), ``y`` (n); atoms ``W̃``, ``X̂ = X/√d``, ``Ω̂ = Ω/√d``)::

    L0:  (u,u) = λ − ζ μ*²;  (w2,w) = −1;  (y,y) = −1;  (w',w') = −1/(1 − ζ);  (w'',w'') = 1
    L1:  (u,w2) = (u,w') = (u,w'') = μ1 W̃;  (u,y) = (μ*/√ψn) Ω̂;  (w,y) = X̂/√ψn

Eliminating everything but ``u`` gives ``[L^{-1}]_uu = R_ζ``: ``w = μ1 W̃^T u``, ``w2 = X̂ y/√ψn``, ``y = F^T u/√n``;
``w'`` and ``w''`` add ``μ1² ((1 − ζ) − 1) W̃ W̃^T = −ζ μ1² W̃ W̃^T`` (two places instead of one coefficient ``√ζ``,
so that ``η`` stays analytic at ``ζ = 0``). The Schur complement also gives
``[L^{-1}]_{w2,w} = −I + μ1 X̂ F^T R W̃/√(ψn n)``, ``[L^{-1}]_{w2,w2} = −X̂ X̂^T/ψn + X̂ F^T R F X̂^T/(ψn n)``,
``[L^{-1}]_yy = −I + F^T R F/n``, whence the traces above.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from derive.pencil import Pencil

lam = sp.Symbol("lam", nonnegative=True)
psi_n = sp.Symbol("psi_n", positive=True)
psi_p = sp.Symbol("psi_p", positive=True)
mu1 = sp.Symbol("mu1", real=True)
mustar2 = sp.Symbol("mustar2", nonnegative=True)
noise = sp.Symbol("noise", nonnegative=True)
zeta = sp.Symbol("zeta", real=True)


def _features(a: dict, q: dict) -> np.ndarray:
    """``F/√n = (μ1 W̃ X̂ + μ* Ω̂)/√ψn``."""
    return (q["mu1"] * a["W"] @ a["X"] + np.sqrt(q["mustar2"]) * a["Omega"]) / np.sqrt(q["psi_n"])


def _resolvent(a: dict, q: dict) -> np.ndarray:
    """``R_ζ = (F F^T/n + λ − ζ (μ1² W̃ W̃^T + μ*²))^{-1}``."""
    F = _features(a, q)
    eye = np.eye(F.shape[0])
    K = q["mu1"] ** 2 * a["W"] @ a["W"].T + q["mustar2"] * eye
    return np.linalg.inv(F @ F.T + q["lam"] * eye - q["zeta"] * K)


def build() -> Pencil:
    P = Pencil(
        "random_features",
        sizes={"u": psi_p, "w2": 1, "w": 1, "wp": 1, "wpp": 1, "y": psi_n},
        parameters=[lam, psi_n, psi_p, mu1, mustar2, noise, zeta],
        continuation=(lam, 1e4),
        markers=(zeta,),
        doc="random-features ridge regression (Gaussian-equivalent features mu1 W x/sqrt(d) + mu* omega), linear "
        "teacher |b*| = 1, noise variance `noise`; zeta = 0 except for derivatives.",
    )
    P.constant("u", "u", lam - zeta * mustar2)
    P.constant("w2", "w", -1)
    P.constant("y", "y", -1)
    P.constant("wp", "wp", -1 / (1 - zeta))
    P.constant("wpp", "wpp", 1)
    for block in ("w2", "wp", "wpp"):
        P.gaussian("u", block, "W", mu1)
    P.gaussian("u", "y", "Omega", sp.sqrt(mustar2) / sp.sqrt(psi_n))
    P.gaussian("w", "y", "X", 1 / sp.sqrt(psi_n))
    P.observable(
        "test_error",
        noise + 1 - 2 * (P.g("w2", "w") + 1) + P.dg("w2", "w2", zeta) + noise * P.dg("y", "y", zeta),
    )
    params = {"lam": 0.2, "psi_n": 1.5, "psi_p": 0.7, "mu1": 0.5, "mustar2": 0.3, "noise": 0.1, "zeta": 0.15}
    P.identity(("u", "u"), _resolvent, params)
    P.identity(
        ("w2", "w"),
        lambda a, q: -np.eye(a["X"].shape[0]) + q["mu1"] * a["X"] @ _features(a, q).T @ _resolvent(a, q) @ a["W"]
        / np.sqrt(q["psi_n"]),
        params,
    )
    P.identity(
        ("y", "y"),
        lambda a, q: -np.eye(a["X"].shape[1]) + _features(a, q).T @ _resolvent(a, q) @ _features(a, q),
        params,
    )
    return P
