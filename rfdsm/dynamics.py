"""Errors of RF-DSM along gradient-flow training (docs/dynamics.md), in the proportional limit, for every ``m``, every
activation and every data model of rfdsm.data.

Gradient flow from ``B = 0`` with ``dB/dτ = −[B (U + λ) + Vᵀ]`` gives ``B(τ) = −Vᵀ f_τ(U)`` with

    f_τ(u) = (1 − e^{−τ (u + λ)})/(u + λ)          (``f_∞(u) = 1/(u + λ)``: the ridge minimiser),

so every error is a spectral integral of ``U`` against functions of ``τ`` (``c = μ1/√q``, ``A_t = W̃ Σ_t W̃ᵀ``):

    ε_train       = 1 + ν_V(u f² − 2 f),           ν_V(φ) = (h/d) tr Vᵀ φ(U) V,
    ε_train_ridge = ε_train + λ ν_V(f²)             (the loss at B(τ), ridge term included),
    ε_test        = 1 + T(f, f) + μ*² ν_V(f²) − 2 ν_W(f),    ν_W(φ) = (h c/d) tr Vᵀ φ(U) W̃,
                    T(f, f) = (h c²/d) tr Vᵀ f(U) A_t f(U) V,
    ε_score       = (ε_test − C_t)/h.

``ν_V`` and ``ν_W`` are measures on the spectrum of ``U`` whose Stieltjes transforms are observables of the complex-z
pencils (``v_transform``, ``w_transform``, derive/models/rfdsm_resolvent.py). ``T`` holds two functions of ``U`` on
either side of ``A_t``: it is *not* a single spectral integral, but a double one against the two-point function
``T(z1, z2) = (h c²/d) tr Vᵀ R(z1) A_t R(z2) V`` (generated/pairs/, derive/models/two_point.py).

Contour. ``f_τ`` is entire, so with ``w = u + λ``, every integral is a contour integral around the spectrum,
``ν(φ) = −(1/2πi) ∮ φ(z) S_ν(z) dz`` and ``T(f, f) = (1/2πi)² ∮∮ f(z1) f(z2) T(z1, z2) dz1 dz2``. The spectrum of
``U + λ`` lies in ``[λ + u0, λ + top]`` (``u0`` the bottom of the spectrum, ``top`` a generous bound, rfdsm/spectrum.py),
which ``ξ = log w`` maps to a segment of length ``L``. The contour is the ellipse with that segment as focal axis and
parameter ``ρ = √ρ_max``, where ``ρ_max`` is the ellipse reaching ``|Im ξ| = π/2`` (``Re w = 0``): inside it
``|e^{−τ w}| ≤ 1`` for every ``τ ≥ 0``, so no cancellation grows with ``τ``. The periodic trapezoid rule in the angle
converges like ``ρ^{−N}``; the nodes avoid the real axis and come in conjugate pairs (``S(z̄) = conj S(z)``), so only
the upper half is solved. The error estimate is the difference from the rule on every other node; ``N`` doubles from
64 until it is below ``tol``. The law of ``U`` itself checks the contour: ``−(1/2πi) ∮ G dz`` must be 1 (its total mass),
else ``top`` doubles.
"""

from __future__ import annotations

import importlib
import math
from dataclasses import dataclass

import numpy as np

from rfdsm import solver
from rfdsm.results import Result
from rfdsm.spectrum import Setting, setting
from rfdsm.validate import positive

#: Node counts tried in turn (the error estimate of each uses half of its nodes).
_NODES = (64, 128, 256, 512, 1024)
#: How often ``top`` may double when the contour misses part of the spectrum.
_DOUBLINGS = 6


def _taus(tau) -> np.ndarray:
    """``tau`` as a 1-D float array of times ``0 ≤ τ ≤ ∞`` (``∞``: the ridge minimiser)."""
    try:
        array = np.asarray(tau)
    except ValueError:  # ragged nested sequences
        array = np.asarray(None)
    if array.dtype.kind not in "iuf":
        raise ValueError(f"tau: expected real numbers, got {tau!r}")
    array = np.atleast_1d(array).astype(float)
    if array.ndim != 1 or array.size == 0:
        raise ValueError(f"tau: expected a number or a non-empty 1-D array, got shape {np.shape(tau)}")
    if np.any(np.isnan(array)):
        raise ValueError(f"tau: NaN in {tau!r}")
    if np.any(array < 0):
        raise ValueError(f"tau: every time must be ≥ 0, got {tau!r}")
    return array


@dataclass(frozen=True)
class Contour:
    """Nodes ``z`` (all ``N``, the upper half first in angle order, then their conjugates in reverse) and weights
    ``dz`` (``z'(θ) 2π/N``) of the trapezoid rule on the ellipse of the module docstring."""

    z: np.ndarray
    dz: np.ndarray

    @classmethod
    def around(cls, bottom: float, top: float, lam: float, nodes: int) -> Contour:
        lo, hi = math.log(lam + bottom), math.log(lam + top)
        half, centre = 0.5 * (hi - lo), 0.5 * (hi + lo)
        # ρ_max: the confocal ellipse with semi-minor axis π/2; the contour takes its geometric mean with the segment.
        ratio = 0.5 * math.pi / half
        rho = math.sqrt(ratio + math.sqrt(ratio**2 + 1))
        a, b = 0.5 * half * (rho + 1 / rho), 0.5 * half * (rho - 1 / rho)
        theta = 2 * np.pi * (np.arange(nodes // 2) + 0.5) / nodes
        xi = centre + a * np.cos(theta) + 1j * b * np.sin(theta)
        w = np.exp(xi)
        dz = w * (-a * np.sin(theta) + 1j * b * np.cos(theta)) * (2 * np.pi / nodes)
        # Node N−1−k is the conjugate of node k; its weight is −conj (the angle runs the other way along the axis).
        return cls(np.concatenate([w - lam, np.conj(w - lam)[::-1]]), np.concatenate([dz, -np.conj(dz)[::-1]]))


def _pairs_module(model: str):
    return importlib.import_module(f"generated.pairs.{model}")


def _transforms(where: Setting, contour: Contour) -> tuple[dict, np.ndarray]:
    """The one-point transforms and the unknowns ``x`` at every node (rows), solved on the upper half."""
    half = contour.z.size // 2
    swept = where.transforms(contour.z[:half])
    out = {name: np.concatenate([v, np.conj(v)[::-1]]) for name, v in swept.observables.items()}
    return out, np.concatenate([swept.x, np.conj(swept.x)[::-1]])


def _two_point(where: Setting, contour: Contour, X: np.ndarray) -> np.ndarray:
    """``T(z_i, z_j)`` at every pair of nodes (``N × N``): the upper rows solved, the lower ones by conjugation."""
    pm = _pairs_module(where.model)
    n, half = contour.z.size, contour.z.size // 2
    i, j = np.repeat(np.arange(half), n), np.tile(np.arange(n), half)
    rest = [where.params[k] for k in pm.PARAMETERS[2:]]
    P = np.empty((i.size, len(pm.PARAMETERS)), dtype=complex)
    P[:, 0], P[:, 1], P[:, 2:] = contour.z[i], contour.z[j], rest
    terms = pm.batch(np.ascontiguousarray(np.hstack([X[i], X[j]])), P, where.s)
    k = len(pm.CROSS)
    M = terms[:, : k * k].reshape(-1, k, k)
    r, O = terms[:, k * k: k * k + k], terms[:, k * k + k: k * k + 2 * k]
    O0, offset, scale = terms[:, -3], terms[:, -2], terms[:, -1]
    x = np.linalg.solve(np.eye(k) - M, -r[:, :, None])[:, :, 0]
    upper = (offset + scale * (np.einsum("pk,pk->p", O, x) - O0)).reshape(half, n)
    return np.concatenate([upper, np.conj(upper)[::-1, ::-1]])


def _errors(where: Setting, lam: float, taus: np.ndarray, contour: Contour, one: dict, T: np.ndarray,
            step: int = 1) -> tuple[dict, float]:
    """The errors at every ``τ`` from the rule on every ``step``-th node, and the mass of the law of ``U`` it sees."""
    z, dz = contour.z[::step], contour.dz[::step] * step
    T = T[::step, ::step]
    w = z + lam
    with np.errstate(over="ignore", invalid="ignore"):
        f = np.where(np.isinf(taus)[:, None], 1 / w, -np.expm1(-np.outer(np.where(np.isinf(taus), 0, taus), w)) / w)

    def nu(transform, phi):
        return (-(phi * (transform[::step] * dz)).sum(axis=-1) / (2j * np.pi)).real

    fd = f * dz
    pair = (np.einsum("ak,kl,al->a", fd, T, fd) / (2j * np.pi) ** 2).real
    v = one["v_transform"]
    train = 1 + nu(v, z * f**2 - 2 * f)
    c = where.consts
    test = 1 + pair + c.mustar2 * nu(v, f**2) - 2 * nu(one["w_transform"], f)
    mass = float(nu(one["stieltjes"], np.ones(1)))
    return {"test": test, "train": train, "train_ridge": train + lam * nu(v, f**2),
            "score": (test - where.data.baseline(c.t)) / c.h}, mass


_ARRAYS = ("test", "train", "train_ridge", "score", "error")


@dataclass(frozen=True, repr=False)
class Dynamics(Result):
    """Errors along training time ``tau`` (module docstring), with ``error`` the estimate of the quadrature error (the
    largest over the four errors at each ``τ``) and ``nodes`` the contour's node count."""

    activation: str
    t: float
    m: float
    lam: float
    psi_n: float
    psi_p: float
    tau: np.ndarray
    test: np.ndarray
    train: np.ndarray
    train_ridge: np.ndarray
    score: np.ndarray
    error: np.ndarray
    baseline: float
    nodes: int
    data: str = "Isotropic()"

    def _generated(self) -> list[str]:
        model = f"rfdsm_resolvent_{'infinite' if self.m == math.inf else 'finite'}"
        return [*super()._generated(), f"generated.models.{model}", f"generated.pairs.{model}"]

    def _dataset(self):
        import xarray as xr

        attrs = {k: getattr(self, k) for k in ("activation", "t", "m", "lam", "psi_n", "psi_p", "baseline", "nodes",
                                                "data")}
        return xr.Dataset({k: ("tau", getattr(self, k)) for k in _ARRAYS}, coords={"tau": self.tau}, attrs=attrs)

    @classmethod
    def _from_dataset(cls, data, attrs):
        fields = {k: attrs[k] for k in ("activation", "t", "m", "lam", "psi_n", "psi_p", "baseline", "nodes", "data")}
        return cls(tau=data["tau"].values, **{k: data[k].values for k in _ARRAYS}, **fields)

    def _summary(self) -> str:
        return (f"{self.activation}, t={self.t:g}, m={self.m:g}, λ={self.lam:g}, ψn={self.psi_n:g}, ψp={self.psi_p:g}"
                f"{'' if self.data == 'Isotropic()' else ', data=' + self.data}; {self.tau.size} times, "
                f"{self.nodes} nodes, error ≤ {np.max(self.error):.1e}")


def dynamics(activation: str, t, psi_n, psi_p, m=math.inf, lam=1e-3, tau=np.geomspace(1e-2, 1e4, 50), *, data=None,
             tol: float = 1e-8) -> Dynamics:
    """Test, train, ridge-train and score errors of RF-DSM trained by gradient flow for the times ``tau`` (``0 ≤ τ ≤
    ∞``; docs/dynamics.md for the time scale), arguments as in ``rfdsm.learning_curve``. The contour integrals
    (module docstring) are refined until their error estimate is below ``tol``; ``ConvergenceError`` if it cannot be."""
    lam = positive("lam", lam)
    taus = _taus(tau)
    tol = positive("tol", tol)
    where = setting(activation, t, psi_n, psi_p, m, data)
    bottom, _ = where.bottom
    top = where.top_guess()
    for _ in range(_DOUBLINGS):
        for nodes in _NODES:
            contour = Contour.around(bottom, top, lam, nodes)
            one, X = _transforms(where, contour)
            T = _two_point(where, contour, X)
            fine, mass = _errors(where, lam, taus, contour, one, T)
            coarse, _ = _errors(where, lam, taus, contour, one, T, step=2)
            error = np.max([np.abs(fine[k] - coarse[k]) for k in fine], axis=0)
            if np.max(error) <= tol:
                break
        else:
            raise solver.ConvergenceError(f"dynamics: the contour integrals did not reach tol = {tol:g} with "
                                          f"{_NODES[-1]} nodes (error estimate {np.max(error):.2g}) at {where.params}")
        if abs(mass - 1) <= max(tol, 1e-8) * 100:
            break
        top *= 2
    else:
        raise solver.ConvergenceError(f"dynamics: the contour does not enclose the spectrum of U up to {top:g} "
                                      f"(mass {mass:.6g}) at {where.params}")
    return Dynamics(activation=activation, t=float(t), m=where.m, lam=lam, psi_n=float(psi_n), psi_p=float(psi_p),
                    tau=taus, error=error, baseline=where.data.baseline(where.consts.t), nodes=nodes,
                    data=repr(where.data), **fine)
