"""Ridge regression on isotropic data: ``y_i = x_i·b* + σ ε_i``, ``x_i ~ N(0, I_d)``, ``‖b*‖ = 1``, ``n = ψn d`` samples,
``b̂ = (Σ̂ + λ)^{-1} X^T y/n`` with ``Σ̂ = X^T X/n`` (``X`` the ``n × d`` data matrix).

Test error (``b*`` isotropic, ``r(λ) = (1/d) tr (Σ̂ + λ)^{-1}``, ``r' = dr/dλ``)::

    ε_test = σ² + ‖b̂ − b*‖² = σ² + λ² (1/d) tr (Σ̂+λ)^{-2} + (σ²/n) tr Σ̂ (Σ̂+λ)^{-2}
           = σ² − λ² r' + (σ²/ψn) (r + λ r')

Pencil on blocks ``w`` (``d``) and ``y`` (``n``), atom ``X̂ = X/√d`` (``n × d``)::

    L = [[λ, X̂^T/√ψn], [X̂/√ψn, −1]],   [L^{-1}]_ww = (λ + X̂^T X̂/ψn)^{-1} = (Σ̂ + λ)^{-1},   r = g_ww.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from derive.pencil import Pencil

lam = sp.Symbol("lam", nonnegative=True)
psi_n = sp.Symbol("psi_n", positive=True)
noise = sp.Symbol("noise", nonnegative=True)


def build() -> Pencil:
    P = Pencil(
        "ridge",
        sizes={"w": 1, "y": psi_n},
        parameters=[lam, psi_n, noise],
        continuation=(lam, 1e4),
        doc="ridge regression on isotropic Gaussian data, linear teacher |b*| = 1, noise variance `noise`, n/d = psi_n.",
    )
    P.constant("w", "w", lam)
    P.constant("y", "y", -1)
    P.gaussian("y", "w", "X", 1 / sp.sqrt(psi_n))
    r, dr = P.g("w", "w"), P.dg("w", "w", lam)
    P.observable("resolvent", r)
    P.observable("test_error", noise - lam**2 * dr + noise / psi_n * (r + lam * dr))
    P.identity(
        ("w", "w"),
        lambda a, q: np.linalg.inv(a["X"].T @ a["X"] / q["psi_n"] + q["lam"] * np.eye(a["X"].shape[1])),
        params={"lam": 0.3, "psi_n": 1.5, "noise": 0.1},
    )
    return P
