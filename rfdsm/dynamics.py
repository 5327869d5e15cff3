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

Contour. ``f_τ`` is entire, so with ``w = z + λ`` every integral is a contour integral around the spectrum,
``ν(φ) = −(1/2πi) ∮ φ(z) S_ν(z) dz`` and ``T(f, f) = (1/2πi)² ∮∮ f(z1) f(z2) T(z1, z2) dz1 dz2``. The spectrum of
``U + λ`` lies in ``[λ + u0, λ + top]`` (``u0`` the bottom of the spectrum, ``top`` a generous bound,
rfdsm/spectral.py), which ``ξ = log w`` maps to a segment. The contour is the ellipse with that segment as focal axis
and parameter ``ρ = √ρ_max``, where ``ρ_max`` is the confocal ellipse reaching ``|Im ξ| = π/2`` (``Re w = 0``): inside
it ``|e^{−τ w}| ≤ 1`` for every ``τ ≥ 0``, so no cancellation grows with ``τ``. The periodic trapezoid rule in the
angle converges like ``ρ^{−N}``; the nodes avoid the real axis and come in conjugate pairs (``S(z̄) = conj S(z)``), so
only the upper half is solved, and a quarter of the pairs of ``T``. The error estimate is the difference from the rule
on every other node; ``N`` doubles from 128 until it is below ``tol``. The law of ``U`` itself checks the contour:
``−(1/2πi) ∮ G dz`` must be 1 (its total mass), else ``top`` doubles.
"""

from __future__ import annotations

import importlib
import math
from dataclasses import dataclass

import numpy as np

from rfdsm import solver
from rfdsm.results import Result
from rfdsm.spectral import Setting, setting
from rfdsm.validate import positive

#: Node counts tried in turn (the error estimate of each uses half of its nodes; 64 rarely suffices at tol = 1e-8).
_NODES = (128, 256, 512, 1024)
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
    """``T(z_i, z_j)`` at every pair of nodes (``N × N``). ``T`` is symmetric and ``T(z̄1, z̄2) = conj T(z1, z2)``,
    so with the upper half ``u`` of the nodes only the pairs ``i ≤ j`` of two blocks are solved: ``T(u_i, u_j)`` and
    ``T(u_i, ū_j)`` (a Hermitian block); the rest follows by symmetry and conjugation."""
    pm = _pairs_module(where.model)
    n, half = contour.z.size, contour.z.size // 2
    i, j = np.triu_indices(half)
    first = np.concatenate([i, i])
    second = np.concatenate([j, n - 1 - j])  # node n − 1 − j is the conjugate of node j
    rest = [where.params[k] for k in pm.PARAMETERS[2:]]
    P = np.empty((first.size, len(pm.PARAMETERS)), dtype=complex)
    P[:, 0], P[:, 1], P[:, 2:] = contour.z[first], contour.z[second], rest
    terms = pm.batch(np.ascontiguousarray(np.hstack([X[first], X[second]])), P, where.s)
    k = len(pm.CROSS)
    M = terms[:, : k * k].reshape(-1, k, k)
    r, O = terms[:, k * k: k * k + k], terms[:, k * k + k: k * k + 2 * k]
    O0, offset, scale = terms[:, -3], terms[:, -2], terms[:, -1]
    x = np.linalg.solve(np.eye(k) - M, -r[:, :, None])[:, :, 0]
    values = offset + scale * (np.einsum("pk,pk->p", O, x) - O0)
    same, mixed = np.zeros((half, half), dtype=complex), np.zeros((half, half), dtype=complex)
    same[i, j], same[j, i] = values[: i.size], values[: i.size]
    mixed[i, j], mixed[j, i] = values[i.size:], np.conj(values[i.size:])
    return np.block([[same, mixed[:, ::-1]], [np.conj(mixed)[::-1, :], np.conj(same)[::-1, ::-1]]])


def flow_factor(u, taus: np.ndarray, lam: float) -> np.ndarray:
    """``f_τ(u) = (1 − e^{−τ(u + λ)})/(u + λ)`` for every ``τ`` (rows) and ``u`` (columns, real or complex);
    ``τ = ∞`` gives ``1/(u + λ)``."""
    w = np.asarray(u) + lam
    finite = np.where(np.isinf(taus), 0.0, taus)
    return np.where(np.isinf(taus)[:, None], 1 / w, -np.expm1(-np.outer(finite, w)) / w)


@dataclass(frozen=True)
class Flow:
    """The contour data of one setting and ridge: the errors at any ``τ`` cost a few products of ``N``-vectors."""

    where: Setting
    lam: float
    contour: Contour
    one: dict
    T: np.ndarray

    def errors(self, taus: np.ndarray, step: int = 1) -> dict[str, np.ndarray]:
        """The four errors at every ``τ`` from the trapezoid rule on every ``step``-th node (module docstring)."""
        z, dz = self.contour.z[::step], self.contour.dz[::step] * step
        f = flow_factor(z, taus, self.lam)
        pair = (np.einsum("ak,kl,al->a", f * dz, self.T[::step, ::step], f * dz) / (2j * np.pi) ** 2).real
        train = 1 + self._nu("v_transform", z * f**2 - 2 * f, step)
        c = self.where.consts
        test = 1 + pair + c.mustar2 * self._nu("v_transform", f**2, step) - 2 * self._nu("w_transform", f, step)
        return {"test": test, "train": train, "train_ridge": train + self.lam * self._nu("v_transform", f**2, step),
                "score": (test - self.baseline) / c.h}

    @property
    def baseline(self) -> float:
        return self.where.data.baseline(self.where.consts.t)

    @property
    def mass(self) -> float:
        """``−(1/2πi) ∮ G dz``: 1 when the contour encloses the whole spectrum of ``U``."""
        return float(self._nu("stieltjes", np.ones(1), 1))

    def _nu(self, transform: str, phi: np.ndarray, step: int) -> np.ndarray:
        """``−(1/2πi) ∮ φ S dz`` for the Stieltjes transform ``S`` of a measure on the spectrum."""
        weights = self.one[transform][::step] * self.contour.dz[::step] * step
        return (-(phi * weights).sum(axis=-1) / (2j * np.pi)).real


def flow(activation: str, t, psi_n, psi_p, m=math.inf, lam=1e-3, tau=np.geomspace(1e-2, 1e4, 50), *, data=None,
         tol: float = 1e-8) -> tuple[Flow, np.ndarray]:
    """The ``Flow`` whose errors at the times ``tau`` have an error estimate below ``tol``, and that estimate (the
    largest over the four errors at each ``τ``). Arguments as in ``dynamics``."""
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
            found = Flow(where, lam, contour, one, _two_point(where, contour, X))
            fine, coarse = found.errors(taus), found.errors(taus, step=2)
            error = np.max([np.abs(fine[k] - coarse[k]) for k in fine], axis=0)
            if np.max(error) <= tol:
                break
        else:
            raise solver.ConvergenceError(f"dynamics: the contour integrals did not reach tol = {tol:g} with "
                                          f"{_NODES[-1]} nodes (error estimate {np.max(error):.2g}) at {where.params}")
        if abs(found.mass - 1) <= 100 * max(tol, 1e-8):
            return found, error
        top *= 2
    raise solver.ConvergenceError(f"dynamics: the contour does not enclose the spectrum of U up to {top:g} "
                                  f"(mass {found.mass:.6g}) at {where.params}")


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
    found, error = flow(activation, t, psi_n, psi_p, m, lam, tau, data=data, tol=tol)
    taus, where = _taus(tau), found.where
    return Dynamics(activation=activation, t=float(t), m=where.m, lam=found.lam, psi_n=float(psi_n),
                    psi_p=float(psi_p), tau=taus, error=error, baseline=found.baseline, nodes=found.contour.z.size,
                    data=repr(where.data), **found.errors(taus))


#: The grid of ``log10 τ`` on which ``training_times`` brackets its times before refining them.
_TIME_GRID = np.linspace(-7, 9, 321)
#: ``τ_gen`` is the first time the test error has made all but this fraction of its fall from ``ε_test(0) = 1`` to its
#: minimum.
GENERALISATION = 0.1


@dataclass(frozen=True)
class TrainingTimes:
    """``tau_gen``: the first time ``ε_test ≤ min ε_test + GENERALISATION (1 − min ε_test)``, all but a tenth of the fall
    of the test error from its start ``ε_test(0) = 1`` done (training has generalised); ``tau_mem``: the time of the
    lowest test error, after which it rises (the score starts to memorise; ``∞`` if the test error falls all along);
    ``test_min`` the lowest test error and ``baseline`` ``C_t``. docs/dynamics.md §4."""

    tau_gen: float
    tau_mem: float
    test_min: float
    baseline: float


def training_times(activation: str, t, psi_n, psi_p, m=math.inf, lam=1e-3, *, data=None, tol: float = 1e-8
                   ) -> TrainingTimes:
    """``τ_gen`` and ``τ_mem`` (``TrainingTimes``) of the flow of ``dynamics`` with the same arguments: bracketed on
    the grid ``10^{-7} ≤ τ ≤ 10^9`` (and ``∞``), then refined to 1e-8 in ``log10 τ`` (Brent)."""
    from scipy.optimize import brentq, minimize_scalar

    taus = np.append(10.0**_TIME_GRID, math.inf)
    found, _ = flow(activation, t, psi_n, psi_p, m, lam, taus, data=data, tol=tol)
    test = found.errors(taus)["test"]

    def test_at(log_tau: float) -> float:
        return float(found.errors(np.array([10.0**log_tau]))["test"][0])

    i = int(np.argmin(test))
    if i >= _TIME_GRID.size - 1:
        tau_mem, test_min = math.inf, float(test[-1])
    else:
        bracket = (_TIME_GRID[max(i - 1, 0)], _TIME_GRID[i + 1])
        best = minimize_scalar(test_at, bounds=bracket, method="bounded", options={"xatol": 1e-8})
        tau_mem, test_min = 10.0**best.x, float(best.fun)
    level = test_min + GENERALISATION * (1 - test_min)
    j = int(np.flatnonzero(test <= level)[0])
    if j == 0:
        tau_gen = 10.0 ** _TIME_GRID[0]
    elif j >= _TIME_GRID.size:
        tau_gen = math.inf
    else:
        tau_gen = 10.0 ** brentq(lambda x: test_at(x) - level, _TIME_GRID[j - 1], _TIME_GRID[j], xtol=1e-8)
    return TrainingTimes(tau_gen=tau_gen, tau_mem=tau_mem, test_min=test_min, baseline=found.baseline)
