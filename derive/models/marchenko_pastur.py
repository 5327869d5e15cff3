"""Marchenko–Pastur: the Stieltjes transform of ``W W^T/d``, ``W`` a ``p × d`` matrix with i.i.d. ``N(0, 1)`` entries.

Pencil on blocks ``u`` (size ``p = ψ d``) and ``w`` (size ``d``) with the atom ``W̃ = W/√d``::

    L = [[−z, W̃], [W̃^T, −1]],   [L^{-1}]_uu = (W̃ W̃^T − z)^{-1}   (Schur complement)

so ``s(z) = g_uu = (1/p) tr (W W^T/d − z)^{-1} = ∫ dμ(x)/(x − z)``. The fixed point ``g_uu = 1/(−z − g_ww)``,
``g_ww = 1/(−1 − ψ g_uu)`` reduces to ``ψ z s² + (z + ψ − 1) s + 1 = 0``.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from derive.pencil import Pencil

z = sp.Symbol("z")
psi = sp.Symbol("psi", positive=True)


def build() -> Pencil:
    P = Pencil(
        "marchenko_pastur",
        sizes={"u": psi, "w": 1},
        parameters=[z, psi],
        continuation=(z, -1e4),
        doc="Stieltjes transform s(z) = (1/p) tr (W W^T/d − z)^-1 of a p × d Gaussian W, p/d = psi.",
    )
    P.constant("u", "u", -z)
    P.constant("w", "w", -1)
    P.gaussian("u", "w", "W", 1)
    P.observable("stieltjes", P.g("u", "u"))
    P.observable("dstieltjes_dz", P.dg("u", "u", z))
    P.identity(
        ("u", "u"),
        lambda a, q: np.linalg.inv(a["W"] @ a["W"].T - q["z"] * np.eye(a["W"].shape[0])),
        params={"z": 0.3 + 0.7j, "psi": 0.5},
    )
    return P
