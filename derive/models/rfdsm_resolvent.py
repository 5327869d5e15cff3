"""RF-DSM at a complex spectral parameter: the resolvent ``R(z) = (U − z)^{-1}`` of the feature Gram matrix ``U`` for
``m = ∞`` and every finite ``m``, on Gaussian data ``N(0, Σ)`` (docs/dynamics.md). The pencils are those of
derive/models/rfdsm_spectrum.py (whose conventions, blocks and identity checks they reuse) with ``λ → −z``: the
constant ``λ`` on the diagonal of block ``u`` becomes ``−z``, and ``z`` may lie anywhere off the spectrum of ``U``,
in particular in the upper half-plane, where the solver keeps the Herglotz branch by continuation from large ``Im z``
(rfdsm/solver.py).

Observables, per dimension (``c = μ1/√q``, ``A_t = W̃ Σ_t W̃^T``; with ``R = R(z)`` every one is a Stieltjes transform
``∫ dν(u)/(u − z)`` of a measure on the spectrum of ``U``):

    stieltjes   = (1/p) tr R                        (the eigenvalue law of U),
    v_transform = (h/d) tr V^T R V                  (the measure ν_V of the train error),
    w_transform = (h c/d) tr V^T R W̃               (the measure ν_W of the test error's cross term),
    pair        = (h c²/d) tr V^T R A_t R V         (the diagonal z1 = z2 of the two-point function of the test error).

Finite m (``g = g_{e'e'}``, ``k = g_{we'}``, ``n_m = ψn m``): ``v_transform = 1 + g/n_m``, ``w_transform = √h k/√n_m``,
``pair = −∂_ζ g/n_m`` (the formulas of rfdsm_spectrum.py read at ``λ = −z``). m = ∞ (``g = g_{w'w'}``,
``g^Σt = g^{Σ_t}_{w'w'}``, ``q_t = Mean(Σ_t)``): ``V = c W̃``, so ``v_transform = w_transform = 1 + g`` and
``pair = (q_t + 2 g^Σt − ∂_ζ g)/h``.

The two-point function ``(h c²/d) tr V^T R(z1) A_t R(z2) V`` at ``z1 ≠ z2`` is not a function of one ``z``: it is
the linear response of the doubled pencil (derive/models/two_point.py) to the ``ζ Σ_t`` coupling declared by
``PAIRS`` below, read at the block of ``pair``.
"""

from __future__ import annotations

import sympy as sp

from derive.models import rfdsm_spectrum
from derive.models.rfdsm_spectrum import h, m, psi_n, zeta
from derive.pencil import EV, Pencil

z = sp.Symbol("z")
lam = rfdsm_spectrum.lam


def _at_z(source: Pencil, name: str, doc: str) -> Pencil:
    """``source`` (a pencil in ``λ``) with ``λ → −z``, continued from ``z = −10⁴`` (where ``η`` is negligible)."""
    parameters = [z if s == lam else s for s in source.parameters]
    P = Pencil(name, sizes=dict(source.sizes), parameters=parameters, continuation=(z, -1e4), markers=(zeta,), doc=doc)
    done = set()
    for (b, c), value in source.constants.items():
        if (c, b) in done:
            continue
        done.add((b, c))
        value = value.subs(lam, -z)
        if EV in value.free_symbols:
            P.deterministic(b, c, value)
        else:
            P.constant(b, c, value)
    for place in source.places:
        if not place.transposed:
            P.gaussian(place.row, place.col, place.atom, place.coeff)
    for block, target, params in source.identities:
        P.identity(block, lambda a, q_, target=target: target(a, dict(q_, lam=-q_["z"])),
                   {("z" if k == "lam" else k): (-v + 0.4j if k == "lam" else v) for k, v in params.items()})
    return P


def _herglotz(P: Pencil, transforms) -> None:
    """``Im F(z) · Im z ≥ 0`` for the Stieltjes transform ``F`` of every positive measure: the Herglotz branch."""
    for F in transforms:
        P.condition(sp.im(F) * sp.im(z), sp.Abs(F) * sp.Abs(sp.im(z)))


def build_infinite() -> Pencil:
    P = _at_z(rfdsm_spectrum.build_infinite(), "rfdsm_resolvent_infinite",
              "The resolvent (U - z)^-1 of RF-DSM's feature Gram matrix U at complex z, on Gaussian data N(0, Sigma) "
              "(spectral law s), m = infinity noise samples per data point; h, q, mu1, mustar2, kappa as in "
              "rfdsm_spectrum_infinite; zeta = 0 except for derivatives.")
    g = P.g("wp", "wp")
    sigma_t = (1 - h) * EV + h
    P.observable("stieltjes", P.g("u", "u"))
    P.observable("v_transform", 1 + g)
    P.observable("w_transform", 1 + g)
    P.observable("pair", (P.mean(sigma_t) + 2 * P.g("wp", "wp", weight=sigma_t) - P.dg("wp", "wp", zeta)) / h)
    _herglotz(P, [P.g("u", "u"), 1 + g])
    return P


def build_finite() -> Pencil:
    P = _at_z(rfdsm_spectrum.build_finite(), "rfdsm_resolvent_finite",
              "The resolvent (U - z)^-1 of RF-DSM's feature Gram matrix U at complex z, on Gaussian data N(0, Sigma) "
              "(spectral law s), m >= 1 noise samples per data point; h, q, mu1, mustar2, kappa as in "
              "rfdsm_spectrum_finite; zeta = 0 except for derivatives.")
    norm = psi_n * m
    g = P.g("ep", "ep")
    P.observable("stieltjes", P.g("u", "u"))
    P.observable("v_transform", 1 + g / norm)
    P.observable("w_transform", sp.sqrt(h) * P.g("w", "ep") / sp.sqrt(norm))
    P.observable("pair", -P.dg("ep", "ep", zeta) / norm)
    _herglotz(P, [P.g("u", "u"), 1 + g / norm])
    return P


def _pair_infinite(P: Pencil, one, two):
    """``pair(z1, z2) = (q_t + g^Σt(z1) + g^Σt(z2) − X)/h``: ``tr A1 Σ_t A2/d`` from ``X = ∂_ζ`` of the cross block
    ``−(−1 + A1) Σ_t (−1 + A2)`` of ``w'``."""
    sigma_t = (1 - h) * EV + h
    weighted = P.g("wp", "wp", weight=sigma_t)
    return (P.mean(sigma_t) + one(weighted) + two(weighted)) / h, -1 / h


def _pair_finite(P: Pencil, one, two):
    """``pair(z1, z2) = −X/(ψn m)``."""
    return sp.S.Zero, -1 / (psi_n * m)


#: The two-point functions ``pair(z1, z2) = (h c²/d) tr V^T R(z1) A_t R(z2) V``: (builder, block whose cross
#: ``∂_ζ`` is ``X``, ``(offset, scale)`` with ``pair = offset + scale · X``); derive/models/two_point.py emits them.
PAIRS = [(build_infinite, ("wp", "wp"), _pair_infinite), (build_finite, ("ep", "ep"), _pair_finite)]
